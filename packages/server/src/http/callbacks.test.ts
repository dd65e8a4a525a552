/**
 * Callback receivers: what other registries post to us is authenticated, checked, ACKed with 200
 * and handed over once; a duplicate message_id is ACKed without being handed over again.
 */
import type { FastifyInstance } from 'fastify';
import { callbackHeader, searchResponseItem, searchResponseMessage } from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

describeBackends('callback receivers', (ctx) => {
  let app: FastifyInstance;
  let token: string;
  const handled: { domain: string; action: string; transactionId: unknown }[] = [];

  beforeAll(async () => {
    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), {
      database: ctx.database,
      logger: false,
      callbackHandler: async ({ domain, action, envelope }) => {
        handled.push({ domain, action, transactionId: envelope.message?.transaction_id });
      },
    });
    await app.senders.add({
      id: 'other-registry',
      clientSecret: 's3cret',
      signaturePolicy: 'optional',
      operations: '',
    });
    token = (
      await app.tokens.issue({ clientId: 'other-registry', clientSecret: 's3cret', grantType: 'client_credentials' })
    ).access_token;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  const onSearch = (messageId: string, transactionId = 't-cb') => ({
    signature: 'unsigned',
    header: callbackHeader({
      action: 'on-search',
      senderId: 'other-registry',
      receiverId: 'opendci',
      status: 'succ',
      totalCount: 1,
      completedCount: 1,
      messageId,
    }),
    message: searchResponseMessage({
      transactionId,
      correlationId: 'c-1',
      items: [
        searchResponseItem({
          referenceId: 'r-1',
          records: [],
          pagination: { pageSize: 10, pageNumber: 1, totalCount: 0 },
        }),
      ],
    }),
  });
  const post = (url: string, payload: unknown, bearer: string | null = token) =>
    app.inject({
      method: 'POST',
      url,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), 'content-type': 'application/json' },
      payload: payload as object,
    });

  it('ACKs a valid on-search with 200 and hands it over once; a duplicate message_id is ACKed, not handed over', async () => {
    const first = await post('/crvs/registry/on-search', onSearch('cb-1'));
    expect(first.statusCode).toBe(200);
    expect(first.json<{ message: { ack_status: string } }>().message.ack_status).toBe('ACK');
    const again = await post('/crvs/registry/on-search', onSearch('cb-1'));
    expect(again.statusCode).toBe(200);
    expect(again.json<{ message: { ack_status: string } }>().message.ack_status).toBe('ACK');
    expect(handled).toEqual([{ domain: 'crvs', action: 'on-search', transactionId: 't-cb' }]);
  });

  it('accepts a rjct callback without message, and refuses a wrong action, no bearer, and a bad body', async () => {
    const rjct = { header: { ...onSearch('cb-2').header, status: 'rjct', status_reason_code: 'rjct.action.invalid' } };
    expect((await post('/registry/on-search', rjct)).statusCode).toBe(200);
    const wrongAction = onSearch('cb-3');
    wrongAction.header.action = 'notify';
    const res = await post('/registry/on-search', wrongAction);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ message: { error: { code: string } } }>().message.error.code).toBe('err.request.bad');
    expect((await post('/registry/on-search', onSearch('cb-4'), null)).statusCode).toBe(401);
    expect(
      (await post('/registry/on-search', { header: onSearch('cb-5').header, message: { nonsense: true } })).statusCode,
    ).toBe(400);
  });

  it('serves every callback path of every domain', async () => {
    for (const path of ['on-search', 'on-subscribe', 'on-unsubscribe', 'notify']) {
      for (const domain of ['social', 'crvs', 'ibr', 'dr', 'fr']) {
        const res = await post(`/${domain}/registry/${path}`, {});
        expect(res.statusCode, `${domain} ${path}`).toBe(400);
      }
    }
    expect((await post('/social/registry/txn/on-status', {})).statusCode).toBe(400);
  });
});
