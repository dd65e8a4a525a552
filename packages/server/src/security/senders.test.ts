import { generateKeyPairSync } from 'node:crypto';
import { jwkThumbprint } from '@opendci/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import {
  callbackAllowed,
  checkCallbackPattern,
  matchesCallbackPattern,
  parsePublicKeyPem,
  SenderError,
  SenderStore,
  type NewSender,
} from './senders.js';

function ed25519Pem() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('callback-allow patterns', () => {
  it.each([
    ['http://127.0.0.1:8080/cb/on-search', 'http://127.0.0.1:*', true],
    ['http://127.0.0.1/on-search', 'http://127.0.0.1:*', true],
    ['https://127.0.0.1:8080/x', 'http://127.0.0.1:*', false],
    ['http://127.0.0.2:8080/x', 'http://127.0.0.1:*', false],
    ['http://127.0.0.1.evil.org/x', 'http://127.0.0.1:*', false],
    ['http://127.0.0.1:80@evil.org/x', 'http://127.0.0.1:*', false],
    ['https://spmis.example.org/dci/on-search', 'https://spmis.example.org/dci', true],
    ['https://spmis.example.org/dci', 'https://spmis.example.org/dci/', true],
    ['https://spmis.example.org/dcix/on-search', 'https://spmis.example.org/dci', false],
    ['https://spmis.example.org:8443/dci/on-search', 'https://spmis.example.org/dci', false],
    ['https://spmis.example.org:443/dci/on-search', 'https://spmis.example.org/dci', true],
    ['https://SPMIS.example.org/dci/on-search', 'https://spmis.example.org', true],
    ['https://spmis.example.org/a/dci/on-search', 'https://spmis.example.org/*/dci', true],
    ['https://spmis.example.org/a/b/on-search', 'https://spmis.example.org/*/dci', false],
    ['https://spmis.example.org/dci/../admin', 'https://spmis.example.org/dci', false],
    ['http://[::1]:9000/cb', 'http://[::1]:*', true],
    ['not a url', 'http://127.0.0.1:*', false],
  ])('%s against %s → %s', (url, pattern, expected) => {
    expect(matchesCallbackPattern(url, pattern)).toBe(expected);
  });

  it('refuses malformed patterns', () => {
    for (const bad of ['127.0.0.1:*', 'ftp://a.org', 'http://*.a.org', 'http://a.org:99999', 'http://a.org/x*', '*']) {
      expect(() => checkCallbackPattern(bad), bad).toThrow(SenderError);
    }
    expect(checkCallbackPattern(' http://127.0.0.1:* ')).toBe('http://127.0.0.1:*');
  });

  it('allows any URL when the list is empty', () => {
    expect(callbackAllowed({ callbackAllow: [] }, 'https://x.org/cb')).toBe(true);
    expect(callbackAllowed({ callbackAllow: ['https://y.org'] }, 'https://x.org/cb')).toBe(false);
  });
});

describe('public keys', () => {
  it('derives the algorithm and the thumbprint', () => {
    const { pem, publicKey } = ed25519Pem();
    expect(parsePublicKeyPem(pem)).toMatchObject({ algorithm: 'ed25519', thumbprint: jwkThumbprint(publicKey) });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(parsePublicKeyPem(rsa.toString()).algorithm).toBe('rsa-sha256');
  });

  it('refuses private keys, other key types, small RSA keys and garbage', () => {
    expect(() => parsePublicKeyPem(ed25519Pem().privatePem)).toThrow(/private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(() => parsePublicKeyPem(ec.toString())).toThrow(/unsupported key type ec/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(() => parsePublicKeyPem(small.toString())).toThrow(/at least 2048 bits/);
    expect(() => parsePublicKeyPem('hello')).toThrow(/not a PEM public key/);
  });
});

describeBackends('sender store', (ctx) => {
  let store: SenderStore;
  beforeAll(() => {
    store = new SenderStore(ctx.database.db);
  });

  it('adds a sender with the contract defaults and never stores the secret', async () => {
    const sender = await store.add({ id: 'defaults', clientSecret: 's3cret' });
    expect(sender).toMatchObject({
      id: 'defaults',
      name: null,
      active: true,
      operations: ['search', 'subscribe', 'unsubscribe', 'txn-status', 'verify'],
      domains: ['social', 'crvs', 'ibr', 'dr', 'fr'],
      signaturePolicy: 'required',
      jwksUrl: null,
      callbackAllow: [],
      notifyUri: null,
      fields: null,
      legalBasis: 'statute',
      rateLimitPerMinute: null,
      version: 1,
    });
    expect(await store.get('defaults')).toEqual(sender);
    const row = await ctx.database.db
      .selectFrom('sender')
      .select('client_secret_hash')
      .where('id', '=', 'defaults')
      .executeTakeFirstOrThrow();
    expect(row.client_secret_hash).toMatch(/^\$scrypt\$/);
    expect(await store.verifySecret('defaults', 's3cret')).toBe(true);
    expect(await store.verifySecret('defaults', 'S3cret')).toBe(false);
  });

  it('takes every field, as lists or comma strings', async () => {
    const sender = await store.add({
      id: 'spmis.example:1',
      clientSecret: 'x',
      name: 'SP-MIS',
      operations: 'search, verify,admin',
      domains: ['crvs', 'social'],
      signaturePolicy: 'optional',
      jwksUrl: 'https://spmis.example.org/.well-known/jwks.json',
      callbackAllow: ['http://127.0.0.1:*', 'https://spmis.example.org/dci'],
      notifyUri: 'https://spmis.example.org/dci/notify',
      fields: 'given_name,surname,given_name',
      legalBasis: 'agreement',
      rateLimitPerMinute: 600,
    });
    expect(sender).toMatchObject({
      name: 'SP-MIS',
      operations: ['search', 'verify', 'admin'],
      domains: ['social', 'crvs'],
      signaturePolicy: 'optional',
      callbackAllow: ['http://127.0.0.1:*', 'https://spmis.example.org/dci'],
      fields: ['given_name', 'surname'],
      legalBasis: 'agreement',
      rateLimitPerMinute: 600,
    });
    expect((await store.add({ id: 'everything', clientSecret: 'x', operations: 'all,admin' })).operations).toEqual([
      'search',
      'subscribe',
      'unsubscribe',
      'txn-status',
      'verify',
      'admin',
    ]);
  });

  it('refuses bad input with clear messages', async () => {
    const cases: [Partial<NewSender>, RegExp][] = [
      [{ id: 'bad id' }, /sender id must be/],
      [{ id: 'a|b' }, /sender id must be/],
      [{ id: 'x'.repeat(201) }, /sender id must be/],
      [{ clientSecret: '' }, /client secret must not be empty/],
      [{ operations: 'search,teleport' }, /unknown operation "teleport" \(known: search, subscribe/],
      [{ domains: 'social,mars' }, /unknown domain "mars"/],
      [{ signaturePolicy: 'sometimes' }, /signature policy must be required or optional/],
      [{ legalBasis: 'whim' }, /legal basis must be statute or agreement or consent/],
      [{ callbackAllow: ['ftp://x'] }, /invalid callback-allow pattern "ftp:\/\/x"/],
      [{ notifyUri: '/relative' }, /notify URI must be an absolute http\(s\) URL/],
      [{ notifyUri: 'mailto:a@b.org' }, /notify URI must be an http\(s\) URL/],
      [{ jwksUrl: 'nope' }, /JWKS URL must be an absolute/],
      [{ fields: 'all,given_name' }, /"all" cannot be combined/],
      [{ rateLimitPerMinute: 0 }, /rate limit must be a positive integer/],
    ];
    for (const [input, message] of cases) {
      const error = await store.add({ id: 'valid-id', clientSecret: 's', ...input }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(input)).toBeInstanceOf(SenderError);
      expect((error as SenderError).kind).toBe('invalid');
      expect((error as Error).message).toMatch(message);
    }
    expect(await store.get('valid-id')).toBeUndefined();
  });

  it('refuses a duplicate id', async () => {
    await store.add({ id: 'dup', clientSecret: 'a' });
    await expect(store.add({ id: 'dup', clientSecret: 'b' })).rejects.toMatchObject({
      kind: 'exists',
      message: 'sender "dup" already exists',
    });
    expect(await store.verifySecret('dup', 'a')).toBe(true);
  });

  it('updates the given fields only, and bumps the version', async () => {
    await store.add({ id: 'upd', clientSecret: 'a', notifyUri: 'https://a.org/notify', name: 'A' });
    const updated = await store.update('upd', { operations: 'search', signaturePolicy: 'optional', notifyUri: '' });
    expect(updated).toMatchObject({
      name: 'A',
      operations: ['search'],
      signaturePolicy: 'optional',
      notifyUri: null,
      domains: ['social', 'crvs', 'ibr', 'dr', 'fr'],
      version: 2,
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(updated.createdAt.getTime());
    await store.update('upd', { clientSecret: 'b', fields: 'all' });
    expect(await store.verifySecret('upd', 'a')).toBe(false);
    expect(await store.verifySecret('upd', 'b')).toBe(true);
    await expect(store.update('nobody', { name: 'x' })).rejects.toMatchObject({ kind: 'not_found' });
    await expect(store.update('upd', { domains: 'moon' })).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('disables and re-enables a sender', async () => {
    await store.add({ id: 'dis', clientSecret: 'a' });
    expect((await store.disable('dis')).active).toBe(false);
    // the secret still checks: whether an inactive sender may do anything is the caller's decision
    expect((await store.authenticate('dis', 'a'))?.active).toBe(false);
    expect((await store.update('dis', { active: true })).active).toBe(true);
    await expect(store.disable('nobody')).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('rotates the secret and returns the new one once', async () => {
    await store.add({ id: 'rot', clientSecret: 'old' });
    const secret = await store.rotateSecret('rot');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.verifySecret('rot', 'old')).toBe(false);
    expect(await store.verifySecret('rot', secret)).toBe(true);
    await expect(store.rotateSecret('nobody')).rejects.toMatchObject({ kind: 'not_found' });
  });

  it('authenticates nobody for an unknown or malformed id', async () => {
    expect(await store.authenticate('nobody', 'x')).toBeUndefined();
    expect(await store.authenticate('bad id', 'x')).toBeUndefined();
    expect(await store.verifySecret('nobody', 'x')).toBe(false);
  });

  it('lists senders by id', async () => {
    const ids = (await store.list()).map((s) => s.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toContain('defaults');
  });

  it('registers keys: thumbprint kid by default, algorithm from the key, idempotent', async () => {
    await store.add({ id: 'keys', clientSecret: 'a' });
    const ed = ed25519Pem();
    const key = await store.addKey('keys', ed.pem);
    expect(key).toMatchObject({
      senderId: 'keys',
      kid: jwkThumbprint(ed.publicKey),
      algorithm: 'ed25519',
      source: 'pem',
    });
    expect(key.publicKeyPem).toBe(ed.pem);
    expect((await store.addKey('keys', ed.pem)).kid).toBe(key.kid);

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(await store.addKey('keys', rsa.toString(), 'rsa-1')).toMatchObject({
      kid: 'rsa-1',
      algorithm: 'rsa-sha256',
    });
    await expect(store.addKey('keys', ed25519Pem().pem, 'rsa-1')).rejects.toMatchObject({
      kind: 'exists',
      message: 'sender "keys" already has another key with id "rsa-1"',
    });
    await expect(store.addKey('keys', ed.pem, 'a|b')).rejects.toThrow(/key id must be/);
    await expect(store.addKey('keys', ed.privatePem)).rejects.toThrow(/private key/);
    await expect(store.addKey('nobody', ed.pem)).rejects.toMatchObject({ kind: 'not_found' });
    expect((await store.keys('keys')).map((k) => k.kid).sort()).toEqual([key.kid, 'rsa-1'].sort());

    const revoked = await store.revokeKey('keys', 'rsa-1');
    expect(revoked.revokedAt).toBeInstanceOf(Date);
  });

  it('adds a sender and its keys in one transaction', async () => {
    const ed = ed25519Pem();
    await store.add({ id: 'with-key', clientSecret: 'a', keys: [{ pem: ed.pem, kid: 'k1' }] });
    expect((await store.keys('with-key')).map((k) => k.kid)).toEqual(['k1']);
    await expect(store.add({ id: 'bad-key', clientSecret: 'a', keys: [{ pem: 'junk' }] })).rejects.toThrow(
      /not a PEM public key/,
    );
    expect(await store.get('bad-key')).toBeUndefined();
    await expect(
      store.add({
        id: 'two-keys',
        clientSecret: 'a',
        keys: [
          { pem: ed.pem, kid: 'same' },
          { pem: ed25519Pem().pem, kid: 'same' },
        ],
      }),
    ).rejects.toMatchObject({ kind: 'exists' });
    expect(await store.get('two-keys')).toBeUndefined();
  });
});
