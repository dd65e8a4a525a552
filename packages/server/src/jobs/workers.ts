/**
 * The job handlers: an async request runs the same engine code as its sync twin, then its
 * callback is queued in the same transaction as the transaction row's completion.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditTrail } from '../audit/audit.js';
import type { Domain } from '../config.js';
import type { DB } from '../db/schema.js';
import { runInTx } from '../db/tx.js';
import { deliverCallback, type CallbackDeps, type CallbackJob } from '../delivery/callbacks.js';
import type { SenderInfo } from '../engine/inbound.js';
import type { SearchOutcome } from '../engine/search.js';
import { enqueue, type JobQueue } from './queue.js';
import { QUEUES } from './queues.js';

export interface SearchJob {
  kind: 'search';
  domain: Domain;
  senderId: string;
  correlationId: string;
  callbackUrl?: string;
  message: { transaction_id: string; search_request: Record<string, unknown>[] };
}

export interface WorkerDeps {
  db: Kysely<DB>;
  queue: JobQueue;
  audit: AuditTrail;
  sender(id: string): Promise<SenderInfo | undefined>;
  search(job: SearchJob, sender: SenderInfo): Promise<SearchOutcome>;
  callbacks: CallbackDeps;
  /** Jobs run at once per node and queue. */
  concurrency: number;
}

export async function runSearchJob(job: SearchJob, deps: WorkerDeps): Promise<void> {
  const sender = await deps.sender(job.senderId);
  if (!sender?.active) {
    // The sender was disabled after the ACK: the request ends here, without a callback.
    await deps.audit.complete(job.correlationId, { status: 'rjct', reasonCode: 'err.request.forbidden' });
    return;
  }
  const outcome = await deps.search(job, sender);
  await runInTx(deps.db, async (trx) => {
    await deps.audit.complete(job.correlationId, { status: outcome.status, response: outcome.message }, trx);
    if (!job.callbackUrl) return;
    const items = outcome.referenceIds.length;
    const callback: CallbackJob = {
      url: job.callbackUrl,
      receiverId: sender.id,
      domain: job.domain,
      action: 'on-search',
      status: outcome.status === 'part' ? 'succ' : outcome.status,
      totalCount: items,
      completedCount: items,
      messageId: randomUUID(),
      transactionId: job.message.transaction_id,
      correlationId: job.correlationId,
      message: outcome.message as unknown as Record<string, unknown>,
    };
    await enqueue(deps.queue, QUEUES.deliver, callback);
  });
}

/** Starts the workers of this node (role worker or all). */
export async function startWorkers(deps: WorkerDeps): Promise<void> {
  const options = {
    batchSize: 1,
    localConcurrency: deps.concurrency,
    pollingIntervalSeconds: 0.5,
    includeMetadata: true,
  } as const;
  await deps.queue.work<SearchJob>(QUEUES.request, options, async ([job]) => {
    if (job) await runSearchJob(job.data, deps);
  });
  await deps.queue.work<CallbackJob>(QUEUES.deliver, options, async ([job]) => {
    if (job) await deliverCallback(job.data, job.retryCount + 1, deps.callbacks);
  });
}
