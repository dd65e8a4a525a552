/**
 * The HTTP adapter of DCI endpoints: a thin layer that runs the engine's checks in contract
 * order, calls the handler, signs the answer and records the audit trail.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ack,
  callbackHeader,
  DciError,
  ErrorCode,
  signedBody,
  type Action,
  type SignatureAlgorithm,
} from '@opendci/protocol';
import { checkCallbackUrl } from '../delivery/outbound.js';
import type { KeyObject } from 'node:crypto';
import type { AuditTrail } from '../audit/audit.js';
import type { Config, Domain } from '../config.js';
import {
  authenticate,
  checkAllowed,
  checkFreshness,
  checkSenderId,
  checkShape,
  checkSignature,
  checkCallbackFreshness,
  type Caller,
  type SenderInfo,
  type Envelope,
  type InboundPorts,
  type InboundSettings,
} from '../engine/inbound.js';
import { uuid7 } from '../util/uuid7.js';
import { toDciError } from './errors.js';

export interface DciContext {
  correlationId: string;
  receivedAt: Date;
  domain?: Domain;
  action?: string;
  caller?: Caller;
  envelope?: Envelope;
  requestBody?: unknown;
  responseBody?: unknown;
  status?: string;
  reasonCode?: string;
  referenceIds?: string[];
  /** The handler wrote the audit row itself (async requests: in the transaction of their job). */
  audited?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    dci?: DciContext;
  }
}

export interface HandlerResult {
  message: object;
  status: 'succ' | 'rjct' | 'part';
  referenceIds: string[];
  totalCount?: number;
}

/** One sync endpoint: what it expects and the engine handler behind it. */
export interface SyncEndpoint {
  /** Relative to the domain prefix, e.g. `registry/sync/search`. */
  path: string;
  action: string;
  responseAction: Action;
  operation: string;
  validate(body: unknown): string | undefined;
  handle(
    envelope: Envelope,
    caller: Caller,
    context: { domain: Domain; correlationId: string },
  ): Promise<HandlerResult>;
}

export interface Signer {
  active(): { kid: string; algorithm: SignatureAlgorithm; privateKey: KeyObject };
}

export interface DciRouteDeps {
  config: Config;
  ports: InboundPorts;
  settings: InboundSettings;
  signer: Signer;
  audit: AuditTrail;
  /** Per-sender rate limit: seconds to wait, 0 = allowed. */
  rateLimit(senderId: string, perMinute: number | null): number;
}

/** The prefixes a domain is served at: `/D` always, and `''` for the default domain. */
export function prefixesOf(config: Config, domain: Domain): string[] {
  return domain === config.defaultDomain ? [`/${domain}`, ''] : [`/${domain}`];
}

export function registerDciAudit(app: FastifyInstance, deps: Pick<DciRouteDeps, 'audit'>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    // Our own answers are recorded as sent; only bodies rendered elsewhere (errors) are parsed back.
    if (request.dci && request.dci.responseBody === undefined) {
      try {
        request.dci.responseBody = typeof payload === 'string' ? JSON.parse(payload) : undefined;
      } catch {
        request.dci.responseBody = undefined;
      }
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const dci = request.dci;
    if (!dci || dci.audited) return;
    const header = dci.envelope?.header;
    const message = dci.envelope?.message;
    const criteria = Array.isArray(message?.search_request)
      ? (message.search_request as Record<string, unknown>[])
      : [];
    const first = criteria[0]?.search_criteria as Record<string, unknown> | undefined;
    try {
      await deps.audit.record({
        direction: 'inbound',
        senderId: dci.caller?.sender.id ?? null,
        receiverId: typeof header?.receiver_id === 'string' ? header.receiver_id : null,
        domain: dci.domain ?? null,
        action: dci.action ?? null,
        path: request.url.split('?')[0] ?? null,
        messageId: header?.message_id ?? null,
        transactionId: typeof message?.transaction_id === 'string' ? message.transaction_id : null,
        correlationId: dci.correlationId,
        referenceIds: dci.referenceIds ?? [],
        status: dci.status ?? (reply.statusCode < 400 ? 'succ' : 'err'),
        reasonCode: dci.reasonCode ?? null,
        httpStatus: reply.statusCode,
        receivedAt: dci.receivedAt,
        request: dci.requestBody,
        response: dci.responseBody,
        consent: first?.consent,
        authorize: first?.authorize,
      });
    } catch (error) {
      request.log.error({ err: error }, 'could not write the audit trail');
    }
  });
}

async function authenticateRequest(request: FastifyRequest, reply: FastifyReply, deps: DciRouteDeps): Promise<void> {
  // Time-ordered: the audit trail's and the kept answers' correlation-id indexes grow at their right edge.
  const receivedAt = new Date();
  request.dci = { correlationId: uuid7(receivedAt.getTime()), receivedAt };
  const caller = await authenticate(request.headers.authorization, deps.ports);
  request.dci.caller = caller;
  const wait = deps.rateLimit(caller.sender.id, caller.sender.rateLimitPerMinute);
  if (wait > 0) {
    throw new DciError(ErrorCode.RequestTooManyRequests, 'too many requests: slow down', { detail: String(wait) });
  }
  void reply;
}

/**
 * Checks 2–6 of contract §4 (1 ran in onRequest). A request consumes its `message_id` (a repeat is
 * refused) and needs its operation; a callback we receive may omit `message` when rejected, needs
 * no operation, and reports a repeated `message_id` as `fresh: false` instead of failing.
 */
async function checkMessage(
  request: FastifyRequest,
  deps: DciRouteDeps,
  domain: Domain,
  endpoint: { action: string; validate(body: unknown): string | undefined; operation?: string },
  kind: 'request' | 'callback',
): Promise<{ caller: Caller; envelope: Envelope; fresh: boolean }> {
  const dci = request.dci!;
  dci.domain = domain;
  dci.action = endpoint.action;
  dci.requestBody = request.body;
  const caller = dci.caller!;
  if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    throw new DciError(ErrorCode.RequestBad, 'the body must be JSON (Content-Type: application/json)', { status: 415 });
  }
  checkSenderId(request.body, caller);
  const envelope = checkShape(request.body, { ...endpoint, messageOptional: kind === 'callback' }, deps.settings);
  dci.envelope = envelope;
  const now = Date.now();
  await checkSignature(envelope, caller, deps.ports, deps.settings, now);
  if (kind === 'callback') {
    return { caller, envelope, fresh: await checkCallbackFreshness(envelope, caller, deps.ports, deps.settings, now) };
  }
  await checkFreshness(envelope, caller, deps.ports, deps.settings, now);
  checkAllowed(caller, endpoint.operation!, domain);
  return { caller, envelope, fresh: true };
}

/** A DCI POST route on every prefix of a domain: bearer first, then the handler, failures recorded. */
function dciRoute(
  app: FastifyInstance,
  deps: DciRouteDeps,
  domain: Domain,
  path: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  for (const prefix of prefixesOf(deps.config, domain)) {
    app.post(
      `${prefix}/${path}`,
      { onRequest: async (request, reply) => authenticateRequest(request, reply, deps) },
      async (request, reply) => guarded(request, () => handler(request, reply)),
    );
  }
}

/** Runs `fn`, recording a failure's code on the request before it is rendered. */
async function guarded<T>(request: FastifyRequest, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const dciError = toDciError(error);
    request.dci!.status = 'err';
    request.dci!.reasonCode = dciError.code;
    throw dciError;
  }
}

/** Registers a sync endpoint on every prefix of a domain. */
export function registerSyncEndpoint(
  app: FastifyInstance,
  deps: DciRouteDeps,
  domain: Domain,
  endpoint: SyncEndpoint,
): void {
  dciRoute(app, deps, domain, endpoint.path, async (request, reply) => {
    const dci = request.dci!;
    const { caller, envelope } = await checkMessage(request, deps, domain, endpoint, 'request');
    const result = await endpoint.handle(envelope, caller, { domain, correlationId: dci.correlationId });
    dci.status = result.status;
    dci.referenceIds = result.referenceIds;
    const items = result.totalCount ?? result.referenceIds.length;
    const header = callbackHeader({
      action: endpoint.responseAction,
      senderId: deps.config.serverId,
      receiverId: caller.sender.id,
      status: result.status === 'part' ? 'succ' : result.status,
      totalCount: items,
      completedCount: items,
    });
    const key = deps.signer.active();
    const { signature, body } = signedBody(
      { header, message: result.message },
      { senderId: deps.config.serverId, kid: key.kid, algorithm: key.algorithm, privateKey: key.privateKey },
    );
    dci.responseBody = { signature, header, message: result.message };
    return reply.code(200).type('application/json; charset=utf-8').send(body);
  });
}

/** One async endpoint: checked like a sync one, then acknowledged and queued. */
export interface AsyncEndpoint {
  path: string;
  action: string;
  operation: string;
  validate(body: unknown): string | undefined;
  /**
   * Writes what the request needs to run later (the transaction row, a job), inside the
   * transaction the caller opened: the ACK is sent only once they are committed.
   */
  accept(input: AsyncAcceptInput): Promise<void>;
}

export interface AsyncAcceptInput {
  envelope: Envelope;
  caller: Caller;
  domain: Domain;
  correlationId: string;
  callbackUrl?: string;
}

/** Registers an async endpoint: checks 1–7, then 202 with an ACK carrying the correlation id. */
export function registerAsyncEndpoint(
  app: FastifyInstance,
  deps: DciRouteDeps,
  domain: Domain,
  endpoint: AsyncEndpoint,
): void {
  dciRoute(app, deps, domain, endpoint.path, async (request, reply) => {
    const dci = request.dci!;
    const { caller, envelope } = await checkMessage(request, deps, domain, endpoint, 'request');
    // (7) the callback URL: present but invalid or not allowed is refused; absent = no callback.
    const senderUri = envelope.header.sender_uri as string | null | undefined; // a string: the schema checked it
    let callbackUrl: string | undefined;
    if (senderUri !== undefined && senderUri !== null) {
      checkCallbackUrl(senderUri, { allowInsecure: deps.config.allowInsecureCallbacks, sender: caller.sender });
      // Posted exactly as given (brief §12 item 3): the check only vets it.
      callbackUrl = senderUri;
    }
    await endpoint.accept({
      envelope,
      caller,
      domain,
      correlationId: dci.correlationId,
      ...(callbackUrl ? { callbackUrl } : {}),
    });
    dci.status = 'pdng';
    dci.audited = true;
    return reply.code(202).send(ack({ correlationId: dci.correlationId }));
  });
}

/** What this server does with a callback another registry posts to it (a later issue fills it). */
export type CallbackHandler = (input: {
  domain: Domain;
  action: string;
  envelope: Envelope;
  sender: SenderInfo;
}) => Promise<void>;

/**
 * Registers a callback receiver (`on-search`, `on-subscribe`, `on-unsubscribe`, `txn/on-status`,
 * `notify`): bearer and signature policy as for requests, validation, then 200 with an ACK. A
 * duplicate `message_id` is ACKed without being handled again (never 409); callbacks need only an
 * active sender, no operation.
 */
export function registerCallbackEndpoint(
  app: FastifyInstance,
  deps: DciRouteDeps,
  domain: Domain,
  endpoint: { path: string; action: string; validate(body: unknown): string | undefined },
  handle: CallbackHandler,
): void {
  dciRoute(app, deps, domain, endpoint.path, async (request, reply) => {
    const dci = request.dci!;
    const { caller, envelope, fresh } = await checkMessage(request, deps, domain, endpoint, 'callback');
    if (fresh) await handle({ domain, action: endpoint.action, envelope, sender: caller.sender });
    dci.status = fresh ? 'rcvd' : 'duplicate';
    return reply.code(200).send(ack({ correlationId: dci.correlationId }));
  });
}
