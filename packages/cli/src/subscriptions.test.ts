/**
 * `dci subscriptions …` and `dci deliveries list` through the built binary, on a temporary
 * embedded store whose subscriptions and notifications are written directly.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDci, type Run } from './test-support/run.js';
import { openStore } from '../../server/src/store.js';
import { SenderStore } from '../../server/src/security/senders.js';
import type { Database } from '../../server/src/db/open.js';
import type { SubscriptionStatus } from '../../server/src/db/schema.js';

const work = mkdtempSync(join(tmpdir(), 'opendci-subscriptions-'));
const env = { DATABASE_URL: `pglite:${join(work, 'store')}`, LOG_LEVEL: 'warn' };

function dci(...args: string[]): Promise<Run> {
  return runDci(args, env);
}

async function ok(...args: string[]): Promise<string> {
  const run = await dci(...args);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code, args.join(' ')).toBe(0);
  return run.stdout;
}

async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

/** Opens the store directly (the CLI has exited and released the data dir). */
async function withDb<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openStore(env.DATABASE_URL);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function subscription(code: string, senderId: string, status: SubscriptionStatus = 'active', minutesAgo = 0) {
  const at = new Date(Date.now() - minutesAgo * 60_000);
  return {
    code,
    sender_id: senderId,
    domain: 'social',
    event_types: ['REGISTER'],
    record_type: 'Member',
    record_kind: 'individual' as const,
    filter_type: 'expression',
    filter: JSON.stringify({ sex: { $eq: 'female' } }),
    notify_url: `https://${senderId}.example.org/dci/notify`,
    status,
    transaction_id: `t-${code}`,
    reference_id: `r-${code}`,
    correlation_id: randomUUID(),
    created_at: at,
    updated_at: at,
  };
}

type Sub = { code: string; senderId: string; status: string; statusReason: string | null; pending: number };
type Delivery = { id: string; subscriptionCode: string; status: string; attempts: number; lastError: string | null };

describe('dci subscriptions and dci deliveries', () => {
  beforeAll(async () => {
    await withDb(async ({ db }) => {
      const senders = new SenderStore(db);
      await senders.add({ id: 'spmis', clientSecret: 's3cret' });
      await senders.add({ id: 'farmreg', clientSecret: 's3cret' });
      await db
        .insertInto('subscription')
        .values([
          subscription('sub-a', 'spmis', 'active', 30),
          subscription('sub-b', 'spmis', 'suspended', 20),
          subscription('sub-c', 'farmreg', 'unsubscribed', 10),
        ])
        .execute();
      const record = randomUUID();
      const note = (code: string, eventId: number, extra: object = {}) => ({
        subscription_code: code,
        event_id: String(eventId),
        event_type: 'REGISTER',
        record_id: record,
        ...extra,
      });
      // Inserted in id order: a delivered one, a failed one (pending after an attempt), two pending.
      await db
        .insertInto('notification')
        .values([
          note('sub-a', 1, { status: 'delivered', attempts: 1, message_id: 'm-1', delivered_at: new Date() }),
          note('sub-a', 2, { attempts: 3, last_error: 'HTTP 503\nfrom the receiver' }),
          note('sub-a', 3),
          note('sub-b', 4),
        ])
        .execute();
    });
  }, 60_000);

  it('lists the subscriptions, oldest first, with filters', async () => {
    const all = await json<Sub[]>('subscriptions', 'list');
    expect(all.map((s) => [s.code, s.senderId, s.status, s.pending])).toEqual([
      ['sub-a', 'spmis', 'active', 2],
      ['sub-b', 'spmis', 'suspended', 1],
      ['sub-c', 'farmreg', 'unsubscribed', 0],
    ]);
    expect((await json<Sub[]>('subscriptions', 'list', '--sender', 'farmreg')).map((s) => s.code)).toEqual(['sub-c']);
    expect((await json<Sub[]>('subscriptions', 'list', '--status', 'suspended')).map((s) => s.code)).toEqual(['sub-b']);
    expect(await json<Sub[]>('subscriptions', 'list', '--sender', 'nobody')).toEqual([]);

    const text = await ok('subscriptions', 'list');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CODE\s+SENDER\s+DOMAIN\s+STATUS\s+EVENTS\s+RECORD\s+PENDING\s+CREATED$/);
    expect(lines[1]).toMatch(/^sub-a\s+spmis\s+social\s+active\s+REGISTER\s+Member\s+2\s+\d{4}-/);
    expect(lines).toHaveLength(4);
    expect(await ok('subscriptions', 'list', '--status', 'expired')).toBe('no subscriptions\n');
  }, 60_000);

  it('shows one subscription', async () => {
    const shown = await json<Sub & Record<string, unknown>>('subscriptions', 'show', 'sub-a');
    expect(shown).toMatchObject({
      code: 'sub-a',
      senderId: 'spmis',
      domain: 'social',
      eventTypes: ['REGISTER'],
      recordType: 'Member',
      filter: { sex: { $eq: 'female' } },
      notifyUrl: 'https://spmis.example.org/dci/notify',
      status: 'active',
      transactionId: 't-sub-a',
      pending: 2,
    });
    const text = await ok('subscriptions', 'show', 'sub-a');
    expect(text).toMatch(/code\s+sub-a\n/);
    expect(text).toMatch(/filter\s+\{"sex":\{"\$eq":"female"\}\}\n/);
    expect(text).toMatch(/pending\s+2\n/);
  }, 60_000);

  it('lists deliveries, newest first, by status, subscription and limit', async () => {
    const all = await json<Delivery[]>('deliveries', 'list');
    expect(all.map((d) => [d.subscriptionCode, d.status, d.attempts])).toEqual([
      ['sub-b', 'pending', 0],
      ['sub-a', 'pending', 0],
      ['sub-a', 'failed', 3],
      ['sub-a', 'delivered', 1],
    ]);
    const failed = await json<Delivery[]>('deliveries', 'list', '--status', 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ subscriptionCode: 'sub-a', lastError: 'HTTP 503\nfrom the receiver' });
    expect((await json<Delivery[]>('deliveries', 'list', '--status', 'pending')).map((d) => d.status)).toEqual([
      'pending',
      'pending',
    ]);
    expect((await json<Delivery[]>('deliveries', 'list', '--status', 'delivered')).length).toBe(1);
    expect(
      (await json<Delivery[]>('deliveries', 'list', '--subscription', 'sub-b')).map((d) => d.subscriptionCode),
    ).toEqual(['sub-b']);
    expect((await json<Delivery[]>('deliveries', 'list', '--limit', '2')).length).toBe(2);

    const lines = (await ok('deliveries', 'list', '--status', 'failed')).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SUBSCRIPTION\s+EVENT\s+RECORD\s+STATUS\s+ATTEMPTS\s+CREATED\s+LAST ERROR$/);
    expect(lines[1]).toMatch(
      /^\d+\s+sub-a\s+REGISTER\s+[0-9a-f-]{36}\s+failed\s+3\s+\S+\s+HTTP 503 from the receiver$/,
    );
    expect(lines).toHaveLength(2);
    expect(await ok('deliveries', 'list', '--subscription', 'sub-c')).toBe('no deliveries\n');
  }, 60_000);

  it('suspends and resumes, keeping the backlog', async () => {
    expect(await ok('subscriptions', 'suspend', 'sub-a')).toBe(
      'subscription sub-a suspended (2 pending notifications kept)\n',
    );
    const suspended = await json<Sub>('subscriptions', 'show', 'sub-a');
    expect(suspended).toMatchObject({ status: 'suspended', pending: 2 });
    expect(suspended.statusReason).toMatch(/operator/);

    const resumed = await json<Sub>('subscriptions', 'resume', 'sub-a');
    expect(resumed).toMatchObject({ code: 'sub-a', status: 'active', statusReason: null, pending: 2 });
    expect(await ok('subscriptions', 'resume', 'sub-b')).toBe(
      'subscription sub-b active (1 pending notifications to deliver)\n',
    );
    expect((await json<Sub>('subscriptions', 'suspend', 'sub-b')).status).toBe('suspended');
  }, 60_000);

  it('deletes a subscription with its queued notifications', async () => {
    expect(await json('subscriptions', 'delete', 'sub-b')).toEqual({ code: 'sub-b', deleted: true });
    expect(await ok('subscriptions', 'delete', 'sub-c')).toBe('subscription sub-c deleted\n');
    expect((await json<Sub[]>('subscriptions', 'list')).map((s) => s.code)).toEqual(['sub-a']);
    expect((await json<Delivery[]>('deliveries', 'list')).every((d) => d.subscriptionCode === 'sub-a')).toBe(true);
  }, 60_000);

  it('answers unknown codes, state conflicts and bad input with one line and exit code 1', async () => {
    await withDb(({ db }) =>
      db
        .insertInto('subscription')
        .values(subscription('sub-gone', 'farmreg', 'unsubscribed'))
        .execute(),
    );
    const cases: [string[], RegExp][] = [
      [['subscriptions', 'show', 'nope'], /^dci: no subscription "nope"\n$/],
      [['subscriptions', 'suspend', 'nope'], /^dci: no subscription "nope"\n$/],
      [['subscriptions', 'resume', 'nope'], /^dci: no subscription "nope"\n$/],
      [['subscriptions', 'delete', 'nope'], /^dci: no subscription "nope"\n$/],
      [['subscriptions', 'resume', 'sub-gone'], /^dci: cannot resume: subscription sub-gone is unsubscribed\n$/],
      [['subscriptions', 'suspend', 'sub-gone'], /^dci: cannot suspend: subscription sub-gone is unsubscribed\n$/],
      [['deliveries', 'list', '--limit', '0'], /^dci: --limit must be a positive integer\n$/],
      [['deliveries', 'list', '--limit', 'many'], /^dci: --limit must be a positive integer\n$/],
    ];
    for (const [args, message] of cases) {
      const run = await dci(...args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stdout, args.join(' ')).toBe('');
    }
    for (const args of [
      ['subscriptions', 'list', '--status', 'paused'],
      ['deliveries', 'list', '--status', 'lost'],
    ]) {
      const run = await dci(...args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(/argument '\w+' is invalid\. Allowed choices are/);
    }
    expect((await json<Sub>('subscriptions', 'show', 'sub-gone')).status).toBe('unsubscribed');
  }, 120_000);
});
