/**
 * OAuth2 client credentials (contract.md §6): access tokens are JWTs signed with this server's
 * active key (EdDSA, or RS256 for an RSA key): `iss` = DCI_BASE_URL, `sub` = the sender id,
 * `aud` = DCI_SERVER_ID, `scope` = space-separated operations, lifetime 3600 s.
 *
 * verify() is stateless: it checks the token only. Whether the sender is still active is checked
 * by the request pipeline on every request (contract.md §4, step 2).
 */
import { randomUUID } from 'node:crypto';
import { DciError, ErrorCode } from '@opendci/protocol';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import { SENDER_OPERATIONS, type SenderOperation, type SenderStore } from './senders.js';
import type { ServerKeys } from './server-keys.js';

export const TOKEN_LIFETIME_SECONDS = 3600;
/** The JWT `typ` of our access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** An RFC 6749 §5.2 error: `status` and the `error` code of the JSON body. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_scope'
      | 'server_error',
    readonly description?: string,
  ) {
    super(description ?? error);
    this.name = 'OAuthError';
  }

  /** The response body: `{error, error_description?}`. */
  body(): { error: string; error_description?: string } {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }
}

export interface TokenRequest {
  clientId: string;
  clientSecret: string;
  /** Space-separated operations to narrow the token to; default all of the sender's. */
  scope?: string;
  /** When given, it must be `client_credentials`. */
  grantType?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface VerifiedToken {
  /** The sender id. */
  sub: string;
  scope: string[];
  /** Unix seconds. */
  exp: number;
  jti?: string;
}

export interface TokenServiceOptions {
  senders: SenderStore;
  serverKeys: ServerKeys;
  /** `iss`: DCI_BASE_URL. */
  issuer: string;
  /** `aud`: DCI_SERVER_ID. */
  audience: string;
  /** Default 3600. */
  lifetimeSeconds?: number;
  /** Verified tokens kept in memory (default 10,000). */
  cacheSize?: number;
  /** Allowance for clock differences between nodes, in seconds (default 30). */
  clockToleranceSeconds?: number;
  /** Clock, milliseconds (tests). */
  now?: () => number;
}

const INVALID_CLIENT = 'client authentication failed';

function unauthorized(message: string, detail: string, cause?: unknown): DciError {
  return new DciError(ErrorCode.RequestUnauthorized, message, { detail, ...(cause === undefined ? {} : { cause }) });
}

/**
 * One requested scope item as an operation: `search`, or the spec's indicative spellings
 * `registry.search` / `registry/search`.
 */
function scopeItem(item: string): string {
  return item.replace(/^registry[./]/, '');
}

export class TokenService {
  private readonly senders: SenderStore;
  private readonly serverKeys: ServerKeys;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly lifetime: number;
  private readonly cacheSize: number;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(options: TokenServiceOptions) {
    this.senders = options.senders;
    this.serverKeys = options.serverKeys;
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.lifetime = options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.tolerance = options.clockToleranceSeconds ?? 30;
    this.now = options.now ?? Date.now;
  }

  /** `iss` = config.baseUrl, `aud` = config.serverId. */
  static fromConfig(
    config: Pick<Config, 'baseUrl' | 'serverId'>,
    senders: SenderStore,
    serverKeys: ServerKeys,
    options: Partial<TokenServiceOptions> = {},
  ): TokenService {
    return new TokenService({ ...options, senders, serverKeys, issuer: config.baseUrl, audience: config.serverId });
  }

  /**
   * Issues an access token to an active sender whose secret matches. An unknown client, an
   * inactive one and a wrong secret get the same `invalid_client` (401).
   */
  async issue(request: TokenRequest): Promise<TokenResponse> {
    if (request.grantType !== undefined && request.grantType !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
    }
    if (typeof request.clientId !== 'string' || request.clientId === '') {
      throw new OAuthError(401, 'invalid_client', INVALID_CLIENT);
    }
    if (typeof request.clientSecret !== 'string' || request.clientSecret === '') {
      throw new OAuthError(401, 'invalid_client', INVALID_CLIENT);
    }
    const sender = await this.senders.authenticate(request.clientId, request.clientSecret);
    if (!sender || !sender.active) throw new OAuthError(401, 'invalid_client', INVALID_CLIENT);
    const requested = this.requestedScope(request.scope);

    let granted: SenderOperation[] = sender.operations;
    if (requested) {
      const missing = requested.filter((op) => !sender.operations.includes(op));
      if (missing.length) {
        throw new OAuthError(400, 'invalid_scope', `scope not granted to this client: ${missing.join(' ')}`);
      }
      granted = sender.operations.filter((op) => requested.includes(op));
    }
    const scope = granted.join(' ');
    const key = this.serverKeys.active();
    const iat = Math.floor(this.now() / 1000);
    const accessToken = await new SignJWT({ scope })
      .setProtectedHeader({
        alg: key.algorithm === 'ed25519' ? 'EdDSA' : 'RS256',
        kid: key.kid,
        typ: ACCESS_TOKEN_TYPE,
      })
      .setIssuer(this.issuer)
      .setSubject(sender.id)
      .setAudience(this.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.lifetime)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.lifetime, scope };
  }

  /**
   * Checks a bearer token (with or without the `Bearer ` prefix): signature by one of our active
   * or retiring keys (by `kid`), `typ`, `iss`, `aud`, `exp`. Throws `err.request.unauthorized`.
   */
  async verify(bearer: string): Promise<VerifiedToken> {
    const token = typeof bearer === 'string' ? bearer.replace(/^\s*bearer\s+/i, '').trim() : '';
    if (token === '') throw unauthorized('no bearer token', 'missing');
    const nowSeconds = this.now() / 1000;
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.exp > nowSeconds) return cached;
      this.cache.delete(token);
    }
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch (error) {
      throw unauthorized('malformed bearer token', 'malformed', error);
    }
    const key = kid === undefined ? undefined : await this.serverKeys.findVerificationKey(kid);
    if (!key) throw unauthorized('bearer token signed by an unknown key', 'unknown_kid');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA', 'RS256'],
        issuer: this.issuer,
        audience: this.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: this.tolerance,
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('the bearer token has expired', 'expired', error);
      throw unauthorized('invalid bearer token', 'invalid', error);
    }
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
      throw unauthorized('invalid bearer token', 'invalid');
    }
    const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    const verified: VerifiedToken = {
      sub: payload.sub,
      scope,
      exp: payload.exp,
      ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
    };
    this.remember(token, verified);
    return verified;
  }

  private remember(token: string, verified: VerifiedToken): void {
    if (this.cache.size >= this.cacheSize) {
      const nowSeconds = this.now() / 1000;
      for (const [t, v] of this.cache) if (v.exp <= nowSeconds) this.cache.delete(t);
      // Still full: drop the oldest entries (Map keeps insertion order).
      for (const t of this.cache.keys()) {
        if (this.cache.size < this.cacheSize) break;
        this.cache.delete(t);
      }
    }
    this.cache.set(token, verified);
  }

  private requestedScope(scope: string | undefined): SenderOperation[] | undefined {
    if (scope === undefined) return undefined;
    if (typeof scope !== 'string') throw new OAuthError(400, 'invalid_request', 'scope must be a string');
    if (scope.trim() === '') return undefined;
    const items = scope.split(/\s+/).filter(Boolean).map(scopeItem);
    const unknown = items.filter((item) => !(SENDER_OPERATIONS as readonly string[]).includes(item));
    if (unknown.length) throw new OAuthError(400, 'invalid_scope', `unknown scope: ${unknown.join(' ')}`);
    return items as SenderOperation[];
  }
}
