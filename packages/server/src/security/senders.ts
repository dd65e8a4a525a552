/**
 * The senders (clients) allowed to call this server, and their signing keys: tables `sender` and
 * `sender_key`. Every input is validated here, so the CLI and the admin API give the same answers.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwkThumbprint, type SignatureAlgorithm } from '@opendci/protocol';
import type { Kysely, Selectable } from 'kysely';
import { DOMAINS, type Domain } from '../config.js';
import { executePrepared } from '../db/prepared.js';
import type { DB, SenderKeyTable, SenderTable } from '../db/schema.js';
import { currentExecutor, runInTx } from '../db/tx.js';
import {
  generateSecret,
  hashSecret,
  isSealedEncrypted,
  openSecret,
  sealSecret,
  verifyAgainstDummy,
  verifySecret,
} from './secrets.js';

export const SENDER_OPERATIONS = ['search', 'subscribe', 'unsubscribe', 'txn-status', 'verify', 'admin'] as const;
export type SenderOperation = (typeof SENDER_OPERATIONS)[number];
/** What `all` means for operations: every one but `admin`. */
export const ALL_OPERATIONS: readonly SenderOperation[] = SENDER_OPERATIONS.filter((o) => o !== 'admin');

export const SIGNATURE_POLICIES = ['required', 'optional'] as const;
export type SignaturePolicy = (typeof SIGNATURE_POLICIES)[number];

export const LEGAL_BASES = ['statute', 'agreement', 'consent'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** Sender ids: letters, digits and `. _ : -`, 1 to 200 characters. */
export const SENDER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
/** Key ids: no `|`, quotes, backslashes, commas or whitespace (they travel inside `kidId`). */
const KID_PATTERN = /^[^|"\\\s,]{1,200}$/;
const MAX_SECRET_LENGTH = 1024;
const MIN_RSA_BITS = 2048;

/** A sender as the rest of the server sees it. */
export interface Sender {
  id: string;
  name: string | null;
  active: boolean;
  operations: SenderOperation[];
  domains: Domain[];
  signaturePolicy: SignaturePolicy;
  jwksUrl: string | null;
  /** URL prefix patterns for `sender_uri` (`*` = any port or path segment); empty = any URL. */
  callbackAllow: string[];
  notifyUri: string | null;
  /** The record fields this sender may receive; null = all. */
  fields: string[] | null;
  legalBasis: LegalBasis;
  rateLimitPerMinute: number | null;
  /** How this server authenticates to the sender's callback endpoints; never the secret itself. */
  callbackAuth: CallbackAuthInfo | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const CALLBACK_AUTH_KINDS = ['bearer', 'oauth2'] as const;
export type CallbackAuthKind = (typeof CALLBACK_AUTH_KINDS)[number];

/**
 * The credentials this server presents when it POSTs a callback (or notification) to the sender:
 * a static bearer token, or an OAuth2 client (client credentials grant, `client_secret_post`) of
 * the sender's token endpoint. Secrets in clear: what is given, and what delivery uses.
 */
export type CallbackCredentials =
  { kind: 'bearer'; token: string } | { kind: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: string };

/** What may be shown of a sender's callback auth: the kind, token URL and client id, never a secret. */
export type CallbackAuthInfo =
  { kind: 'bearer'; encrypted: boolean } | { kind: 'oauth2'; tokenUrl: string; clientId: string; encrypted: boolean };

/** Options of a SenderStore. */
export interface SenderStoreOptions {
  /** 32 bytes (`DCI_KEY_ENCRYPTION_KEY`): callback-auth secrets are stored encrypted under it. */
  keyEncryptionKey?: Buffer | undefined;
}

/** A public key registered for a sender (PEM), or fetched from its JWKS. */
export interface SenderKey {
  senderId: string;
  kid: string;
  algorithm: SignatureAlgorithm;
  source: 'pem' | 'jwks';
  publicKeyPem: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A list given as an array or as one comma-separated string. */
export type ListInput = string | readonly string[];

export interface NewSenderKey {
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or an X.509 certificate; never a private key. */
  pem: string;
  /** Default: the key's RFC 7638 thumbprint. */
  kid?: string;
}

/** Settable fields; `undefined` = default (add) or unchanged (update), `null` or `''` = none. */
export interface SenderFields {
  name?: string | null;
  /** Names from SENDER_OPERATIONS, or `all` (every one but admin). Default `all`. */
  operations?: ListInput;
  /** Names from DOMAINS, or `all`. Default `all`. */
  domains?: ListInput;
  /** `required` (default) or `optional`. */
  signaturePolicy?: string;
  jwksUrl?: string | null;
  callbackAllow?: readonly string[];
  notifyUri?: string | null;
  /** Field names, or `all` (= null, the default). */
  fields?: ListInput | null;
  /** `statute` (default), `agreement` or `consent`. */
  legalBasis?: string;
  rateLimitPerMinute?: number | null;
  /** Credentials for the sender's callback endpoints; `null` = none. */
  callbackAuth?: CallbackCredentials | null;
}

export interface NewSender extends SenderFields {
  id: string;
  clientSecret: string;
  /** Public keys registered with the sender, in the same transaction. */
  keys?: readonly NewSenderKey[];
}

export interface SenderPatch extends SenderFields {
  clientSecret?: string;
  active?: boolean;
  /** Public keys added to the sender, in the same transaction. */
  keys?: readonly NewSenderKey[];
}

/** `invalid` (bad input, 400), `not_found` (404) or `exists` (409). */
export type SenderErrorKind = 'invalid' | 'not_found' | 'exists';

/** An expected failure of a sender operation; its message is safe to show to the operator. */
export class SenderError extends Error {
  constructor(
    readonly kind: SenderErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SenderError';
  }
}

function invalid(message: string): SenderError {
  return new SenderError('invalid', message);
}

function notFound(id: string): SenderError {
  return new SenderError('not_found', `no sender "${id}"`);
}

// ---------------------------------------------------------------------------------------------
// Validation

function items(value: ListInput): string[] {
  const list = typeof value === 'string' ? value.split(',') : [...value];
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

function parseChoices<T extends string>(value: ListInput, known: readonly T[], all: readonly T[], what: string): T[] {
  const chosen = new Set<T>();
  for (const raw of items(value)) {
    const item = raw.toLowerCase();
    if (item === 'all') all.forEach((x) => chosen.add(x));
    else if ((known as readonly string[]).includes(item)) chosen.add(item as T);
    else throw invalid(`unknown ${what} "${raw}" (known: ${known.join(', ')}, or all)`);
  }
  return known.filter((x) => chosen.has(x));
}

export function parseOperations(value: ListInput): SenderOperation[] {
  return parseChoices(value, SENDER_OPERATIONS, ALL_OPERATIONS, 'operation');
}

export function parseDomains(value: ListInput): Domain[] {
  return parseChoices(value, DOMAINS, DOMAINS, 'domain');
}

function parseOne<T extends string>(value: string, known: readonly T[], what: string): T {
  const v = value.trim().toLowerCase();
  if (!(known as readonly string[]).includes(v))
    throw invalid(`${what} must be ${known.join(' or ')} (got "${value}")`);
  return v as T;
}

function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(`${what} must be an absolute http(s) URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${what} must be an http(s) URL (got "${value}")`);
  }
  if (url.username || url.password) throw invalid(`${what} must not carry credentials`);
  return url.toString();
}

function optionalUrl(value: string | null, what: string): string | null {
  if (value === null || value.trim() === '') return null;
  return httpUrl(value, what);
}

/** `null`/`all` = every field; otherwise a list of distinct field names. */
export function parseFields(value: ListInput | null): string[] | null {
  if (value === null) return null;
  const list = items(value);
  if (list.length === 1 && list[0]!.toLowerCase() === 'all') return null;
  for (const f of list) {
    if (f.toLowerCase() === 'all') throw invalid('fields: "all" cannot be combined with field names');
    if (f.length > 200 || /\s/.test(f)) throw invalid(`fields: invalid field name "${f}"`);
  }
  if (list.length === 0) throw invalid('fields: give field names, or all');
  return [...new Set(list)];
}

function parseName(value: string | null): string | null {
  if (value === null || value.trim() === '') return null;
  if (value.length > 500) throw invalid('name is longer than 500 characters');
  return value.trim();
}

function parseRateLimit(value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) {
    throw invalid(`rate limit must be a positive integer of requests per minute (got ${value})`);
  }
  return value;
}

function checkSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) throw invalid('the client secret must not be empty');
  if (secret.length > MAX_SECRET_LENGTH) throw invalid(`the client secret is longer than ${MAX_SECRET_LENGTH}`);
}

const MAX_CALLBACK_TOKEN_LENGTH = 4096;
const MAX_CLIENT_ID_LENGTH = 1024;
/** Visible ASCII: what an Authorization header value may carry. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const CONTROL = /[\x00-\x1f\x7f]/; // eslint-disable-line no-control-regex

/** Checks callback credentials; returns them normalised (URL as parsed) or throws SenderError. */
export function parseCallbackAuth(value: CallbackCredentials | null): CallbackCredentials | null {
  if (value === null) return null;
  if (typeof value !== 'object') throw invalid('callback auth must be bearer or oauth2');
  if (value.kind === 'bearer') {
    const token = value.token;
    if (typeof token !== 'string' || token === '') throw invalid('the callback token must not be empty');
    if (token.length > MAX_CALLBACK_TOKEN_LENGTH) {
      throw invalid(`the callback token is longer than ${MAX_CALLBACK_TOKEN_LENGTH} characters`);
    }
    if (!HEADER_SAFE.test(token)) throw invalid('the callback token must be visible ASCII without spaces');
    return { kind: 'bearer', token };
  }
  if (value.kind === 'oauth2') {
    if (typeof value.tokenUrl !== 'string' || value.tokenUrl.trim() === '') {
      throw invalid('callback auth oauth2 needs a token URL');
    }
    const tokenUrl = httpUrl(value.tokenUrl, 'callback token URL');
    const clientId = typeof value.clientId === 'string' ? value.clientId.trim() : '';
    if (clientId === '') throw invalid('callback auth oauth2 needs a client id');
    if (clientId.length > MAX_CLIENT_ID_LENGTH || CONTROL.test(clientId)) {
      throw invalid(
        `the callback client id must be 1 to ${MAX_CLIENT_ID_LENGTH} characters without control characters`,
      );
    }
    const clientSecret = value.clientSecret;
    if (typeof clientSecret !== 'string' || clientSecret === '') {
      throw invalid('callback auth oauth2 needs a client secret');
    }
    if (clientSecret.length > MAX_SECRET_LENGTH || CONTROL.test(clientSecret)) {
      throw invalid(
        `the callback client secret must be 1 to ${MAX_SECRET_LENGTH} characters without control characters`,
      );
    }
    return { kind: 'oauth2', tokenUrl, clientId, clientSecret };
  }
  throw invalid(`callback auth must be bearer or oauth2 (got "${String((value as { kind?: unknown }).kind)}")`);
}

/** The additional data a sealed callback secret is bound to: the sender and the field. */
function sealContext(senderId: string, field: 'token' | 'client_secret'): string {
  return `callback auth ${field} of sender ${senderId}`;
}

/** The stored form (`sender.callback_auth`) of checked credentials: secrets sealed. */
function sealCallbackAuth(
  senderId: string,
  auth: CallbackCredentials | null,
  kek: Buffer | undefined,
): Record<string, unknown> | null {
  if (auth === null) return null;
  if (auth.kind === 'bearer')
    return { kind: 'bearer', token: sealSecret(auth.token, sealContext(senderId, 'token'), kek) };
  return {
    kind: 'oauth2',
    token_url: auth.tokenUrl,
    client_id: auth.clientId,
    client_secret: sealSecret(auth.clientSecret, sealContext(senderId, 'client_secret'), kek),
  };
}

function storedString(stored: Record<string, unknown>, key: string): string {
  const value = stored[key];
  return typeof value === 'string' ? value : '';
}

/** What may be shown of a stored callback auth. */
function callbackAuthInfo(stored: Record<string, unknown> | null): CallbackAuthInfo | null {
  if (!stored || typeof stored !== 'object') return null;
  if (stored.kind === 'bearer') return { kind: 'bearer', encrypted: isSealedEncrypted(storedString(stored, 'token')) };
  if (stored.kind === 'oauth2') {
    return {
      kind: 'oauth2',
      tokenUrl: storedString(stored, 'token_url'),
      clientId: storedString(stored, 'client_id'),
      encrypted: isSealedEncrypted(storedString(stored, 'client_secret')),
    };
  }
  return null;
}

/**
 * The credentials of a stored callback auth, secrets opened with `kek`. Throws
 * SealedSecretError when they are stored encrypted and `kek` is missing or wrong.
 */
function openCallbackAuth(
  senderId: string,
  stored: Record<string, unknown> | null,
  kek: Buffer | undefined,
): CallbackCredentials | null {
  if (!stored || typeof stored !== 'object') return null;
  if (stored.kind === 'bearer') {
    return { kind: 'bearer', token: openSecret(storedString(stored, 'token'), sealContext(senderId, 'token'), kek) };
  }
  if (stored.kind === 'oauth2') {
    return {
      kind: 'oauth2',
      tokenUrl: storedString(stored, 'token_url'),
      clientId: storedString(stored, 'client_id'),
      clientSecret: openSecret(storedString(stored, 'client_secret'), sealContext(senderId, 'client_secret'), kek),
    };
  }
  return null;
}

export function checkSenderId(id: string): void {
  if (typeof id !== 'string' || !SENDER_ID_PATTERN.test(id)) {
    throw invalid(`sender id must be 1 to 200 letters, digits or . _ : - (got "${String(id)}")`);
  }
}

// ---------------------------------------------------------------------------------------------
// Callback-allow patterns

interface CallbackPattern {
  protocol: 'http:' | 'https:';
  host: string;
  /** `*`, a port number, or undefined for the scheme's default port. */
  port: string | undefined;
  segments: string[];
}

const PATTERN = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:?#[\]@*\s]+)(?::(\*|\d{1,5}))?(\/[^?#\s]*)?$/i;

function parsePattern(pattern: string): CallbackPattern | undefined {
  const match = PATTERN.exec(pattern.trim());
  if (!match) return undefined;
  const port = match[3];
  if (port !== undefined && port !== '*' && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  const path = match[4] ?? '';
  const segments = path.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  if (segments.some((s) => s.includes('*') && s !== '*')) return undefined;
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  let host = match[2]!.toLowerCase();
  const protocol = `${match[1]!.toLowerCase()}:` as 'http:' | 'https:';
  try {
    // Normalise the host as URL parsing would (IDN, IPv4 forms); the port does not matter here.
    host = new URL(`${protocol}//${host}/`).hostname;
  } catch {
    return undefined;
  }
  return { protocol, host, port, segments };
}

/** Checks a `--callback-allow` pattern; returns it trimmed or throws SenderError. */
export function checkCallbackPattern(pattern: string): string {
  if (typeof pattern !== 'string' || !parsePattern(pattern)) {
    throw invalid(
      `invalid callback-allow pattern "${String(pattern)}": use an http(s) URL prefix, ` +
        `with * for any port or any one path segment (e.g. http://127.0.0.1:* or https://spmis.example.org/dci/*)`,
    );
  }
  return pattern.trim();
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/**
 * True when `url` is allowed by `pattern`: same scheme and host, the pattern's port (any with
 * `*`; the scheme's default when it names none), and a path that starts with the pattern's path
 * segments (`*` matches any one segment). `http://127.0.0.1:*` allows every http URL of 127.0.0.1;
 * `https://a.org/cb` allows `https://a.org/cb` and `https://a.org/cb/on-search`, not `https://a.org/cbx`.
 */
export function matchesCallbackPattern(url: string, pattern: string): boolean {
  const p = parsePattern(pattern);
  if (!p) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== p.protocol || u.hostname !== p.host || u.username || u.password) return false;
  const port = u.port || defaultPort(u.protocol);
  if (p.port !== '*' && port !== String(Number(p.port ?? defaultPort(p.protocol)))) return false;
  const segments = u.pathname.split('/').slice(1);
  if (segments.length < p.segments.length) return false;
  return p.segments.every((s, i) => s === '*' || s === segments[i]);
}

/** True when the sender's allow-list is empty (any URL) or a pattern matches. */
export function callbackAllowed(sender: { readonly callbackAllow: readonly string[] }, url: string): boolean {
  return sender.callbackAllow.length === 0 || sender.callbackAllow.some((p) => matchesCallbackPattern(url, p));
}

// ---------------------------------------------------------------------------------------------
// Public keys

export interface ParsedPublicKey {
  key: KeyObject;
  algorithm: SignatureAlgorithm;
  /** The key as SPKI PEM (what is stored). */
  pem: string;
  /** The RFC 7638 thumbprint. */
  thumbprint: string;
}

/**
 * Parses a sender's public key: SPKI PEM or an X.509 certificate; Ed25519 (`ed25519`) or RSA of at
 * least 2048 bits (`rsa-sha256`). Private keys and other key types are refused with SenderError.
 */
export function parsePublicKeyPem(pem: string): ParsedPublicKey {
  if (typeof pem !== 'string' || pem.trim() === '') throw invalid('the public key is empty');
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw invalid('this is a private key: register the public key only (e.g. openssl pkey -in key.pem -pubout)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw invalid('not a PEM public key (expected -----BEGIN PUBLIC KEY-----)');
  }
  let algorithm: SignatureAlgorithm;
  if (key.asymmetricKeyType === 'ed25519') {
    algorithm = 'ed25519';
  } else if (key.asymmetricKeyType === 'rsa') {
    algorithm = 'rsa-sha256';
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw invalid(`RSA keys must have at least ${MIN_RSA_BITS} bits (this one has ${bits})`);
  } else {
    throw invalid(`unsupported key type ${String(key.asymmetricKeyType)}: use an Ed25519 or RSA key`);
  }
  return {
    key,
    algorithm,
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    thumbprint: jwkThumbprint(key),
  };
}

export function checkKid(kid: string): void {
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw invalid(`key id must be 1 to 200 characters without | " \\ , or spaces (got "${String(kid)}")`);
  }
}

// ---------------------------------------------------------------------------------------------
// The store

type SenderRow = Selectable<SenderTable>;
type SenderKeyRow = Selectable<SenderKeyTable>;

function toSender(row: SenderRow): Sender {
  return {
    id: row.id,
    name: row.name,
    active: row.active,
    operations: SENDER_OPERATIONS.filter((o) => row.operations.includes(o)),
    domains: DOMAINS.filter((d) => row.domains.includes(d)),
    signaturePolicy: row.signature_policy,
    jwksUrl: row.jwks_url,
    callbackAllow: row.callback_allow,
    notifyUri: row.notify_uri,
    fields: row.fields,
    legalBasis: row.legal_basis,
    rateLimitPerMinute: row.rate_limit_per_minute,
    callbackAuth: callbackAuthInfo(row.callback_auth),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toKey(row: SenderKeyRow): SenderKey {
  return {
    senderId: row.sender_id,
    kid: row.kid,
    algorithm: row.algorithm,
    source: row.source,
    publicKeyPem: row.public_key_pem,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

type SenderColumns = Partial<
  Pick<
    SenderRow,
    | 'name'
    | 'operations'
    | 'domains'
    | 'signature_policy'
    | 'jwks_url'
    | 'callback_allow'
    | 'notify_uri'
    | 'fields'
    | 'legal_basis'
    | 'rate_limit_per_minute'
  >
>;

/** The columns named by `fields` (only those given), validated. */
function columns(fields: SenderFields): SenderColumns {
  const out: SenderColumns = {};
  if (fields.name !== undefined) out.name = parseName(fields.name);
  if (fields.operations !== undefined) out.operations = parseOperations(fields.operations);
  if (fields.domains !== undefined) out.domains = parseDomains(fields.domains);
  if (fields.signaturePolicy !== undefined) {
    out.signature_policy = parseOne(fields.signaturePolicy, SIGNATURE_POLICIES, 'signature policy');
  }
  if (fields.jwksUrl !== undefined) out.jwks_url = optionalUrl(fields.jwksUrl, 'JWKS URL');
  if (fields.callbackAllow !== undefined) {
    out.callback_allow = [...new Set(fields.callbackAllow.filter((p) => p.trim() !== '').map(checkCallbackPattern))];
  }
  if (fields.notifyUri !== undefined) out.notify_uri = optionalUrl(fields.notifyUri, 'notify URI');
  if (fields.fields !== undefined) out.fields = parseFields(fields.fields);
  if (fields.legalBasis !== undefined) out.legal_basis = parseOne(fields.legalBasis, LEGAL_BASES, 'legal basis');
  if (fields.rateLimitPerMinute !== undefined) out.rate_limit_per_minute = parseRateLimit(fields.rateLimitPerMinute);
  return out;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** Senders and their keys over a Kysely handle (joins the caller's transaction, if any). */
export class SenderStore {
  private readonly keyEncryptionKey: Buffer | undefined;
  private readonly listeners: ((id: string) => void)[] = [];

  constructor(
    private readonly db: Kysely<DB>,
    options: SenderStoreOptions = {},
  ) {
    this.keyEncryptionKey = options.keyEncryptionKey;
  }

  private get q(): Kysely<DB> {
    return currentExecutor(this.db);
  }

  /** Calls `listener` with the id of every sender added or changed through this store (caches). */
  onChange(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  private changed<T>(id: string, result: T): T {
    for (const listener of this.listeners) listener(id);
    return result;
  }

  /** Adds a sender; defaults per contract §1 (operations all, domains all, policy required, fields all, statute). */
  async add(input: NewSender): Promise<Sender> {
    checkSenderId(input.id);
    checkSecret(input.clientSecret);
    const values = columns({
      operations: 'all',
      domains: 'all',
      signaturePolicy: 'required',
      fields: null,
      legalBasis: 'statute',
      ...stripUndefined(input),
    });
    const keys = (input.keys ?? []).map((k) => this.prepareKey(k));
    const callbackAuth = sealCallbackAuth(
      input.id,
      parseCallbackAuth(input.callbackAuth ?? null),
      this.keyEncryptionKey,
    );
    const hash = await hashSecret(input.clientSecret);
    const added = await runInTx(this.db, async (trx) => {
      const exists = await trx.selectFrom('sender').select('id').where('id', '=', input.id).executeTakeFirst();
      if (exists) throw new SenderError('exists', `sender "${input.id}" already exists`);
      let row: SenderRow;
      try {
        row = await trx
          .insertInto('sender')
          .values({
            id: input.id,
            client_secret_hash: hash,
            name: values.name ?? null,
            operations: values.operations ?? [...ALL_OPERATIONS],
            domains: values.domains ?? [...DOMAINS],
            signature_policy: values.signature_policy,
            jwks_url: values.jwks_url ?? null,
            callback_allow: values.callback_allow ?? [],
            notify_uri: values.notify_uri ?? null,
            fields: values.fields ?? null,
            legal_basis: values.legal_basis,
            rate_limit_per_minute: values.rate_limit_per_minute ?? null,
            callback_auth: callbackAuth === null ? null : JSON.stringify(callbackAuth),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      } catch (error) {
        if (isUniqueViolation(error)) throw new SenderError('exists', `sender "${input.id}" already exists`);
        throw error;
      }
      for (const key of keys) await this.insertKey(trx, input.id, key);
      return toSender(row);
    });
    return this.changed(input.id, added);
  }

  /** Changes the given fields (and the secret, if given); bumps `version`. */
  async update(id: string, patch: SenderPatch): Promise<Sender> {
    const values = columns(stripUndefined(patch));
    if (patch.clientSecret !== undefined) checkSecret(patch.clientSecret);
    if (patch.active !== undefined && typeof patch.active !== 'boolean') throw invalid('active must be true or false');
    const keys = (patch.keys ?? []).map((k) => this.prepareKey(k));
    const callbackAuth =
      patch.callbackAuth === undefined
        ? undefined
        : sealCallbackAuth(id, parseCallbackAuth(patch.callbackAuth), this.keyEncryptionKey);
    const hash = patch.clientSecret === undefined ? undefined : await hashSecret(patch.clientSecret);
    const updated = await runInTx(this.db, async (trx) => {
      const row = await trx
        .updateTable('sender')
        .set((eb) => ({
          ...values,
          ...(hash === undefined ? {} : { client_secret_hash: hash }),
          ...(callbackAuth === undefined
            ? {}
            : { callback_auth: callbackAuth === null ? null : JSON.stringify(callbackAuth) }),
          ...(patch.active === undefined ? {} : { active: patch.active }),
          version: eb('version', '+', 1),
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw notFound(id);
      for (const key of keys) await this.insertKey(trx, id, key);
      return toSender(row);
    });
    return this.changed(id, updated);
  }

  async get(id: string): Promise<Sender | undefined> {
    const row = await this.q.selectFrom('sender').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSender(row) : undefined;
  }

  /** Like get(), but a missing sender is a SenderError `not_found`. */
  async require(id: string): Promise<Sender> {
    const sender = await this.get(id);
    if (!sender) throw notFound(id);
    return sender;
  }

  async list(): Promise<Sender[]> {
    const rows = await this.q.selectFrom('sender').selectAll().orderBy('id').execute();
    return rows.map(toSender);
  }

  /**
   * The credentials to present at the sender's callback endpoints, secrets decrypted with the
   * store's key-encryption key, or with `options.keyEncryptionKey` when given (even undefined);
   * null when none are set or the sender is unknown. Throws SealedSecretError when they are
   * stored encrypted and the key is missing or wrong.
   */
  async callbackAuth(
    id: string,
    options?: { keyEncryptionKey: Buffer | undefined },
  ): Promise<CallbackCredentials | null> {
    const kek = options ? options.keyEncryptionKey : this.keyEncryptionKey;
    const { rows } = await executePrepared(
      this.q,
      this.q.selectFrom('sender').select('callback_auth').where('id', '=', id),
    );
    const row = rows[0];
    return openCallbackAuth(id, row?.callback_auth ?? null, kek);
  }

  /** Marks the sender inactive: its tokens stop working at the next request. */
  async disable(id: string): Promise<Sender> {
    return this.update(id, { active: false });
  }

  /** Replaces the client secret with a random one and returns it (shown once, stored hashed). */
  async rotateSecret(id: string): Promise<string> {
    const secret = generateSecret();
    await this.update(id, { clientSecret: secret });
    return secret;
  }

  /** True when `secret` is the sender's client secret (false for an unknown sender, after the same work). */
  async verifySecret(id: string, secret: string): Promise<boolean> {
    return (await this.authenticate(id, secret)) !== undefined;
  }

  /**
   * The sender whose id and secret these are, active or not; undefined otherwise. An unknown id
   * costs the same hashing time as a wrong secret.
   */
  async authenticate(id: string, secret: string): Promise<Sender | undefined> {
    const row =
      typeof id === 'string' && SENDER_ID_PATTERN.test(id)
        ? await this.q.selectFrom('sender').selectAll().where('id', '=', id).executeTakeFirst()
        : undefined;
    if (!row || typeof secret !== 'string' || secret.length > MAX_SECRET_LENGTH) {
      await verifyAgainstDummy(typeof secret === 'string' ? secret.slice(0, MAX_SECRET_LENGTH) : '');
      return undefined;
    }
    return (await verifySecret(secret, row.client_secret_hash)) ? toSender(row) : undefined;
  }

  /**
   * Registers a public key (SPKI PEM) for the sender. `kid` defaults to the key's RFC 7638
   * thumbprint; the algorithm follows the key (Ed25519 → ed25519, RSA → rsa-sha256). Registering
   * the same key under the same kid again is a no-op (and un-revokes it); another key under a
   * kid already in use is refused.
   */
  async addKey(id: string, pem: string, kid?: string): Promise<SenderKey> {
    const key = this.prepareKey({ pem, ...(kid === undefined ? {} : { kid }) });
    return runInTx(this.db, async (trx) => {
      const sender = await trx.selectFrom('sender').select('id').where('id', '=', id).executeTakeFirst();
      if (!sender) throw notFound(id);
      return this.insertKey(trx, id, key);
    });
  }

  /** The sender's keys, oldest first (revoked ones included, with `revokedAt`). */
  async keys(id: string): Promise<SenderKey[]> {
    const rows = await this.q
      .selectFrom('sender_key')
      .selectAll()
      .where('sender_id', '=', id)
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    return rows.map(toKey);
  }

  /** Revokes a key: it no longer verifies signatures. */
  async revokeKey(id: string, kid: string): Promise<SenderKey> {
    const row = await this.q
      .updateTable('sender_key')
      .set({ revoked_at: new Date() })
      .where('sender_id', '=', id)
      .where('kid', '=', kid)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new SenderError('not_found', `sender "${id}" has no key "${kid}"`);
    return toKey(row);
  }

  private prepareKey(input: NewSenderKey): { parsed: ParsedPublicKey; kid: string } {
    const parsed = parsePublicKeyPem(input.pem);
    const kid = input.kid === undefined || input.kid === '' ? parsed.thumbprint : input.kid;
    checkKid(kid);
    return { parsed, kid };
  }

  private async insertKey(
    trx: Kysely<DB>,
    senderId: string,
    { parsed, kid }: { parsed: ParsedPublicKey; kid: string },
  ): Promise<SenderKey> {
    const existing = await trx
      .selectFrom('sender_key')
      .selectAll()
      .where('sender_id', '=', senderId)
      .where('kid', '=', kid)
      .executeTakeFirst();
    if (existing) {
      if (existing.public_key_pem !== parsed.pem) {
        throw new SenderError('exists', `sender "${senderId}" already has another key with id "${kid}"`);
      }
      const row = await trx
        .updateTable('sender_key')
        .set({ revoked_at: null })
        .where('sender_id', '=', senderId)
        .where('kid', '=', kid)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toKey(row);
    }
    const row = await trx
      .insertInto('sender_key')
      .values({ sender_id: senderId, kid, algorithm: parsed.algorithm, public_key_pem: parsed.pem, source: 'pem' })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toKey(row);
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
