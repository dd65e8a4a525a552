/**
 * Async search over real HTTP: ACK, then a signed on-search POSTed to the sender's URL, retried
 * until the receiver takes it, every attempt audited.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { requestHeader, searchRequestMessage, verifyMessage } from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { specAvailable, specCheck, specFile, specValidator } from '../../../protocol/src/test-support/spec.js';
import { loadConfig } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

interface Received {
  body: { signature: string; header: Record<string, unknown>; message: Record<string, unknown> };
  status: number;
}

describeBackends('async search and callbacks', (ctx) => {
  let app: FastifyInstance;
  let receiver: Server;
  let receiverUrl: string;
  let token: string;
  const received: Received[] = [];
  /** Answers to give, in order, before answering 200 ACK. */
  const failures: number[] = [];

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve(data));
    });

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      void readBody(req).then((data) => {
        const status = failures.shift() ?? 200;
        received.push({ body: JSON.parse(data) as Received['body'], status });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            message: {
              ack_status: status === 200 ? 'ACK' : 'ERR',
              timestamp: new Date().toISOString(),
              correlation_id: 'x',
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/spmis/registry/on-search`;

    const config = loadConfig({
      LOG_LEVEL: 'silent',
      DCI_ALLOW_INSECURE_CALLBACKS: 'true',
      DCI_CALLBACK_RETRY_DELAY: '1',
      DCI_CALLBACK_RETRY_DELAY_MAX: '2',
    });
    app = await buildApp(config, { database: ctx.database, logger: false });
    const dir = mkdtempSync(join(tmpdir(), 'opendci-async-'));
    const file = join(dir, 'people.ndjson');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'individual',
        identifiers: [{ type: 'UIN', value: '2001' }],
        given_name: 'Baraka',
        sex: 'male',
      }),
    );
    await importFile(ctx.database, file);
    await app.senders.add({
      id: 'spmis',
      clientSecret: 's3cret',
      signaturePolicy: 'optional',
      callbackAllow: ['http://127.0.0.1:*'],
    });
    token = (await app.tokens.issue({ clientId: 'spmis', clientSecret: 's3cret', grantType: 'client_credentials' }))
      .access_token;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const send = (senderUri: string | undefined, transactionId: string) => {
    const message = searchRequestMessage({
      transactionId,
      items: [
        {
          referenceId: 'r-1',
          criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: '2001' } },
        },
      ],
    });
    const header = requestHeader({
      action: 'search',
      senderId: 'spmis',
      totalCount: 1,
      ...(senderUri ? { senderUri } : {}),
    });
    return app.inject({
      method: 'POST',
      url: '/registry/search',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: { signature: 'unsigned', header, message },
    });
  };

  const waitFor = async (predicate: () => boolean | Promise<boolean>, timeout = 20_000) =>
    expect.poll(predicate, { timeout, interval: 100 }).toBe(true);

  it('ACKs at once, then POSTs a signed, spec-valid on-search to sender_uri with the ACK correlation id', async () => {
    const res = await send(receiverUrl, 'txn-1');
    expect(res.statusCode).toBe(202);
    const ack = res.json<{ message: { ack_status: string; correlation_id: string } }>().message;
    expect(ack.ack_status).toBe('ACK');
    await waitFor(() => received.some((r) => r.body.message.transaction_id === 'txn-1'));
    const callback = received.find((r) => r.body.message.transaction_id === 'txn-1')!.body;
    expect(callback.message.correlation_id).toBe(ack.correlation_id);
    expect(callback.header).toMatchObject({ action: 'on-search', status: 'succ', receiver_id: 'spmis' });
    const item = (callback.message.search_response as { data: { reg_records: { demographic_info: unknown }[] } }[])[0]!;
    expect(item.data.reg_records[0]!.demographic_info).toMatchObject({ name: { given_name: 'Baraka' } });
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    await verifyMessage(callback, {
      resolveKey: async (kid) => {
        const jwk = jwks.keys.find((k) => k.kid === kid);
        return jwk ? createPublicKey({ key: jwk as never, format: 'jwk' }) : undefined;
      },
      expectedSenderId: 'opendci',
    });
    if (specAvailable()) {
      const validate = await specValidator(specFile('social')!, '/registry/search', 'post', 'callback');
      expect(specCheck(validate, callback)).toEqual([]);
    }
  });

  it('retries a receiver that fails twice: the third attempt delivers, with the same message_id, all attempts audited', async () => {
    failures.push(503, 500);
    const res = await send(receiverUrl, 'txn-retry');
    expect(res.statusCode).toBe(202);
    await waitFor(
      () => received.filter((r) => r.body.message.transaction_id === 'txn-retry' && r.status === 200).length === 1,
      30_000,
    );
    const attempts = received.filter((r) => r.body.message.transaction_id === 'txn-retry');
    expect(attempts.map((a) => a.status)).toEqual([503, 500, 200]);
    expect(new Set(attempts.map((a) => a.body.header.message_id)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.body.header.message_ts)).size).toBe(3);
    // An attempt is audited once its answer is in: shortly after the receiver saw it.
    const audit = () =>
      ctx.database.db
        .selectFrom('dci_transaction')
        .select(['status', 'attempt', 'http_status'])
        .where('transaction_id', '=', 'txn-retry')
        .where('direction', '=', 'outbound')
        .orderBy('attempt')
        .execute();
    await expect.poll(audit, { timeout: 10_000 }).toEqual([
      { status: 'failed', attempt: 1, http_status: 503 },
      { status: 'failed', attempt: 2, http_status: 500 },
      { status: 'delivered', attempt: 3, http_status: 200 },
    ]);
    const inbound = await ctx.database.db
      .selectFrom('dci_transaction')
      .select(['status'])
      .where('transaction_id', '=', 'txn-retry')
      .where('direction', '=', 'inbound')
      .executeTakeFirstOrThrow();
    expect(inbound.status).toBe('succ');
  }, 40_000);

  it('refuses a sender_uri outside the allow-list or unsafe; without one, ACKs and sends nothing', async () => {
    const refused = await send('https://elsewhere.example.org/on-search', 'txn-bad');
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ message: { error: { code: string } } }>().message.error.code).toBe('err.sender_uri.invalid');
    const before = received.length;
    const none = await send(undefined, 'txn-none');
    expect(none.statusCode).toBe(202);
    await waitFor(async () => {
      const row = await ctx.database.db
        .selectFrom('dci_transaction')
        .select('status')
        .where('transaction_id', '=', 'txn-none')
        .executeTakeFirst();
      return row?.status === 'succ';
    });
    expect(received.length).toBe(before);
  });
});
