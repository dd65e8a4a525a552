/**
 * `dci senders …`: the clients allowed to call this server (contract.md §1). Secrets are never
 * printed, except the new one of `rotate-secret` (once). Bad input exits with code 1 and a one-line
 * message.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { action, CliInputError, print, printJson, withStore } from './common.js';
import { SenderStore, type NewSenderKey, type Sender, type SenderFields, type SenderKey } from '@opendci/server';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliInputError(`cannot read the public key file ${file} (${reason})`);
  }
}

/** The options shared by `add` and `update`, as commander gives them. */
interface SenderOptions {
  name?: string;
  operations?: string;
  domains?: string;
  signaturePolicy?: string;
  publicKeyFile?: string;
  keyId?: string;
  jwksUrl?: string;
  callbackAllow?: string[];
  notifyUri?: string;
  fields?: string;
  legalBasis?: string;
  rateLimitPerMinute?: string;
}

function senderFields(options: SenderOptions): SenderFields {
  const fields: SenderFields = {};
  if (options.name !== undefined) fields.name = options.name;
  if (options.operations !== undefined) fields.operations = options.operations;
  if (options.domains !== undefined) fields.domains = options.domains;
  if (options.signaturePolicy !== undefined) fields.signaturePolicy = options.signaturePolicy;
  if (options.jwksUrl !== undefined) fields.jwksUrl = options.jwksUrl;
  if (options.callbackAllow !== undefined) fields.callbackAllow = options.callbackAllow;
  if (options.notifyUri !== undefined) fields.notifyUri = options.notifyUri;
  if (options.fields !== undefined) fields.fields = options.fields;
  if (options.legalBasis !== undefined) fields.legalBasis = options.legalBasis;
  if (options.rateLimitPerMinute !== undefined) {
    const value = options.rateLimitPerMinute.trim();
    if (value === '' || value === 'none') fields.rateLimitPerMinute = null;
    else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new CliInputError(`--rate-limit-per-minute must be a positive integer or none (got "${value}")`);
      }
      fields.rateLimitPerMinute = n;
    }
  }
  return fields;
}

function keyInput(options: SenderOptions): NewSenderKey[] {
  if (options.publicKeyFile === undefined) {
    if (options.keyId !== undefined) throw new CliInputError('--key-id needs --public-key-file');
    return [];
  }
  return [{ pem: readKeyFile(options.publicKeyFile), ...(options.keyId === undefined ? {} : { kid: options.keyId }) }];
}

function keyJson(key: SenderKey) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    source: key.source,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  };
}

function senderJson(sender: Sender, keys?: SenderKey[]) {
  return keys ? { ...sender, keys: keys.map(keyJson) } : sender;
}

function orDash(value: string | number | null): string {
  return value === null || value === '' ? '-' : String(value);
}

function describeSender(sender: Sender, keys: SenderKey[]): void {
  const rows: [string, string][] = [
    ['id', sender.id],
    ['name', orDash(sender.name)],
    ['active', sender.active ? 'yes' : 'no (disabled)'],
    ['operations', sender.operations.join(', ') || '(none)'],
    ['domains', sender.domains.join(', ') || '(none)'],
    ['signatures', sender.signaturePolicy],
    ['jwks url', orDash(sender.jwksUrl)],
    ['callbacks', sender.callbackAllow.length ? sender.callbackAllow.join(' ') : 'any URL (outbound rules apply)'],
    ['notify uri', orDash(sender.notifyUri)],
    ['fields', sender.fields ? sender.fields.join(', ') : 'all'],
    ['legal basis', sender.legalBasis],
    ['rate limit', sender.rateLimitPerMinute === null ? 'default' : `${sender.rateLimitPerMinute}/min`],
  ];
  for (const [label, value] of rows) print(`  ${label.padEnd(12)} ${value}`);
  if (keys.length === 0) print(`  ${'keys'.padEnd(12)} (none)`);
  keys.forEach((key, i) => {
    const state = key.revokedAt ? `, revoked ${key.revokedAt.toISOString()}` : '';
    print(`  ${(i === 0 ? 'keys' : '').padEnd(12)} ${key.kid} (${key.algorithm}, ${key.source}${state})`);
  });
}

export function registerSendersCommands(program: Command): void {
  const senders = program.command('senders').description('the clients (senders) allowed to call this server');

  senders
    .command('add')
    .description('register a sender')
    .requiredOption('--id <id>', 'sender id = OAuth2 client id = header.sender_id')
    .requiredOption('--client-secret <secret>', 'its OAuth2 client secret (stored hashed, never printed)')
    .option('--name <name>', 'display name')
    .option(
      '--operations <list>',
      'search,subscribe,unsubscribe,txn-status,verify,admin or all (default: all = all but admin)',
    )
    .option('--domains <list>', 'social,crvs,ibr,dr,fr or all (default: all)')
    .option('--signature-policy <policy>', 'required (default) or optional')
    .option('--public-key-file <pem>', "the sender's signing public key (SPKI PEM)")
    .option('--key-id <kid>', 'its key id (default: the RFC 7638 thumbprint)')
    .option('--jwks-url <url>', "the sender's JWKS URL (keys by kid)")
    .option(
      '--callback-allow <pattern>',
      'allowed sender_uri prefix, * = any port or path segment (repeatable)',
      collect,
    )
    .option('--notify-uri <url>', 'where notifications go (default: from the subscribe sender_uri)')
    .option('--fields <list>', 'record fields it may receive, or all (default)')
    .option('--legal-basis <basis>', 'statute (default), agreement or consent')
    .option('--rate-limit-per-minute <n>', 'requests per minute (default: the server default)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const keys = keyInput(options);
        const result = await withStore(async ({ db }) => {
          const store = new SenderStore(db);
          const sender = await store.add({
            id: options.id,
            clientSecret: options.clientSecret,
            ...senderFields(options),
            keys,
          });
          return { sender, keys: await store.keys(sender.id) };
        });
        if (options.json) return printJson(senderJson(result.sender, result.keys));
        print(`sender ${result.sender.id} added`);
        describeSender(result.sender, result.keys);
      }),
    );

  senders
    .command('list')
    .description('list the senders')
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const list = await withStore(({ db }) => new SenderStore(db).list());
        if (options.json) return printJson(list);
        if (list.length === 0) return print('no senders (add one with `dci senders add`)');
        const width = Math.max(2, ...list.map((s) => s.id.length));
        print(`${'ID'.padEnd(width)}  ACTIVE  SIGNATURES  OPERATIONS`);
        for (const s of list) {
          print(
            `${s.id.padEnd(width)}  ${(s.active ? 'yes' : 'no').padEnd(6)}  ${s.signaturePolicy.padEnd(10)}  ${s.operations.join(',') || '-'}`,
          );
        }
      }),
    );

  senders
    .command('show')
    .description('show one sender and its keys')
    .argument('<id>', 'sender id')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const result = await withStore(async ({ db }) => {
          const store = new SenderStore(db);
          const sender = await store.require(id);
          return { sender, keys: await store.keys(id) };
        });
        if (options.json) return printJson(senderJson(result.sender, result.keys));
        describeSender(result.sender, result.keys);
      }),
    );

  senders
    .command('update')
    .description('change a sender (only the options given); --callback-allow replaces the list, "" clears a value')
    .argument('<id>', 'sender id')
    .option('--client-secret <secret>', 'set a new client secret (never printed)')
    .option('--name <name>', 'display name')
    .option('--operations <list>', 'search,subscribe,unsubscribe,txn-status,verify,admin or all')
    .option('--domains <list>', 'social,crvs,ibr,dr,fr or all')
    .option('--signature-policy <policy>', 'required or optional')
    .option('--public-key-file <pem>', 'add a signing public key (SPKI PEM)')
    .option('--key-id <kid>', 'its key id (default: the RFC 7638 thumbprint)')
    .option('--jwks-url <url>', "the sender's JWKS URL")
    .option('--callback-allow <pattern>', 'allowed sender_uri prefix (repeatable; replaces the list)', collect)
    .option('--notify-uri <url>', 'where notifications go')
    .option('--fields <list>', 'record fields it may receive, or all')
    .option('--legal-basis <basis>', 'statute, agreement or consent')
    .option('--rate-limit-per-minute <n>', 'requests per minute, or none')
    .option('--enable', 'make a disabled sender active again')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const keys = keyInput(options);
        const result = await withStore(async ({ db }) => {
          const store = new SenderStore(db);
          const sender = await store.update(id, {
            ...senderFields(options),
            ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
            ...(options.enable ? { active: true } : {}),
            keys,
          });
          return { sender, keys: await store.keys(id) };
        });
        if (options.json) return printJson(senderJson(result.sender, result.keys));
        print(`sender ${result.sender.id} updated`);
        describeSender(result.sender, result.keys);
      }),
    );

  senders
    .command('disable')
    .description('disable a sender: its tokens stop working, it gets no new ones')
    .argument('<id>', 'sender id')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const sender = await withStore(({ db }) => new SenderStore(db).disable(id));
        if (options.json) return printJson(sender);
        print(`sender ${sender.id} disabled`);
      }),
    );

  senders
    .command('rotate-secret')
    .description('replace the client secret with a random one, printed once')
    .argument('<id>', 'sender id')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const secret = await withStore(({ db }) => new SenderStore(db).rotateSecret(id));
        if (options.json) return printJson({ id, clientSecret: secret });
        print(`new client secret of ${id} (shown once; the old one no longer works):`);
        print(secret);
      }),
    );

  senders
    .command('add-key')
    .description("register a sender's signing public key")
    .argument('<id>', 'sender id')
    .requiredOption('--public-key-file <pem>', 'the public key (SPKI PEM)')
    .option('--key-id <kid>', 'its key id (default: the RFC 7638 thumbprint)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const pem = readKeyFile(options.publicKeyFile);
        const key = await withStore(({ db }) => new SenderStore(db).addKey(id, pem, options.keyId));
        if (options.json) return printJson({ senderId: key.senderId, ...keyJson(key) });
        print(`key ${key.kid} (${key.algorithm}) registered for sender ${key.senderId}`);
      }),
    );
}
