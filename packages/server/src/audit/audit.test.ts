/**
 * The audit trail's group-committed insert: the entries recorded at the same time land as rows
 * holding exactly what was recorded (payloads redacted or whole, arrays, nulls, dates), and an
 * entry the database refuses costs only itself.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { AuditTrail, type AuditEntry } from './audit.js';

const at = new Date('2026-12-07T10:00:00.000Z');

const entry = (n: number, more: Partial<AuditEntry> = {}): AuditEntry => ({
  direction: 'inbound',
  senderId: 'sender-a',
  receiverId: 'opendci',
  domain: 'social',
  action: 'search',
  path: '/registry/sync/search',
  messageId: `m-${n}`,
  transactionId: `t-${n}`,
  correlationId: `c-${n}`,
  referenceIds: [`r-${n}`, `r'"{,}\\-${n}`],
  status: 'succ',
  httpStatus: 200,
  receivedAt: at,
  completedAt: new Date(at.getTime() + n),
  ...more,
});

describeBackends('audit trail', (ctx) => {
  const rowsOf = async (prefix: string) =>
    (
      await sql<Record<string, unknown>>`select * from dci_transaction where message_id like ${`${prefix}%`}
        order by message_id`.execute(ctx.database.db)
    ).rows;

  it('writes entries recorded together as rows holding exactly what was recorded', async () => {
    const audit = new AuditTrail(ctx.database.db, { payloads: 'redacted', redactFields: ['given_name'] });
    const request = { header: { message_id: 'x' }, message: { q: 'naïve "quoted" \\ \u2028 😀', n: [1, 2.5, null] } };
    const response = { records: [{ given_name: 'Amina', sex: 'female' }] };
    const consent = { '@type': 'Consent', ts: '2026-01-01T00:00:00Z' };
    const ids = await Promise.all([
      audit.record(entry(1, { messageId: 'batch-1', request, response, consent, authorize: { by: 'me' } })),
      audit.record(entry(2, { messageId: 'batch-2', referenceIds: [], reasonCode: 'rjct.x', status: 'rjct' })),
      audit.record(
        entry(3, {
          messageId: 'batch-3',
          direction: 'outbound',
          senderId: null,
          httpStatus: null,
          attempt: 4,
          transactionId: null,
        }),
      ),
    ]);
    await audit.flush();
    const rows = await rowsOf('batch-');
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows[0]).toMatchObject({
      direction: 'inbound',
      sender_id: 'sender-a',
      receiver_id: 'opendci',
      domain: 'social',
      action: 'search',
      path: '/registry/sync/search',
      transaction_id: 't-1',
      correlation_id: 'c-1',
      reference_ids: ['r-1', `r'"{,}\\-1`],
      status: 'succ',
      reason_code: null,
      http_status: 200,
      attempt: 1,
      duration_ms: 1,
      request,
      response: { records: [{ given_name: '[redacted]', sex: 'female' }] },
      consent,
      authorize: { by: 'me' },
    });
    expect(new Date(rows[0]!.received_at as string).toISOString()).toBe(at.toISOString());
    expect(new Date(rows[0]!.completed_at as string).getTime()).toBe(at.getTime() + 1);
    expect(rows[1]).toMatchObject({
      reference_ids: [],
      status: 'rjct',
      reason_code: 'rjct.x',
      request: null,
      response: null,
      consent: null,
      authorize: null,
    });
    expect(rows[2]).toMatchObject({
      direction: 'outbound',
      sender_id: null,
      http_status: null,
      attempt: 4,
      transaction_id: null,
    });
  });

  it('keeps the other entries of a batch when the database refuses one', async () => {
    const audit = new AuditTrail(ctx.database.db, { payloads: 'full', redactFields: [] });
    // jsonb cannot hold \u0000: this entry's row is refused, the others are written.
    const results = await Promise.allSettled([
      audit.record(entry(1, { messageId: 'mixed-1' })),
      audit.record(entry(2, { messageId: 'mixed-2', request: { bad: 'nul \u0000 here' } })),
      audit.record(entry(3, { messageId: 'mixed-3' })),
    ]);
    await audit.flush();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await rowsOf('mixed-')).map((r) => r.message_id)).toEqual(['mixed-1', 'mixed-3']);
  });
});
