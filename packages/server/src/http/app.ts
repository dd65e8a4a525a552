import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { compileValidators, DciError, endpointFor, ErrorCode, validateRequest } from '@opendci/protocol';
import { AuditTrail } from '../audit/audit.js';
import type { Config } from '../config.js';
import { isMigrated } from '../db/migrate.js';
import { ping, type Database } from '../db/open.js';
import { search } from '../engine/search.js';
import type { InboundPorts } from '../engine/inbound.js';
import { RateLimiter } from '../inbound/rate-limit.js';
import { ReplayGuard } from '../inbound/replay.js';
import { startQueue, type JobQueue } from '../jobs/queue.js';
import { RegistryReader } from '../registry/reader.js';
import { SenderKeyResolver, SenderStore, ServerKeys, TokenService, securityRoutes } from '../security/index.js';
import { openStore } from '../store.js';
import { registerDciAudit, registerSyncEndpoint, type DciRouteDeps } from './dci.js';
import { registerErrorHandlers } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Database;
    queue: JobQueue;
    senders: SenderStore;
    serverKeys: ServerKeys;
    tokens: TokenService;
  }
}

export interface AppOptions {
  /** Use this store instead of opening the configured one (tests); it is not closed with the app. */
  database?: Database;
  /** Fastify logger options; defaults to pino at the configured level with secrets redacted. */
  logger?: FastifyServerOptions['logger'];
}

/** Paths whose values never reach the logs. */
export const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.client_secret',
  '*.password',
  '*.access_token',
];

/**
 * Builds the HTTP application: opens and migrates the store, starts the job queue, registers the
 * routes. It never listens; `main.ts` (or a test) does.
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const database = options.database ?? (await openStore(config.databaseUrl));
  const ownsDatabase = !options.database;
  let queue: JobQueue;
  try {
    queue = await startQueue(database, { supervise: config.role !== 'api' });
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }

  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel, redact: { paths: REDACTED, censor: '[redacted]' } },
    bodyLimit: config.bodyLimit,
    trustProxy: true,
    // The signature covers the parsed JSON, so the body parser needs no raw bytes; but a JSON body
    // must not be coerced or stripped by schema defaults (Ajv is used by hand, never by routes).
    ajv: { customOptions: { strict: false, coerceTypes: false, removeAdditional: false } },
  });
  app.decorate('config', config);
  app.decorate('store', database);
  app.decorate('queue', queue);
  queue.on('error', (error: Error) => app.log.error({ err: error }, 'job queue error'));

  app.addHook('onClose', async () => {
    await queue
      .stop({ graceful: true, close: database.backend === 'postgres', timeout: 10_000 })
      .catch((error: unknown) => {
        app.log.warn({ err: error }, 'job queue did not stop cleanly');
      });
    if (ownsDatabase) await database.close();
  });

  const { db } = database;
  const senders = new SenderStore(db);
  const serverKeys = await ServerKeys.load(db, { keyEncryptionKey: config.keyEncryptionKey });
  const tokens = TokenService.fromConfig(config, senders, serverKeys);
  const senderKeys = new SenderKeyResolver(db);
  const replay = new ReplayGuard(db, Math.max(3600, config.clockSkewSeconds * 4));
  const limiter = new RateLimiter();
  app.decorate('senders', senders);
  app.decorate('serverKeys', serverKeys);
  app.decorate('tokens', tokens);

  const refreshing = serverKeys.startRefreshing();
  app.addHook('onClose', async () => refreshing.stop());

  registerErrorHandlers(app);
  // Every token request costs a deliberate scrypt hash: bound them per client address.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/oauth2/')) {
      const wait = limiter.take(`token:${request.ip}`, config.tokenRequestsPerMinute);
      if (wait > 0)
        throw new DciError(ErrorCode.RequestTooManyRequests, 'too many token requests', { detail: String(wait) });
    }
  });
  await app.register(securityRoutes, { tokens, serverKeys });

  const ports: InboundPorts = {
    verifyToken: (token) => tokens.verify(token),
    sender: (id) => senders.get(id),
    senderKey: (senderId, kid) => senderKeys.resolve(senderId, kid),
    consumeMessageId: (senderId, messageId) => replay.consume(senderId, messageId),
  };
  const deps: DciRouteDeps = {
    config,
    ports,
    settings: { receiverIds: config.receiverIds, clockSkewSeconds: config.clockSkewSeconds, versions: ['1.0.0'] },
    signer: serverKeys,
    audit: new AuditTrail(db, { payloads: config.auditPayloads, redactFields: config.auditRedactFields }),
    rateLimit: (senderId, perMinute) => limiter.take(senderId, perMinute),
  };
  registerDciAudit(app, deps);
  // Compiled once, at start: the first request must not pay for it.
  compileValidators();

  // The minimal sync search of the default domain: idtype-value on identifiers.
  const reader = new RegistryReader(db);
  const domain = config.defaultDomain;
  const wire = endpointFor(domain, 'registry/sync/search');
  if (wire && wire.response.kind === 'envelope') {
    registerSyncEndpoint(app, deps, domain, {
      path: wire.path,
      action: wire.action,
      responseAction: wire.response.action,
      operation: wire.operation,
      validate: (body) => {
        const result = validateRequest(wire, body);
        return result.ok ? undefined : result.error;
      },
      handle: (envelope, caller, context) =>
        search(envelope.message as Parameters<typeof search>[0], context.correlationId, caller, reader, {
          domain,
          defaultPageSize: config.defaultPageSize,
          maxPageSize: config.maxPageSize,
        }),
    });
  }

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const reachable = await ping(database.db);
    const migrated = reachable && (await isMigrated(database.db));
    const ready = reachable && migrated;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: { database: reachable ? 'ok' : 'unreachable', migrations: migrated ? 'ok' : 'pending' },
    });
  });

  return app;
}
