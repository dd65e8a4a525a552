/**
 * The job handlers: an async request runs the same engine code as its sync twin, completes its
 * audit row and kept answer, and makes the first attempt of its callback; a callback that was not
 * taken goes to the delivery queue for its retries. Notifications have their own queue.
 */
import { createHash } from 'node:crypto';
import type { Action } from '@opendci/protocol';
import type { Kysely } from 'kysely';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import type { AuditTrail } from '../audit/audit.js';
import type { Domain } from '../config.js';
import type { DB } from '../db/schema.js';
import { executePrepared } from '../db/prepared.js';
import { CallbackFailed, deliverCallback, type CallbackDeps, type CallbackJob } from '../delivery/callbacks.js';
import type { SenderInfo } from '../engine/inbound.js';
import type { TransactionResults } from '../txn/results.js';
import {
  deliverNotifications,
  dispatchNotifications,
  type NotifierDeps,
  type NotifyJob,
} from '../subscriptions/notifier.js';
import { enqueue, type JobQueue } from './queue.js';
import { QUEUES, type RetrySettings } from './queues.js';

/** The async requests a job runs, and the callback each answers with. */
export const REQUEST_KINDS = {
  search: { callback: 'on-search', keepsResult: true },
  'txn-status': { callback: 'txn-on-status', keepsResult: false },
  subscribe: { callback: 'on-subscribe', keepsResult: true },
  unsubscribe: { callback: 'on-unsubscribe', keepsResult: true },
} as const satisfies Record<string, { callback: Action; keepsResult: boolean }>;
export type RequestKind = keyof typeof REQUEST_KINDS;

/** An accepted async request: run later by a worker, on any node. */
export interface RequestJob {
  kind: RequestKind;
  domain: Domain;
  senderId: string;
  correlationId: string;
  callbackUrl?: string;
  message: { transaction_id: string } & Record<string, unknown>;
}

/** The `reference_id`s of a request's items (its audit row and kept answer are found by them). */
export function referenceIdsOf(message: Record<string, unknown>): string[] {
  const items = [message.search_request, message.subscribe_request].find(Array.isArray) as
    { reference_id?: unknown }[] | undefined;
  if (items) return items.map((item) => String(item.reference_id));
  const status = message.txnstatus_request as { reference_id?: unknown } | undefined;
  return status && typeof status === 'object' ? [String(status.reference_id)] : [];
}

/** What running a request gives: the callback's message and header status. */
export interface RequestOutcome {
  message: object;
  status: 'succ' | 'rjct' | 'part';
  referenceIds: string[];
}

export interface WorkerDeps {
  db: Kysely<DB>;
  queue: JobQueue;
  audit: AuditTrail;
  results: TransactionResults;
  sender(id: string): Promise<SenderInfo | undefined>;
  /** Runs the request with the same engine code as its sync twin. */
  run(job: RequestJob, sender: SenderInfo): Promise<RequestOutcome>;
  callbacks: CallbackDeps;
  /** The delivery queue's retries (a callback whose first attempt failed is handed to it). */
  retry: RetrySettings;
  notifier: NotifierDeps;
  /** Fetch loops per node and queue. */
  concurrency: number;
  /** Jobs each loop fetches and runs at once. */
  batchSize: number;
}

export async function runRequestJob(job: RequestJob, deps: WorkerDeps): Promise<void> {
  const kind = REQUEST_KINDS[job.kind];
  const sender = await deps.sender(job.senderId);
  if (!sender?.active) {
    // The sender was disabled after the ACK: the request ends here, without a callback.
    await completeRequest(deps, job, { status: 'rjct', reasonCode: 'err.request.forbidden', message: null });
    return;
  }
  const outcome = await deps.run(job, sender);
  await completeRequest(deps, job, outcome);
  if (!job.callbackUrl) return;
  const items = outcome.referenceIds.length;
  const callback: CallbackJob = {
    url: job.callbackUrl,
    receiverId: sender.id,
    domain: job.domain,
    action: kind.callback,
    status: outcome.status === 'part' ? 'succ' : outcome.status,
    totalCount: items,
    completedCount: items,
    messageId: callbackMessageId(job.correlationId, kind.callback),
    transactionId: job.message.transaction_id,
    correlationId: job.correlationId,
    message: outcome.message as Record<string, unknown>,
  };
  // The first attempt is made here: most receivers take it, and a callback then costs no second
  // job. Until this job completes it is the durable record: a node that dies now leaves it to be
  // run again, which posts the same message_id. A failed attempt hands the callback to the
  // delivery queue, for its retries with backoff and then the dead letter.
  try {
    await deliverCallback(callback, 1, deps.callbacks);
  } catch (error) {
    if (!(error instanceof CallbackFailed)) throw error;
    if (deps.retry.retryLimit === 0) {
      await enqueue(deps.queue, QUEUES.dead, callback);
      return;
    }
    await enqueue(deps.queue, QUEUES.deliver, { ...callback, firstAttempt: 2 } satisfies CallbackJob, {
      startAfter: deps.retry.retryDelaySeconds,
      retryLimit: deps.retry.retryLimit - 1,
    });
  }
}

/**
 * Completes the audit row of a request and, for the kinds that keep one, its kept answer: one
 * statement (the audit update in a CTE), atomic without a transaction around it.
 */
async function completeRequest(
  deps: WorkerDeps,
  job: RequestJob,
  outcome: { status: string; reasonCode?: string; message: object | null },
): Promise<void> {
  const { db } = deps;
  const audit = deps.audit.completion(
    job.correlationId,
    { status: outcome.status, reasonCode: outcome.reasonCode ?? null, response: outcome.message ?? undefined },
    db,
  );
  if (!REQUEST_KINDS[job.kind].keepsResult) {
    await executePrepared(db, audit);
    return;
  }
  await executePrepared(
    db,
    db
      .with('audit', () => audit)
      .updateTable('dci_result')
      .set({ status: outcome.status, result: JSON.stringify(outcome.message), completed_at: new Date() })
      .where('correlation_id', '=', job.correlationId),
  );
}

/**
 * The message_id of a request's callback: derived from its correlation id, so that a request run
 * again (its node died before it completed) answers with the same id and receivers drop the repeat.
 */
export function callbackMessageId(correlationId: string, action: string): string {
  const hex = createHash('sha256').update(`${correlationId} ${action}`).digest('hex');
  // An RFC 4122 version 8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Runs a fetched batch: each job settles on its own (a failed delivery is retried without
 * touching the others), and a full batch is followed at once by the next fetch.
 */
function batchHandler<T>(run: (job: JobWithMetadata<T>) => Promise<void>, onError: (error: unknown) => void) {
  return async (jobs: JobWithMetadata<T>[]): Promise<JobResult[]> =>
    Promise.all(
      jobs.map(async (job): Promise<JobResult> => {
        try {
          await run(job);
          return { id: job.id, status: 'completed' };
        } catch (error) {
          if (!(error instanceof CallbackFailed)) onError(error);
          return { id: job.id, status: 'failed', output: { message: String(error) } };
        }
      }),
    );
}

/** Starts the workers of this node (role worker or all). */
export async function startWorkers(deps: WorkerDeps, onError: (error: unknown) => void = () => {}): Promise<void> {
  const options = {
    batchSize: deps.batchSize,
    localConcurrency: deps.concurrency,
    pollingIntervalSeconds: 0.5,
    burstWhenBatchFull: true,
    includeMetadata: true,
    perJobResults: true,
  } as const;
  await deps.queue.work<RequestJob, JobResult[], typeof options>(
    QUEUES.request,
    options,
    batchHandler((job) => runRequestJob(job.data, deps), onError),
  );
  await deps.queue.work<CallbackJob, JobResult[], typeof options>(
    QUEUES.deliver,
    options,
    batchHandler(
      (job) => deliverCallback(job.data, (job.data.firstAttempt ?? 1) + job.retryCount, deps.callbacks),
      onError,
    ),
  );
  await deps.queue.work<NotifyJob, JobResult[], typeof options>(
    QUEUES.notify,
    options,
    batchHandler((job) => deliverNotifications(job.data, deps.notifier), onError),
  );
}

/** Starts notification jobs for pending notifications every `intervalMs`; returns a stop function. */
export function startDispatcher(
  deps: Pick<WorkerDeps, 'db' | 'queue'>,
  intervalMs: number,
  onError: (error: unknown) => void,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    dispatchNotifications(deps.db, deps.queue)
      .catch(onError)
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
