/**
 * `POST /D/registry/sync/verify` (contract §9) through the real app: a signed on-verify whose body
 * validates against our wire schema, yes/no/unknown per claim and overall, never record data; the
 * `verify` operation is required; consent-based senders learn nothing about people who did not
 * consent; every request leaves an audit row.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  compileValidators,
  endpointFor,
  jwkThumbprint,
  requestHeader,
  signMessage,
  verifyMessage,
  verifyRequestMessage,
} from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

const keys = generateKeyPairSync('ed25519');
const kid = jwkThumbprint(keys.publicKey);
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

type VerifyItems = Parameters<typeof verifyRequestMessage>[0]['items'];
type Body = { header: Record<string, unknown>; message: Record<string, unknown> };

interface Answer {
  signature: string;
  header: Record<string, unknown>;
  message: {
    transaction_id: string;
    correlation_id: string;
    verify_response: {
      reference_id: string;
      status: string;
      status_reason_code?: string;
      verified: string;
      claims: Record<string, string>;
    }[];
  };
}

function importLines(ctxDir: string, name: string, lines: object[]): string {
  const file = join(ctxDir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
  return file;
}

describeBackends('sync verify over HTTP', (ctx) => {
  let app: FastifyInstance;
  let dir: string;
  const tokens: Record<string, string> = {};

  function body(
    items: VerifyItems,
    options: { senderId?: string; sign?: boolean; action?: string; mutate?: (b: Body) => void } = {},
  ) {
    const senderId = options.senderId ?? 'verifier';
    const message = verifyRequestMessage({ items }) as unknown as Record<string, unknown>;
    const header = requestHeader({
      action: (options.action ?? 'verify') as 'verify',
      senderId,
      totalCount: items.length,
      receiverId: 'opendci',
    }) as unknown as Record<string, unknown>;
    const envelope = { header, message };
    options.mutate?.(envelope);
    if (options.sign === false) return envelope;
    return { signature: signMessage(envelope, { senderId, kid, privateKey: keys.privateKey }), ...envelope };
  }

  const post = (payload: unknown, options: { token?: string; url?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: options.url ?? '/social/registry/sync/verify',
      headers: { authorization: `Bearer ${options.token ?? tokens.verifier}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });

  const amina = (claims: Record<string, string | number | boolean>, referenceId = 'r-1') => ({
    referenceId,
    query: { type: 'UIN', value: '1001' },
    claims,
  });

  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', DCI_SERVER_ID: 'opendci' });
    app = await buildApp(config, { database: ctx.database, logger: false });
    dir = mkdtempSync(join(tmpdir(), 'opendci-verify-'));
    await importFile(
      ctx.database,
      importLines(dir, 'people.ndjson', [
        { type: 'area', code: 'KL', name: 'Kalima' },
        {
          type: 'individual',
          identifiers: [{ type: 'UIN', value: '1001' }],
          given_name: 'Amina',
          surname: 'Otieno',
          sex: 'female',
          birth_date: '1984-05-01',
          area_code: 'KL',
        },
        {
          type: 'individual',
          identifiers: [{ type: 'UIN', value: '1002' }],
          given_name: 'Peter',
          surname: 'Otieno',
          sex: 'male',
        },
        {
          type: 'vital_event',
          event_type: 'death',
          registration_number: 'DRN-1',
          event_date: '2024-02-01',
          subject: { type: 'UIN', value: '1002' },
        },
      ]),
    );
    await app.senders.add({ id: 'verifier', clientSecret: 's3cret', keys: [{ pem: publicPem }] });
    await app.senders.add({
      id: 'search-only',
      clientSecret: 's3cret',
      operations: 'search',
      signaturePolicy: 'optional',
    });
    await app.senders.add({
      id: 'by-consent',
      clientSecret: 's3cret',
      operations: 'verify',
      signaturePolicy: 'optional',
      legalBasis: 'consent',
    });
    for (const id of ['verifier', 'search-only', 'by-consent']) {
      const res = await app.inject({
        method: 'POST',
        url: '/oauth2/client/token',
        payload: { grant_type: 'client_credentials', client_id: id, client_secret: 's3cret' },
      });
      expect(res.statusCode).toBe(200);
      tokens[id] = res.json<{ access_token: string }>().access_token;
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('answers a signed on-verify, valid against our schema, with yes/no/unknown and no record data', async () => {
    const sent = body([
      amina({ sex: 'female', birth_date: '1984-05-01', is_alive: true }, 'all-yes'),
      amina({ sex: 'female', given_name: 'Grace', marital_status: 'M' }, 'one-no'),
      amina({ sex: 'female', marital_status: 'M' }, 'unrecorded'),
      {
        referenceId: 'dead',
        query: { type: 'UIN', value: '1002' },
        claims: { is_alive: false, death_date: '2024-02-01' },
      },
      { referenceId: 'nobody', query: { type: 'UIN', value: '9999' }, claims: { sex: 'female', is_alive: true } },
    ]);
    const res = await post(sent);
    expect(res.statusCode).toBe(200);
    const json = res.json<Answer>();
    const wire = endpointFor('social', 'registry/sync/verify')!;
    const validate = compileValidators().response(wire);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.header).toMatchObject({
      action: 'on-verify',
      status: 'succ',
      sender_id: 'opendci',
      receiver_id: 'verifier',
      total_count: 5,
      completed_count: 5,
    });
    expect(json.message.transaction_id).toBe(sent.message.transaction_id);
    expect(typeof json.message.correlation_id).toBe('string');
    const byRef = Object.fromEntries(json.message.verify_response.map((r) => [r.reference_id, r]));
    expect(byRef['all-yes']).toMatchObject({
      status: 'succ',
      verified: 'yes',
      claims: { sex: 'yes', birth_date: 'yes', is_alive: 'yes' },
    });
    expect(byRef['one-no']).toMatchObject({
      status: 'succ',
      verified: 'no',
      claims: { sex: 'yes', given_name: 'no', marital_status: 'unknown' },
    });
    expect(byRef.unrecorded).toMatchObject({ verified: 'unknown', claims: { sex: 'yes', marital_status: 'unknown' } });
    expect(byRef.dead).toMatchObject({ verified: 'yes', claims: { is_alive: 'yes', death_date: 'yes' } });
    expect(byRef.nobody).toMatchObject({
      status: 'succ',
      verified: 'unknown',
      claims: { sex: 'unknown', is_alive: 'unknown' },
    });

    // Nothing of the records: no names, dates, ids or record shapes.
    const text = JSON.stringify(json);
    for (const leak of ['Amina', 'Otieno', '1984', 'Kalima', 'urn:uuid', 'reg_records', 'demographic_info', '@id'])
      expect(text).not.toContain(leak);
    for (const item of json.message.verify_response)
      expect(Object.keys(item).sort()).toEqual(['claims', 'locale', 'reference_id', 'status', 'timestamp', 'verified']);

    // The signature verifies against our JWKS.
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    const verified = await verifyMessage(json, {
      resolveKey: async (keyId) => {
        const jwk = jwks.keys.find((k) => k.kid === keyId);
        return jwk ? createPublicKey({ key: jwk as never, format: 'jwk' }) : undefined;
      },
      expectedSenderId: 'opendci',
    });
    expect(verified.senderId).toBe('opendci');
  });

  it('rejects per item: unknown attribute, bad value, duplicate reference_id', async () => {
    const res = await post(
      body([
        amina({ sex: 'female' }, 'ok'),
        amina({ shoe_size: 42 }, 'unknown-attribute'),
        amina({ sex: 'female', "sex = 'x' or 1=1 --": 'female' }, 'injected'),
        amina({ birth_date: 'yesterday' }, 'bad-value'),
        amina({ sex: 'female' }, 'ok'),
      ]),
    );
    expect(res.statusCode).toBe(200);
    const json = res.json<Answer>();
    expect(json.header.status).toBe('succ'); // part: some items answered
    const items = json.message.verify_response;
    expect(items.map((r) => [r.reference_id, r.status, r.status_reason_code ?? null, r.verified])).toEqual([
      ['ok', 'succ', null, 'yes'],
      ['unknown-attribute', 'rjct', 'rjct.search_criteria.invalid', 'unknown'],
      ['injected', 'rjct', 'rjct.search_criteria.invalid', 'unknown'],
      ['bad-value', 'rjct', 'rjct.search_criteria.invalid', 'unknown'],
      ['ok', 'rjct', 'rjct.reference_id.duplicate', 'unknown'],
    ]);
    expect(items[1]!.claims).toEqual({});
    const validate = compileValidators().response(endpointFor('social', 'registry/sync/verify')!);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);

    const allBad = await post(body([amina({ shoe_size: 42 })]));
    expect(allBad.json<Answer>().header.status).toBe('rjct');
  });

  it('is served on every domain and at the default prefix; the schema and action are checked', async () => {
    for (const url of ['/registry/sync/verify', '/crvs/registry/sync/verify', '/fr/registry/sync/verify']) {
      const res = await post(body([amina({ is_alive: true })]), { url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json<Answer>().message.verify_response[0]!.status, url).toBe('succ');
    }
    // Not a beneficiary: not found in IBR, so unknown.
    const ibr = await post(body([amina({ sex: 'female' })]), { url: '/ibr/registry/sync/verify' });
    expect(ibr.json<Answer>().message.verify_response[0]).toMatchObject({ verified: 'unknown' });

    const wrongAction = await post(body([amina({ sex: 'female' })], { action: 'search' }));
    expect(wrongAction.statusCode).toBe(400);
    const noClaims = await post(
      body([amina({ sex: 'female' })], {
        mutate: (b) => {
          (b.message.verify_request as { verify_criteria: { claims: object } }[])[0]!.verify_criteria.claims = {};
        },
      }),
    );
    expect(noClaims.statusCode).toBe(400);
    expect(noClaims.json<{ message: { error: { code: string } } }>().message.error.code).toBe('err.request.bad');
    const otherQuery = await post(
      body([amina({ sex: 'female' })], {
        mutate: (b) => {
          (b.message.verify_request as { verify_criteria: { query_type: string } }[])[0]!.verify_criteria.query_type =
            'expression';
        },
      }),
    );
    expect(otherQuery.statusCode).toBe(400);
  });

  it('403 without the verify operation', async () => {
    const res = await post(body([amina({ sex: 'female' })], { senderId: 'search-only', sign: false }), {
      token: tokens['search-only'],
    });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ message: { error: { code: string } } }>().message.error.code).toBe('err.request.forbidden');
  });

  it('a consent-based sender gets unknown for people who did not consent to it', async () => {
    const ask = async () =>
      (
        await post(
          body(
            [
              amina({ sex: 'female', given_name: 'Grace' }, 'amina'),
              {
                referenceId: 'nobody',
                query: { type: 'UIN', value: '9999' },
                claims: { sex: 'female', given_name: 'Grace' },
              },
            ],
            { senderId: 'by-consent', sign: false },
          ),
          { token: tokens['by-consent'] },
        )
      ).json<Answer>().message.verify_response;
    const before = await ask();
    // Without a consent, Amina is indistinguishable from nobody.
    expect(before[0]).toMatchObject({ verified: 'unknown', claims: { sex: 'unknown', given_name: 'unknown' } });
    expect({ ...before[0], reference_id: '', timestamp: '' }).toEqual({
      ...before[1],
      reference_id: '',
      timestamp: '',
    });
    await importFile(
      ctx.database,
      importLines(dir, 'consent.ndjson', [
        {
          type: 'consent',
          person: { type: 'UIN', value: '1001' },
          sender_id: 'by-consent',
          given_at: '2024-01-01T00:00:00Z',
        },
      ]),
    );
    const after = await ask();
    expect(after[0]).toMatchObject({ verified: 'no', claims: { sex: 'yes', given_name: 'no' } });
    expect(after[1]).toMatchObject({ verified: 'unknown' });
  });

  it('records every verify request in the audit trail', async () => {
    const rows = await ctx.database.db
      .selectFrom('dci_transaction')
      .selectAll()
      .where('action', '=', 'verify')
      .orderBy('received_at')
      .execute();
    const ok = rows.find((r) => r.sender_id === 'verifier' && r.http_status === 200 && r.status === 'succ');
    expect(ok).toMatchObject({ direction: 'inbound', domain: 'social', path: '/social/registry/sync/verify' });
    expect(ok!.reference_ids).toEqual(['all-yes', 'one-no', 'unrecorded', 'dead', 'nobody']);
    expect(rows.find((r) => r.status === 'part')).toBeDefined();
    expect(rows.find((r) => r.sender_id === 'search-only')).toMatchObject({
      http_status: 403,
      status: 'err',
      reason_code: 'err.request.forbidden',
    });
  });
});
