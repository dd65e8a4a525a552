/**
 * Subscriptions over real HTTP: subscribe → ACK → signed on-subscribe with a code; registry
 * changes matched at change time → signed notify in event order, retried with the same
 * message_id, a subscription suspended when its retries run out and resumed from its backlog;
 * expiry; unsubscribe → on-unsubscribe. Every callback is checked against the spec.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  requestHeader,
  subscribeRequestMessage,
  unsubscribeRequestMessage,
  verifyMessage,
  type SubscribeCriteria,
} from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { specAvailable, specCheck, specFile, specValidator } from '../../../protocol/src/test-support/spec.js';
import { loadConfig } from '../config.js';
import { importFile } from '../registry/import.js';
import { SubscriptionStore } from '../subscriptions/store.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

type Body = { signature: string; header: Record<string, unknown>; message: Record<string, unknown> };
interface Posted {
  path: string;
  status: number;
  body: Body;
  at: number;
}
type NotifyEvent = {
  reference_id: string;
  data: { reg_event_type: string; reg_record_type: string; reg_records: Record<string, unknown> };
};

describeBackends('subscriptions and notifications', (ctx) => {
  let app: FastifyInstance;
  let receiver: Server;
  let base: string;
  let token: string;
  let counter = 0;
  const posted: Posted[] = [];
  /** Per subscribe transaction: statuses to answer its notify posts with, in order, before 200. */
  const notifyFailures = new Map<string, number[]>();
  let notifyDown = false;
  /** Per subscribe transaction: a receiver outage (ms) that starts at its first notify post. */
  const outages = new Map<string, { ms: number; until?: number }>();

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '';
        const body = JSON.parse(data) as Body;
        const transactionId = String(body.message.transaction_id);
        const failures = notifyFailures.get(transactionId);
        const outage = outages.get(transactionId);
        if (outage && path.endsWith('/notify')) outage.until ??= Date.now() + outage.ms;
        const down = notifyDown || (outage?.until !== undefined && Date.now() < outage.until);
        const status = path.endsWith('/notify') ? (down ? 503 : (failures?.shift() ?? 200)) : 200;
        posted.push({ path, status, body, at: Date.now() });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            message: { ack_status: status === 200 ? 'ACK' : 'ERR', timestamp: new Date().toISOString() },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/mis/registry`;
    app = await buildApp(
      loadConfig({
        LOG_LEVEL: 'silent',
        DCI_ALLOW_INSECURE_CALLBACKS: 'true',
        DCI_CALLBACK_RETRY_LIMIT: '3',
        DCI_CALLBACK_RETRY_DELAY: '2',
        DCI_CALLBACK_RETRY_DELAY_MAX: '2',
      }),
      { database: ctx.database, logger: false },
    );
    await app.senders.add({
      id: 'mis',
      clientSecret: 's3cret',
      signaturePolicy: 'optional',
      callbackAllow: ['http://127.0.0.1:*'],
    });
    token = (await app.tokens.issue({ clientId: 'mis', clientSecret: 's3cret', grantType: 'client_credentials' }))
      .access_token;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const post = (path: string, action: string, message: object, senderUri?: string) =>
    app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: {
        signature: 'unsigned',
        header: requestHeader({
          action: action as 'subscribe',
          senderId: 'mis',
          totalCount: 1,
          ...(senderUri ? { senderUri } : {}),
        }),
        message,
      },
    });

  const people = async (rows: Record<string, unknown>[]) => {
    const file = join(mkdtempSync(join(tmpdir(), 'opendci-sub-')), 'rows.ndjson');
    writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n'));
    const report = await importFile(ctx.database, file);
    expect(report.failed).toBe(0);
  };
  const person = (sex: string, given: string) => ({
    type: 'individual',
    identifiers: [{ type: 'UIN', value: `S-${++counter}-${Date.now()}` }],
    given_name: given,
    sex,
  });

  const verifies = async (body: Body) => {
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    await verifyMessage(body, {
      resolveKey: async (kid) => {
        const jwk = jwks.keys.find((k) => k.kid === kid);
        return jwk ? createPublicKey({ key: jwk as never, format: 'jwk' }) : undefined;
      },
      expectedSenderId: 'opendci',
    });
  };
  const specValid = async (path: string, body: Body) => {
    if (!specAvailable()) return;
    const validate = await specValidator(specFile('social')!, path, 'post', 'callback');
    expect(specCheck(validate, body)).toEqual([]);
  };

  /** Subscribes; answers the on-subscribe callback. */
  const subscribeTo = async (transactionId: string, criteria: Partial<SubscribeCriteria>) => {
    const response = await post(
      '/registry/subscribe',
      'subscribe',
      subscribeRequestMessage({
        transactionId,
        items: [
          {
            referenceId: `${transactionId}-r1`,
            criteria: { reg_event_type: 'REGISTER', notify_record_type: 'Member', ...criteria } as SubscribeCriteria,
          },
        ],
      }),
      `${base}/on-subscribe`,
    );
    expect(response.statusCode, response.body).toBe(202);
    await expect
      .poll(() => posted.some((p) => p.body.message.transaction_id === transactionId), { timeout: 20_000 })
      .toBe(true);
    return posted.find((p) => p.body.message.transaction_id === transactionId)!.body;
  };
  const codeOf = (callback: Body) =>
    (callback.message.subscribe_response as { subscriptions: { code: string }[] }[])[0]!.subscriptions[0]!.code;

  /** Notify events delivered (taken: 200) for a subscribe transaction, in delivery order. */
  const delivered = (transactionId: string) =>
    posted
      .filter((p) => p.path.endsWith('/notify') && p.status === 200 && p.body.message.transaction_id === transactionId)
      .flatMap((p) => p.body.message.notify_event as NotifyEvent[]);
  const givenNames = (events: NotifyEvent[]) =>
    events.map((e) => (e.data.reg_records.demographic_info as { name: { given_name: string } }).name.given_name);

  it('subscribe → signed, spec-valid on-subscribe with a code; matching changes → notify in event order', async () => {
    const callback = await subscribeTo('t-sub-1', {
      filter_type: 'expression',
      filter: { sex: { $eq: 'female' } },
    });
    expect(callback.header.action).toBe('on-subscribe');
    expect(callback.message.correlation_id).toBeTruthy();
    const item = (callback.message.subscribe_response as { status: string }[])[0]!;
    expect(item.status).toBe('succ');
    await verifies(callback);
    await specValid('/registry/subscribe', callback);
    const code = codeOf(callback);
    expect(code).toMatch(/^sub-/);

    await people([person('female', 'Asha'), person('male', 'Baraka'), person('female', 'Chausiku')]);
    await people([person('female', 'Dalila')]);
    await expect.poll(() => delivered('t-sub-1').length, { timeout: 20_000 }).toBe(3);
    const events = delivered('t-sub-1');
    expect(givenNames(events)).toEqual(['Asha', 'Chausiku', 'Dalila']);
    for (const event of events) {
      expect(event.reference_id).toBe('t-sub-1-r1');
      expect(event.data.reg_event_type).toBe('REGISTER');
      expect(event.data.reg_record_type).toBe('Member');
      expect(Array.isArray(event.data.reg_records)).toBe(false);
    }
    const notify = posted.find((p) => p.path.endsWith('/notify') && p.body.message.transaction_id === 't-sub-1')!;
    expect(notify.path).toBe('/mis/registry/notify');
    expect(notify.body.header).toMatchObject({ action: 'notify', meta: { subscription_code: code } });
    await verifies(notify.body);
    await specValid('/registry/notify', notify.body);
  });

  it('rejects an unknown event type and a filter outside the vocabulary, item by item', async () => {
    const badEvent = await subscribeTo('t-sub-bad', {
      reg_event_type: 'Explosion',
      filter: { type: 'UIN', value: 'x' },
    });
    expect((badEvent.message.subscribe_response as { status_reason_code: string }[])[0]).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.notify_types.invalid',
    });
    await specValid('/registry/subscribe', badEvent);
    const badFilter = await subscribeTo('t-sub-bad-2', {
      filter_type: 'expression',
      filter: { shoe_size: { $gt: 40 } },
    });
    expect((badFilter.message.subscribe_response as { status_reason_code: string }[])[0]).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.notify_details.invalid',
    });
  });

  it('a receiver down for a while gets everything, in order, each message with one message_id', async () => {
    await subscribeTo('t-sub-2', {
      filter_type: 'expression',
      filter: { given_name: { $in: ['Eshe', 'Faraji', 'Gathoni'] } },
    });
    notifyFailures.set('t-sub-2', [503, 500]);
    await people([person('female', 'Eshe'), person('male', 'Faraji')]);
    await people([person('female', 'Gathoni')]);
    await expect.poll(() => delivered('t-sub-2').length, { timeout: 30_000 }).toBe(3);
    expect(givenNames(delivered('t-sub-2'))).toEqual(['Eshe', 'Faraji', 'Gathoni']);
    const attempts = posted.filter((p) => p.path.endsWith('/notify') && p.body.message.transaction_id === 't-sub-2');
    const first = attempts[0]!.body.header.message_id;
    expect(attempts.slice(0, 3).map((a) => [a.status, a.body.header.message_id])).toEqual([
      [503, first],
      [500, first],
      [200, first],
    ]);
  });

  it('suspends a subscription whose retries run out, keeps its backlog, and resumes from it', async () => {
    const code = codeOf(
      await subscribeTo('t-sub-3', {
        filter_type: 'expression',
        filter: { given_name: { $eq: 'Hamisi' } },
      }),
    );
    notifyDown = true;
    try {
      await people([person('male', 'Hamisi')]);
      const store = new SubscriptionStore(ctx.database.db);
      await expect.poll(async () => (await store.get(code))?.status, { timeout: 30_000 }).toBe('suspended');
      // While suspended, matches still join the backlog.
      await people([person('male', 'Hamisi')]);
      await expect.poll(async () => (await store.get(code))?.pending, { timeout: 10_000 }).toBe(2);
      const attempts = posted.filter(
        (p) => p.path.endsWith('/notify') && p.body.message.transaction_id === 't-sub-3',
      ).length;
      expect(attempts).toBe(4); // the first attempt and DCI_CALLBACK_RETRY_LIMIT=3 retries
      notifyDown = false;
      await store.resume(code);
    } finally {
      notifyDown = false;
    }
    await expect.poll(() => delivered('t-sub-3').length, { timeout: 20_000 }).toBe(2);
  });

  it('spaces retries by the backoff however often the dispatcher runs, so an outage shorter than them is bridged', async () => {
    const code = codeOf(
      await subscribeTo('t-sub-6', {
        filter_type: 'expression',
        filter: { given_name: { $eq: 'Imani' } },
      }),
    );
    // Three retries 2 s (±20 %) apart span at least 4.8 s: a 4 s outage must not suspend, although
    // the dispatcher (every second) would have used up the retries within it had it attempted.
    outages.set('t-sub-6', { ms: 4_000 });
    await people([person('female', 'Imani')]);
    await expect.poll(() => delivered('t-sub-6').length, { timeout: 30_000 }).toBe(1);
    const attempts = posted.filter((p) => p.path.endsWith('/notify') && p.body.message.transaction_id === 't-sub-6');
    expect(attempts.at(-1)!.status).toBe(200);
    expect(attempts.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < attempts.length; i += 1) {
      expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(1_500);
    }
    expect(new Set(attempts.map((a) => a.body.header.message_id)).size).toBe(1);
    expect((await new SubscriptionStore(ctx.database.db).get(code))?.status).toBe('active');
  });

  it('stops at expiry, and unsubscribe ends a subscription (unknown codes reported)', async () => {
    const expiring = codeOf(
      await subscribeTo('t-sub-4', {
        filter_type: 'expression',
        filter: { given_name: { $eq: 'Imani' } },
        frequency: {
          start_time: new Date(Date.now() - 60_000).toISOString(),
          end_time: new Date(Date.now() + 60_000).toISOString(),
          frequency: '0 * * * * ? *',
        },
      }),
    );
    await ctx.database.db
      .updateTable('subscription')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('code', '=', expiring)
      .execute();
    const ending = codeOf(
      await subscribeTo('t-sub-5', {
        filter_type: 'expression',
        filter: { given_name: { $eq: 'Imani' } },
      }),
    );
    const response = await post(
      '/registry/unsubscribe',
      'unsubscribe',
      unsubscribeRequestMessage({ transactionId: 't-unsub-1', codes: [ending, 'sub-unknown-001'] }),
      `${base}/on-unsubscribe`,
    );
    expect(response.statusCode, response.body).toBe(202);
    await expect
      .poll(() => posted.some((p) => p.body.message.transaction_id === 't-unsub-1'), { timeout: 20_000 })
      .toBe(true);
    const callback = posted.find((p) => p.body.message.transaction_id === 't-unsub-1')!.body;
    expect(callback.header.action).toBe('on-unsubscribe');
    expect(callback.message).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.subscription_code.invalid',
      subscription_status: [{ code: ending, status: 'unsubscribe' }],
    });
    await specValid('/registry/unsubscribe', callback);

    await people([person('female', 'Imani')]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(delivered('t-sub-4')).toEqual([]);
    expect(delivered('t-sub-5')).toEqual([]);
    const pending = await ctx.database.db
      .selectFrom('notification')
      .select('id')
      .where('subscription_code', 'in', [expiring, ending])
      .execute();
    expect(pending).toEqual([]);
  });
});
