import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwkThumbprint, publicJwk, signMessage, verifyMessage } from '@opendci/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { keysFromJwks, SenderKeyResolver } from './sender-keys.js';
import { SenderStore } from './senders.js';

function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A JWKS endpoint whose document and status the test controls; counts requests. */
class JwksServer {
  document: unknown = { keys: [] };
  status = 200;
  delayMs = 0;
  requests = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      setTimeout(() => {
        res.writeHead(this.status, { 'content-type': 'application/json' });
        res.end(typeof this.document === 'string' ? this.document : JSON.stringify(this.document));
      }, this.delayMs);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('keysFromJwks', () => {
  it('reads Ed25519 and RSA signature keys by kid or thumbprint and skips the rest', () => {
    const ed = ed25519();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const edJwk = publicJwk(ed.publicKey);
    const { kid: _kid, ...noKid } = publicJwk(rsa);
    const keys = keysFromJwks({
      keys: [
        { ...edJwk, kid: 'ed-1' },
        noKid,
        { ...publicJwk(ed25519().publicKey), use: 'enc', kid: 'enc-1' },
        { ...(ec.export({ format: 'jwk' }) as object), kid: 'ec-1' },
        { kty: 'OKP', crv: 'Ed25519', x: '!!', kid: 'broken' },
        'junk',
      ],
    });
    expect([...keys.keys()]).toEqual(['ed-1', jwkThumbprint(rsa)]);
    expect(keys.get('ed-1')?.asymmetricKeyType).toBe('ed25519');
    expect(() => keysFromJwks({ nope: 1 })).toThrow(/no "keys" array/);
  });

  it('never takes private members', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as object), kid: 'k' };
    expect(keysFromJwks({ keys: [jwk] }).get('k')?.type).toBe('public');
  });
});

describeBackends('sender key resolver', (ctx) => {
  const jwks = new JwksServer();
  let store: SenderStore;
  const clock = { now: 1_000_000 };
  beforeAll(async () => {
    store = new SenderStore(ctx.database.db);
    await jwks.start();
  });
  afterAll(async () => {
    await jwks.stop();
  });

  function resolver(options: ConstructorParameters<typeof SenderKeyResolver>[1] = {}) {
    // The JWKS server is on loopback: allowed only with DCI_ALLOW_INSECURE_CALLBACKS.
    return new SenderKeyResolver(ctx.database.db, { now: () => clock.now, allowInsecure: true, ...options });
  }

  it('resolves registered PEM keys by kid and caches them', async () => {
    const a = ed25519();
    await store.add({ id: 'pem-sender', clientSecret: 's', keys: [{ pem: a.pem, kid: 'a' }] });
    const keys = resolver();
    const key = await keys.resolve('pem-sender', 'a');
    expect(key?.export({ format: 'jwk' })).toEqual(a.publicKey.export({ format: 'jwk' }));
    expect(await keys.resolve('pem-sender', 'a')).toBe(key);
    expect(await keys.resolve('pem-sender', 'b')).toBeUndefined();
    expect(await keys.resolve('nobody', 'a')).toBeUndefined();

    // a key added elsewhere: seen after forget(), or once the cache is older than recheckMs
    const b = ed25519();
    await store.addKey('pem-sender', b.pem, 'b');
    expect(await keys.resolve('pem-sender', 'b')).toBeUndefined();
    clock.now += 6_000;
    expect(await keys.resolve('pem-sender', 'b')).toBeDefined();

    await store.revokeKey('pem-sender', 'a');
    keys.forget('pem-sender');
    expect(await keys.resolve('pem-sender', 'a')).toBeUndefined();
  });

  it('verifies a signed message through keyResolver()', async () => {
    const a = ed25519();
    const kid = jwkThumbprint(a.publicKey);
    await store.add({ id: 'signer', clientSecret: 's', keys: [{ pem: a.pem }] });
    const envelope = { header: { sender_id: 'signer', action: 'search' }, message: { x: 'é' } };
    const signature = signMessage(envelope, { senderId: 'signer', kid, privateKey: a.privateKey });
    const result = await verifyMessage(
      { ...envelope, signature },
      { resolveKey: resolver().keyResolver('signer'), expectedSenderId: 'signer' },
    );
    expect(result).toMatchObject({ senderId: 'signer', kid, algorithm: 'ed25519' });
  });

  it('fetches the JWKS, refetches on an unknown kid at most once per interval, and keeps the last good set', async () => {
    const k1 = ed25519();
    const k2 = ed25519();
    jwks.document = { keys: [{ ...publicJwk(k1.publicKey), kid: 'k1' }] };
    jwks.requests = 0;
    await store.add({ id: 'jwks-sender', clientSecret: 's', jwksUrl: jwks.url });
    const errors: unknown[] = [];
    const keys = resolver({ onError: (_id, e) => errors.push(e) });

    expect(await keys.resolve('jwks-sender', 'k1')).toBeDefined();
    expect(jwks.requests).toBe(1);
    expect(await keys.resolve('jwks-sender', 'k1')).toBeDefined();
    expect(jwks.requests).toBe(1);

    // the peer publishes k2; the first unknown kid refetches only after the interval
    jwks.document = {
      keys: [
        { ...publicJwk(k1.publicKey), kid: 'k1' },
        { ...publicJwk(k2.publicKey), kid: 'k2' },
      ],
    };
    expect(await keys.resolve('jwks-sender', 'k2')).toBeUndefined();
    expect(jwks.requests).toBe(1);
    clock.now += 60_000;
    expect(await keys.resolve('jwks-sender', 'k2')).toBeDefined();
    expect(jwks.requests).toBe(2);

    // an unknown kid: one refetch per interval, however many requests
    clock.now += 60_000;
    await Promise.all([1, 2, 3].map(() => keys.resolve('jwks-sender', 'k3')));
    await keys.resolve('jwks-sender', 'k3');
    expect(jwks.requests).toBe(3);

    // a failing endpoint: the last good set stays in use
    jwks.status = 500;
    clock.now += 60_000;
    expect(await keys.resolve('jwks-sender', 'k9')).toBeUndefined();
    expect(jwks.requests).toBe(4);
    expect(await keys.resolve('jwks-sender', 'k1')).toBeDefined();
    expect(String(errors[0])).toMatch(/answered HTTP 500/);
    jwks.status = 200;
  });

  it('refreshes a JWKS older than its maximum age', async () => {
    const k1 = ed25519();
    jwks.document = { keys: [{ ...publicJwk(k1.publicKey), kid: 'old' }] };
    jwks.requests = 0;
    await store.add({ id: 'aging', clientSecret: 's', jwksUrl: jwks.url });
    const keys = resolver({ jwksMaxAgeMs: 120_000 });
    expect(await keys.resolve('aging', 'old')).toBeDefined();
    jwks.document = { keys: [] };
    clock.now += 121_000;
    expect(await keys.resolve('aging', 'old')).toBeUndefined();
    expect(jwks.requests).toBe(2);
  });

  it('gives up on a slow or invalid JWKS', async () => {
    await store.add({ id: 'slow', clientSecret: 's', jwksUrl: jwks.url });
    const errors: unknown[] = [];
    jwks.delayMs = 1_000;
    const keys = resolver({ fetchTimeoutMs: 100, onError: (_id, e) => errors.push(e) });
    expect(await keys.resolve('slow', 'k')).toBeUndefined();
    expect(errors).toHaveLength(1);
    jwks.delayMs = 0;
    jwks.document = 'not json';
    clock.now += 60_000;
    expect(await keys.resolve('slow', 'k')).toBeUndefined();
    expect(String(errors[1])).toMatch(/not JSON/);
    jwks.document = { keys: [] };
  });

  it('prefers a registered PEM key over the JWKS', async () => {
    const pem = ed25519();
    const other = ed25519();
    jwks.document = { keys: [{ ...publicJwk(other.publicKey), kid: 'same' }] };
    jwks.requests = 0;
    await store.add({ id: 'both', clientSecret: 's', jwksUrl: jwks.url, keys: [{ pem: pem.pem, kid: 'same' }] });
    const key: KeyObject | undefined = await resolver().resolve('both', 'same');
    expect(key?.export({ format: 'jwk' })).toEqual(pem.publicKey.export({ format: 'jwk' }));
    expect(jwks.requests).toBe(0);
  });
});
