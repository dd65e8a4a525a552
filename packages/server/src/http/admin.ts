/**
 * The admin API (contract §3), mounted at `/admin/api`: subscriptions (list, show, suspend,
 * resume, delete) and the notification outbox (deliveries). Every route needs a bearer token of an
 * active sender holding the `admin` operation (in its registration and in the token's scope):
 * 401 `err.request.unauthorized` without a valid token, 403 `err.request.forbidden` otherwise.
 * Failures use the DCI error body of the app's error renderer; answers are plain JSON.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DciError, ErrorCode } from '@opendci/protocol';
import type { SubscriptionStatus } from '../db/schema.js';
import {
  SubscriptionError,
  type DeliveryStatus,
  type Subscription,
  type SubscriptionStore,
} from '../subscriptions/store.js';

export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ['active', 'suspended', 'unsubscribed', 'expired'];
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];
/** Largest `limit` of `GET /admin/api/deliveries`. */
export const MAX_DELIVERIES = 1000;

export interface AdminRoutesOptions {
  subscriptions: SubscriptionStore;
  /** Verifies a bearer token; throws DciError(err.request.unauthorized). */
  verifyToken(token: string): Promise<{ sub: string; scope: readonly string[] }>;
  /** The sender as stored now (not cached: a disabled operator loses access at once). */
  sender(id: string): Promise<{ id: string; active: boolean; operations: readonly string[] } | undefined>;
}

const bad = (message: string) => new DciError(ErrorCode.RequestBad, message);

/** One optional query value: absent, or a single non-empty string. */
function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(`query parameter ${name} must be given once`);
  if (value === '') throw bad(`query parameter ${name} must not be empty`);
  return value;
}

function oneOf<T extends string>(request: FastifyRequest, name: string, allowed: readonly T[]): T | undefined {
  const value = queryValue(request, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw bad(`query parameter ${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function limitOf(request: FastifyRequest): number | undefined {
  const value = queryValue(request, 'limit');
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_DELIVERIES) {
    throw bad(`query parameter limit must be an integer from 1 to ${MAX_DELIVERIES} (got "${value}")`);
  }
  return n;
}

/** Store failures as HTTP: unknown code 404, a change the state does not allow 409. */
function storeFailure(error: unknown, verb?: string): unknown {
  if (!(error instanceof SubscriptionError)) return error;
  if (error.kind === 'not-found') return new DciError(ErrorCode.RequestNotFound, error.message);
  return new DciError(ErrorCode.RequestBad, verb ? `cannot ${verb}: ${error.message}` : error.message, {
    status: 409,
  });
}

async function mapped<T>(work: () => Promise<T>, verb?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storeFailure(error, verb);
  }
}

export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const store = options.subscriptions;
  app.decorateRequest('adminId', undefined);

  // The routes take no body; an empty one is accepted even when labelled JSON (a common client habit).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(bad('the request body is not valid JSON'), undefined);
    }
  });

  // Bearer first, then an active sender holding `admin` (as the DCI routes check operations).
  app.addHook('onRequest', async (request) => {
    const authorization = request.headers.authorization;
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) {
      throw new DciError(ErrorCode.RequestUnauthorized, 'a bearer token is required (Authorization: Bearer …)');
    }
    const token = await options.verifyToken(match[1]!);
    const sender = await options.sender(token.sub);
    if (!sender) throw new DciError(ErrorCode.RequestUnauthorized, 'the token names an unknown client');
    if (!sender.active) throw new DciError(ErrorCode.RequestForbidden, 'this sender is not active');
    if (!sender.operations.includes('admin') || !token.scope.includes('admin')) {
      throw new DciError(ErrorCode.RequestForbidden, 'the admin API needs the admin operation');
    }
    request.adminId = sender.id;
  });

  /** A subscription with its pending count (what suspend/resume return lacks it). */
  const current = async (changed: Subscription) => (await store.get(changed.code)) ?? changed;

  app.get('/subscriptions', async (request) => {
    const senderId = queryValue(request, 'sender');
    const status = oneOf(request, 'status', SUBSCRIPTION_STATUSES);
    const subscriptions = await store.list({
      ...(senderId === undefined ? {} : { senderId }),
      ...(status === undefined ? {} : { status }),
    });
    return { subscriptions };
  });

  app.get<{ Params: { code: string } }>('/subscriptions/:code', async (request) =>
    mapped(() => store.require(request.params.code)),
  );

  app.post<{ Params: { code: string } }>('/subscriptions/:code/suspend', async (request) => {
    const { code } = request.params;
    const suspended = await mapped(
      () => store.suspend(code, `suspended by ${request.adminId ?? 'an admin'} (admin API)`),
      'suspend',
    );
    request.log.info({ subscription: code, admin: request.adminId }, 'subscription suspended');
    return current(suspended);
  });

  app.post<{ Params: { code: string } }>('/subscriptions/:code/resume', async (request) => {
    const { code } = request.params;
    const resumed = await mapped(() => store.resume(code), 'resume');
    request.log.info({ subscription: code, admin: request.adminId }, 'subscription resumed');
    return current(resumed);
  });

  app.delete<{ Params: { code: string } }>('/subscriptions/:code', async (request, reply) => {
    const { code } = request.params;
    await mapped(() => store.delete(code));
    request.log.info({ subscription: code, admin: request.adminId }, 'subscription deleted');
    return reply.code(204).send();
  });

  app.get('/deliveries', async (request) => {
    const status = oneOf(request, 'status', DELIVERY_STATUSES);
    const subscriptionCode = queryValue(request, 'subscription');
    const limit = limitOf(request);
    const deliveries = await store.deliveries({
      ...(status === undefined ? {} : { status }),
      ...(subscriptionCode === undefined ? {} : { subscriptionCode }),
      ...(limit === undefined ? {} : { limit }),
    });
    return { deliveries };
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The sender id of an authorised admin API call (set by its onRequest hook). */
    adminId?: string;
  }
}
