/**
 * The HTTP adapter of DCI endpoints: a thin layer that runs the engine's checks in contract
 * order, calls the handler, signs the answer and records the audit trail.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  callbackHeader,
  DciError,
  ErrorCode,
  signMessage,
  type Action,
  type SignatureAlgorithm,
} from '@opendci/protocol';
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
  type Caller,
  type Envelope,
  type InboundPorts,
  type InboundSettings,
} from '../engine/inbound.js';
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
    if (request.dci) {
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
    if (!dci) return;
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
  request.dci = { correlationId: randomUUID(), receivedAt: new Date() };
  const caller = await authenticate(request.headers.authorization, deps.ports);
  request.dci.caller = caller;
  const wait = deps.rateLimit(caller.sender.id, caller.sender.rateLimitPerMinute);
  if (wait > 0) {
    throw new DciError(ErrorCode.RequestTooManyRequests, 'too many requests: slow down', { detail: String(wait) });
  }
  void reply;
}

/** Registers a sync endpoint on every prefix of a domain. */
export function registerSyncEndpoint(
  app: FastifyInstance,
  deps: DciRouteDeps,
  domain: Domain,
  endpoint: SyncEndpoint,
): void {
  for (const prefix of prefixesOf(deps.config, domain)) {
    app.post(
      `${prefix}/${endpoint.path}`,
      {
        onRequest: async (request, reply) => authenticateRequest(request, reply, deps),
      },
      async (request, reply) => {
        const dci = request.dci!;
        dci.domain = domain;
        dci.action = endpoint.action;
        dci.requestBody = request.body;
        try {
          const caller = dci.caller!;
          if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
            throw new DciError(ErrorCode.RequestBad, 'the body must be JSON (Content-Type: application/json)', {
              status: 415,
            });
          }
          checkSenderId(request.body, caller);
          const envelope = checkShape(request.body, endpoint, deps.settings);
          dci.envelope = envelope;
          const now = Date.now();
          await checkSignature(envelope, caller, deps.ports, deps.settings, now);
          await checkFreshness(envelope, caller, deps.ports, deps.settings, now);
          checkAllowed(caller, endpoint.operation, domain);
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
          const signature = signMessage(
            { header, message: result.message },
            { senderId: deps.config.serverId, kid: key.kid, algorithm: key.algorithm, privateKey: key.privateKey },
          );
          return reply.code(200).send({ signature, header, message: result.message });
        } catch (error) {
          const dciError = toDciError(error);
          dci.status = 'err';
          dci.reasonCode = dciError.code;
          throw dciError;
        }
      },
    );
  }
}
