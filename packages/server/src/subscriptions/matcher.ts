/**
 * The matcher: run in the transaction of every registry write, it evaluates the active (and
 * suspended) subscriptions against the events that write raised and queues one notification per match in
 * the outbox (`notification`), in event order. The filter is the search engine's, compiled to SQL
 * over the subscription's record type.
 */
import { sql, type Kysely } from 'kysely';
import { parseSearchQuery } from '@opendci/protocol';
import type { Domain } from '../config.js';
import type { DB } from '../db/schema.js';
import { compileWhere } from '../search/compile.js';
import { findRecordType, type RecordKind } from '../search/vocabulary.js';
import { eventPairs } from './events.js';

/** The entity an event is about, as the subscription's record kind sees it (null: not one of them). */
const SUBJECTS: Readonly<Record<RecordKind, ReturnType<typeof sql<string | null>>>> = {
  individual: sql<string | null>`case e.record_type
    when 'individual' then e.record_id
    when 'household' then (e.data->>'individual_id')::uuid
    when 'vital_event' then (select v.subject_id from vital_event v where v.id = e.record_id)
    when 'enrollment' then (select x.individual_id from enrollment x where x.id = e.record_id)
    when 'disability' then (e.data->>'individual_id')::uuid
    when 'farm' then (e.data->>'farmer_id')::uuid
  end`,
  household: sql<string | null>`case e.record_type
    when 'household' then e.record_id
    when 'enrollment' then (select x.household_id from enrollment x where x.id = e.record_id)
  end`,
};

const BASES: Readonly<Record<RecordKind, { table: ReturnType<typeof sql>; id: ReturnType<typeof sql> }>> = {
  individual: { table: sql`individual i`, id: sql`i.id` },
  household: { table: sql`household h`, id: sql`h.id` },
};

/** Matches the events of one registry write (`batchId`); returns how many notifications it queued. */
export async function matchSubscriptions(db: Kysely<DB>, batchId: string, now = new Date()): Promise<number> {
  const subscriptions = await db
    .selectFrom('subscription')
    .select([
      'code',
      'domain',
      'event_types',
      'record_type',
      'record_kind',
      'filter_type',
      'filter',
      'starts_at',
      'expires_at',
    ])
    // A suspended subscription keeps collecting its backlog; resuming delivers it.
    .where('status', 'in', ['active', 'suspended'])
    .execute();
  let queued = 0;
  for (const subscription of subscriptions) {
    if (subscription.expires_at && subscription.expires_at <= now) continue;
    if (subscription.starts_at && subscription.starts_at > now) continue;
    const domain = subscription.domain as Domain;
    const pairs = eventPairs(domain, subscription.event_types);
    const type = findRecordType(domain, subscription.record_type);
    if (pairs.length === 0 || !type) continue;
    let where: ReturnType<typeof sql>;
    try {
      const { node } = parseSearchQuery(subscription.filter_type ?? undefined, subscription.filter);
      where = compileWhere(type, node, { today: now.toISOString().slice(0, 10) });
    } catch {
      // Checked at subscribe time; a filter the vocabulary no longer takes matches nothing.
      continue;
    }
    const kind = subscription.record_kind;
    const events = sql.join(pairs.map(([event, record]) => sql`(${event}::text, ${record}::text)`));
    const result = await sql`
      insert into notification (subscription_code, event_id, event_type, record_id)
      select ${subscription.code}, m.id, m.event_type, m.subject from (
        select e.id, e.event_type, ${SUBJECTS[kind]} as subject
        from registry_event e
        where e.batch_id = ${batchId}::uuid and (e.event_type, e.record_type) in (${events})
      ) m
      where m.subject is not null
        and exists (select 1 from ${BASES[kind].table} where ${BASES[kind].id} = m.subject and ${where})
      order by m.id`.execute(db);
    queued += Number(result.numAffectedRows ?? 0);
  }
  return queued;
}
