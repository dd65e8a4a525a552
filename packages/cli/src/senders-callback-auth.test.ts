/**
 * `dci senders add|update … --callback-token | --callback-token-url … | --no-callback-auth`
 * through the built binary: the callback secrets are stored encrypted under
 * DCI_KEY_ENCRYPTION_KEY and never printed, in text or JSON.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SenderStore } from '../../server/src/security/senders.js';
import { openStore } from '../../server/src/store.js';
import { runDci, type Run } from './test-support/run.js';

const work = mkdtempSync(join(tmpdir(), 'opendci-callback-auth-'));
const kek = randomBytes(32);
const env = {
  DATABASE_URL: `pglite:${join(work, 'store')}`,
  LOG_LEVEL: 'warn',
  DCI_KEY_ENCRYPTION_KEY: kek.toString('base64'),
};

const BEARER = 'cb-bearer-7Hq2ZxT0';
const CLIENT_SECRET = 'cb-client-secret-Kd93LmQ';
const TOKEN_URL = 'https://spmis.example.org/oauth2/token';

function dci(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return runDci(args, { ...env, ...extraEnv });
}

/** Runs a command that must succeed, and checks that no callback secret appears anywhere in its output. */
async function ok(...args: string[]): Promise<string> {
  const run = await dci(args);
  expect(run.stderr, args.join(' ')).toBe('');
  expect(run.code, args.join(' ')).toBe(0);
  expect(run.stdout).not.toContain(BEARER);
  expect(run.stdout).not.toContain(CLIENT_SECRET);
  return run.stdout;
}

/** What the store holds, read directly (the CLI has exited and released the data dir). */
async function stored(id: string) {
  const database = await openStore(env.DATABASE_URL);
  try {
    const row = await database.db
      .selectFrom('sender')
      .select('callback_auth')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const credentials = await new SenderStore(database.db, { keyEncryptionKey: kek }).callbackAuth(id);
    return { raw: JSON.stringify(row.callback_auth), credentials };
  } finally {
    await database.close();
  }
}

describe('dci senders: callback auth', () => {
  it('adds a sender with a static callback token, stored encrypted and never shown', async () => {
    const text = await ok('senders', 'add', '--id', 'spmis', '--client-secret', 's3cret', '--callback-token', BEARER);
    expect(text).toMatch(/^sender spmis added/);
    expect(text).toMatch(/callback auth\s+bearer token \(stored encrypted\)/);
    const shown = JSON.parse(await ok('senders', 'show', 'spmis', '--json')) as Record<string, unknown>;
    expect(shown.callbackAuth).toEqual({ kind: 'bearer', encrypted: true });

    const { raw, credentials } = await stored('spmis');
    expect(raw).not.toContain(BEARER);
    expect(raw).toMatch(/"token":"enc:v1:/);
    expect(credentials).toEqual({ kind: 'bearer', token: BEARER });
  }, 90_000);

  it('switches to OAuth2 client credentials: shows the token URL and client id, never the secret', async () => {
    const updated = JSON.parse(
      await ok(
        'senders',
        'update',
        'spmis',
        '--callback-token-url',
        TOKEN_URL,
        '--callback-client-id',
        'opendci-client',
        '--callback-client-secret',
        CLIENT_SECRET,
        '--json',
      ),
    ) as Record<string, unknown>;
    expect(updated.callbackAuth).toEqual({
      kind: 'oauth2',
      tokenUrl: TOKEN_URL,
      clientId: 'opendci-client',
      encrypted: true,
    });
    expect(await ok('senders', 'show', 'spmis')).toMatch(
      /callback auth\s+oauth2 client credentials, client id opendci-client at https:\/\/spmis\.example\.org\/oauth2\/token \(secret stored encrypted\)/,
    );
    const list = await ok('senders', 'list', '--json');
    expect(JSON.parse(list)).toMatchObject([
      { id: 'spmis', callbackAuth: { kind: 'oauth2', clientId: 'opendci-client' } },
    ]);
    await ok('senders', 'list');

    const { raw, credentials } = await stored('spmis');
    expect(raw).not.toContain(CLIENT_SECRET);
    expect(credentials).toEqual({
      kind: 'oauth2',
      tokenUrl: TOKEN_URL,
      clientId: 'opendci-client',
      clientSecret: CLIENT_SECRET,
    });
  }, 90_000);

  it('clears it with --no-callback-auth or --callback-auth none', async () => {
    const cleared = JSON.parse(await ok('senders', 'update', 'spmis', '--no-callback-auth', '--json')) as Record<
      string,
      unknown
    >;
    expect(cleared.callbackAuth).toBeNull();
    expect((await stored('spmis')).credentials).toBeNull();

    await ok('senders', 'update', 'spmis', '--callback-auth', 'bearer', '--callback-token', BEARER);
    expect(await ok('senders', 'update', 'spmis', '--callback-auth', 'none')).toMatch(/callback auth\s+none/);
  }, 90_000);

  it('warns when the secret is stored without DCI_KEY_ENCRYPTION_KEY', async () => {
    const run = await dci(['senders', 'add', '--id', 'plain', '--client-secret', 's', '--callback-token', BEARER], {
      DCI_KEY_ENCRYPTION_KEY: '',
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'dci: warning: DCI_KEY_ENCRYPTION_KEY is not set: the callback secret is stored unencrypted\n',
    );
    expect(run.stdout).toMatch(/callback auth\s+bearer token \(stored unencrypted\)/);
    expect(run.stdout + run.stderr).not.toContain(BEARER);
  }, 60_000);

  it('answers bad callback-auth flags with one line and exit code 1, echoing no secret', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--callback-token', BEARER, '--callback-token-url', TOKEN_URL],
        /^dci: give either --callback-token or --callback-token-url/,
      ],
      [
        ['--callback-token-url', TOKEN_URL, '--callback-client-secret', CLIENT_SECRET],
        /^dci: OAuth2 callback auth needs --callback-client-id\n$/,
      ],
      [
        ['--callback-client-id', 'c'],
        /^dci: OAuth2 callback auth needs --callback-token-url, --callback-client-secret\n$/,
      ],
      [
        ['--no-callback-auth', '--callback-token', BEARER],
        /^dci: --no-callback-auth \(--callback-auth none\) cannot be combined/,
      ],
      [['--callback-auth', 'basic'], /^dci: --callback-auth must be none, bearer or oauth2/],
      [['--callback-auth', 'bearer'], /^dci: --callback-auth bearer needs --callback-token/],
      [
        ['--callback-auth', 'oauth2', '--callback-token', BEARER],
        /^dci: --callback-auth oauth2 takes --callback-token-url/,
      ],
      [['--callback-token', ''], /^dci: --callback-token must not be empty/],
      [['--callback-token', 'has space'], /^dci: the callback token must be visible ASCII/],
      [
        [
          '--callback-token-url',
          'ftp://x.org/t',
          '--callback-client-id',
          'c',
          '--callback-client-secret',
          CLIENT_SECRET,
        ],
        /^dci: callback token URL must be an http\(s\) URL/,
      ],
    ];
    for (const [flags, message] of cases) {
      const args = ['senders', 'update', 'spmis', ...flags];
      const run = await dci(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr).not.toContain(BEARER);
      expect(run.stderr).not.toContain(CLIENT_SECRET);
    }
  }, 180_000);
});
