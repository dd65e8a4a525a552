/**
 * Finds the public key a sender signed with: its PEM keys registered in `sender_key`, else the
 * keys of its JWKS URL (RFC 7517). Keys are cached as KeyObjects; a JWKS is fetched again on an
 * unknown `kid` at most once per `refetchIntervalMs` per sender, and when older than `jwksMaxAgeMs`.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from '@opendci/protocol';
import type { Kysely } from 'kysely';
import { request } from 'undici';
import type { DB } from '../db/schema.js';

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
    jwks.inflight = this.fetchJwks(jwks.url)
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

  private async fetchJwks(url: string): Promise<Map<string, KeyObject>> {
    const timeout = this.fetchTimeoutMs;
    const response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`JWKS ${url} answered HTTP ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > this.maxJwksBytes) {
        response.body.destroy();
        throw new Error(`JWKS ${url} is larger than ${this.maxJwksBytes} bytes`);
      }
      chunks.push(buffer);
    }
    let document: unknown;
    try {
      document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new Error(`JWKS ${url} is not JSON`);
    }
    return keysFromJwks(document);
  }
}
