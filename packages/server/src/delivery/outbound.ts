/**
 * Outbound HTTP to URLs our callers give us (`header.sender_uri`, notify URIs, a sender's
 * callback token endpoint and JWKS URL; postJson, postForm, getJson): the rules of
 * architecture §7 and contract §1–§2. A target must be an absolute http(s) URL without
 * credentials; https unless `allowInsecure` (DCI_ALLOW_INSECURE_CALLBACKS); every address its host
 * resolves to must be public (address.ts) unless `allowInsecure`; the connection goes to exactly
 * the addresses that were vetted (no second DNS lookup, so DNS rebinding cannot swap them), TLS
 * still verifies the certificate against the URL's host name (SNI = that name), redirects are
 * never followed, every phase is timed out, and response bodies are bounded and always consumed
 * or destroyed.
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import { DciError, ErrorCode } from '@opendci/protocol';
import { Agent, request } from 'undici';
import { callbackAllowed } from '../security/senders.js';
import { classifyAddress, isCallableAddress, NEVER_CALLABLE } from './address.js';

/** Largest response body read (1 MiB); more is `too_large`. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Default deadline of one outbound call (connect, headers and body together). */
export const DEFAULT_OUTBOUND_TIMEOUT_MS = 10_000;
/** Longest URL accepted as a target. */
export const MAX_URL_LENGTH = 2048;

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Why an outbound call failed: `refused` (the target breaks a safety rule; nothing was sent),
 * `timeout` (DNS, connect, headers or body over the deadline), `network` (DNS failure, refused
 * connection, TLS or protocol error), `too_large` (response body over the limit).
 */
export type OutboundErrorKind = 'refused' | 'timeout' | 'network' | 'too_large';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

// ---------------------------------------------------------------------------------------------
// URL rules

const LOCALHOST_NAME = /(^|\.)localhost\.?$/i;
const WHITESPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/; // eslint-disable-line no-control-regex

/** The URL's host without IPv6 brackets. */
function bareHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Why an address may not be called, or undefined when it may. */
function addressProblem(address: string, allowInsecure: boolean): string | undefined {
  if (isCallableAddress(address, allowInsecure)) return undefined;
  const { class: cls } = classifyAddress(address);
  const what = cls === 'invalid' ? 'an invalid' : `a${/^[aeiou]/.test(cls) ? 'n' : ''} ${cls}`;
  const hint = NEVER_CALLABLE.has(cls) ? '' : ' (allowed only with DCI_ALLOW_INSECURE_CALLBACKS)';
  return `${address} is ${what} address${hint}`;
}

/**
 * The safety rules that need no DNS: the parsed URL, or the reason it is refused. A host that is
 * an IP literal (in any form URL parsing accepts, e.g. `0x7f.1`) or a `localhost` name is judged
 * here; other host names when resolved, at send time.
 */
function checkUrlRules(input: string | URL, allowInsecure: boolean): { url: URL } | { reason: string } {
  const text = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  if (text === undefined) return { reason: 'the URL must be a string' };
  if (text.length > MAX_URL_LENGTH) return { reason: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  if (WHITESPACE_OR_CONTROL.test(text)) return { reason: 'the URL must not contain whitespace or control characters' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { reason: 'the URL must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { reason: 'the URL must use https' };
  if (url.username !== '' || url.password !== '') return { reason: 'the URL must not carry credentials' };
  if (url.protocol === 'http:' && !allowInsecure) {
    return { reason: 'the URL must use https (http is allowed only with DCI_ALLOW_INSECURE_CALLBACKS)' };
  }
  const host = bareHost(url);
  if (host === '') return { reason: 'the URL has no host' };
  if (classifyAddress(host).family !== 0) {
    const problem = addressProblem(host, allowInsecure);
    if (problem) return { reason: `the URL's host ${problem}` };
  } else if (LOCALHOST_NAME.test(host) && !allowInsecure) {
    return { reason: 'the URL must not name localhost (allowed only with DCI_ALLOW_INSECURE_CALLBACKS)' };
  }
  return { url };
}

export interface CallbackUrlOptions {
  /** DCI_ALLOW_INSECURE_CALLBACKS: allow http and loopback/private IP literals. */
  allowInsecure: boolean;
  /** When given, its `callbackAllow` patterns must match (an empty list allows any URL). */
  sender?: { readonly callbackAllow: readonly string[] };
}

/**
 * Checks a `sender_uri` (or notify URI) when it is received: the parsed URL, or a
 * DciError `err.sender_uri.invalid` (400) with the reason. The safety rules come first and the
 * sender's allow-list never bypasses them; host names are resolved and vetted later, by postJson.
 */
export function checkCallbackUrl(url: string, options: CallbackUrlOptions): URL {
  const checked = checkUrlRules(url, options.allowInsecure);
  if ('reason' in checked) throw new DciError(ErrorCode.SenderUriInvalid, `sender_uri: ${checked.reason}`);
  if (options.sender && !callbackAllowed(options.sender, checked.url.href)) {
    throw new DciError(ErrorCode.SenderUriInvalid, "sender_uri: the URL is not in the sender's callback allow-list");
  }
  return checked.url;
}

// ---------------------------------------------------------------------------------------------
// Resolution and pinning

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Resolves a host name to all its addresses (default: node:dns lookup, all, in resolver order). */
export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The addresses to connect to, each vetted; refuses when any one is not allowed. */
async function resolveTarget(host: string, allowInsecure: boolean, lookup: HostLookup): Promise<ResolvedAddress[]> {
  const literal = classifyAddress(host);
  if (literal.family !== 0) return [{ address: host, family: literal.family }];
  let found: readonly ResolvedAddress[];
  try {
    found = await lookup(host);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new OutboundError('network', `cannot resolve ${host}${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: error,
    });
  }
  if (!Array.isArray(found) || found.length === 0) throw new OutboundError('network', `${host} has no address`);
  const addresses: ResolvedAddress[] = [];
  for (const entry of found as readonly ResolvedAddress[]) {
    const address = String(entry?.address);
    const problem = addressProblem(address, allowInsecure);
    if (problem) throw new OutboundError('refused', `${host} resolves to ${problem}`);
    addresses.push({ address, family: classifyAddress(address).family });
  }
  return addresses;
}

/**
 * A `lookup` for net/tls.connect that answers only for `host`, with the vetted addresses: the
 * socket connects to exactly what was checked, while the URL (Host header, SNI, certificate
 * check) keeps the name.
 */
function pinnedLookup(host: string, addresses: readonly ResolvedAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const wanted =
      options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    const first = usable[0];
    if (hostname.toLowerCase() !== host.toLowerCase() || first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no vetted address for ${hostname}`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }
    if (options.all)
      callback(
        null,
        usable.map((a): LookupAddress => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };
}

// ---------------------------------------------------------------------------------------------
// postJson

export interface PostJsonOptions {
  /** Request headers (e.g. Authorization, Signature). `host` and hop-by-hop headers are ignored. */
  headers?: Record<string, string>;
  /** Deadline for the whole call: DNS, connect, headers and body (default 10 s). */
  timeoutMs?: number;
  /** DCI_ALLOW_INSECURE_CALLBACKS: allow http and loopback/private targets. */
  allowInsecure: boolean;
  /** Host name resolution (tests); default node:dns lookup of all addresses. */
  lookup?: HostLookup;
  /** Largest response body read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  /** Any status, 3xx included: redirects are never followed. */
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON when the response is JSON (or untyped) and parses; the text otherwise. */
  body: unknown;
}

const DROPPED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);

function requestHeaders(
  defaults: Record<string, string>,
  given: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { ...defaults };
  for (const [name, value] of Object.entries(given ?? {})) {
    const key = name.toLowerCase();
    if (!DROPPED_HEADERS.has(key)) headers[key] = value;
  }
  return headers;
}

function isJsonType(contentType: string | string[] | undefined): boolean {
  if (contentType === undefined) return true;
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)?.split(';')[0]?.trim().toLowerCase();
  return type === undefined || type === '' || type === 'application/json' || type.endsWith('+json');
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  if (text === '' || !isJsonType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function toOutboundError(error: unknown, timedOut: boolean, timeoutMs: number): OutboundError {
  if (error instanceof OutboundError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (timedOut || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    return new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`, { cause: error });
  }
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new OutboundError('too_large', 'the response body is too large', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OutboundError('network', typeof code === 'string' ? `${code}: ${message}` : message, { cause: error });
}

/**
 * POSTs JSON to a callback URL under the outbound-safety rules (see the file comment) and
 * returns the answer, whatever its status. `body` is sent as is when it is a string (already
 * serialized, e.g. the exact bytes that were signed), otherwise as JSON.stringify(body).
 * Throws OutboundError; `refused` means no connection was attempted.
 */
export async function postJson(url: string | URL, body: unknown, options: PostJsonOptions): Promise<OutboundResponse> {
  const payload = typeof body === 'string' ? body : (JSON.stringify(body) as string | undefined);
  if (payload === undefined) throw new TypeError('postJson: the body cannot be serialized as JSON');
  return send('POST', url, payload, { 'content-type': 'application/json', accept: 'application/json' }, options);
}

/**
 * POSTs an `application/x-www-form-urlencoded` body (e.g. an OAuth2 token request) under the
 * same rules as postJson; the answer is parsed as postJson's is.
 */
export async function postForm(
  url: string | URL,
  fields: Readonly<Record<string, string>>,
  options: PostJsonOptions,
): Promise<OutboundResponse> {
  const payload = new URLSearchParams(Object.entries(fields)).toString();
  return send(
    'POST',
    url,
    payload,
    { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    options,
  );
}

/** GETs a JSON document (e.g. a sender's JWKS) under the same rules as postJson. */
export async function getJson(url: string | URL, options: PostJsonOptions): Promise<OutboundResponse> {
  return send('GET', url, undefined, { accept: 'application/json' }, options);
}

async function send(
  method: 'GET' | 'POST',
  url: string | URL,
  payload: string | undefined,
  defaultHeaders: Record<string, string>,
  options: PostJsonOptions,
): Promise<OutboundResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OUTBOUND_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TypeError(`timeoutMs must be positive (got ${timeoutMs})`);
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const allowInsecure = options.allowInsecure === true;
  const checked = checkUrlRules(url, allowInsecure);
  if ('reason' in checked) throw new OutboundError('refused', checked.reason);
  const target = checked.url;
  const host = bareHost(target);

  let timedOut = false;
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort(new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const addresses = await Promise.race([
      resolveTarget(host, allowInsecure, options.lookup ?? systemLookup),
      new Promise<never>((_, reject) => {
        const onAbort = (): void => reject(deadline.signal.reason as Error);
        if (deadline.signal.aborted) onAbort();
        else deadline.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    const agent = agentFor(target, host, addresses, timeoutMs);
    const response = await request(target, {
      method,
      ...(payload === undefined ? {} : { body: payload }),
      headers: requestHeaders(defaultHeaders, options.headers),
      dispatcher: agent,
      signal: deadline.signal,
    });
    let consumed = false;
    try {
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        throw new OutboundError('too_large', `the response body is ${declared} bytes (limit ${maxBytes})`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > maxBytes) throw new OutboundError('too_large', `the response body exceeds ${maxBytes} bytes`);
        chunks.push(buffer);
      }
      consumed = true;
      const text = Buffer.concat(chunks).toString('utf8');
      return {
        status: response.statusCode,
        headers: response.headers,
        body: parseBody(text, response.headers['content-type']),
      };
    } finally {
      // Abandoned (too large, timed out): destroying closes the socket. Read to the end, the
      // connection goes back to the agent for the next call.
      if (!consumed && !response.body.destroyed) response.body.destroy();
    }
  } catch (error) {
    throw toOutboundError(error, timedOut, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

/** Agents kept (least recently used dropped first); each holds keep-alive connections to one origin. */
const MAX_AGENTS = 64;
const KEEP_ALIVE_MS = 4_000;
const agents = new Map<string, Agent>();

/**
 * The agent for an origin at the addresses just vetted for it. Its connections go only to those
 * addresses (the lookup is pinned to them), and it is found again only while the host still
 * resolves to exactly them: a host that now resolves elsewhere gets a new agent, so a kept
 * connection never outlives the check that allowed it. Reusing connections spares a TCP (and TLS)
 * handshake per callback to a busy receiver. Idle connections close after KEEP_ALIVE_MS and never
 * keep the process alive.
 */
function agentFor(target: URL, host: string, addresses: readonly ResolvedAddress[], timeoutMs: number): Agent {
  const key = `${target.origin} ${timeoutMs} ${addresses.map((a) => `${a.address}/${a.family}`).join(',')}`;
  let agent = agents.get(key);
  if (agent) {
    agents.delete(key);
    agents.set(key, agent);
    return agent;
  }
  agent = new Agent({
    connect: { timeout: timeoutMs, lookup: pinnedLookup(host, addresses) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    connections: 16,
    pipelining: 1,
  });
  agents.set(key, agent);
  if (agents.size > MAX_AGENTS) {
    const [oldest, old] = agents.entries().next().value as [string, Agent];
    agents.delete(oldest);
    void old.close().catch(() => undefined);
  }
  return agent;
}
