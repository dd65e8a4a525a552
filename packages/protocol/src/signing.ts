/**
 * The OpenDCI signing profile (docs/signing.md): digest, signing string, sign, verify, JWK helpers.
 *
 *   digest         = base64(SHA-256(UTF-8(C({"header": header, "message": message}))))
 *   signing string = "(created): " + created + "\n(expires): " + expires + "\ndigest: " + digest
 *   signature      = base64(Ed25519 or RSASSA-PKCS1-v1_5/SHA-256 over the signing string)
 *
 * C is RFC 8785 (JCS) or the OpenSPP form (canonical.ts). The body `signature` field is never part
 * of what is signed. Keys are `KeyObject`s parsed once by the caller; nothing here is async unless
 * the caller's key resolver is.
 */
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { CanonicalForm } from './canonical.js';
import { DciError, ErrorCode } from './errors.js';
import { SIGNED_HEADERS, formatSignature, isPlaceholderSignature, parseSignature } from './signature.js';
import type { ParsedSignature, SignatureAlgorithm } from './signature.js';

/** Default validity of a signature we emit (`expires = created + 300`). */
export const DEFAULT_SIGNATURE_TTL_SECONDS = 300;
/** Default allowance for a `created` in the future (peer clocks ahead of ours). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

/** What is signed: the envelope's header and message (any `signature` field is ignored). */
export interface SignableMessage {
  header: unknown;
  message?: unknown;
}

/** An envelope as received: `{signature, header, message}`. */
export interface SignedEnvelope extends SignableMessage {
  signature?: unknown;
}

/** Unix seconds now. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The canonical string of `{header, message}` in the given form. Only these two members are taken
 * from the envelope; an absent (`undefined`) message is left out of the object.
 */
export function canonicalMessage(envelope: SignableMessage, form: CanonicalForm = 'jcs'): string {
  return canonicalJson({ header: envelope.header, message: envelope.message }, form);
}

/** base64(SHA-256(UTF-8(canonical string))). */
export function digestOf(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('base64');
}

/** The digest of `{header, message}` in the given canonical form. */
export function messageDigest(envelope: SignableMessage, form: CanonicalForm = 'jcs'): string {
  return digestOf(canonicalMessage(envelope, form));
}

/** The string the signature is computed over (no `SHA-256=` prefix, `\n` line ends). */
export function signingString(created: number, expires: number, digest: string): string {
  return `(created): ${created}\n(expires): ${expires}\ndigest: ${digest}`;
}

// ---------------------------------------------------------------------------------------------
// Keys

/** The profile algorithm of a key: `ed25519` for Ed25519 keys, `rsa-sha256` for RSA keys. */
export function algorithmForKey(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa-sha256';
    default:
      throw new TypeError(`unsupported signing key type ${key.asymmetricKeyType ?? key.type}`);
  }
}

function keyMatches(key: KeyObject, algorithm: SignatureAlgorithm): boolean {
  return algorithm === 'ed25519' ? key.asymmetricKeyType === 'ed25519' : key.asymmetricKeyType === 'rsa';
}

function rawSign(algorithm: SignatureAlgorithm, data: Buffer, key: KeyObject): Buffer {
  // RSA keys sign with RSASSA-PKCS1-v1_5 by default (node:crypto), which is what we want.
  return algorithm === 'ed25519' ? cryptoSign(null, data, key) : cryptoSign('sha256', data, key);
}

function rawVerify(algorithm: SignatureAlgorithm, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return algorithm === 'ed25519'
      ? cryptoVerify(null, data, key, signature)
      : cryptoVerify('sha256', data, key, signature);
  } catch {
    return false;
  }
}

function publicOf(key: KeyObject): KeyObject {
  if (key.type === 'public') return key;
  if (key.type === 'private') return createPublicKey(key);
  throw new TypeError('a public or private asymmetric key is required');
}

interface JwkMembers {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/**
 * RFC 7638 JWK SHA-256 thumbprint, base64url: over `{"crv","kty","x"}` for OKP keys,
 * `{"e","kty","n"}` for RSA keys (and `{"crv","kty","x","y"}` for EC keys). A private key is
 * reduced to its public half first.
 */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = publicOf(key).export({ format: 'jwk' }) as JwkMembers;
  let members: string;
  switch (jwk.kty) {
    case 'OKP':
      members = `{"crv":${JSON.stringify(jwk.crv)},"kty":"OKP","x":${JSON.stringify(jwk.x)}}`;
      break;
    case 'RSA':
      members = `{"e":${JSON.stringify(jwk.e)},"kty":"RSA","n":${JSON.stringify(jwk.n)}}`;
      break;
    case 'EC':
      members = `{"crv":${JSON.stringify(jwk.crv)},"kty":"EC","x":${JSON.stringify(jwk.x)},"y":${JSON.stringify(jwk.y)}}`;
      break;
    default:
      throw new TypeError(`cannot compute a JWK thumbprint for key type ${String(jwk.kty)}`);
  }
  return createHash('sha256').update(members, 'utf8').digest('base64url');
}

/** A public JWK as published in `/.well-known/jwks.json`. */
export interface PublicJwk {
  kty: 'OKP' | 'RSA';
  crv?: 'Ed25519';
  x?: string;
  n?: string;
  e?: string;
  kid: string;
  alg: 'EdDSA' | 'RS256';
  use: 'sig' | 'enc';
}

/**
 * The public JWK of an Ed25519 or RSA key (a private key is reduced to its public half), with
 * `kid` = its RFC 7638 thumbprint unless given, `alg` `EdDSA` or `RS256`, `use` `sig` by default.
 */
export function publicJwk(key: KeyObject, options: { use?: 'sig' | 'enc'; kid?: string } = {}): PublicJwk {
  const pub = publicOf(key);
  const algorithm = algorithmForKey(pub);
  const jwk = pub.export({ format: 'jwk' }) as JwkMembers;
  const kid = options.kid ?? jwkThumbprint(pub);
  const use = options.use ?? 'sig';
  if (algorithm === 'ed25519') {
    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use };
  }
  return { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg: 'RS256', use };
}

// ---------------------------------------------------------------------------------------------
// Signing

export interface SignOptions {
  /** Our sender id (`DCI_SERVER_ID` on the server): the first part of `kidId`. */
  senderId: string;
  /** Our key id (the key's JWK thumbprint): the middle part of `kidId`. */
  kid: string;
  /** Defaults to the key's algorithm; must match it. */
  algorithm?: SignatureAlgorithm;
  privateKey: KeyObject;
  /** `jcs` (default) or `openspp` for a receiver that needs the OpenSPP form. */
  canonical?: CanonicalForm;
  /** `created`, unix seconds; default now. */
  now?: number;
  /** `expires - created`; default 300. */
  ttlSeconds?: number;
}

/** Signs `{header, message}` and returns the body `signature` string. */
export function signMessage(envelope: SignableMessage, options: SignOptions): string {
  const key = options.privateKey;
  if (key.type !== 'private') throw new TypeError('signMessage needs a private key');
  const algorithm = options.algorithm ?? algorithmForKey(key);
  if (!keyMatches(key, algorithm)) {
    throw new TypeError(`a ${String(key.asymmetricKeyType)} key cannot sign with ${algorithm}`);
  }
  return signCanonical(canonicalMessage(envelope, options.canonical ?? 'jcs'), algorithm, options);
}

function signCanonical(canonical: string, algorithm: SignatureAlgorithm, options: SignOptions): string {
  const created = options.now ?? unixNow();
  const expires = created + (options.ttlSeconds ?? DEFAULT_SIGNATURE_TTL_SECONDS);
  const data = Buffer.from(signingString(created, expires, digestOf(canonical)), 'utf8');
  const signature = rawSign(algorithm, data, options.privateKey).toString('base64');
  return formatSignature({ senderId: options.senderId, kid: options.kid, algorithm, created, expires, signature });
}

/**
 * Signs an envelope (JCS) and serialises it in the same pass: `body` is the JSON text of
 * `{signature, header, message}` whose `header` and `message` are the canonical bytes the signature
 * covers, so the answer is not serialised a second time.
 */
export function signedBody(envelope: SignableMessage, options: SignOptions): { signature: string; body: string } {
  const key = options.privateKey;
  if (key.type !== 'private') throw new TypeError('signMessage needs a private key');
  const algorithm = options.algorithm ?? algorithmForKey(key);
  if (!keyMatches(key, algorithm)) {
    throw new TypeError(`a ${String(key.asymmetricKeyType)} key cannot sign with ${algorithm}`);
  }
  // `{"header":…,"message":…}`: JCS sorts the two keys, and a leading "signature" keeps it JSON.
  const canonical = canonicalMessage(envelope, 'jcs');
  const signature = signCanonical(canonical, algorithm, { ...options, canonical: 'jcs' });
  return { signature, body: `{"signature":${JSON.stringify(signature)},${canonical.slice(1)}` };
}

// ---------------------------------------------------------------------------------------------
// Verification

export type KeyResolution = KeyObject | undefined | Promise<KeyObject | undefined>;

export interface VerifyOptions<R extends KeyResolution = KeyResolution> {
  /**
   * The key registered for `kid` (the middle part of `kidId`) for this sender, or `undefined` when
   * unknown. The server resolves against the token sender's keys; errors it throws propagate.
   */
  resolveKey(kid: string, senderId: string, parsed: ParsedSignature): R;
  /** Unix seconds; default now. */
  now?: number;
  /** Allowance for `created` in the future; default 300. `expires` gets none: `now > expires` fails. */
  clockSkewSeconds?: number;
  /** If set, the sender part of `kidId` must equal it. */
  expectedSenderId?: string;
  /** Canonical forms to try, in order; default `['jcs', 'openspp']`. */
  canonicalForms?: readonly CanonicalForm[];
}

export interface VerifyResult {
  senderId: string;
  kid: string;
  algorithm: SignatureAlgorithm;
  /** The form that verified (`jcs` when both forms give the same bytes). */
  canonical: CanonicalForm;
  created: number;
  expires: number;
}

/**
 * Why verification failed, in `DciError.detail`: `missing` (with `err.signature.missing`), else
 * with `err.signature.invalid`: `unparseable`, `algorithm` (unsupported, or not the key's),
 * `headers`, `sender`, `created_in_future`, `expired`, `unknown_kid`, `mismatch`.
 */
export type SignatureFailure =
  | 'missing'
  | 'unparseable'
  | 'algorithm'
  | 'headers'
  | 'sender'
  | 'created_in_future'
  | 'expired'
  | 'unknown_kid'
  | 'mismatch';

function fail(detail: SignatureFailure, message: string): DciError {
  return new DciError(detail === 'missing' ? ErrorCode.SignatureMissing : ErrorCode.SignatureInvalid, message, {
    detail,
  });
}

const DEFAULT_FORMS: readonly CanonicalForm[] = ['jcs', 'openspp'];

/** Checks that need no key: parse, headers, sender, time. */
function precheck(envelope: SignedEnvelope, options: VerifyOptions): ParsedSignature {
  const value = envelope.signature;
  if (isPlaceholderSignature(value)) throw fail('missing', 'the message is not signed');
  if (typeof value !== 'string') throw fail('unparseable', 'signature is not a string');
  const parsed = parseSignature(value);
  if (parsed.headers !== undefined && parsed.headers.trim().split(/\s+/).join(' ').toLowerCase() !== SIGNED_HEADERS) {
    throw fail('headers', `signature headers must be "${SIGNED_HEADERS}"`);
  }
  if (options.expectedSenderId !== undefined && parsed.senderId !== options.expectedSenderId) {
    throw fail('sender', 'signature key id names another sender');
  }
  const now = options.now ?? unixNow();
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (parsed.expires < parsed.created) throw fail('unparseable', 'signature expires before it was created');
  if (parsed.created > now + skew) throw fail('created_in_future', 'signature created in the future');
  if (now > parsed.expires) throw fail('expired', 'signature expired');
  return parsed;
}

function finish(
  envelope: SignedEnvelope,
  parsed: ParsedSignature,
  key: KeyObject | undefined,
  options: VerifyOptions,
): VerifyResult {
  if (!key) throw fail('unknown_kid', 'unknown signing key');
  if (!keyMatches(key, parsed.algorithm)) {
    throw fail('algorithm', `signature algorithm ${parsed.algorithm} does not match the key`);
  }
  const signature = Buffer.from(parsed.signature, 'base64');
  if (parsed.algorithm === 'ed25519' && signature.length !== 64) throw fail('mismatch', 'signature does not verify');
  const signed = { header: envelope.header, message: envelope.message };
  const tried: string[] = [];
  for (const form of options.canonicalForms ?? DEFAULT_FORMS) {
    let canonical: string;
    try {
      canonical = canonicalJson(signed, form);
    } catch {
      continue; // not representable in this form (e.g. a lone surrogate under JCS)
    }
    if (tried.includes(canonical)) continue; // same bytes as a form already tried
    tried.push(canonical);
    const data = Buffer.from(signingString(parsed.created, parsed.expires, digestOf(canonical)), 'utf8');
    if (rawVerify(parsed.algorithm, data, key, signature)) {
      return {
        senderId: parsed.senderId,
        kid: parsed.kid,
        algorithm: parsed.algorithm,
        canonical: form,
        created: parsed.created,
        expires: parsed.expires,
      };
    }
  }
  throw fail('mismatch', 'signature does not verify');
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * Verifies the body signature of an envelope. Throws `DciError` with `err.signature.missing` for
 * an absent/placeholder signature (the caller decides whether its policy allows that; see
 * `isPlaceholderSignature`) and `err.signature.invalid` for every other failure, `detail` saying
 * why (`SignatureFailure`). Checks, in order: parse; `headers`; sender (if `expectedSenderId`);
 * `created <= now + skew`; `now <= expires`; key found; key type matches the algorithm; the
 * signature over the JCS form, then over the OpenSPP form.
 *
 * Synchronous when `resolveKey` returns a key; returns a promise when it returns a promise (the
 * checks before the key lookup still throw synchronously: use `verifyMessageAsync` for a promise
 * in every case).
 */
export function verifyMessage(envelope: SignedEnvelope, options: VerifyOptions<KeyObject | undefined>): VerifyResult;
export function verifyMessage(
  envelope: SignedEnvelope,
  options: VerifyOptions<Promise<KeyObject | undefined>>,
): Promise<VerifyResult>;
export function verifyMessage(envelope: SignedEnvelope, options: VerifyOptions): VerifyResult | Promise<VerifyResult>;
export function verifyMessage(envelope: SignedEnvelope, options: VerifyOptions): VerifyResult | Promise<VerifyResult> {
  const parsed = precheck(envelope, options);
  const key = options.resolveKey(parsed.kid, parsed.senderId, parsed);
  if (isPromise<KeyObject | undefined>(key)) return key.then((k) => finish(envelope, parsed, k, options));
  return finish(envelope, parsed, key, options);
}

/** `verifyMessage` that always answers with a promise (every failure is a rejection). */
export async function verifyMessageAsync(envelope: SignedEnvelope, options: VerifyOptions): Promise<VerifyResult> {
  return verifyMessage(envelope, options);
}
