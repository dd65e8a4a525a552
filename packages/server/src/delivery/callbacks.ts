/**
 * Delivering a callback (on-search, …): one job per message. Every attempt re-signs the message
 * with a fresh `message_ts` and the same `message_id`, POSTs it to the URL exactly as the sender
 * gave it, and is recorded in the audit trail. A failed attempt throws, and the job queue retries
 * with exponential backoff and jitter, then dead-letters. When the receiver has callback auth
 * (`dci senders … --callback-token` or `--callback-token-url …`), every POST carries its bearer
 * token.
 */
import { createHash } from 'node:crypto';
import { callbackHeader, signMessage, type Action, type RequestStatus } from '@opendci/protocol';
import type { AuditTrail } from '../audit/audit.js';
import type { Signer } from '../http/dci.js';
import type { CallbackCredentials } from '../security/senders.js';
import { postForm, postJson, OutboundError, type HostLookup, type OutboundResponse } from './outbound.js';

export interface CallbackJob {
  url: string;
  /** The sender the callback answers (its `receiver_id`). */
  receiverId: string;
  domain: string;
  action: Action;
  status: RequestStatus;
  totalCount: number;
  completedCount: number;
  /** Fixed for every attempt: receivers drop duplicates by it. */
  messageId: string;
  transactionId: string;
  correlationId: string;
  message: Record<string, unknown>;
  /** `header.meta` (a notification names its subscription there). */
  meta?: Record<string, unknown>;
  /** The number of this job's first attempt (2 when the request job made the first one itself). */
  firstAttempt?: number;
}

export interface CallbackDeps {
  serverId: string;
  signer: Signer;
  audit: AuditTrail;
  allowInsecure: boolean;
  timeoutMs: number;
  lookup?: HostLookup;
  /**
   * The receiver's callback auth (`sender.callback_auth`, secrets decrypted), or null/undefined
   * for none: then callbacks carry no Authorization header.
   */
  callbackAuth?: (receiverId: string) => Promise<CallbackCredentials | null | undefined>;
  /** Where OAuth2 callback tokens are cached; default: one cache for the whole process. */
  callbackTokens?: CallbackTokenCache;
}

export class CallbackFailed extends Error {}

/** Getting a token from a receiver's token endpoint failed; the message never holds a secret. */
export class CallbackTokenError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.name = 'CallbackTokenError';
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth2 client credentials towards the receiver

type OAuth2Credentials = Extract<CallbackCredentials, { kind: 'oauth2' }>;

/** A token as the token endpoint gave it. */
export interface FetchedToken {
  accessToken: string;
  /** Seconds, from `expires_in` (DEFAULT_TOKEN_LIFETIME_SECONDS when absent). */
  expiresIn: number;
}

/** Lifetime assumed when a token endpoint does not say (`expires_in` is only RECOMMENDED). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
/** A cached token is dropped this long before it expires (at most half its lifetime). */
export const TOKEN_EXPIRY_MARGIN_MS = 30_000;

/** Visible ASCII without spaces, as the token travels in an Authorization header. */
const TOKEN68 = /^[\x21-\x7e]{1,8192}$/;

/** The `error` code of an OAuth2 error answer, made safe to log (never its description). */
function oauthErrorCode(body: unknown): string {
  const code = (body as { error?: unknown } | null)?.error;
  return typeof code === 'string' && /^[\x20-\x7e]{1,64}$/.test(code) && !code.includes('"') ? ` (${code})` : '';
}

/**
 * Asks the receiver's token endpoint for an access token: client credentials grant, the client
 * authenticated with `client_id` and `client_secret` in the form body (`client_secret_post`),
 * under the outbound-safety rules. Throws CallbackTokenError or OutboundError.
 */
export async function requestCallbackToken(
  credentials: OAuth2Credentials,
  options: { allowInsecure: boolean; timeoutMs: number; lookup?: HostLookup },
): Promise<FetchedToken> {
  const answer = await postForm(
    credentials.tokenUrl,
    { grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret },
    {
      allowInsecure: options.allowInsecure,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: 64 * 1024,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    },
  );
  if (answer.status !== 200) {
    throw new CallbackTokenError(
      `the token endpoint answered ${answer.status}${oauthErrorCode(answer.body)}`,
      answer.status,
    );
  }
  const body = answer.body as { access_token?: unknown; token_type?: unknown; expires_in?: unknown } | null;
  if (!body || typeof body !== 'object') throw new CallbackTokenError('the token endpoint did not answer JSON', 200);
  if (typeof body.access_token !== 'string' || !TOKEN68.test(body.access_token)) {
    throw new CallbackTokenError('the token endpoint answered without a usable access_token', 200);
  }
  const type = body.token_type;
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
    throw new CallbackTokenError('the token endpoint gave a token that is not of type Bearer', 200);
  }
  const expiresIn = Number(body.expires_in ?? DEFAULT_TOKEN_LIFETIME_SECONDS);
  return {
    accessToken: body.access_token,
    expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SECONDS,
  };
}

interface CachedToken {
  token: string;
  /** Milliseconds: used until then. */
  useUntil: number;
}

/**
 * OAuth2 access tokens for callbacks, one per token endpoint, client id and client secret (a
 * changed secret gets a new token), kept until shortly before they expire. Concurrent callers
 * share one token request.
 */
export class CallbackTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  private key(credentials: OAuth2Credentials): string {
    const secret = createHash('sha256').update(credentials.clientSecret).digest('base64url');
    return `${credentials.tokenUrl}\n${credentials.clientId}\n${secret}`;
  }

  /** A valid cached token, or a new one from `fetch`. */
  async get(credentials: OAuth2Credentials, fetch: () => Promise<FetchedToken>): Promise<string> {
    const key = this.key(credentials);
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.useUntil) return cached.token;
    const inflight = this.pending.get(key);
    if (inflight) return inflight;
    const promise = (async () => {
      const fetchedAt = this.now();
      const fetched = await fetch();
      const lifetimeMs = fetched.expiresIn * 1000;
      const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 2);
      this.tokens.set(key, { token: fetched.accessToken, useUntil: fetchedAt + lifetimeMs - margin });
      return fetched.accessToken;
    })().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  /** Forgets `token` (the receiver refused it); a newer token cached meanwhile is kept. */
  invalidate(credentials: OAuth2Credentials, token: string): void {
    const key = this.key(credentials);
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }

  /** Forgets every token. */
  clear(): void {
    this.tokens.clear();
  }
}

/** The cache used when CallbackDeps names none. */
const processTokens = new CallbackTokenCache();

// ---------------------------------------------------------------------------------------------
// Delivery

/** True when the receiver has the message: 2xx, 409, or an answer saying it is a duplicate. */
export function delivered(status: number, body: unknown): boolean {
  if (status === 409) return true;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  if (text.includes('rjct.message_id.duplicate')) return true;
  if (status < 200 || status >= 300) return false;
  const ack = (body as { message?: { ack_status?: string } } | null)?.message?.ack_status;
  return ack !== 'ERR' && ack !== 'NACK';
}

function failureReason(error: unknown): string {
  if (error instanceof OutboundError) return `${error.kind}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Delivers one attempt of a callback. With callback auth configured for the receiver, the POST
 * carries `Authorization: Bearer …`: the static token, or an OAuth2 token from the receiver's
 * token endpoint (cached; on a 401 from the receiver it is dropped, a new one fetched and the
 * callback sent once more). Every POST and every token request is audited (token requests
 * without payloads). Throws CallbackFailed when the receiver does not have the message.
 */
export async function deliverCallback(job: CallbackJob, attempt: number, deps: CallbackDeps): Promise<void> {
  const receivedAt = new Date();
  const header = callbackHeader({
    action: job.action,
    senderId: deps.serverId,
    receiverId: job.receiverId,
    status: job.status,
    totalCount: job.totalCount,
    completedCount: job.completedCount,
    messageId: job.messageId,
    ...(job.meta ? { meta: job.meta } : {}),
  });
  const key = deps.signer.active();
  const signature = signMessage(
    { header, message: job.message },
    { senderId: deps.serverId, kid: key.kid, algorithm: key.algorithm, privateKey: key.privateKey },
  );
  const payload = { signature, header, message: job.message };
  const body = JSON.stringify(payload);
  const tokens = deps.callbackTokens ?? processTokens;
  const outbound = {
    allowInsecure: deps.allowInsecure,
    timeoutMs: deps.timeoutMs,
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  };

  const audit = (entry: {
    startedAt: Date;
    failure: string | undefined;
    httpStatus: number | null;
    response?: unknown;
  }) =>
    deps.audit.record({
      direction: 'outbound',
      senderId: deps.serverId,
      receiverId: job.receiverId,
      domain: job.domain,
      action: job.action,
      path: job.url,
      messageId: job.messageId,
      transactionId: job.transactionId,
      correlationId: job.correlationId,
      status: entry.failure ? 'failed' : 'delivered',
      reasonCode: entry.failure ? entry.failure.slice(0, 200) : null,
      httpStatus: entry.httpStatus,
      attempt,
      receivedAt: entry.startedAt,
      request: payload,
      response: entry.response,
    });

  /** A token from the cache or the receiver's token endpoint; each request to it is audited (no payload). */
  const oauthToken = (credentials: OAuth2Credentials) =>
    tokens.get(credentials, async () => {
      const startedAt = new Date();
      let httpStatus: number | null = null;
      let failure: string | undefined;
      try {
        const fetched = await requestCallbackToken(credentials, outbound);
        httpStatus = 200;
        return fetched;
      } catch (error) {
        httpStatus = error instanceof CallbackTokenError ? error.httpStatus : null;
        failure = failureReason(error);
        throw new CallbackTokenError(`callback token: ${failure}`, httpStatus);
      } finally {
        await deps.audit.record({
          direction: 'outbound',
          senderId: deps.serverId,
          receiverId: job.receiverId,
          domain: job.domain,
          action: 'token',
          path: credentials.tokenUrl,
          transactionId: job.transactionId,
          correlationId: job.correlationId,
          status: failure ? 'err' : 'succ',
          reasonCode: failure ? failure.slice(0, 200) : null,
          httpStatus,
          attempt,
          receivedAt: startedAt,
        });
      }
    });

  const post = (token: string | undefined): Promise<OutboundResponse> =>
    postJson(job.url, body, { ...outbound, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

  let startedAt = receivedAt;
  let httpStatus: number | null = null;
  let response: unknown;
  let failure: string | undefined;
  try {
    const auth = deps.callbackAuth ? await deps.callbackAuth(job.receiverId) : undefined;
    let token = !auth ? undefined : auth.kind === 'bearer' ? auth.token : await oauthToken(auth);
    let answer = await post(token);
    if (answer.status === 401 && auth?.kind === 'oauth2' && token !== undefined) {
      // The receiver no longer takes the token (revoked, rotated keys): fetch a new one, once.
      await audit({
        startedAt,
        failure: 'the receiver answered 401: retrying with a new token',
        httpStatus: 401,
        response: answer.body,
      });
      tokens.invalidate(auth, token);
      startedAt = new Date();
      token = await oauthToken(auth);
      answer = await post(token);
    }
    httpStatus = answer.status;
    response = answer.body;
    if (!delivered(answer.status, answer.body)) failure = `the receiver answered ${answer.status}`;
  } catch (error) {
    failure = failureReason(error);
  }
  await audit({ startedAt, failure, httpStatus, response });
  if (failure) throw new CallbackFailed(failure);
}
