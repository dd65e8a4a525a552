import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  compileValidators,
  DciError,
  endpointFor,
  endpointsFor,
  ErrorCode,
  validateRequest,
  type WireEndpoint,
} from '@opendci/protocol';
import { AuditTrail } from '../audit/audit.js';
import type { Config } from '../config.js';
import { isMigrated } from '../db/migrate.js';
import { ping, type Database } from '../db/open.js';
import { search, type SearchPorts } from '../engine/search.js';
import { runSearch } from '../search/index.js';
import type { InboundPorts } from '../engine/inbound.js';
import { RateLimiter } from '../inbound/rate-limit.js';
import { ReplayGuard } from '../inbound/replay.js';
import { startQueue, type JobQueue } from '../jobs/queue.js';
import { RegistryReader } from '../registry/reader.js';
import { SenderKeyResolver, SenderStore, ServerKeys, TokenService, securityRoutes } from '../security/index.js';
import { openStore } from '../store.js';
import {
  registerAsyncEndpoint,
  registerCallbackEndpoint,
  registerDciAudit,
  registerSyncEndpoint,
  type CallbackHandler,
  type DciRouteDeps,
} from './dci.js';
import { runInTx } from '../db/tx.js';
import { enqueue } from '../jobs/queue.js';
import { ensureQueues, QUEUES } from '../jobs/queues.js';
import { startWorkers, type SearchJob } from '../jobs/workers.js';
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
  /** What to do with callbacks posted to us (default: ACK and discard: no request of ours awaits them yet). */
  callbackHandler?: CallbackHandler;
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
    // Client addresses (token rate limits) come from the socket unless a proxy is trusted explicitly.
    trustProxy: config.trustProxy,
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

  const reader = new RegistryReader(db);
  const searchPorts: SearchPorts = {
    find: (input) => runSearch(db, input),
    load: (kind, ids) => reader.load(kind, ids),
  };
  const validator = (wire: WireEndpoint) => (body: unknown) => {
    const result = validateRequest(wire, body);
    return result.ok ? undefined : result.error;
  };
  // Search (sync and async) on every enabled domain; the default one is also served at /registry/….
  for (const domain of config.domains) {
    const searchSettings = { domain, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize };
    const syncSearch = endpointFor(domain, 'registry/sync/search');
    if (syncSearch && syncSearch.response.kind === 'envelope') {
      registerSyncEndpoint(app, deps, domain, {
        path: syncSearch.path,
        action: syncSearch.action,
        responseAction: syncSearch.response.action,
        operation: syncSearch.operation,
        validate: validator(syncSearch),
        handle: (envelope, caller, context) =>
          search(envelope.message as SearchJob['message'], context.correlationId, caller, searchPorts, searchSettings),
      });
    }
    const asyncSearch = endpointFor(domain, 'registry/search');
    if (asyncSearch) {
      registerAsyncEndpoint(app, deps, domain, {
        path: asyncSearch.path,
        action: asyncSearch.action,
        operation: asyncSearch.operation,
        validate: validator(asyncSearch),
        accept: async ({ envelope, caller, correlationId, callbackUrl }) =>
          runInTx(db, async (trx) => {
            const message = envelope.message as SearchJob['message'];
            await deps.audit.record(
              {
                direction: 'inbound',
                senderId: caller.sender.id,
                receiverId: typeof envelope.header.receiver_id === 'string' ? envelope.header.receiver_id : null,
                domain,
                action: asyncSearch.action,
                path: asyncSearch.path,
                messageId: envelope.header.message_id,
                transactionId: message.transaction_id,
                correlationId,
                referenceIds: message.search_request.map((item) => String(item.reference_id)),
                status: 'pdng',
                httpStatus: 202,
                receivedAt: new Date(),
                request: envelope,
              },
              trx,
            );
            const job: SearchJob = {
              kind: 'search',
              domain,
              senderId: caller.sender.id,
              correlationId,
              message,
              ...(callbackUrl ? { callbackUrl } : {}),
            };
            await enqueue(queue, QUEUES.request, job);
          }),
      });
    }
  }

  // Callbacks other registries post to us (this server is also their client).
  const onCallback: CallbackHandler =
    options.callbackHandler ??
    (async ({ domain, action, envelope, sender }) => {
      // No request of ours awaits callbacks yet: every transaction is unknown, ACKed and discarded.
      app.log.info(
        { domain, action, sender: sender.id, transactionId: envelope.message?.transaction_id },
        'callback for an unknown transaction discarded',
      );
    });
  for (const domain of config.domains) {
    for (const wire of endpointsFor(domain).filter((e) => e.mode === 'callback')) {
      registerCallbackEndpoint(
        app,
        deps,
        domain,
        { path: wire.path, action: wire.action, validate: validator(wire) },
        onCallback,
      );
    }
  }

  await ensureQueues(queue, {
    retryLimit: config.callbackRetryLimit,
    retryDelaySeconds: config.callbackRetryDelaySeconds,
    retryDelayMaxSeconds: config.callbackRetryDelayMaxSeconds,
  });
  if (config.role !== 'api') {
    await startWorkers({
      db,
      queue,
      audit: deps.audit,
      sender: (id) => senders.get(id),
      search: (job, sender) =>
        search(job.message, job.correlationId, { sender, scope: sender.operations }, searchPorts, {
          domain: job.domain,
          defaultPageSize: config.defaultPageSize,
          maxPageSize: config.maxPageSize,
        }),
      callbacks: {
        serverId: config.serverId,
        signer: serverKeys,
        audit: deps.audit,
        allowInsecure: config.allowInsecureCallbacks,
        timeoutMs: config.callbackTimeoutMs,
      },
      concurrency: config.workerConcurrency,
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
