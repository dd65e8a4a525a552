/**
 * `dci keys list | rotate`: this server's signing keys (published in /.well-known/jwks.json).
 * Nothing here prints or needs the private keys, except that `rotate` checks that the configured
 * DCI_KEY_ENCRYPTION_KEY can read the keys already stored before it adds one.
 */
import type { Command } from '@commander-js/extra-typings';
import { listServerKeys, loadConfig, rotateServerKey, type ServerKeyInfo } from '@opendci/server';
import { action, CliInputError, print, printJson, withStore } from './common.js';

function keyJson(key: ServerKeyInfo) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    status: key.status,
    createdAt: key.createdAt,
    retireAfter: key.retireAfter,
    encrypted: key.encrypted,
    jwk: key.jwk,
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
      throw new CliInputError(`${name} must be a whole number of seconds, 0 or more (got "${value}")`);
    }
    return n;
  };
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("this server's signing keys (JWKS)");

  keys
    .command('list')
    .description('list the signing keys: active, retiring (still published) and retired')
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const list = await withStore(({ db }) => listServerKeys(db));
        if (options.json) return printJson(list.map(keyJson));
        if (list.length === 0) return print('no signing keys yet: the server creates one when it first starts');
        const width = Math.max(...list.map((k) => k.kid.length));
        print(`${'KID'.padEnd(width)}  ALGORITHM   STATUS    CREATED                   RETIRE AFTER`);
        for (const k of list) {
          print(
            `${k.kid.padEnd(width)}  ${k.algorithm.padEnd(10)}  ${k.status.padEnd(8)}  ${k.createdAt.toISOString().padEnd(24)}  ${k.retireAfter?.toISOString() ?? '-'}`,
          );
        }
      }),
    );

  keys
    .command('rotate')
    .description('make a new active key; the previous one stays published and accepted during the overlap')
    .option(
      '--overlap-seconds <n>',
      'how long the previous key stays valid (default 86400)',
      nonNegativeInt('--overlap-seconds'),
    )
    .option('--algorithm <algorithm>', 'ed25519 or rsa-sha256 (default: that of the current key)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const algorithm = options.algorithm;
        if (algorithm !== undefined && algorithm !== 'ed25519' && algorithm !== 'rsa-sha256') {
          throw new CliInputError(`--algorithm must be ed25519 or rsa-sha256 (got "${algorithm}")`);
        }
        const { keyEncryptionKey } = loadConfig(process.env);
        const result = await withStore(async ({ db }) => {
          const active = await rotateServerKey(db, {
            keyEncryptionKey,
            ...(algorithm === undefined ? {} : { algorithm }),
            ...(options.overlapSeconds === undefined ? {} : { overlapSeconds: options.overlapSeconds }),
          });
          return { active, all: await listServerKeys(db) };
        });
        const retiring = result.all.filter((k) => k.status === 'retiring');
        if (options.json) return printJson({ active: keyJson(result.active), retiring: retiring.map(keyJson) });
        if (!keyEncryptionKey) {
          process.stderr.write(
            'dci: warning: DCI_KEY_ENCRYPTION_KEY is not set: the private key is stored unencrypted\n',
          );
        }
        print(`new active key ${result.active.kid} (${result.active.algorithm})`);
        for (const k of retiring) print(`  ${k.kid} retiring until ${k.retireAfter?.toISOString() ?? '?'}`);
        print('a running server picks the new key up within a minute');
      }),
    );
}
