/**
 * Finds the public key a sender signed with: its PEM keys registered in `sender_key`, else the
 * keys of its JWKS URL (RFC 7517). Keys are cached as KeyObjects; a JWKS is fetched again on an
 * unknown `kid` at most once per `refetchIntervalMs` per sender, and when older than `jwksMaxAgeMs`.
 *
 * A JWKS URL is a URL a sender gave us, so it is fetched under the outbound-safety rules of
 * delivery/outbound.ts (https only and no loopback/private targets unless `allowInsecure` =
 * DCI_ALLOW_INSECURE_CALLBACKS, the vetted address pinned, no redirects, a deadline, a size
 * limit), and every fetch, refused or not, is written to the audit trail (direction `outbound`,
 * action `jwks`, status `succ` or `err`, no payload).
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from '@opendci/protocol';
import type { Kysely } from 'kysely';
import type { AuditEntry } from '../audit/audit.js';
import type { DB } from '../db/schema.js';
import { getJson, OutboundError, type HostLookup } from '../delivery/outbound.js';

export interface SenderKeyResolverOptions {
  /** Least time between two JWKS fetches for one sender (default 60 s): bounds refetches on unknown kids. */
  refetchIntervalMs?: number;
  /** A fetched JWKS is refreshed when older than this (default 1 h); the old one is kept if that fails. */
  jwksMaxAgeMs?: number;
  /** A sender's PEM keys are read again when this old, and on an unknown kid when older than `recheckMs`. */
  pemCacheMs?: number;
  /** Default 5 s: a key added by another process is seen this quickly. */
  recheckMs?: number;
  /** JWKS request timeout (default 5 s). */
  fetchTimeoutMs?: number;
  /** Largest JWKS document accepted (default 256 KiB). */
  maxJwksBytes?: number;
  /** Clock, milliseconds (tests). */
  now?: () => number;
  /** Told about JWKS fetch failures (the caller logs them). */
  onError?: (senderId: string, error: unknown) => void;
  /** DCI_ALLOW_INSECURE_CALLBACKS: allow http and loopback/private JWKS URLs (default false). */
  allowInsecure?: boolean;
  /** Host name resolution (tests); default node:dns. */
  lookup?: HostLookup;
  /** Where every JWKS fetch is recorded (an AuditTrail); none by default. */
  audit?: { record(entry: AuditEntry): Promise<unknown> };
  /** This server's id: the `sender_id` of the audit rows. */
  serverId?: string;
}

interface PemEntry {
  loadedAt: number;
  keys: Map<string, KeyObject>;
  jwksUrl: string | null;
}

interface JwksEntry {
  url: string;
  fetchedAt?: number;
  keys?: Map<string, KeyObject>;
  lastFetchAt?: number;
  inflight?: Promise<void>;
}

const MIN_RSA_BITS = 2048;

/** A JWKS answered, but not with a usable key set. */
class JwksError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'JwksError';
  }
}

/**
 * The public keys of a JWK Set document: Ed25519 (`OKP`) and RSA signature keys (keys with
 * `use: "enc"` and other types are skipped), by `kid`, else by RFC 7638 thumbprint.
 */
export function keysFromJwks(document: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('not a JWK Set: no "keys" array');
  for (const item of list as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const jwk = item as Record<string, unknown>;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    let members: JsonWebKey;
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string') {
      members = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    } else if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string') {
      members = { kty: 'RSA', n: jwk.n, e: jwk.e };
    } else {
      continue;
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: members, format: 'jwk' });
    } catch {
      continue;
    }
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) continue;
    const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : jwkThumbprint(key);
    if (!keys.has(kid)) keys.set(kid, key);
  }
  return keys;
}

export class SenderKeyResolver {
  private readonly pem = new Map<string, PemEntry>();
  private readonly jwks = new Map<string, JwksEntry>();
  private readonly loading = new Map<string, Promise<PemEntry>>();
  private readonly refetchIntervalMs: number;
  private readonly jwksMaxAgeMs: number;
  private readonly pemCacheMs: number;
  private readonly recheckMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly maxJwksBytes: number;
  private readonly now: () => number;
  private readonly onError: (senderId: string, error: unknown) => void;
  private readonly allowInsecure: boolean;
  private readonly lookup: HostLookup | undefined;
  private readonly audit: SenderKeyResolverOptions['audit'];
  private readonly serverId: string | null;

  constructor(
    private readonly db: Kysely<DB>,
    options: SenderKeyResolverOptions = {},
  ) {
    this.refetchIntervalMs = options.refetchIntervalMs ?? 60_000;
    this.jwksMaxAgeMs = options.jwksMaxAgeMs ?? 3_600_000;
    this.pemCacheMs = options.pemCacheMs ?? 300_000;
    this.recheckMs = options.recheckMs ?? 5_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
    this.maxJwksBytes = options.maxJwksBytes ?? 256 * 1024;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.allowInsecure = options.allowInsecure === true;
    this.lookup = options.lookup;
    this.audit = options.audit;
    this.serverId = options.serverId ?? null;
  }

  /** The sender's key with this kid, or undefined (unknown kid, unknown sender, revoked key). */
  async resolve(senderId: string, kid: string): Promise<KeyObject | undefined> {
    let entry = this.pem.get(senderId);
    if (!entry || this.now() - entry.loadedAt > this.pemCacheMs) entry = await this.load(senderId);
    const found = entry.keys.get(kid);
    if (found) return found;
    if (this.now() - entry.loadedAt > this.recheckMs) {
      // a key added since (by another process), or a changed JWKS URL
      entry = await this.load(senderId);
      const fresh = entry.keys.get(kid);
      if (fresh) return fresh;
    }
    if (!entry.jwksUrl) return undefined;
    let jwks = this.jwks.get(senderId);
    if (!jwks || jwks.url !== entry.jwksUrl) {
      jwks = { url: entry.jwksUrl };
      this.jwks.set(senderId, jwks);
    }
    const known = jwks.keys?.get(kid);
    const stale = jwks.fetchedAt === undefined || this.now() - jwks.fetchedAt > this.jwksMaxAgeMs;
    if (known && !stale) return known;
    const mayFetch = jwks.lastFetchAt === undefined || this.now() - jwks.lastFetchAt >= this.refetchIntervalMs;
    if (mayFetch || jwks.inflight) await this.refresh(senderId, jwks);
    return jwks.keys?.get(kid);
  }

  /** A `resolveKey` for `verifyMessage`, bound to the authenticated sender. */
  keyResolver(senderId: string): (kid: string) => Promise<KeyObject | undefined> {
    return (kid) => this.resolve(senderId, kid);
  }

  /** Drops what is cached for a sender (every sender without an argument): call after changing its keys. */
  forget(senderId?: string): void {
    if (senderId === undefined) {
      this.pem.clear();
      this.jwks.clear();
    } else {
      this.pem.delete(senderId);
      this.jwks.delete(senderId);
    }
  }

  private load(senderId: string): Promise<PemEntry> {
    const pending = this.loading.get(senderId);
    if (pending) return pending;
    const promise = (async () => {
      const [sender, rows] = await Promise.all([
        this.db.selectFrom('sender').select('jwks_url').where('id', '=', senderId).executeTakeFirst(),
        this.db
          .selectFrom('sender_key')
          .select(['kid', 'public_key_pem'])
          .where('sender_id', '=', senderId)
          .where('source', '=', 'pem')
          .where('revoked_at', 'is', null)
          .execute(),
      ]);
      const previous = this.pem.get(senderId);
      const keys = new Map<string, KeyObject>();
      for (const row of rows) {
        try {
          keys.set(row.kid, previous?.keys.get(row.kid) ?? createPublicKey(row.public_key_pem));
        } catch (error) {
          this.onError(senderId, error);
        }
      }
      const entry: PemEntry = { loadedAt: this.now(), keys, jwksUrl: sender?.jwks_url ?? null };
      this.pem.set(senderId, entry);
      return entry;
    })().finally(() => this.loading.delete(senderId));
    this.loading.set(senderId, promise);
    return promise;
  }

  /** One JWKS fetch per sender at a time; concurrent callers wait for the same one. */
  private refresh(senderId: string, jwks: JwksEntry): Promise<void> {
    if (jwks.inflight) return jwks.inflight;
    jwks.lastFetchAt = this.now();
    jwks.inflight = this.fetchAudited(senderId, jwks.url)
      .then((keys) => {
        jwks.keys = keys;
        jwks.fetchedAt = this.now();
      })
      .catch((error: unknown) => this.onError(senderId, error))
      .finally(() => {
        delete jwks.inflight;
      });
    return jwks.inflight;
  }

  /** Fetches a JWKS and records the fetch in the audit trail, whatever its outcome. */
  private async fetchAudited(senderId: string, url: string): Promise<Map<string, KeyObject>> {
    const receivedAt = new Date();
    let httpStatus: number | null = null;
    let failure: string | undefined;
    try {
      const fetched = await this.fetchJwks(url);
      httpStatus = fetched.status;
      return fetched.keys;
    } catch (error) {
      httpStatus = error instanceof JwksError ? error.httpStatus : null;
      failure =
        error instanceof OutboundError
          ? `${error.kind}: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
      throw error;
    } finally {
      if (this.audit) {
        try {
          await this.audit.record({
            direction: 'outbound',
            senderId: this.serverId,
            receiverId: senderId,
            action: 'jwks',
            path: url,
            status: failure === undefined ? 'succ' : 'err',
            reasonCode: failure === undefined ? null : failure.slice(0, 200),
            httpStatus,
            receivedAt,
          });
        } catch (error) {
          // The keys are still good; the caller logs the lost audit row.
          this.onError(senderId, error);
        }
      }
    }
  }

  private async fetchJwks(url: string): Promise<{ status: number; keys: Map<string, KeyObject> }> {
    const response = await getJson(url, {
      allowInsecure: this.allowInsecure,
      timeoutMs: this.fetchTimeoutMs,
      maxResponseBytes: this.maxJwksBytes,
      headers: { accept: 'application/jwk-set+json, application/json' },
      ...(this.lookup ? { lookup: this.lookup } : {}),
    });
    if (response.status !== 200) throw new JwksError(`JWKS ${url} answered HTTP ${response.status}`, response.status);
    let document = response.body;
    if (typeof document === 'string') {
      // Served with a non-JSON content type, or not JSON at all.
      try {
        document = JSON.parse(document);
      } catch {
        throw new JwksError(`JWKS ${url} is not JSON`, response.status);
      }
    }
    try {
      return { status: response.status, keys: keysFromJwks(document) };
    } catch (error) {
      throw new JwksError(`JWKS ${url}: ${(error as Error).message}`, response.status);
    }
  }
}
