/**
 * The body `signature` string of the OpenDCI signing profile (docs/signing.md): format and parse.
 *
 * Emitted, exactly:
 * `namespace="dci", kidId="{senderId}|{kid}|{algorithm}", algorithm="{algorithm}", created="{unix}", expires="{unix}", headers="(created) (expires) digest", signature="{base64}"`
 *
 * Accepted: `keyId` or `kidId`; any or no `namespace`; comma and/or whitespace separators; quoted
 * or unquoted values; an optional leading `Signature:` / `Signature ` prefix.
 */
import { DciError, ErrorCode } from './errors.js';

export type SignatureAlgorithm = 'ed25519' | 'rsa-sha256';

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'rsa-sha256'];

/** The only `headers` parameter value of the profile. */
export const SIGNED_HEADERS = '(created) (expires) digest';

/** Default and emitted namespace. */
export const SIGNATURE_NAMESPACE = 'dci';

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return value === 'ed25519' || value === 'rsa-sha256';
}

/** A parsed signature string. */
export interface ParsedSignature {
  /** The `namespace` parameter, if any (informative only: it does not select anything). */
  namespace?: string;
  /** The key id parameter as sent (`kidId` or `keyId`): `{senderId}|{kid}|{algorithm}`. */
  keyId: string;
  senderId: string;
  kid: string;
  algorithm: SignatureAlgorithm;
  /** Unix seconds. */
  created: number;
  /** Unix seconds. */
  expires: number;
  /** The `headers` parameter as sent, if any. */
  headers?: string;
  /** The base64 signature value. */
  signature: string;
}

export interface SignatureFields {
  senderId: string;
  kid: string;
  algorithm: SignatureAlgorithm;
  created: number;
  expires: number;
  /** base64 */
  signature: string;
  /** Default `dci`. */
  namespace?: string;
}

function invalid(message: string, detail = 'unparseable'): DciError {
  return new DciError(ErrorCode.SignatureInvalid, message, { detail });
}

/** Standard base64 (also accepts the URL-safe alphabet), padding optional. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const UNIX = /^\d{1,15}$/;
const PARAM_NAME = /[A-Za-z][A-Za-z0-9_-]*/y;
const SEPARATORS = /[\s,]*/y;
const UNQUOTED = /[^\s,"]*/y;
const PREFIX = /^\s*signature(?:\s*:\s*|\s+)/i;

const FORBIDDEN_IN_ID = /[|"\\\s,]/;

function checkIdPart(name: string, value: string): void {
  if (value === '' || FORBIDDEN_IN_ID.test(value)) {
    throw new TypeError(`${name} must be non-empty without '|', quotes, backslashes, commas or spaces`);
  }
}

function checkUnix(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be unix seconds`);
}

/** Formats the wire value. Throws a `TypeError` on ids that could not be parsed back. */
export function formatSignature(fields: SignatureFields): string {
  checkIdPart('senderId', fields.senderId);
  checkIdPart('kid', fields.kid);
  checkUnix('created', fields.created);
  checkUnix('expires', fields.expires);
  if (!isSignatureAlgorithm(fields.algorithm)) throw new TypeError(`unsupported algorithm ${String(fields.algorithm)}`);
  if (!BASE64.test(fields.signature)) throw new TypeError('signature must be base64');
  const namespace = fields.namespace ?? SIGNATURE_NAMESPACE;
  if (/["\\]/.test(namespace)) throw new TypeError('namespace must not contain quotes or backslashes');
  return (
    `namespace="${namespace}", kidId="${fields.senderId}|${fields.kid}|${fields.algorithm}", ` +
    `algorithm="${fields.algorithm}", created="${fields.created}", expires="${fields.expires}", ` +
    `headers="${SIGNED_HEADERS}", signature="${fields.signature}"`
  );
}

/** Lower-cased parameter names this profile reads; `keyid` and `kidid` are the same parameter. */
const KNOWN = new Set(['namespace', 'keyid', 'algorithm', 'created', 'expires', 'headers', 'signature']);

/** Splits the string into parameters. Unknown parameters are ignored; duplicates are refused. */
function parseParams(input: string): Map<string, string> {
  let s = input;
  const prefix = PREFIX.exec(s);
  // `Signature` alone as a parameter name (`signature="…"`) is not a prefix: it is followed by '='.
  if (prefix && !/^\s*signature\s*=/i.test(s)) s = s.slice(prefix[0].length);
  const params = new Map<string, string>();
  let i = 0;
  for (;;) {
    SEPARATORS.lastIndex = i;
    SEPARATORS.exec(s);
    i = SEPARATORS.lastIndex;
    if (i >= s.length) break;
    PARAM_NAME.lastIndex = i;
    const name = PARAM_NAME.exec(s);
    if (!name) throw invalid(`unexpected character at position ${i} of the signature`);
    i = PARAM_NAME.lastIndex;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '=') throw invalid(`signature parameter ${name[0]} has no value`);
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    let value: string;
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw invalid(`unterminated quoted value of signature parameter ${name[0]}`);
      value = s.slice(i + 1, end);
      i = end + 1;
    } else {
      UNQUOTED.lastIndex = i;
      value = (UNQUOTED.exec(s) as RegExpExecArray)[0];
      i = UNQUOTED.lastIndex;
      if (s[i] === '"') throw invalid(`stray quote in signature parameter ${name[0]}`);
    }
    // The next thing must be a separator or the end.
    if (i < s.length && !/[\s,]/.test(s[i] as string)) throw invalid(`missing separator after ${name[0]}`);
    let key = name[0].toLowerCase();
    if (key === 'kidid') key = 'keyid';
    if (!KNOWN.has(key)) continue;
    if (params.has(key)) throw invalid(`duplicate signature parameter ${name[0]}`);
    params.set(key, value);
  }
  return params;
}

function normaliseAlgorithm(value: string, where: string): SignatureAlgorithm {
  const a = value.trim().toLowerCase();
  if (!isSignatureAlgorithm(a))
    throw invalid(`unsupported signature algorithm ${JSON.stringify(value)} in ${where}`, 'algorithm');
  return a;
}

function unix(params: Map<string, string>, name: 'created' | 'expires'): number {
  const value = params.get(name);
  if (value === undefined) throw invalid(`signature has no ${name} parameter`);
  if (!UNIX.test(value)) throw invalid(`signature ${name} is not unix seconds`);
  return Number(value);
}

/**
 * Parses a signature string. Throws `DciError('err.signature.invalid')` (detail `unparseable` or
 * `algorithm`) when it is not a well-formed signature of this profile.
 */
export function parseSignature(value: string): ParsedSignature {
  if (typeof value !== 'string') throw invalid('signature is not a string');
  if (value.length > 8192) throw invalid('signature is too long');
  const params = parseParams(value);
  const keyId = params.get('keyid');
  if (keyId === undefined) throw invalid('signature has no kidId/keyId parameter');
  const parts = keyId.split('|');
  if (parts.length !== 3) throw invalid('signature key id is not {sender_id}|{kid}|{algorithm}');
  const [senderId, kid, keyAlgorithm] = parts as [string, string, string];
  if (senderId === '' || kid === '') throw invalid('signature key id has an empty sender id or kid');
  const idAlgorithm = normaliseAlgorithm(keyAlgorithm, 'the key id');
  const param = params.get('algorithm');
  const algorithm = param === undefined ? idAlgorithm : normaliseAlgorithm(param, 'the algorithm parameter');
  if (algorithm !== idAlgorithm) throw invalid('signature algorithm parameter does not match the key id', 'algorithm');
  const created = unix(params, 'created');
  const expires = unix(params, 'expires');
  const signature = params.get('signature');
  if (signature === undefined || signature === '') throw invalid('signature has no signature parameter');
  if (!BASE64.test(signature)) throw invalid('signature value is not base64');
  const parsed: ParsedSignature = { keyId, senderId, kid, algorithm, created, expires, signature };
  const namespace = params.get('namespace');
  if (namespace !== undefined) parsed.namespace = namespace;
  const headers = params.get('headers');
  if (headers !== undefined) parsed.headers = headers;
  return parsed;
}

/** The placeholders accepted in place of a signature under policy `optional` (contract.md §5). */
export const SIGNATURE_PLACEHOLDERS: readonly string[] = ['', 'unsigned', 'unsigned-stub'];

/**
 * True exactly for a missing signature or a placeholder: `undefined`, `null`, `""`, `"unsigned"`,
 * `"unsigned-stub"`. Any other value must parse and verify (under either policy).
 */
export function isPlaceholderSignature(value: unknown): value is undefined | null | '' | 'unsigned' | 'unsigned-stub' {
  return value === undefined || value === null || value === '' || value === 'unsigned' || value === 'unsigned-stub';
}
