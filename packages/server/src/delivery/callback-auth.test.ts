/**
 * Callback auth over real HTTP: a local receiver and a local OAuth2 token endpoint record what
 * they are sent; deliverCallback must present the sender's static bearer token, or a client
 * credentials token (fetched with a form body, cached until shortly before it expires, refetched
 * once on a 401), and audit every call without ever storing a secret.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { AuditTrail } from '../audit/audit.js';
import { SealedSecretError } from '../security/secrets.js';
import { SenderStore, type CallbackCredentials } from '../security/senders.js';
import { describeBackends } from '../test-support/backends.js';
import {
  CallbackFailed,
  CallbackTokenCache,
  deliverCallback,
  type CallbackDeps,
  type CallbackJob,
} from './callbacks.js';

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

/** A receiver that takes callbacks whose bearer token it accepts (any when `accepted` is empty). */
class Receiver {
  seen: Seen[] = [];
  accepted = new Set<string>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        this.seen.push({ headers: req.headers, body });
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const ok = this.accepted.size === 0 || (token !== undefined && this.accepted.has(token));
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: { ack_status: ok ? 'ACK' : 'ERR', correlation_id: 'c' } }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/dci/on-search`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** An OAuth2 token endpoint: a new token per request, or the status and body the test sets. */
class TokenEndpoint {
  requests: Seen[] = [];
  issued: string[] = [];
  expiresIn: number | undefined = 3600;
  failWith: { status: number; body: unknown } | undefined;
  /** Told about every token issued. */
  onIssue: (token: string) => void = () => {};
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        this.requests.push({ headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        if (this.failWith) {
          res.writeHead(this.failWith.status);
          res.end(JSON.stringify(this.failWith.body));
          return;
        }
        const token = `tok-${this.requests.length}-${randomBytes(4).toString('hex')}`;
        this.issued.push(token);
        this.onIssue(token);
        res.writeHead(200);
        res.end(
          JSON.stringify({
            access_token: token,
            token_type: 'Bearer',
            ...(this.expiresIn === undefined ? {} : { expires_in: this.expiresIn }),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth2/token`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const signingKey = generateKeyPairSync('ed25519').privateKey;
const signer = { active: () => ({ kid: 'test-kid', algorithm: 'ed25519' as const, privateKey: signingKey }) };

describeBackends('callback auth', (ctx) => {
  const receiver = new Receiver();
  const tokenEndpoint = new TokenEndpoint();
  const clock = { now: 1_000_000 };
  let audit: AuditTrail;
  let transaction = 0;

  beforeAll(async () => {
    await receiver.start();
    await tokenEndpoint.start();
    audit = new AuditTrail(ctx.database.db, { payloads: 'full', redactFields: [] });
  });
  afterAll(async () => {
    await receiver.stop();
    await tokenEndpoint.stop();
  });
  beforeEach(() => {
    receiver.seen = [];
    receiver.accepted.clear();
    tokenEndpoint.requests = [];
    tokenEndpoint.issued = [];
    tokenEndpoint.expiresIn = 3600;
    tokenEndpoint.failWith = undefined;
    tokenEndpoint.onIssue = () => {};
  });

  function job(): CallbackJob {
    transaction++;
    return {
      url: receiver.url,
      receiverId: 'spmis',
      domain: 'social',
      action: 'on-search',
      status: 'succ',
      totalCount: 0,
      completedCount: 0,
      messageId: `m-${transaction}`,
      transactionId: `txn-auth-${ctx.name}-${transaction}`,
      correlationId: `c-${transaction}`,
      message: { transaction_id: `txn-auth-${ctx.name}-${transaction}`, search_response: [] },
    };
  }

  function deps(auth: CallbackCredentials | null, extra: Partial<CallbackDeps> = {}): CallbackDeps {
    return {
      serverId: 'opendci',
      signer,
      audit,
      allowInsecure: true,
      timeoutMs: 5_000,
      callbackAuth: async (receiverId) => (receiverId === 'spmis' ? auth : null),
      callbackTokens: new CallbackTokenCache({ now: () => clock.now }),
      ...extra,
    };
  }

  const oauth = (): CallbackCredentials => ({
    kind: 'oauth2',
    tokenUrl: tokenEndpoint.url,
    clientId: 'opendci-at-spmis',
    clientSecret: 'cs-very-secret',
  });

  /** The audit rows of a transaction, sorted by action, status and http status (not by time). */
  async function auditRows(transactionId: string) {
    const rows = await ctx.database.db
      .selectFrom('dci_transaction')
      .select(['action', 'path', 'status', 'http_status', 'attempt', 'reason_code', 'request', 'response'])
      .where('transaction_id', '=', transactionId)
      .execute();
    const key = (r: (typeof rows)[number]) => `${r.action}|${r.status}|${r.http_status ?? ''}`;
    return rows.sort((a, b) => key(a).localeCompare(key(b)));
  }

  it('sends no Authorization header without callback auth', async () => {
    await deliverCallback(job(), 1, deps(null));
    expect(receiver.seen).toHaveLength(1);
    expect(receiver.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('sends the static bearer token on every callback', async () => {
    receiver.accepted.add('static-TOKEN-1');
    const d = deps({ kind: 'bearer', token: 'static-TOKEN-1' });
    await deliverCallback(job(), 1, d);
    await deliverCallback(job(), 1, d);
    expect(receiver.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer static-TOKEN-1',
      'Bearer static-TOKEN-1',
    ]);
    expect(tokenEndpoint.requests).toHaveLength(0);
  });

  it('fails (to be retried) when the receiver refuses the static token, without a second try', async () => {
    receiver.accepted.add('the-right-one');
    const j = job();
    await expect(deliverCallback(j, 1, deps({ kind: 'bearer', token: 'a-wrong-one' }))).rejects.toThrow(CallbackFailed);
    expect(receiver.seen).toHaveLength(1);
    const rows = await auditRows(j.transactionId);
    expect(rows.map((r) => [r.action, r.status, r.http_status])).toEqual([['on-search', 'failed', 401]]);
  });

  it('gets an OAuth2 token with client credentials in a form body, and caches it until shortly before expiry', async () => {
    const d = deps(oauth());
    const first = job();
    await deliverCallback(first, 1, d);
    expect(tokenEndpoint.requests).toHaveLength(1);
    const request = tokenEndpoint.requests[0]!;
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'opendci-at-spmis',
      client_secret: 'cs-very-secret',
    });
    expect(request.headers.authorization).toBeUndefined();
    const token1 = tokenEndpoint.issued[0]!;
    expect(receiver.seen[0]!.headers.authorization).toBe(`Bearer ${token1}`);

    // cached: no new token request while it is valid
    clock.now += 3_000_000; // 50 of its 60 minutes
    await deliverCallback(job(), 1, d);
    expect(tokenEndpoint.requests).toHaveLength(1);
    expect(receiver.seen[1]!.headers.authorization).toBe(`Bearer ${token1}`);

    // shortly before it expires, a new one is fetched
    clock.now += 590_000; // 59 min 50 s
    await deliverCallback(job(), 1, d);
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(receiver.seen[2]!.headers.authorization).toBe(`Bearer ${tokenEndpoint.issued[1]!}`);

    // the token request is audited without payloads: neither the secret nor the token is stored
    const rows = await auditRows(first.transactionId);
    expect(rows.map((r) => [r.action, r.status, r.http_status, r.path])).toEqual([
      ['on-search', 'delivered', 200, receiver.url],
      ['token', 'succ', 200, tokenEndpoint.url],
    ]);
    expect(rows[1]).toMatchObject({ request: null, response: null });
    const everything = JSON.stringify(
      await ctx.database.db.selectFrom('dci_transaction').selectAll().where('direction', '=', 'outbound').execute(),
    );
    expect(everything).not.toContain('cs-very-secret');
    expect(everything).not.toContain(token1);
  });

  it('shares one token request between concurrent callbacks', async () => {
    const d = deps(oauth());
    await Promise.all([deliverCallback(job(), 1, d), deliverCallback(job(), 1, d), deliverCallback(job(), 1, d)]);
    expect(tokenEndpoint.requests).toHaveLength(1);
    expect(new Set(receiver.seen.map((s) => s.headers.authorization))).toEqual(
      new Set([`Bearer ${tokenEndpoint.issued[0]!}`]),
    );
  });

  it('assumes a short lifetime when the token endpoint gives no expires_in', async () => {
    tokenEndpoint.expiresIn = undefined;
    const d = deps(oauth());
    await deliverCallback(job(), 1, d);
    clock.now += 200_000;
    await deliverCallback(job(), 1, d);
    expect(tokenEndpoint.requests).toHaveLength(1);
    clock.now += 100_000; // past 300 s minus the margin
    await deliverCallback(job(), 1, d);
    expect(tokenEndpoint.requests).toHaveLength(2);
  });

  it('on a 401 from the receiver, drops the token, fetches a new one and sends once more', async () => {
    const d = deps(oauth());
    await deliverCallback(job(), 1, d);
    const old = tokenEndpoint.issued[0]!;
    expect(receiver.seen[0]!.headers.authorization).toBe(`Bearer ${old}`);

    // the receiver now takes only tokens issued from here on (say it rotated its keys)
    receiver.accepted.add('nothing-yet');
    tokenEndpoint.onIssue = (token) => receiver.accepted.add(token);
    const j = job();
    await deliverCallback(j, 3, d);
    expect(tokenEndpoint.requests).toHaveLength(2);
    const fresh = tokenEndpoint.issued[1]!;
    expect(receiver.seen.slice(1).map((s) => s.headers.authorization)).toEqual([`Bearer ${old}`, `Bearer ${fresh}`]);
    const rows = await auditRows(j.transactionId);
    expect(rows.map((r) => [r.action, r.status, r.http_status, r.attempt])).toEqual([
      ['on-search', 'delivered', 200, 3],
      ['on-search', 'failed', 401, 3],
      ['token', 'succ', 200, 3],
    ]);
    expect(rows[1]!.reason_code).toBe('the receiver answered 401: retrying with a new token');

    // the new token is the one cached
    await deliverCallback(job(), 1, d);
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(receiver.seen.at(-1)!.headers.authorization).toBe(`Bearer ${fresh}`);
  });

  it('refetches only once: a second 401 fails the attempt', async () => {
    receiver.accepted.add('never-issued');
    const d = deps(oauth());
    const j = job();
    await expect(deliverCallback(j, 1, d)).rejects.toThrow(/the receiver answered 401/);
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(receiver.seen).toHaveLength(2);
  });

  it('fails the attempt when the token endpoint refuses, never echoing the secret', async () => {
    tokenEndpoint.failWith = {
      status: 401,
      body: { error: 'invalid_client', error_description: 'bad secret cs-very-secret' },
    };
    const j = job();
    const error = await deliverCallback(j, 2, deps(oauth())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackFailed);
    expect((error as Error).message).toBe('callback token: the token endpoint answered 401 (invalid_client)');
    expect(receiver.seen).toHaveLength(0);
    const rows = await auditRows(j.transactionId);
    expect(rows.map((r) => [r.action, r.status, r.http_status, r.attempt])).toEqual([
      ['on-search', 'failed', null, 2],
      ['token', 'err', 401, 2],
    ]);
    expect(JSON.stringify(rows)).not.toContain('cs-very-secret');

    tokenEndpoint.failWith = { status: 200, body: { token_type: 'Bearer' } };
    await expect(deliverCallback(job(), 1, deps(oauth()))).rejects.toThrow(/without a usable access_token/);
    tokenEndpoint.failWith = { status: 200, body: { access_token: 'x', token_type: 'mac' } };
    await expect(deliverCallback(job(), 1, deps(oauth()))).rejects.toThrow(/not of type Bearer/);
  });

  it('sends the token request through the outbound-safety rules', async () => {
    const j = job();
    const error = await deliverCallback(j, 1, deps(oauth(), { allowInsecure: false })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^callback token: refused: the URL must use https/);
    expect(tokenEndpoint.requests).toHaveLength(0);
    expect(receiver.seen).toHaveLength(0);

    // a host name resolving to loopback is refused too, before any connection
    const named = { ...oauth(), tokenUrl: 'https://tokens.example.org/oauth2/token' } as CallbackCredentials;
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const refused = await deliverCallback(job(), 1, deps(named, { allowInsecure: false, lookup })).catch(
      (e: unknown) => e,
    );
    expect((refused as Error).message).toMatch(
      /^callback token: refused: tokens\.example\.org resolves to 127\.0\.0\.1 is a loopback address/,
    );
    const rows = await auditRows(j.transactionId);
    expect(rows[1]).toMatchObject({ action: 'token', status: 'err', http_status: null });
  });

  it('reads the credentials a SenderStore sealed with the key-encryption key', async () => {
    const kek = randomBytes(32);
    const store = new SenderStore(ctx.database.db, { keyEncryptionKey: kek });
    await store.add({
      id: 'spmis',
      clientSecret: 's',
      callbackAuth: { kind: 'bearer', token: 'sealed-bearer-xyz' },
    });
    const row = await ctx.database.db
      .selectFrom('sender')
      .select('callback_auth')
      .where('id', '=', 'spmis')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row.callback_auth)).not.toContain('sealed-bearer-xyz');
    expect(row.callback_auth).toMatchObject({ kind: 'bearer', token: expect.stringMatching(/^enc:v1:/) as unknown });

    receiver.accepted.add('sealed-bearer-xyz');
    await deliverCallback(job(), 1, { ...deps(null), callbackAuth: (id) => store.callbackAuth(id) });
    expect(receiver.seen[0]!.headers.authorization).toBe('Bearer sealed-bearer-xyz');

    // without the key (or with another one) the secret cannot be read: the attempt fails
    await expect(store.callbackAuth('spmis', { keyEncryptionKey: undefined })).rejects.toThrow(SealedSecretError);
    await expect(store.callbackAuth('spmis', { keyEncryptionKey: randomBytes(32) })).rejects.toThrow(
      /does not decrypt/,
    );
    await expect(
      deliverCallback(job(), 1, {
        ...deps(null),
        callbackAuth: (id) => store.callbackAuth(id, { keyEncryptionKey: undefined }),
      }),
    ).rejects.toThrow(/stored encrypted: set DCI_KEY_ENCRYPTION_KEY/);
    expect(receiver.seen).toHaveLength(1);
  });
});
