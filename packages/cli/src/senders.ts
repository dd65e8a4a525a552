/**
 * `dci senders …`: the clients allowed to call this server (contract.md §1). Secrets are never
 * printed, except the new one of `rotate-secret` (once): not the client secret, not the callback
 * token or callback client secret (shown as their kind, token URL and client id only). Bad input
 * exits with code 1 and a one-line message.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { action, CliInputError, print, printJson, withStore } from './common.js';
import {
  loadConfig,
  SenderStore,
  type CallbackCredentials,
  type NewSenderKey,
  type Sender,
  type SenderFields,
  type SenderKey,
} from '@opendci/server';

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
  callbackToken?: string;
  callbackTokenUrl?: string;
  callbackClientId?: string;
  callbackClientSecret?: string;
  /** `--callback-auth KIND` (a string), or false for `--no-callback-auth`. */
  callbackAuth?: string | boolean;
}

/**
 * The callback auth the flags ask for: credentials, null to clear (`--no-callback-auth`,
 * `--callback-auth none`), or undefined when no callback-auth flag is given.
 */
function callbackAuthInput(options: SenderOptions): CallbackCredentials | null | undefined {
  const { callbackToken: token, callbackTokenUrl: tokenUrl, callbackClientId: clientId } = options;
  const clientSecret = options.callbackClientSecret;
  const oauth = {
    '--callback-token-url': tokenUrl,
    '--callback-client-id': clientId,
    '--callback-client-secret': clientSecret,
  };
  const oauthGiven = Object.values(oauth).some((v) => v !== undefined);
  let kind: string | undefined;
  if (options.callbackAuth === false) kind = 'none';
  else if (typeof options.callbackAuth === 'string') {
    kind = options.callbackAuth.trim().toLowerCase();
    if (!['none', 'bearer', 'oauth2'].includes(kind)) {
      throw new CliInputError(`--callback-auth must be none, bearer or oauth2 (got "${options.callbackAuth}")`);
    }
  }
  if (kind === 'none') {
    if (token !== undefined || oauthGiven) {
      throw new CliInputError(
        '--no-callback-auth (--callback-auth none) cannot be combined with other callback-auth flags',
      );
    }
    return null;
  }
  if (token !== undefined && oauthGiven) {
    throw new CliInputError(
      'give either --callback-token or --callback-token-url with --callback-client-id and --callback-client-secret, not both',
    );
  }
  if (token !== undefined) {
    if (kind === 'oauth2')
      throw new CliInputError('--callback-auth oauth2 takes --callback-token-url, not --callback-token');
    if (token.trim() === '') {
      throw new CliInputError('--callback-token must not be empty (--no-callback-auth clears the callback auth)');
    }
    return { kind: 'bearer', token };
  }
  if (oauthGiven || kind === 'oauth2') {
    if (kind === 'bearer') throw new CliInputError('--callback-auth bearer takes --callback-token');
    const missing = Object.entries(oauth)
      .filter(([, v]) => v === undefined || v.trim() === '')
      .map(([flag]) => flag);
    if (missing.length) throw new CliInputError(`OAuth2 callback auth needs ${missing.join(', ')}`);
    return { kind: 'oauth2', tokenUrl: tokenUrl!, clientId: clientId!, clientSecret: clientSecret! };
  }
  if (kind === 'bearer') throw new CliInputError('--callback-auth bearer needs --callback-token');
  return undefined;
}

/** The key-encryption key sealing callback secrets; warns when a secret is stored without one. */
function keyEncryptionKey(auth: CallbackCredentials | null | undefined): Buffer | undefined {
  const { keyEncryptionKey: kek } = loadConfig(process.env);
  if (auth && !kek) {
    process.stderr.write(
      'dci: warning: DCI_KEY_ENCRYPTION_KEY is not set: the callback secret is stored unencrypted\n',
    );
  }
  return kek;
}

function senderFields(options: SenderOptions): SenderFields {
  const fields: SenderFields = {};
  const callbackAuth = callbackAuthInput(options);
  if (callbackAuth !== undefined) fields.callbackAuth = callbackAuth;
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

function describeCallbackAuth(sender: Sender): string {
  const auth = sender.callbackAuth;
  if (!auth) return 'none';
  const stored = auth.encrypted ? 'stored encrypted' : 'stored unencrypted';
  if (auth.kind === 'bearer') return `bearer token (${stored})`;
  return `oauth2 client credentials, client id ${auth.clientId} at ${auth.tokenUrl} (secret ${stored})`;
}

const LABEL_WIDTH = 13;

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
    ['callback auth', describeCallbackAuth(sender)],
    ['fields', sender.fields ? sender.fields.join(', ') : 'all'],
    ['legal basis', sender.legalBasis],
    ['rate limit', sender.rateLimitPerMinute === null ? 'default' : `${sender.rateLimitPerMinute}/min`],
  ];
  for (const [label, value] of rows) print(`  ${label.padEnd(LABEL_WIDTH)} ${value}`);
  if (keys.length === 0) print(`  ${'keys'.padEnd(LABEL_WIDTH)} (none)`);
  keys.forEach((key, i) => {
    const state = key.revokedAt ? `, revoked ${key.revokedAt.toISOString()}` : '';
    print(`  ${(i === 0 ? 'keys' : '').padEnd(LABEL_WIDTH)} ${key.kid} (${key.algorithm}, ${key.source}${state})`);
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
    .option('--callback-token <token>', "static bearer token for the sender's callback endpoints (never printed)")
    .option('--callback-token-url <url>', "the sender's OAuth2 token endpoint for callbacks (client credentials)")
    .option('--callback-client-id <id>', 'client id at that token endpoint')
    .option('--callback-client-secret <secret>', 'client secret at that token endpoint (never printed)')
    .option('--callback-auth <kind>', 'none (no Authorization on callbacks, the default), bearer or oauth2')
    .option('--no-callback-auth', 'same as --callback-auth none')
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const keys = keyInput(options);
        const fields = senderFields(options);
        const kek = keyEncryptionKey(fields.callbackAuth);
        const result = await withStore(async ({ db }) => {
          const store = new SenderStore(db, { keyEncryptionKey: kek });
          const sender = await store.add({
            id: options.id,
            clientSecret: options.clientSecret,
            ...fields,
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
    .option('--callback-token <token>', "set a static bearer token for the sender's callbacks (never printed)")
    .option('--callback-token-url <url>', "set OAuth2 callback auth: the sender's token endpoint")
    .option('--callback-client-id <id>', 'with --callback-token-url: the client id')
    .option('--callback-client-secret <secret>', 'with --callback-token-url: the client secret (never printed)')
    .option('--callback-auth <kind>', 'none clears the callback auth; bearer or oauth2 name the kind set')
    .option('--no-callback-auth', 'clear the callback auth')
    .option('--enable', 'make a disabled sender active again')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id, options) => {
        const keys = keyInput(options);
        const fields = senderFields(options);
        const kek = keyEncryptionKey(fields.callbackAuth);
        const result = await withStore(async ({ db }) => {
          const store = new SenderStore(db, { keyEncryptionKey: kek });
          const sender = await store.update(id, {
            ...fields,
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
