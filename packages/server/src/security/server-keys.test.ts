import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { jwkThumbprint, signMessage, verifyMessage } from '@opendci/protocol';
import { beforeEach, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import {
  listServerKeys,
  openPrivateKey,
  rotateServerKey,
  sealPrivateKey,
  ServerKeyError,
  ServerKeys,
} from './server-keys.js';

describeBackends('server keys', (ctx) => {
  const db = () => ctx.database.db;
  beforeEach(async () => {
    await db().deleteFrom('server_key').execute();
  });

  async function stored() {
    return db().selectFrom('server_key').selectAll().orderBy('created_at').execute();
  }

  it('creates one active Ed25519 key on first start, kid = thumbprint, and reuses it', async () => {
    const keys = await ServerKeys.load(db());
    const active = keys.active();
    expect(active.algorithm).toBe('ed25519');
    expect(active.kid).toBe(jwkThumbprint(active.publicKey));
    expect(active.privateKey.type).toBe('private');
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.private_key.startsWith('plain:-----BEGIN PRIVATE KEY-----')).toBe(true);

    const again = await ServerKeys.load(db());
    expect(again.active().kid).toBe(active.kid);
    expect(await stored()).toHaveLength(1);

    const signature = signMessage(
      { header: { a: 1 } },
      { senderId: 'opendci', kid: active.kid, privateKey: active.privateKey },
    );
    expect(
      verifyMessage({ signature, header: { a: 1 } }, { resolveKey: (kid) => again.verificationKey(kid) }).kid,
    ).toBe(active.kid);
  });

  it('publishes the JWKS: use sig, kid, alg', async () => {
    const keys = await ServerKeys.load(db());
    const { kid } = keys.active();
    expect(keys.jwks()).toEqual({
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid, alg: 'EdDSA', use: 'sig' }],
    });
  });

  it('makes an RSA-2048 key on request', async () => {
    const keys = await ServerKeys.load(db(), { algorithm: 'rsa-sha256' });
    expect(keys.active().algorithm).toBe('rsa-sha256');
    expect(keys.active().publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keys.jwks().keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', e: 'AQAB' });
  });

  it('encrypts private keys under the KEK and refuses to load them without it', async () => {
    const kek = randomBytes(32);
    const keys = await ServerKeys.load(db(), { keyEncryptionKey: kek });
    const [row] = await stored();
    expect(row!.private_key).toMatch(/^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(row!.private_key).not.toContain('PRIVATE KEY');

    const reloaded = await ServerKeys.load(db(), { keyEncryptionKey: kek });
    expect(reloaded.active().kid).toBe(keys.active().kid);
    expect(reloaded.active().privateKey.export({ type: 'pkcs8', format: 'pem' })).toEqual(
      keys.active().privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );

    await expect(ServerKeys.load(db())).rejects.toThrow(/stored encrypted: set DCI_KEY_ENCRYPTION_KEY/);
    await expect(ServerKeys.load(db(), { keyEncryptionKey: randomBytes(32) })).rejects.toThrow(
      /DCI_KEY_ENCRYPTION_KEY does not decrypt server key/,
    );
    await expect(ServerKeys.load(db(), { keyEncryptionKey: randomBytes(16) })).rejects.toThrow(/must be 32 bytes/);
    await expect(rotateServerKey(db())).rejects.toBeInstanceOf(ServerKeyError);
    await expect(rotateServerKey(db(), { keyEncryptionKey: randomBytes(32) })).rejects.toBeInstanceOf(ServerKeyError);
    expect(await stored()).toHaveLength(1);
  });

  it('binds a ciphertext to its kid', () => {
    const kek = randomBytes(32);
    const { privateKey } = generateKeyPairSync('ed25519');
    const sealed = sealPrivateKey(privateKey, 'kid-a', kek);
    expect(openPrivateKey(sealed, 'kid-a', kek).type).toBe('private');
    expect(() => openPrivateKey(sealed, 'kid-b', kek)).toThrow(ServerKeyError);
  });

  it('encrypts keys stored in plain text once a KEK is given', async () => {
    const plain = await ServerKeys.load(db());
    const kek = randomBytes(32);
    const encrypted = await ServerKeys.load(db(), { keyEncryptionKey: kek });
    expect(encrypted.active().kid).toBe(plain.active().kid);
    expect((await stored())[0]!.private_key.startsWith('enc:v1:')).toBe(true);
  });

  it('rotates: the old key is retiring (published, accepted) during the overlap, retired after', async () => {
    const clock = { now: Date.now() };
    const keys = await ServerKeys.load(db(), { now: () => clock.now });
    const old = keys.active();
    const fresh = await keys.rotate({ overlapSeconds: 600 });
    expect(fresh.kid).not.toBe(old.kid);
    expect(keys.active().kid).toBe(fresh.kid);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([fresh.kid, old.kid]);
    expect(keys.verificationKey(old.kid)).toBeDefined();
    const listed = await keys.list();
    expect(listed.map((k) => [k.kid, k.status])).toEqual([
      [fresh.kid, 'active'],
      [old.kid, 'retiring'],
    ]);
    expect(listed[1]!.retireAfter!.getTime()).toBe(clock.now + 600_000);

    clock.now += 601_000;
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([fresh.kid]);
    expect(keys.verificationKey(old.kid)).toBeUndefined();
    expect((await keys.list()).map((k) => k.status)).toEqual(['active', 'retired']);
    // the next start writes the status down
    await ServerKeys.load(db(), { now: () => clock.now });
    expect((await stored()).map((r) => r.status)).toEqual(['retired', 'active']);
  });

  it('retires at once with an overlap of 0, and keeps the algorithm unless told', async () => {
    const keys = await ServerKeys.load(db(), { algorithm: 'rsa-sha256' });
    const old = keys.active();
    const info = await rotateServerKey(db(), { overlapSeconds: 0 });
    expect(info).toMatchObject({ status: 'active', algorithm: 'rsa-sha256', encrypted: false });
    await keys.refresh();
    expect(keys.active().kid).toBe(info.kid);
    expect(keys.verificationKey(old.kid)).toBeUndefined();
    expect((await listServerKeys(db())).map((k) => k.status)).toEqual(['active', 'retired']);
    await expect(rotateServerKey(db(), { overlapSeconds: -1 })).rejects.toThrow(/overlap/);
  });

  it('finds a key rotated by another node on an unknown kid, and refreshes the JWKS by interval', async () => {
    const clock = { now: Date.now() };
    const node1 = await ServerKeys.load(db(), { now: () => clock.now });
    const node2 = await ServerKeys.load(db(), { now: () => clock.now, refreshIntervalMs: 60_000 });
    const fresh = await node1.rotate();
    expect(node2.verificationKey(fresh.kid)).toBeUndefined();
    clock.now += 5_000;
    expect(await node2.findVerificationKey(fresh.kid)).toBeDefined();
    expect(await node2.findVerificationKey('never')).toBeUndefined();

    const node3 = await ServerKeys.load(db(), { now: () => clock.now, refreshIntervalMs: 60_000 });
    const third = await node1.rotate();
    await node3.maybeRefresh();
    expect(node3.jwks().keys.map((k) => k.kid)).not.toContain(third.kid);
    clock.now += 60_000;
    await node3.maybeRefresh();
    expect(node3.jwks().keys.map((k) => k.kid)).toContain(third.kid);
    expect(node3.active().kid).toBe(third.kid);
  });

  it('follows a rotation made elsewhere in the background', async () => {
    const node = await ServerKeys.load(db(), { refreshIntervalMs: 50 });
    const refreshing = node.startRefreshing();
    try {
      const info = await rotateServerKey(db());
      await expect.poll(() => node.active().kid, { timeout: 5_000, interval: 25 }).toBe(info.kid);
    } finally {
      refreshing.stop();
    }
  });

  it('ends a concurrent first start with one active key', async () => {
    const loaded = await Promise.all([1, 2, 3, 4].map(() => ServerKeys.load(db())));
    const kids = new Set(loaded.map((k) => k.active().kid));
    expect(kids.size).toBe(1);
    expect((await stored()).filter((r) => r.status === 'active')).toHaveLength(1);
  });
});
