/**
 * Transaction status, sync and async: by transaction id, correlation id and reference id list;
 * the original answer of an async search; a sender sees only its own transactions.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  requestHeader,
  searchRequestMessage,
  txnStatusRequestMessage,
  verifyMessage,
  type TxnStatusRequestInput,
} from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { specAvailable, specCheck, specFile, specValidator } from '../../../protocol/src/test-support/spec.js';
import { loadConfig } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

type Body = { signature: string; header: Record<string, unknown>; message: Record<string, unknown> };
type Status = { txn_type: string; txn_status: Record<string, unknown> };

describeBackends('transaction status', (ctx) => {
  let app: FastifyInstance;
  let receiver: Server;
  let receiverUrl: string;
  const tokens: Record<string, string> = {};
  const received: Body[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(data) as Body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: { ack_status: 'ACK', timestamp: new Date().toISOString() } }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/spmis/registry/txn/on-status`;

    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', DCI_ALLOW_INSECURE_CALLBACKS: 'true' }), {
      database: ctx.database,
      logger: false,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'opendci-txn-')), 'people.ndjson');
    writeFileSync(
      file,
      [
        { type: 'individual', identifiers: [{ type: 'UIN', value: '3001' }], given_name: 'Amina', sex: 'female' },
        { type: 'individual', identifiers: [{ type: 'UIN', value: '3002' }], given_name: 'Juma', sex: 'male' },
      ]
        .map((row) => JSON.stringify(row))
        .join('\n'),
    );
    await importFile(ctx.database, file);
    for (const id of ['spmis', 'other']) {
      await app.senders.add({ id, clientSecret: 's3cret', signaturePolicy: 'optional' });
      tokens[id] = (
        await app.tokens.issue({ clientId: id, clientSecret: 's3cret', grantType: 'client_credentials' })
      ).access_token;
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const post = (url: string, sender: string, action: string, message: object, senderUri?: string) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${tokens[sender]}`, 'content-type': 'application/json' },
      payload: {
        signature: 'unsigned',
        header: requestHeader({
          action: action as 'search',
          senderId: sender,
          totalCount: 1,
          ...(senderUri ? { senderUri } : {}),
        }),
        message,
      },
    });

  const searchFor = (transactionId: string, values: Record<string, string>) =>
    searchRequestMessage({
      transactionId,
      items: Object.entries(values).map(([referenceId, value]) => ({
        referenceId,
        criteria: { query_type: 'idtype-value', query: { type: 'UIN', value } },
      })),
    });

  const status = async (sender: string, input: Omit<TxnStatusRequestInput, 'referenceId'>) => {
    const response = await post(
      '/registry/sync/txn/status',
      sender,
      'txn-status',
      txnStatusRequestMessage({ referenceId: 'st-1', ...input } as TxnStatusRequestInput),
    );
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<Body>();
    return { body, status: body.message.txnstatus_response as Status };
  };

  /** Verifies a message of ours against the published JWKS. */
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

  /** An async search without sender_uri: its answer is read with txn status. */
  const asyncSearch = async (transactionId: string, values: Record<string, string>) => {
    const response = await post('/registry/search', 'spmis', 'search', searchFor(transactionId, values));
    expect(response.statusCode, response.body).toBe(202);
    return response.json<{ message: { correlation_id: string } }>().message.correlation_id;
  };

  const untilDone = (transactionId: string) =>
    expect
      .poll(
        async () => {
          const { status: s } = await status('spmis', {
            txnType: 'search',
            attributeType: 'transaction_id',
            attributeValue: transactionId,
          });
          return (s.txn_status.search_response as { status: string }[]).every((item) => item.status === 'succ');
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBe(true);

  it('returns the original answer of an async search, by transaction id and by correlation id', async () => {
    const correlationId = await asyncSearch('t-async-1', { 'r-1': '3001', 'r-2': '3002' });
    await untilDone('t-async-1');
    const byTxn = await status('spmis', {
      txnType: 'search',
      attributeType: 'transaction_id',
      attributeValue: 't-async-1',
    });
    expect(byTxn.body.header.action).toBe('txn-on-status');
    expect(byTxn.body.header.status).toBe('succ');
    expect(byTxn.status.txn_type).toBe('search');
    const inner = byTxn.status.txn_status as {
      transaction_id: string;
      correlation_id: string;
      search_response: {
        reference_id: string;
        data: { reg_records: { demographic_info: { name: { given_name: string } } }[] };
      }[];
    };
    expect(inner.transaction_id).toBe('t-async-1');
    expect(inner.correlation_id).toBe(correlationId);
    expect(inner.search_response.map((item) => item.reference_id)).toEqual(['r-1', 'r-2']);
    expect(inner.search_response[0]!.data.reg_records[0]!.demographic_info.name.given_name).toBe('Amina');
    await verifies(byTxn.body);

    const byCorrelation = await status('spmis', {
      txnType: 'search',
      attributeType: 'correlation_id',
      attributeValue: correlationId,
    });
    expect(byCorrelation.status.txn_status).toEqual(byTxn.status.txn_status);
  });

  it('answers a reference id list item by item, unknown ids rejected', async () => {
    await asyncSearch('t-async-2', { 'ref-a': '3001', 'ref-b': '3002' });
    await untilDone('t-async-2');
    const { status: s } = await status('spmis', {
      txnType: 'search',
      attributeType: 'reference_id_list',
      attributeValue: ['ref-b', 'ref-missing'],
    });
    const items = s.txn_status.search_response as {
      reference_id: string;
      status: string;
      status_reason_code?: string;
    }[];
    expect(items.map((item) => [item.reference_id, item.status, item.status_reason_code])).toEqual([
      ['ref-b', 'succ', undefined],
      ['ref-missing', 'rjct', 'rjct.reference_id.invalid'],
    ]);
  });

  it('reports sync searches from the audit trail, item statuses without record data', async () => {
    const response = await post('/registry/sync/search', 'spmis', 'search', searchFor('t-sync-1', { 's-1': '3001' }));
    expect(response.statusCode).toBe(200);
    // A sync request's audit row is written just after its answer (group commit): poll for it.
    const lookup = async () =>
      (
        await status('spmis', {
          txnType: 'search',
          attributeType: 'transaction_id',
          attributeValue: 't-sync-1',
        })
      ).status;
    const firstItem = async () =>
      ((await lookup()).txn_status?.search_response as { reference_id?: string }[] | undefined)?.[0]?.reference_id;
    await expect.poll(firstItem, { timeout: 5_000 }).toBe('s-1');
    const s = await lookup();
    const items = s.txn_status.search_response as Record<string, unknown>[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ reference_id: 's-1', status: 'succ' });
    expect(items[0]!.data).toBeUndefined();
  });

  it("never shows another sender's transaction: it is unknown to them", async () => {
    await asyncSearch('t-private', { 'p-1': '3001' });
    await untilDone('t-private');
    const { body, status: s } = await status('other', {
      txnType: 'search',
      attributeType: 'transaction_id',
      attributeValue: 't-private',
    });
    expect(body.header.status).toBe('rjct');
    const items = s.txn_status.search_response as Record<string, unknown>[];
    expect(items).toEqual([
      expect.objectContaining({
        reference_id: 'st-1',
        status: 'rjct',
        status_reason_code: 'rjct.reference_id.invalid',
      }),
    ]);
    expect(JSON.stringify(body)).not.toContain('Amina');
  });

  it('async txn/status: ACK, then a signed txn-on-status to sender_uri with the ACK correlation id', async () => {
    await asyncSearch('t-async-3', { 'q-1': '3002' });
    await untilDone('t-async-3');
    const response = await post(
      '/registry/txn/status',
      'spmis',
      'txn-status',
      txnStatusRequestMessage({
        transactionId: 'status-3',
        referenceId: 'st-3',
        txnType: 'search',
        attributeType: 'transaction_id',
        attributeValue: 't-async-3',
      }),
      receiverUrl,
    );
    expect(response.statusCode, response.body).toBe(202);
    const ack = response.json<{ message: { correlation_id: string } }>().message;
    await expect.poll(() => received.length, { timeout: 20_000, interval: 100 }).toBe(1);
    const callback = received[0]!;
    expect(callback.header.action).toBe('txn-on-status');
    expect(callback.message.transaction_id).toBe('status-3');
    expect(callback.message.correlation_id).toBe(ack.correlation_id);
    const inner = (callback.message.txnstatus_response as Status).txn_status as { transaction_id: string };
    expect(inner.transaction_id).toBe('t-async-3');
    await verifies(callback);
    if (specAvailable()) {
      const validate = await specValidator(specFile('social')!, '/registry/txn/status', 'post', 'callback');
      expect(specCheck(validate, callback)).toEqual([]);
    }
  });

  it('validates the sync answer against the spec', async () => {
    if (!specAvailable()) return;
    const { body } = await status('spmis', {
      txnType: 'search',
      attributeType: 'transaction_id',
      attributeValue: 't-async-1',
    });
    const validate = await specValidator(specFile('social')!, '/registry/sync/txn/status', 'post', 'response');
    expect(specCheck(validate, body)).toEqual([]);
  });

  it('requires the txn-status operation', async () => {
    await app.senders.update('other', { operations: ['search'] });
    const response = await post(
      '/registry/sync/txn/status',
      'other',
      'txn-status',
      txnStatusRequestMessage({
        referenceId: 'st-9',
        txnType: 'search',
        attributeType: 'transaction_id',
        attributeValue: 'x',
      }),
    );
    expect(response.statusCode).toBe(403);
  });
});
