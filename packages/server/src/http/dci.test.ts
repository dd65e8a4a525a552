/**
 * Every check a DCI message passes, on a real store through the HTTP app (contract §4): each
 * failure gets its status and code; the happy path answers a signed, field-cut on-search.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet } from 'jose';
import {
  jwkThumbprint,
  requestHeader,
  searchRequestMessage,
  signMessage,
  verifyMessage,
  type SearchCriteria,
} from '@opendci/protocol';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  specAvailable,
  specCheck,
  specFile,
  specUnavailableReason,
  specValidator,
} from '../../../protocol/src/test-support/spec.js';
import { loadConfig } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const kid = jwkThumbprint(keys.publicKey);
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const criteria = (value = '1001'): SearchCriteria => ({
  version: '1.0.0',
  reg_record_type: 'Member',
  query_type: 'idtype-value',
  query: { type: 'UIN', value },
});

interface RequestOptions {
  senderId?: string;
  action?: string;
  items?: Parameters<typeof searchRequestMessage>[0]['items'];
  ts?: string;
  messageId?: string;
  sign?: 'ed25519' | 'other-key' | 'none' | string;
  signedAt?: number;
  mutate?: (body: { header: Record<string, unknown>; message: Record<string, unknown> }) => void;
  tamper?: (body: { header: Record<string, unknown>; message: Record<string, unknown> }) => void;
}

function body(options: RequestOptions = {}) {
  const senderId = options.senderId ?? 'test-client';
  const message = searchRequestMessage({
    items: options.items ?? [{ referenceId: 'r-1', criteria: criteria() }],
  }) as unknown as Record<string, unknown>;
  const header = requestHeader({
    action: (options.action ?? 'search') as 'search',
    senderId,
    totalCount: 1,
    receiverId: 'opendci',
    ...(options.ts ? { ts: options.ts } : {}),
    ...(options.messageId ? { messageId: options.messageId } : {}),
  }) as unknown as Record<string, unknown>;
  const envelope = { header, message };
  options.mutate?.(envelope);
  let signature: string | undefined;
  const sign = options.sign ?? 'ed25519';
  if (sign === 'ed25519' || sign === 'other-key') {
    signature = signMessage(envelope, {
      senderId,
      kid,
      privateKey: sign === 'ed25519' ? keys.privateKey : otherKeys.privateKey,
      ...(options.signedAt ? { now: options.signedAt } : {}),
    });
  } else if (sign !== 'none') {
    signature = sign;
  }
  options.tamper?.(envelope);
  return signature === undefined ? envelope : { signature, ...envelope };
}

describeBackends('DCI request pipeline', (ctx) => {
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};

  async function token(clientId: string, secret = 's3cret'): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/client/token',
      payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  }

  const post = (payload: unknown, options: { token?: string | null; url?: string; contentType?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: options.url ?? '/registry/sync/search',
      headers: {
        ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? tokens['test-client']}` }),
        'content-type': options.contentType ?? 'application/json',
      },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  const expectError = (res: Awaited<ReturnType<typeof post>>, status: number, code: string) => {
    expect({
      status: res.statusCode,
      code: res.json<{ message?: { error?: { code?: string } } }>().message?.error?.code,
    }).toEqual({ status, code });
    const json = res.json<{ message: Record<string, unknown>; errors: { code: string }[] }>();
    expect(json.message.ack_status).toBe('ERR');
    expect(typeof json.message.correlation_id).toBe('string');
    expect(json.errors[0]!.code).toBe(code);
  };

  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', DCI_SERVER_ID: 'opendci', DCI_BODY_LIMIT: '65536' });
    app = await buildApp(config, { database: ctx.database, logger: false });
    const dir = mkdtempSync(join(tmpdir(), 'opendci-dci-'));
    const file = join(dir, 'people.ndjson');
    writeFileSync(
      file,
      [
        { type: 'area', code: 'KL', name: 'Kalima' },
        {
          type: 'individual',
          identifiers: [
            { type: 'UIN', value: '1001' },
            { type: 'NID', value: 'N-1' },
          ],
          given_name: 'Amina',
          surname: 'Otieno',
          sex: 'female',
          birth_date: '1984-05-01',
          area_code: 'KL',
        },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    await importFile(ctx.database, file);
    await app.senders.add({ id: 'test-client', clientSecret: 's3cret', keys: [{ pem: publicPem }] });
    await app.senders.add({
      id: 'optional-client',
      clientSecret: 's3cret',
      signaturePolicy: 'optional',
      fields: 'sex,birth_date',
    });
    await app.senders.add({
      id: 'limited',
      clientSecret: 's3cret',
      operations: 'subscribe',
      signaturePolicy: 'optional',
    });
    await app.senders.add({ id: 'crvs-only', clientSecret: 's3cret', domains: 'crvs', signaturePolicy: 'optional' });
    await app.senders.add({ id: 'to-disable', clientSecret: 's3cret', signaturePolicy: 'optional' });
    await app.senders.add({
      id: 'consent-based',
      clientSecret: 's3cret',
      signaturePolicy: 'optional',
      legalBasis: 'consent',
    });
    await app.senders.add({ id: 'slow', clientSecret: 's3cret', signaturePolicy: 'optional', rateLimitPerMinute: 2 });
    for (const id of ['test-client', 'optional-client', 'limited', 'crvs-only', 'to-disable', 'slow', 'consent-based'])
      tokens[id] = await token(id);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('answers a signed search with a signed on-search that verifies against the JWKS', async () => {
    const res = await post(body());
    expect(res.statusCode).toBe(200);
    const json = res.json<{ signature: string; header: Record<string, unknown>; message: Record<string, unknown> }>();
    expect(json.header).toMatchObject({
      action: 'on-search',
      status: 'succ',
      sender_id: 'opendci',
      receiver_id: 'test-client',
      total_count: 1,
      completed_count: 1,
    });
    const item = (json.message.search_response as Record<string, unknown>[])[0]!;
    expect(item).toMatchObject({
      reference_id: 'r-1',
      status: 'succ',
      pagination: { page_size: 10, page_number: 1, total_count: 1 },
    });
    const record = (item.data as { reg_records: Record<string, unknown>[] }).reg_records[0]!;
    expect(record['@id']).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(record).toMatchObject({
      '@type': 'Member',
      demographic_info: { name: { given_name: 'Amina', surname: 'Otieno' }, sex: 'female', birth_date: '1984-05-01' },
    });

    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    const set = createLocalJWKSet(jwks);
    const verified = await verifyMessage(json, {
      resolveKey: async (keyId) => {
        const jwk = jwks.keys.find((k) => k.kid === keyId);
        return jwk ? createPublicKey({ key: jwk as never, format: 'jwk' }) : undefined;
      },
      expectedSenderId: 'opendci',
    });
    expect(verified.senderId).toBe('opendci');
    expect(set).toBeTypeOf('function');
  });

  it('answers no hits with succ and empty reg_records, and a duplicate reference_id with rjct', async () => {
    const res = await post(
      body({
        items: [
          { referenceId: 'a', criteria: criteria('nobody') },
          { referenceId: 'a', criteria: criteria() },
        ],
      }),
    );
    expect(res.statusCode).toBe(200);
    const items = res.json<{ message: { search_response: Record<string, unknown>[] } }>().message.search_response;
    expect(items[0]).toMatchObject({ status: 'succ', data: { reg_records: [] }, pagination: { total_count: 0 } });
    expect(items[1]).toMatchObject({ status: 'rjct', status_reason_code: 'rjct.reference_id.duplicate' });
  });

  it('cuts records to the fields the sender may see; accepts placeholders under policy optional', async () => {
    const res = await post(body({ senderId: 'optional-client', sign: 'unsigned' }), {
      token: tokens['optional-client'],
    });
    expect(res.statusCode).toBe(200);
    const record = res.json<{ message: { search_response: { data: { reg_records: Record<string, unknown>[] } }[] } }>()
      .message.search_response[0]!.data.reg_records[0]!;
    expect(Object.keys(record).sort()).toEqual(['@id', '@type', 'demographic_info']);
    expect(record.demographic_info).toEqual({
      '@id': expect.any(String),
      '@type': 'Person',
      sex: 'female',
      birth_date: '1984-05-01',
    });
    for (const placeholder of ['none', '', 'unsigned-stub']) {
      expect(
        (await post(body({ senderId: 'optional-client', sign: placeholder }), { token: tokens['optional-client'] }))
          .statusCode,
      ).toBe(200);
    }
    expectError(
      await post(body({ senderId: 'optional-client', sign: 'garbage' }), { token: tokens['optional-client'] }),
      401,
      'err.signature.invalid',
    );
  });

  it('answers expression and predicate queries, rejects unknown attributes and bad sorts per item', async () => {
    const items = [
      {
        referenceId: 'e',
        criteria: {
          query_type: 'expression',
          query: { $and: [{ 'demographic_info.sex': { $eq: 'female' } }, { birth_date: { $lt: '1990-01-01' } }] },
          sort: [{ attribute_name: 'birth_date', sort_order: 'desc' }],
        },
      },
      {
        referenceId: 'p',
        criteria: {
          query_type: 'predicate',
          query: [{ seq_num: 1, expression1: { attribute_name: 'sex', operator: 'eq', attribute_value: 'male' } }],
        },
      },
      { referenceId: 'u', criteria: { query_type: 'expression', query: { favourite_colour: { $eq: 'red' } } } },
      {
        referenceId: 's',
        criteria: {
          query_type: 'expression',
          query: { sex: 'female' },
          sort: [{ attribute_name: 'password', sort_order: 'asc' }],
        },
      },
    ] as unknown as Parameters<typeof searchRequestMessage>[0]['items'];
    const res = await post(body({ items, mutate: (b) => (b.header.total_count = 4) }));
    expect(res.statusCode).toBe(200);
    const answers = res.json<{ message: { search_response: Record<string, unknown>[] } }>().message.search_response;
    expect(answers[0]).toMatchObject({
      status: 'succ',
      pagination: { total_count: 1 },
      data: { reg_records: [{ demographic_info: { name: { given_name: 'Amina' } } }] },
    });
    expect(answers[1]).toMatchObject({ status: 'succ', pagination: { total_count: 0 }, data: { reg_records: [] } });
    expect(answers[2]).toMatchObject({ status: 'rjct', status_reason_code: 'rjct.search_criteria.invalid' });
    expect(answers[3]).toMatchObject({ status: 'rjct', status_reason_code: 'rjct.sort.invalid' });
  });

  it.skipIf(!specAvailable())(
    "serves sync search on every domain, each answer valid against that domain's spec",
    async () => {
      for (const domain of ['social', 'crvs', 'ibr', 'dr', 'fr'] as const) {
        const res = await post(body(), { url: `/${domain}/registry/sync/search` });
        expect(res.statusCode, domain).toBe(200);
        const validate = await specValidator(specFile(domain)!, '/registry/sync/search', 'post', 'response');
        expect(specCheck(validate, res.json()), domain).toEqual([]);
        const item = res.json<{ message: { search_response: { data: { reg_records: unknown } }[] } }>().message
          .search_response[0]!;
        if (domain === 'dr') expect(Array.isArray(item.data.reg_records)).toBe(false);
        else expect(Array.isArray(item.data.reg_records)).toBe(true);
      }
      // DR answers one record: a query that matches two people is rejected for that item
      const dir = mkdtempSync(join(tmpdir(), 'opendci-dr-'));
      const file = join(dir, 'dr.ndjson');
      writeFileSync(
        file,
        [1, 2]
          .map((n) =>
            JSON.stringify({
              type: 'individual',
              identifiers: [{ type: 'UIN', value: `DR-${n}` }],
              disabilities: [{ disability_type: 'visual', functional_severity: 3 }],
            }),
          )
          .join('\n'),
      );
      await importFile(ctx.database, file);
      const broad = await post(
        body({
          items: [
            {
              referenceId: 'all',
              criteria: { query_type: 'expression', query: { disability_type: 'visual' } } as never,
            },
          ],
        }),
        {
          url: '/dr/registry/sync/search',
        },
      );
      expect(
        broad.json<{ message: { search_response: Record<string, unknown>[] } }>().message.search_response[0],
      ).toMatchObject({
        status: 'rjct',
        status_reason_code: 'rjct.search.too_many_records_found',
      });
      const one = await post(
        body({
          items: [
            {
              referenceId: 'one',
              criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: 'DR-1' } } as never,
            },
          ],
        }),
        {
          url: '/dr/registry/sync/search',
        },
      );
      expect(
        one.json<{ message: { search_response: { data: { reg_records: Record<string, unknown> } }[] } }>().message
          .search_response[0]!.data.reg_records['@id'],
      ).toMatch(/^urn:uuid:/);
    },
  );

  it('shows a sender whose legal basis is consent only the people who consented to it', async () => {
    const search = () => post(body({ senderId: 'consent-based', sign: 'none' }), { token: tokens['consent-based'] });
    const hidden = (await search()).json<{ message: { search_response: { pagination: { total_count: number } }[] } }>();
    expect(hidden.message.search_response[0]!.pagination.total_count).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'opendci-consent-'));
    const file = join(dir, 'consent.ndjson');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'consent',
        person: { type: 'UIN', value: '1001' },
        sender_id: 'consent-based',
        given_at: '2024-01-01T00:00:00Z',
      }),
    );
    await importFile(ctx.database, file);
    const shown = (await search()).json<{ message: { search_response: { pagination: { total_count: number } }[] } }>();
    expect(shown.message.search_response[0]!.pagination.total_count).toBe(1);
  });

  it('401 without a bearer or with a bad one', async () => {
    expectError(await post(body(), { token: null }), 401, 'err.request.unauthorized');
    expectError(await post(body(), { token: 'not-a-token' }), 401, 'err.request.unauthorized');
  });

  it('403 for an inactive sender, a disallowed operation or domain, and a sender_id that is not the token client', async () => {
    await app.senders.disable('to-disable');
    expectError(
      await post(body({ senderId: 'to-disable', sign: 'none' }), { token: tokens['to-disable'] }),
      403,
      'err.request.forbidden',
    );
    expectError(
      await post(body({ senderId: 'limited', sign: 'none' }), { token: tokens.limited }),
      403,
      'err.request.forbidden',
    );
    expectError(
      await post(body({ senderId: 'crvs-only', sign: 'none' }), { token: tokens['crvs-only'] }),
      403,
      'err.request.forbidden',
    );
    expectError(await post(body({ senderId: 'optional-client' })), 403, 'err.sender_id.invalid');
  });

  it('400 for a bad schema, a wrong action, paging below 1, an unsupported version, invalid JSON', async () => {
    expectError(await post(body({ mutate: (b) => delete b.message.transaction_id })), 400, 'err.request.bad');
    expectError(await post(body({ action: 'subscribe' })), 400, 'err.request.bad');
    expectError(
      await post(
        body({
          items: [
            {
              referenceId: 'p',
              criteria: { ...criteria(), pagination: { page_size: 0, page_number: 1 } },
            },
          ],
        }),
      ),
      400,
      'err.request.bad',
    );
    expectError(await post(body({ mutate: (b) => (b.header.version = '9.9.9') })), 400, 'err.version.not_supported');
    expectError(await post('{"header": '), 400, 'err.request.bad');
    expectError(await post({ header: {} }), 400, 'err.request.bad');
  });

  it('401 for a missing signature, a tampered body, a wrong key and an expired signature', async () => {
    expectError(await post(body({ sign: 'none' })), 401, 'err.signature.missing');
    expectError(
      await post(
        body({
          tamper: (b) => ((b.message.search_request as { reference_id: string }[])[0]!.reference_id = 'changed'),
        }),
      ),
      401,
      'err.signature.invalid',
    );
    expectError(await post(body({ sign: 'other-key' })), 401, 'err.signature.invalid');
    expectError(await post(body({ signedAt: Math.floor(Date.now() / 1000) - 3600 })), 401, 'err.signature.invalid');
  });

  it('409 for a replayed message_id (only once checks 1–4 passed) and 400 for a skewed clock', async () => {
    const messageId = randomUUID();
    expect((await post(body({ messageId }))).statusCode).toBe(200);
    expectError(await post(body({ messageId })), 409, 'err.request.bad');
    // a request refused for its signature does not use up its message id
    const fresh = randomUUID();
    expectError(await post(body({ messageId: fresh, sign: 'none' })), 401, 'err.signature.missing');
    expect((await post(body({ messageId: fresh }))).statusCode).toBe(200);
    expectError(await post(body({ ts: new Date(Date.now() - 3_600_000).toISOString() })), 400, 'err.request.bad');
  });

  it('413 for an oversized body, 415 for a wrong content type, 404 for an unknown path', async () => {
    const big = body({ mutate: (b) => (b.header.meta = { padding: 'x'.repeat(70_000) }) });
    expectError(await post(big), 413, 'err.request.bad');
    expectError(await post(JSON.stringify(body()), { contentType: 'text/plain' }), 415, 'err.request.bad');
    const res = await app.inject({ method: 'POST', url: '/registry/sync/nothing', payload: {} });
    expectError(res, 404, 'err.request.not_found');
  });

  it('429 with Retry-After once a sender passes its rate limit', async () => {
    for (let i = 0; i < 2; i++)
      expect((await post(body({ senderId: 'slow', sign: 'none' }), { token: tokens.slow })).statusCode).toBe(200);
    const res = await post(body({ senderId: 'slow', sign: 'none' }), { token: tokens.slow });
    expectError(res, 429, 'err.request.too_many_requests');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it.skipIf(!specAvailable())(
    'answers with messages that validate against the DCI spec (sync on-search, error body)',
    async () => {
      const file = specFile('social')!;
      const response = await specValidator(file, '/registry/sync/search', 'post', 'response');
      const request = await specValidator(file, '/registry/sync/search', 'post', 'request');
      const sent = body({
        items: [
          { referenceId: 'c-1', criteria: criteria() },
          { referenceId: 'c-2', criteria: criteria('nobody') },
          { referenceId: 'c-2', criteria: criteria() },
        ],
      });
      expect(specCheck(request, sent)).toEqual([]);
      const ok = await post(sent);
      expect(ok.statusCode).toBe(200);
      expect(specCheck(response, ok.json())).toEqual([]);
      // error bodies: the spec's 401/403 HttpErrorResponse and its default (ACK) response
      const unauthorized = await post(body(), { token: null });
      expect(
        specCheck(await specValidator(file, '/registry/sync/search', 'post', 'response', '401'), unauthorized.json()),
      ).toEqual([]);
      const forbidden = await post(body({ senderId: 'limited', sign: 'none' }), { token: tokens.limited });
      expect(
        specCheck(await specValidator(file, '/registry/sync/search', 'post', 'response', '403'), forbidden.json()),
      ).toEqual([]);
      const bad = await post(body({ action: 'subscribe' }));
      expect(
        specCheck(await specValidator(file, '/registry/search', 'post', 'response', 'default'), bad.json()),
      ).toEqual([]);
    },
  );
  if (!specAvailable()) console.warn(`skipping the spec conformance of server answers: ${specUnavailableReason()}`);

  it('records every request in the audit trail, with personal fields redacted', async () => {
    const rows = await ctx.database.db.selectFrom('dci_transaction').selectAll().orderBy('received_at').execute();
    expect(rows.length).toBeGreaterThan(10);
    const ok = rows.find((r) => r.status === 'succ' && r.sender_id === 'test-client')!;
    expect(ok).toMatchObject({ direction: 'inbound', action: 'search', http_status: 200, domain: 'social' });
    expect(JSON.stringify(ok.response)).toContain('[redacted]');
    expect(JSON.stringify(ok.response)).not.toContain('Amina');
    const replay = rows.find((r) => r.http_status === 409)!;
    expect(replay).toMatchObject({ status: 'err', reason_code: 'err.request.bad' });
  });
});
