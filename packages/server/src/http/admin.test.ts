/**
 * The admin API (`/admin/api/…`) over the real app: bearer and `admin` operation required, the
 * DCI error body on failures; subscriptions listed, shown, suspended, resumed, deleted; the
 * notification outbox listed by status, subscription and limit.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { SubscriptionStatus } from '../db/schema.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

type ErrorBody = { message: { ack_status: string; error: { code: string; message: string } } };
type Sub = { code: string; senderId: string; status: string; statusReason: string | null; pending?: number };
type Delivery = { id: string; subscriptionCode: string; status: string; attempts: number };

function subscription(code: string, status: SubscriptionStatus, age = 0) {
  const at = new Date(Date.now() - age * 60_000);
  return {
    code,
    sender_id: 'subscriber',
    domain: 'social',
    event_types: ['REGISTER'],
    record_type: 'Member',
    record_kind: 'individual' as const,
    filter_type: 'expression',
    filter: JSON.stringify({ sex: { $eq: 'female' } }),
    notify_url: 'https://subscriber.example.org/dci/notify',
    status,
    transaction_id: `t-${code}`,
    reference_id: `r-${code}`,
    correlation_id: randomUUID(),
    created_at: at,
    updated_at: at,
  };
}

describeBackends('admin API', (ctx) => {
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // API role: no worker delivers (or fails) the notifications written below.
    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', DCI_ROLE: 'api' }), {
      database: ctx.database,
      logger: false,
    });
    const senders: [string, string | undefined][] = [
      ['operator', 'admin,search'],
      ['subscriber', undefined], // `all`: every operation but admin
      ['narrow', 'admin,search'], // has admin, but its token is narrowed to search
      ['retired', 'admin'], // has admin, then disabled
    ];
    for (const [id, operations] of senders) {
      await app.senders.add({ id, clientSecret: 's3cret', ...(operations ? { operations } : {}) });
      tokens[id] = (
        await app.tokens.issue({
          clientId: id,
          clientSecret: 's3cret',
          grantType: 'client_credentials',
          ...(id === 'narrow' ? { scope: 'search' } : {}),
        })
      ).access_token;
    }
    await app.senders.disable('retired');

    const { db } = ctx.database;
    await db
      .insertInto('subscription')
      .values([
        subscription('sub-a', 'active', 30),
        subscription('sub-b', 'suspended', 20),
        subscription('sub-c', 'unsubscribed', 10),
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
    await db
      .insertInto('notification')
      .values([
        note('sub-a', 1, { status: 'delivered', attempts: 1, message_id: 'm-1', delivered_at: new Date() }),
        note('sub-a', 2, { attempts: 2, last_error: 'HTTP 503' }),
        note('sub-a', 3),
        note('sub-b', 4),
      ])
      .execute();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  /** An admin API call with the operator's token, another sender's, or (null) none. */
  const call = (method: InjectOptions['method'], url: string, token: string | null | undefined = tokens.operator) =>
    app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  const expectError = async (
    response: Awaited<ReturnType<typeof call>>,
    status: number,
    code: string,
    message?: RegExp,
  ) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json<ErrorBody>();
    expect(body.message.ack_status).toBe('ERR');
    expect(body.message.error.code).toBe(code);
    if (message) expect(body.message.error.message).toMatch(message);
  };

  it('answers 401 without a bearer token or with a bad one', async () => {
    for (const [method, url] of [
      ['GET', '/admin/api/subscriptions'],
      ['GET', '/admin/api/subscriptions/sub-a'],
      ['POST', '/admin/api/subscriptions/sub-a/suspend'],
      ['DELETE', '/admin/api/subscriptions/sub-a'],
      ['GET', '/admin/api/deliveries'],
    ] as const) {
      const response = await call(method, url, null);
      await expectError(response, 401, 'err.request.unauthorized', /bearer token is required/);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
    await expectError(await call('GET', '/admin/api/subscriptions', 'not-a-jwt'), 401, 'err.request.unauthorized');
    const forged = `${tokens.operator!.slice(0, -4)}AAAA`;
    await expectError(await call('GET', '/admin/api/subscriptions', forged), 401, 'err.request.unauthorized');
    const basic = await app.inject({
      method: 'GET',
      url: '/admin/api/subscriptions',
      headers: { authorization: 'Basic b3BlcmF0b3I6czNjcmV0' },
    });
    await expectError(basic, 401, 'err.request.unauthorized');
  });

  it('answers 403 to a sender without admin, with a token narrowed past it, or disabled', async () => {
    await expectError(
      await call('GET', '/admin/api/subscriptions', tokens.subscriber),
      403,
      'err.request.forbidden',
      /admin operation/,
    );
    await expectError(await call('GET', '/admin/api/deliveries', tokens.narrow), 403, 'err.request.forbidden');
    await expectError(
      await call('POST', '/admin/api/subscriptions/sub-a/suspend', tokens.retired),
      403,
      'err.request.forbidden',
      /not active/,
    );
    // Nothing changed.
    expect((await call('GET', '/admin/api/subscriptions/sub-a')).json<Sub>().status).toBe('active');
  });

  it('lists subscriptions, oldest first, by sender and status', async () => {
    const all = await call('GET', '/admin/api/subscriptions');
    expect(all.statusCode, all.body).toBe(200);
    const list = all.json<{ subscriptions: Sub[] }>().subscriptions;
    expect(list.map((s) => [s.code, s.senderId, s.status, s.pending])).toEqual([
      ['sub-a', 'subscriber', 'active', 2],
      ['sub-b', 'subscriber', 'suspended', 1],
      ['sub-c', 'subscriber', 'unsubscribed', 0],
    ]);
    const suspended = await call('GET', '/admin/api/subscriptions?status=suspended');
    expect(suspended.json<{ subscriptions: Sub[] }>().subscriptions.map((s) => s.code)).toEqual(['sub-b']);
    const bySender = await call('GET', '/admin/api/subscriptions?sender=subscriber&status=active');
    expect(bySender.json<{ subscriptions: Sub[] }>().subscriptions.map((s) => s.code)).toEqual(['sub-a']);
    const nobody = await call('GET', '/admin/api/subscriptions?sender=nobody');
    expect(nobody.json()).toEqual({ subscriptions: [] });
  });

  it('shows one subscription, 404 for an unknown code', async () => {
    const response = await call('GET', '/admin/api/subscriptions/sub-a');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      code: 'sub-a',
      senderId: 'subscriber',
      domain: 'social',
      eventTypes: ['REGISTER'],
      recordType: 'Member',
      filter: { sex: { $eq: 'female' } },
      notifyUrl: 'https://subscriber.example.org/dci/notify',
      status: 'active',
      transactionId: 't-sub-a',
      pending: 2,
    });
    expect(Date.parse(response.json<{ createdAt: string }>().createdAt)).toBeGreaterThan(0);
    await expectError(await call('GET', '/admin/api/subscriptions/nope'), 404, 'err.request.not_found', /nope/);
  });

  it('lists deliveries, newest first, by status, subscription and limit', async () => {
    const deliveries = async (query = '') => {
      const response = await call('GET', `/admin/api/deliveries${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ deliveries: Delivery[] }>().deliveries;
    };
    expect((await deliveries()).map((d) => [d.subscriptionCode, d.status, d.attempts])).toEqual([
      ['sub-b', 'pending', 0],
      ['sub-a', 'pending', 0],
      ['sub-a', 'failed', 2],
      ['sub-a', 'delivered', 1],
    ]);
    expect((await deliveries('?status=failed')).map((d) => d.attempts)).toEqual([2]);
    expect((await deliveries('?status=pending')).map((d) => d.subscriptionCode)).toEqual(['sub-b', 'sub-a']);
    expect((await deliveries('?status=delivered')).length).toBe(1);
    expect((await deliveries('?subscription=sub-b')).map((d) => d.subscriptionCode)).toEqual(['sub-b']);
    expect((await deliveries('?subscription=sub-a&status=pending&limit=1')).length).toBe(1);
    expect((await deliveries('?limit=2')).length).toBe(2);
  });

  it('answers 400 to bad query values', async () => {
    for (const url of [
      '/admin/api/subscriptions?status=paused',
      '/admin/api/subscriptions?status=active&status=suspended',
      '/admin/api/subscriptions?sender=',
      '/admin/api/deliveries?status=lost',
      '/admin/api/deliveries?limit=0',
      '/admin/api/deliveries?limit=ten',
      '/admin/api/deliveries?limit=1.5',
      '/admin/api/deliveries?limit=1001',
    ]) {
      await expectError(await call('GET', url), 400, 'err.request.bad', /query parameter/);
    }
  });

  it('suspends and resumes; 409 when the state does not allow it, 404 for an unknown code', async () => {
    const suspended = await call('POST', '/admin/api/subscriptions/sub-a/suspend');
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json()).toMatchObject({
      code: 'sub-a',
      status: 'suspended',
      statusReason: 'suspended by operator (admin API)',
      pending: 2,
    });
    await expectError(
      await call('POST', '/admin/api/subscriptions/sub-a/suspend'),
      409,
      'err.request.bad',
      /cannot suspend: subscription sub-a is suspended/,
    );

    // A client that labels its empty body JSON is answered the same.
    const resumed = await app.inject({
      method: 'POST',
      url: '/admin/api/subscriptions/sub-a/resume',
      headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' },
    });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ code: 'sub-a', status: 'active', statusReason: null, pending: 2 });

    await expectError(
      await call('POST', '/admin/api/subscriptions/sub-c/resume'),
      409,
      'err.request.bad',
      /cannot resume: subscription sub-c is unsubscribed/,
    );
    await expectError(await call('POST', '/admin/api/subscriptions/sub-c/suspend'), 409, 'err.request.bad');
    await expectError(await call('POST', '/admin/api/subscriptions/nope/suspend'), 404, 'err.request.not_found');
    await expectError(await call('POST', '/admin/api/subscriptions/nope/resume'), 404, 'err.request.not_found');
    expect((await call('GET', '/admin/api/subscriptions/sub-c')).json<Sub>().status).toBe('unsubscribed');
  });

  it('deletes a subscription with its queued notifications', async () => {
    const deleted = await call('DELETE', '/admin/api/subscriptions/sub-b');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(deleted.body).toBe('');
    await expectError(await call('GET', '/admin/api/subscriptions/sub-b'), 404, 'err.request.not_found');
    await expectError(await call('DELETE', '/admin/api/subscriptions/sub-b'), 404, 'err.request.not_found');
    const left = await call('GET', '/admin/api/subscriptions');
    expect(left.json<{ subscriptions: Sub[] }>().subscriptions.map((s) => s.code)).toEqual(['sub-a', 'sub-c']);
    const outbox = await call('GET', '/admin/api/deliveries?subscription=sub-b');
    expect(outbox.json()).toEqual({ deliveries: [] });
  });
});
