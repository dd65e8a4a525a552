/**
 * Subscriptions as operators and subscribers see them: create (subscribe), end (unsubscribe),
 * suspend, resume, delete, and the notification outbox (deliveries).
 */
import type { Kysely, Selectable } from 'kysely';
import type { NewSubscription, UnsubscribeOutcome } from '../engine/subscribe.js';
import type { SubscriptionState } from '../engine/txn-status.js';
import type { DB, NotificationTable, SubscriptionStatus, SubscriptionTable } from '../db/schema.js';
import { currentExecutor } from '../db/tx.js';

export type SubscriptionRow = Selectable<SubscriptionTable>;

export interface Subscription {
  code: string;
  senderId: string;
  domain: string;
  eventTypes: string[];
  recordType: string;
  filterType: string | null;
  filter: unknown;
  notifyUrl: string;
  frequency: unknown;
  startsAt: Date | null;
  expiresAt: Date | null;
  status: SubscriptionStatus;
  statusReason: string | null;
  transactionId: string;
  referenceId: string;
  correlationId: string;
  createdAt: Date;
  updatedAt: Date;
  /** Notifications not delivered yet. */
  pending?: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  subscriptionCode: string;
  eventId: string;
  eventType: string;
  recordId: string;
  /** `failed`: still pending after at least one failed attempt. */
  status: DeliveryStatus;
  messageId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** When a failed message is tried again (null: not waiting). */
  nextAttemptAt: Date | null;
}

export class SubscriptionError extends Error {
  constructor(
    readonly kind: 'not-found' | 'state',
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

export function toSubscription(row: SubscriptionRow, pending?: number): Subscription {
  return {
    code: row.code,
    senderId: row.sender_id,
    domain: row.domain,
    eventTypes: row.event_types,
    recordType: row.record_type,
    filterType: row.filter_type,
    filter: row.filter,
    notifyUrl: row.notify_url,
    frequency: row.frequency,
    startsAt: row.starts_at,
    expiresAt: row.expires_at,
    status: row.status,
    statusReason: row.status_reason,
    transactionId: row.transaction_id,
    referenceId: row.reference_id,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(pending === undefined ? {} : { pending }),
  };
}

function toDelivery(row: Selectable<NotificationTable>): Delivery {
  return {
    id: String(row.id),
    subscriptionCode: row.subscription_code,
    eventId: String(row.event_id),
    eventType: row.event_type,
    recordId: row.record_id,
    status: row.status === 'delivered' ? 'delivered' : row.attempts > 0 ? 'failed' : 'pending',
    messageId: row.message_id,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    nextAttemptAt: row.next_attempt_at,
  };
}

export class SubscriptionStore {
  constructor(private readonly db: Kysely<DB>) {}

  private get q(): Kysely<DB> {
    return currentExecutor(this.db);
  }

  /** Creates subscriptions (subscribe); a code that exists already is left as it is. */
  async create(subscriptions: readonly NewSubscription[]): Promise<void> {
    if (subscriptions.length === 0) return;
    await this.q
      .insertInto('subscription')
      .values(
        subscriptions.map((s) => ({
          code: s.code,
          sender_id: s.senderId,
          domain: s.domain,
          event_types: s.eventTypes,
          record_type: s.recordType,
          record_kind: s.recordKind,
          filter_type: s.filterType,
          filter: JSON.stringify(s.filter),
          notify_url: s.notifyUrl,
          frequency: s.frequency === undefined ? null : JSON.stringify(s.frequency),
          starts_at: s.startsAt ?? null,
          expires_at: s.expiresAt ?? null,
          transaction_id: s.transactionId,
          reference_id: s.referenceId,
          correlation_id: s.correlationId,
        })),
      )
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
  }

  /** Ends a sender's subscriptions (unsubscribe); what happened to each code. */
  async unsubscribe(senderId: string, codes: readonly string[]): Promise<Map<string, UnsubscribeOutcome>> {
    const outcomes = new Map<string, UnsubscribeOutcome>();
    if (codes.length === 0) return outcomes;
    const rows = await this.q
      .selectFrom('subscription')
      .select(['code', 'sender_id', 'status'])
      .where('code', 'in', [...codes])
      .execute();
    const found = new Map(rows.map((row) => [row.code, row]));
    const ending: string[] = [];
    for (const code of codes) {
      const row = found.get(code);
      if (!row) outcomes.set(code, 'unknown');
      else if (row.sender_id !== senderId) outcomes.set(code, 'not-yours');
      else if (row.status === 'unsubscribed') outcomes.set(code, 'already');
      else {
        outcomes.set(code, 'unsubscribed');
        ending.push(code);
      }
    }
    if (ending.length > 0) {
      await this.q
        .updateTable('subscription')
        .set({ status: 'unsubscribed', status_reason: 'unsubscribed by the subscriber', updated_at: new Date() })
        .where('code', 'in', ending)
        .execute();
    }
    return outcomes;
  }

  /** The sender's subscriptions among `codes` in a domain, as txn status reports them. */
  async states(senderId: string, domain: string, codes: readonly string[]): Promise<SubscriptionState[]> {
    if (codes.length === 0) return [];
    const rows = await this.q
      .selectFrom('subscription')
      .selectAll()
      .where('sender_id', '=', senderId)
      .where('domain', '=', domain)
      .where('code', 'in', [...codes])
      .execute();
    return rows.map((row) => ({
      code: row.code,
      active: row.status !== 'unsubscribed',
      referenceId: row.reference_id,
      transactionId: row.transaction_id,
      correlationId: row.correlation_id,
      eventTypes: row.event_types,
      recordType: row.record_type,
      createdAt: row.created_at,
    }));
  }

  async list(filter: { senderId?: string; status?: SubscriptionStatus } = {}): Promise<Subscription[]> {
    let query = this.q
      .selectFrom('subscription as s')
      .selectAll('s')
      .select((eb) =>
        eb
          .selectFrom('notification as n')
          .select(eb.fn.countAll<string>().as('n'))
          .whereRef('n.subscription_code', '=', 's.code')
          .where('n.status', '=', 'pending')
          .as('pending'),
      )
      .orderBy('s.created_at');
    if (filter.senderId) query = query.where('s.sender_id', '=', filter.senderId);
    if (filter.status) query = query.where('s.status', '=', filter.status);
    const rows = await query.execute();
    return rows.map(({ pending, ...row }) => toSubscription(row, Number(pending ?? 0)));
  }

  async get(code: string): Promise<Subscription | undefined> {
    const row = await this.q.selectFrom('subscription').selectAll().where('code', '=', code).executeTakeFirst();
    if (!row) return undefined;
    const pending = await this.q
      .selectFrom('notification')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('subscription_code', '=', code)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return toSubscription(row, Number(pending.n));
  }

  async require(code: string): Promise<Subscription> {
    const found = await this.get(code);
    if (!found) throw new SubscriptionError('not-found', `no subscription ${code}`);
    return found;
  }

  /** Stops deliveries; the backlog is kept (and new matches are not queued while suspended). */
  async suspend(code: string, reason = 'suspended by an operator'): Promise<Subscription> {
    return this.setStatus(code, 'suspended', reason, ['active']);
  }

  /**
   * Active again: deliveries continue from the backlog, the waiting message of a suspended one with
   * a fresh retry budget and at once (resuming an active one changes nothing).
   */
  async resume(code: string): Promise<Subscription> {
    const wasSuspended = (await this.get(code))?.status === 'suspended';
    const subscription = await this.setStatus(code, 'active', null, ['suspended', 'active']);
    if (!wasSuspended) return subscription;
    await this.q
      .updateTable('notification')
      .set({ attempts: 0, next_attempt_at: null })
      .where('subscription_code', '=', code)
      .where('status', '=', 'pending')
      .where('attempts', '>', 0)
      .execute();
    return subscription;
  }

  async delete(code: string): Promise<void> {
    const result = await this.q.deleteFrom('subscription').where('code', '=', code).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new SubscriptionError('not-found', `no subscription ${code}`);
  }

  /** Deletes notifications delivered more than `days` ago; returns how many. */
  async purgeDelivered(days: number, now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - days * 86_400_000);
    const result = await this.q
      .deleteFrom('notification')
      .where('status', '=', 'delivered')
      .where('delivered_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deliveries(
    filter: { status?: DeliveryStatus; subscriptionCode?: string; limit?: number } = {},
  ): Promise<Delivery[]> {
    let query = this.q
      .selectFrom('notification')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.subscriptionCode) query = query.where('subscription_code', '=', filter.subscriptionCode);
    if (filter.status === 'delivered') query = query.where('status', '=', 'delivered');
    if (filter.status === 'pending') query = query.where('status', '=', 'pending').where('attempts', '=', 0);
    if (filter.status === 'failed') query = query.where('status', '=', 'pending').where('attempts', '>', 0);
    return (await query.execute()).map(toDelivery);
  }

  private async setStatus(
    code: string,
    status: SubscriptionStatus,
    reason: string | null,
    from: SubscriptionStatus[],
  ): Promise<Subscription> {
    const row = await this.q
      .updateTable('subscription')
      .set({ status, status_reason: reason, updated_at: new Date() })
      .where('code', '=', code)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst();
    if (row) return toSubscription(row);
    const existing = await this.get(code);
    if (!existing) throw new SubscriptionError('not-found', `no subscription ${code}`);
    throw new SubscriptionError('state', `subscription ${code} is ${existing.status}`);
  }
}
