/**
 * A sender's JWKS URL is fetched under the outbound-safety rules (delivery/outbound.ts), and every
 * fetch is audited: direction outbound, action `jwks`, status succ/err, the HTTP status, no payload.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicJwk } from '@opendci/protocol';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { AuditTrail } from '../audit/audit.js';
import { OutboundError } from '../delivery/outbound.js';
import { describeBackends } from '../test-support/backends.js';
import { SenderKeyResolver } from './sender-keys.js';
import { SenderStore } from './senders.js';

/** A JWKS endpoint on loopback; `/moved` redirects to the document. */
class JwksServer {
  document: unknown = { keys: [] };
  status = 200;
  paths: string[] = [];
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.paths.push(req.url ?? '');
      if (req.url === '/moved') {
        res.writeHead(302, { location: `${this.base}/jwks.json` });
        res.end();
        return;
      }
      res.writeHead(this.status, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify(this.document));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describeBackends('JWKS fetches through the outbound guard', (ctx) => {
  const jwks = new JwksServer();
  const key = generateKeyPairSync('ed25519').publicKey;
  let store: SenderStore;
  let audit: AuditTrail;
  const clock = { now: 5_000_000 };

  beforeAll(async () => {
    await jwks.start();
    store = new SenderStore(ctx.database.db);
    audit = new AuditTrail(ctx.database.db, { payloads: 'full', redactFields: [] });
  });
  afterAll(async () => {
    await jwks.stop();
  });
  beforeEach(() => {
    jwks.paths = [];
    jwks.status = 200;
    jwks.document = { keys: [{ ...publicJwk(key), kid: 'k1' }] };
  });

  function resolver(errors: unknown[], options: ConstructorParameters<typeof SenderKeyResolver>[1] = {}) {
    return new SenderKeyResolver(ctx.database.db, {
      now: () => clock.now,
      audit,
      serverId: 'opendci',
      onError: (_id, error) => errors.push(error),
      ...options,
    });
  }

  function jwksRows(senderId: string) {
    return ctx.database.db
      .selectFrom('dci_transaction')
      .select([
        'direction',
        'sender_id',
        'receiver_id',
        'action',
        'path',
        'status',
        'http_status',
        'reason_code',
        'request',
        'response',
      ])
      .where('receiver_id', '=', senderId)
      .where('action', '=', 'jwks')
      .orderBy('id')
      .execute();
  }

  it('refuses a loopback JWKS URL without DCI_ALLOW_INSECURE_CALLBACKS, and audits the refusal', async () => {
    await store.add({ id: 'loop', clientSecret: 's', jwksUrl: `${jwks.base}/jwks.json` });
    const errors: unknown[] = [];
    expect(await resolver(errors).resolve('loop', 'k1')).toBeUndefined();
    expect(jwks.paths).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OutboundError);
    expect((errors[0] as OutboundError).kind).toBe('refused');
    expect(await jwksRows('loop')).toEqual([
      {
        direction: 'outbound',
        sender_id: 'opendci',
        receiver_id: 'loop',
        action: 'jwks',
        path: `${jwks.base}/jwks.json`,
        status: 'err',
        http_status: null,
        reason_code: expect.stringMatching(/^refused: the URL must use https/) as unknown,
        request: null,
        response: null,
      },
    ]);
  });

  it('refuses a host name that resolves to loopback, even over https', async () => {
    await store.add({ id: 'named', clientSecret: 's', jwksUrl: 'https://keys.example.org/jwks.json' });
    const errors: unknown[] = [];
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    expect(await resolver(errors, { lookup }).resolve('named', 'k1')).toBeUndefined();
    expect(String(errors[0])).toMatch(/keys\.example\.org resolves to 127\.0\.0\.1 is a loopback address/);
    expect((await jwksRows('named')).map((r) => [r.status, r.http_status])).toEqual([['err', null]]);
  });

  it('fetches it with the switch, and audits the fetch without payload', async () => {
    await store.add({ id: 'allowed', clientSecret: 's', jwksUrl: `${jwks.base}/jwks.json` });
    const errors: unknown[] = [];
    const keys = resolver(errors, { allowInsecure: true });
    expect(await keys.resolve('allowed', 'k1')).toBeDefined();
    expect(await keys.resolve('allowed', 'k1')).toBeDefined(); // cached: no second fetch, no second row
    expect(errors).toEqual([]);
    expect(jwks.paths).toEqual(['/jwks.json']);
    expect(await jwksRows('allowed')).toEqual([
      {
        direction: 'outbound',
        sender_id: 'opendci',
        receiver_id: 'allowed',
        action: 'jwks',
        path: `${jwks.base}/jwks.json`,
        status: 'succ',
        http_status: 200,
        reason_code: null,
        request: null,
        response: null,
      },
    ]);

    // an unknown kid refetches (after the interval), audited again; a failing answer is an err row
    jwks.status = 503;
    clock.now += 60_000;
    expect(await keys.resolve('allowed', 'k2')).toBeUndefined();
    expect(await keys.resolve('allowed', 'k1')).toBeDefined(); // the last good set stays
    const rows = await jwksRows('allowed');
    expect(rows.map((r) => [r.status, r.http_status])).toEqual([
      ['succ', 200],
      ['err', 503],
    ]);
    expect(rows[1]!.reason_code).toMatch(/answered HTTP 503/);
  });

  it('does not follow redirects', async () => {
    await store.add({ id: 'moved', clientSecret: 's', jwksUrl: `${jwks.base}/moved` });
    const errors: unknown[] = [];
    expect(await resolver(errors, { allowInsecure: true }).resolve('moved', 'k1')).toBeUndefined();
    expect(jwks.paths).toEqual(['/moved']);
    expect(String(errors[0])).toMatch(/answered HTTP 302/);
    expect((await jwksRows('moved')).map((r) => [r.status, r.http_status])).toEqual([['err', 302]]);
  });

  it('refuses a JWKS larger than the limit', async () => {
    await store.add({ id: 'large', clientSecret: 's', jwksUrl: `${jwks.base}/jwks.json` });
    jwks.document = { keys: [{ ...publicJwk(key), kid: 'k1', padding: 'x'.repeat(4096) }] };
    const errors: unknown[] = [];
    expect(await resolver(errors, { allowInsecure: true, maxJwksBytes: 1024 }).resolve('large', 'k1')).toBeUndefined();
    expect((errors[0] as OutboundError).kind).toBe('too_large');
    expect((await jwksRows('large')).map((r) => r.status)).toEqual(['err']);
  });

  it('keeps resolving when the audit row cannot be written', async () => {
    await store.add({ id: 'no-audit', clientSecret: 's', jwksUrl: `${jwks.base}/jwks.json` });
    const errors: unknown[] = [];
    const failing = { record: () => Promise.reject(new Error('audit down')) };
    expect(await resolver(errors, { allowInsecure: true, audit: failing }).resolve('no-audit', 'k1')).toBeDefined();
    expect(String(errors[0])).toMatch(/audit down/);
  });
});
