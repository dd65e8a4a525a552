/**
 * `dci senders …` and `dci keys …` through the built binary, on a temporary embedded store.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwkThumbprint } from '@opendci/protocol';
import { runDci, type Run } from './test-support/run.js';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../server/src/store.js';
import { SenderStore } from '../../server/src/security/senders.js';

const work = mkdtempSync(join(tmpdir(), 'opendci-senders-'));
const env = { DATABASE_URL: `pglite:${join(work, 'store')}`, LOG_LEVEL: 'warn' };

function dci(...args: string[]): Promise<Run> {
  return runDci(args, env);
}

async function ok(...args: string[]): Promise<string> {
  const run = await dci(...args);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code, args.join(' ')).toBe(0);
  return run.stdout;
}

async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

/** Checks a secret against the store directly (the CLI has exited and released the data dir). */
async function secretWorks(id: string, secret: string): Promise<boolean> {
  const database = await openStore(env.DATABASE_URL);
  try {
    return await new SenderStore(database.db).verifySecret(id, secret);
  } finally {
    await database.close();
  }
}

function ed25519Pem(name: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const file = join(work, `${name}.pem`);
  writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
  const privateFile = join(work, `${name}-private.pem`);
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { file, privateFile, kid: jwkThumbprint(publicKey) };
}

describe('dci senders and dci keys', () => {
  it('adds the README example sender without echoing the secret', async () => {
    const run = await dci(
      'senders',
      'add',
      '--id',
      'test-client',
      '--client-secret',
      's3cret',
      '--signature-policy',
      'optional',
      '--callback-allow',
      'http://127.0.0.1:*',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sender test-client added/);
    expect(run.stdout).toMatch(/signatures\s+optional/);
    expect(run.stdout).toMatch(/callbacks\s+http:\/\/127\.0\.0\.1:\*/);
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    expect(await secretWorks('test-client', 's3cret')).toBe(true);
  }, 60_000);

  it('adds a sender with every option and a public key, and shows it', async () => {
    const key = ed25519Pem('spmis');
    const added = await json(
      'senders',
      'add',
      '--id',
      'spmis',
      '--client-secret',
      'hunter2',
      '--name',
      'SP-MIS',
      '--operations',
      'search,verify',
      '--domains',
      'social,crvs',
      '--public-key-file',
      key.file,
      '--jwks-url',
      'https://spmis.example.org/.well-known/jwks.json',
      '--callback-allow',
      'https://spmis.example.org/dci',
      '--callback-allow',
      'http://127.0.0.1:*',
      '--notify-uri',
      'https://spmis.example.org/dci/notify',
      '--fields',
      'given_name,surname',
      '--legal-basis',
      'agreement',
      '--rate-limit-per-minute',
      '120',
    );
    expect(added).toMatchObject({
      id: 'spmis',
      name: 'SP-MIS',
      active: true,
      operations: ['search', 'verify'],
      domains: ['social', 'crvs'],
      signaturePolicy: 'required',
      jwksUrl: 'https://spmis.example.org/.well-known/jwks.json',
      callbackAllow: ['https://spmis.example.org/dci', 'http://127.0.0.1:*'],
      notifyUri: 'https://spmis.example.org/dci/notify',
      fields: ['given_name', 'surname'],
      legalBasis: 'agreement',
      rateLimitPerMinute: 120,
      keys: [{ kid: key.kid, algorithm: 'ed25519', source: 'pem', revokedAt: null }],
    });
    expect(JSON.stringify(added)).not.toContain('hunter2');
    expect(JSON.stringify(added)).not.toContain('scrypt');

    const shown = await json('senders', 'show', 'spmis');
    expect(shown).toEqual(added);
    const text = await ok('senders', 'show', 'spmis');
    expect(text).toMatch(/operations\s+search, verify/);
    expect(text).toContain(`${key.kid} (ed25519, pem)`);
  }, 60_000);

  it('lists the senders', async () => {
    const list = await json<{ id: string; active: boolean }[]>('senders', 'list');
    expect(list.map((s) => s.id)).toEqual(['spmis', 'test-client']);
    expect(await ok('senders', 'list')).toMatch(
      /^ID\s+ACTIVE\s+SIGNATURES\s+OPERATIONS\nspmis\s+yes\s+required\s+search,verify\n/,
    );
  }, 60_000);

  it('updates only the options given', async () => {
    const updated = await json(
      'senders',
      'update',
      'test-client',
      '--operations',
      'all,admin',
      '--notify-uri',
      'http://127.0.0.1:9000/notify',
      '--name',
      'Test',
    );
    expect(updated).toMatchObject({
      operations: ['search', 'subscribe', 'unsubscribe', 'txn-status', 'verify', 'admin'],
      notifyUri: 'http://127.0.0.1:9000/notify',
      name: 'Test',
      signaturePolicy: 'optional',
      callbackAllow: ['http://127.0.0.1:*'],
      version: 2,
    });
    const cleared = await json('senders', 'update', 'test-client', '--notify-uri', '', '--client-secret', 'n3w');
    expect(cleared).toMatchObject({ notifyUri: null, name: 'Test', version: 3 });
    expect(await secretWorks('test-client', 'n3w')).toBe(true);
    expect(await ok('senders', 'update', 'test-client', '--fields', 'all')).toMatch(/^sender test-client updated/);
  }, 60_000);

  it('registers keys with add-key: thumbprint by default, or the given kid', async () => {
    const a = ed25519Pem('a');
    expect(await ok('senders', 'add-key', 'test-client', '--public-key-file', a.file)).toBe(
      `key ${a.kid} (ed25519) registered for sender test-client\n`,
    );
    const b = ed25519Pem('b');
    expect(
      await json('senders', 'add-key', 'test-client', '--public-key-file', b.file, '--key-id', 'key-2'),
    ).toMatchObject({ senderId: 'test-client', kid: 'key-2', algorithm: 'ed25519' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const rsaFile = join(work, 'rsa.pem');
    writeFileSync(rsaFile, rsa.export({ type: 'spki', format: 'pem' }));
    expect(await json('senders', 'add-key', 'test-client', '--public-key-file', rsaFile)).toMatchObject({
      kid: jwkThumbprint(rsa),
      algorithm: 'rsa-sha256',
    });
    const shown = await json<{ keys: { kid: string }[] }>('senders', 'show', 'test-client');
    expect(shown.keys.map((k) => k.kid).sort()).toEqual([a.kid, 'key-2', jwkThumbprint(rsa)].sort());
  }, 60_000);

  it('rotates the secret, printing the new one once', async () => {
    const text = await ok('senders', 'rotate-secret', 'test-client');
    const [, secret] = /\n([A-Za-z0-9_-]{43})\n$/.exec(text) ?? [];
    expect(secret).toBeDefined();
    expect(await secretWorks('test-client', secret!)).toBe(true);
    expect(await secretWorks('test-client', 'n3w')).toBe(false);
    const rotated = await json<{ id: string; clientSecret: string }>('senders', 'rotate-secret', 'test-client');
    expect(rotated.id).toBe('test-client');
    expect(await secretWorks('test-client', rotated.clientSecret)).toBe(true);
    expect(await ok('senders', 'show', 'test-client')).not.toContain(rotated.clientSecret);
  }, 60_000);

  it('disables a sender, and --enable brings it back', async () => {
    expect(await ok('senders', 'disable', 'spmis')).toBe('sender spmis disabled\n');
    expect((await json('senders', 'show', 'spmis')).active).toBe(false);
    expect((await json('senders', 'update', 'spmis', '--enable')).active).toBe(true);
    expect((await json('senders', 'disable', 'spmis')).active).toBe(false);
  }, 60_000);

  it('lists and rotates the server keys', async () => {
    expect(await json<unknown[]>('keys', 'list')).toEqual([]);
    expect(await ok('keys', 'list')).toMatch(/no signing keys yet/);
    const first = await dci('keys', 'rotate');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/warning: DCI_KEY_ENCRYPTION_KEY is not set/);
    const [, firstKid] = /new active key (\S+) \(ed25519\)/.exec(first.stdout) ?? [];
    expect(firstKid).toBeDefined();

    const second = await json<{
      active: { kid: string; status: string };
      retiring: { kid: string; retireAfter: string }[];
    }>('keys', 'rotate', '--overlap-seconds', '3600');
    expect(second.active.status).toBe('active');
    expect(second.retiring.map((k) => k.kid)).toEqual([firstKid]);
    expect(Date.parse(second.retiring[0]!.retireAfter) - Date.now()).toBeGreaterThan(3500_000);

    const listed = await json<{ kid: string; status: string; jwk: { kid: string; alg: string; use: string } }[]>(
      'keys',
      'list',
    );
    expect(listed.map((k) => [k.kid, k.status])).toEqual([
      [second.active.kid, 'active'],
      [firstKid, 'retiring'],
    ]);
    expect(listed[0]!.jwk).toMatchObject({ kid: second.active.kid, alg: 'EdDSA', use: 'sig' });
    expect(JSON.stringify(listed)).not.toMatch(/PRIVATE|"d":/);
    expect(await ok('keys', 'list')).toMatch(new RegExp(`${firstKid}\\s+ed25519\\s+retiring`));
  }, 60_000);

  it('answers bad input with one line and exit code 1', async () => {
    const key = ed25519Pem('bad');
    const cases: [string[], RegExp][] = [
      [
        ['senders', 'add', '--id', 'x', '--client-secret', 's', '--operations', 'search,teleport'],
        /^dci: unknown operation "teleport" \(known: search, subscribe, unsubscribe, txn-status, verify, admin, or all\)\n$/,
      ],
      [['senders', 'add', '--id', 'x', '--client-secret', 's', '--domains', 'mars'], /^dci: unknown domain "mars"/],
      [['senders', 'add', '--id', 'bad id', '--client-secret', 's'], /^dci: sender id must be/],
      [
        ['senders', 'add', '--id', 'x', '--client-secret', 's', '--signature-policy', 'maybe'],
        /^dci: signature policy/,
      ],
      [
        ['senders', 'add', '--id', 'x', '--client-secret', 's', '--callback-allow', 'ftp://x'],
        /^dci: invalid callback-allow/,
      ],
      [['senders', 'add', '--id', 'x', '--client-secret', 's', '--notify-uri', 'nope'], /^dci: notify URI must be/],
      [
        ['senders', 'add', '--id', 'x', '--client-secret', 's', '--rate-limit-per-minute', 'lots'],
        /^dci: --rate-limit/,
      ],
      [
        ['senders', 'add', '--id', 'x', '--client-secret', 's', '--key-id', 'k'],
        /^dci: --key-id needs --public-key-file/,
      ],
      [['senders', 'add', '--id', 'test-client', '--client-secret', 's'], /^dci: sender "test-client" already exists/],
      [['senders', 'add-key', 'test-client', '--public-key-file', key.privateFile], /^dci: this is a private key/],
      [
        ['senders', 'add-key', 'test-client', '--public-key-file', join(work, 'missing.pem')],
        /^dci: cannot read the public key file .*ENOENT/,
      ],
      [['senders', 'add-key', 'nobody', '--public-key-file', key.file], /^dci: no sender "nobody"/],
      [['senders', 'show', 'nobody'], /^dci: no sender "nobody"/],
      [['senders', 'update', 'nobody', '--name', 'x'], /^dci: no sender "nobody"/],
      [['senders', 'disable', 'nobody'], /^dci: no sender "nobody"/],
      [['senders', 'rotate-secret', 'nobody'], /^dci: no sender "nobody"/],
      [['keys', 'rotate', '--algorithm', 'dsa'], /^dci: --algorithm must be ed25519 or rsa-sha256/],
    ];
    for (const [args, message] of cases) {
      const run = await dci(...args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stdout, args.join(' ')).toBe('');
    }
    expect((await json<{ id: string }[]>('senders', 'list')).map((s) => s.id)).toEqual(['spmis', 'test-client']);
  }, 120_000);
});
