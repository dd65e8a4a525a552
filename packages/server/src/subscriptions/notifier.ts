/**
 * Delivering notifications. One job per subscription at a time (a `stately` queue keyed by the
 * code) drains its outbox in event order: up to `eventsPerMessage` events in one signed `notify`,
 * then the next. A message keeps its `message_id` on every retry (the rows remember it). A failed
 * attempt schedules the message's next one in the outbox (`next_attempt_at`, exponential backoff
 * with jitter) and ends the job; the dispatcher on every worker node starts the job of each active
 * subscription whose head message is due. Keeping the schedule in the rows, not in the queue,
 * means neither the dispatcher's pace nor the number of nodes shortens it. When a message has
 * used its retries the subscription is suspended with its backlog kept: resuming continues from it.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { notifyMessage } from '@opendci/protocol';
import type { Domain } from '../config.js';
import type { DB } from '../db/schema.js';
import { CallbackFailed, deliverCallback, type CallbackDeps } from '../delivery/callbacks.js';
import type { DciRecord } from '../domains/records.js';
import { REG_TYPES } from '../engine/search.js';
import type { JobQueue } from '../jobs/queue.js';
import { QUEUES, type RetrySettings } from '../jobs/queues.js';
import type { LoadRequest } from '../registry/reader.js';

export interface NotifyJob {
  code: string;
}

export interface NotifierDeps {
  db: Kysely<DB>;
  load(request: LoadRequest): Promise<Map<string, DciRecord>>;
  callbacks: CallbackDeps;
  /** Events carried by one notify message at most. */
  eventsPerMessage: number;
  /** A message gets `retryLimit` retries after its first attempt, spaced by capped exponential backoff. */
  retry: RetrySettings;
  /** Jitter source, replaceable for tests: a number in [0, 1). */
  random?: () => number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): the base doubled per retry, capped,
 * then spread by ±20 % so that subscribers failing together do not retry together.
 */
export function notifyRetryDelayMs(retry: number, settings: RetrySettings, random: () => number = Math.random): number {
  const nominal = Math.min(settings.retryDelayMaxSeconds, settings.retryDelaySeconds * 2 ** Math.max(0, retry - 1));
  return Math.round(nominal * 1000 * (0.8 + 0.4 * random()));
}

/** One job run: delivers the subscription's due messages in order, until one fails or none is left. */
export async function deliverNotifications(job: NotifyJob, deps: NotifierDeps): Promise<void> {
  const { db } = deps;
  for (;;) {
    const subscription = await db
      .selectFrom('subscription')
      .selectAll()
      .where('code', '=', job.code)
      .executeTakeFirst();
    if (!subscription || subscription.status !== 'active') return;
    if (subscription.expires_at && subscription.expires_at <= new Date()) {
      await db
        .updateTable('subscription')
        .set({ status: 'expired', status_reason: 'the subscription window ended', updated_at: new Date() })
        .where('code', '=', job.code)
        .where('status', '=', 'active')
        .execute();
      return;
    }
    const head = await db
      .selectFrom('notification')
      .select(['id', 'message_id', 'next_attempt_at'])
      .where('subscription_code', '=', job.code)
      .where('status', '=', 'pending')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    // Nothing pending, or the head waits out its backoff (the dispatcher comes back for it).
    if (!head || (head.next_attempt_at && head.next_attempt_at > new Date())) return;
    // A message sent before (a retry) goes again with its own rows and message_id.
    const messageId = head.message_id ?? randomUUID();
    if (!head.message_id) {
      await sql`update notification set message_id = ${messageId} where id in (
        select id from notification where subscription_code = ${job.code} and status = 'pending' and message_id is null
        order by id limit ${deps.eventsPerMessage})`.execute(db);
    }
    const rows = await db
      .selectFrom('notification')
      .select(['id', 'event_type', 'record_id', 'created_at', 'attempts'])
      .where('message_id', '=', messageId)
      .where('status', '=', 'pending')
      .orderBy('id')
      .execute();
    if (rows.length === 0) continue;
    const attempt = Math.max(...rows.map((row) => row.attempts)) + 1;
    const domain = subscription.domain as Domain;
    const records = await deps.load({
      domain,
      recordType: subscription.record_type,
      recordKind: subscription.record_kind,
      ids: [...new Set(rows.map((row) => row.record_id))],
    });
    const message = notifyMessage({
      transactionId: subscription.transaction_id,
      events: rows.map((row) => ({
        referenceId: subscription.reference_id,
        timestamp: row.created_at,
        regType: REG_TYPES[domain],
        regEventType: row.event_type,
        regRecordType: subscription.record_type,
        // A record deleted since the event is named by its id only.
        record: records.get(row.record_id) ?? { '@id': `urn:uuid:${row.record_id}` },
      })),
    });
    try {
      await deliverCallback(
        {
          url: subscription.notify_url,
          receiverId: subscription.sender_id,
          domain,
          action: 'notify',
          status: 'succ',
          totalCount: rows.length,
          completedCount: rows.length,
          messageId,
          transactionId: subscription.transaction_id,
          correlationId: subscription.correlation_id,
          message: message,
          meta: { subscription_code: subscription.code },
        },
        attempt,
        deps.callbacks,
      );
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const exhausted = attempt > deps.retry.retryLimit;
      const nextAttemptAt = exhausted
        ? null
        : new Date(Date.now() + notifyRetryDelayMs(attempt, deps.retry, deps.random));
      await db
        .updateTable('notification')
        .set({ attempts: attempt, last_error: reason, next_attempt_at: nextAttemptAt })
        .where('message_id', '=', messageId)
        .where('status', '=', 'pending')
        .execute();
      if (exhausted) {
        // Out of retries: the subscription waits, backlog kept, until an operator resumes it.
        await db
          .updateTable('subscription')
          .set({
            status: 'suspended',
            status_reason: `notification ${messageId} was not taken after ${attempt} attempts: ${reason}`.slice(0, 500),
            updated_at: new Date(),
          })
          .where('code', '=', job.code)
          .where('status', '=', 'active')
          .execute();
      }
      if (!(error instanceof CallbackFailed)) throw error;
      return;
    }
    await db
      .updateTable('notification')
      .set({ status: 'delivered', delivered_at: new Date(), attempts: attempt, next_attempt_at: null })
      .where('message_id', '=', messageId)
      .execute();
  }
}

/**
 * Starts the delivery job of every active subscription whose head message is due (one job per
 * code). Only a subscription's head message can be waiting: it blocks the ones behind it.
 */
export async function dispatchNotifications(db: Kysely<DB>, queue: JobQueue): Promise<number> {
  const { rows } = await sql<{ code: string }>`
    select s.code from subscription s
    where s.status = 'active'
      and exists (select 1 from notification n where n.subscription_code = s.code and n.status = 'pending')
      and not exists (select 1 from notification n where n.subscription_code = s.code and n.status = 'pending'
                        and n.next_attempt_at > now())`.execute(db);
  let started = 0;
  for (const { code } of rows) {
    const id = await queue.send(QUEUES.notify, { code } satisfies NotifyJob, { singletonKey: code });
    if (id) started += 1;
  }
  return started;
}
