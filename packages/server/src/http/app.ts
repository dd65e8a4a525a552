import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  compileValidators,
  DciError,
  endpointFor,
  endpointsFor,
  ErrorCode,
  validateRequest,
  type SubscribeRequest,
  type TxnStatusRequest,
  type UnsubscribeRequest,
  type TxnType,
  type WireEndpoint,
} from '@opendci/protocol';
import { AuditTrail } from '../audit/audit.js';
import type { Config, Domain } from '../config.js';
import { isMigrated } from '../db/migrate.js';
import { ping, type Database } from '../db/open.js';
import { verify, type VerifyMessage, type VerifyPorts } from '../engine/verify.js';
import { checkClaims } from '../search/verify.js';
import { search, type SearchMessage, type SearchPorts } from '../engine/search.js';
import { runSearch } from '../search/index.js';
import type { Caller, Envelope, InboundPorts } from '../engine/inbound.js';
import { RateLimiter } from '../inbound/rate-limit.js';
import { ReplayGuard } from '../inbound/replay.js';
import { startQueue, type JobQueue } from '../jobs/queue.js';
import { RegistryReader } from '../registry/reader.js';
import { SenderKeyResolver, SenderStore, ServerKeys, TokenService, securityRoutes } from '../security/index.js';
import { SenderCache } from '../security/sender-cache.js';
import { openStore } from '../store.js';
import {
  registerAsyncEndpoint,
  registerCallbackEndpoint,
  registerDciAudit,
  registerSyncEndpoint,
  type AsyncAcceptInput,
  type CallbackHandler,
  type DciRouteDeps,
} from './dci.js';
import { runInTx } from '../db/tx.js';
import { enqueue } from '../jobs/queue.js';
import { ensureQueues, QUEUES } from '../jobs/queues.js';
import {
  REQUEST_KINDS,
  referenceIdsOf,
  startDispatcher,
  startWorkers,
  type RequestJob,
  type RequestKind,
  type RequestOutcome,
} from '../jobs/workers.js';
import { txnStatus, type TransactionLookup } from '../engine/txn-status.js';
import { subscribe, unsubscribe } from '../engine/subscribe.js';
import { notifyTarget } from '../subscriptions/events.js';
import { SubscriptionStore } from '../subscriptions/store.js';
import { TransactionResults } from '../txn/results.js';
import { executePrepared } from '../db/prepared.js';
import { adminRoutes } from './admin.js';
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
  const database =
    options.database ?? (await openStore(config.databaseUrl, { preparedStatements: config.preparedStatements }));
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

  const audit = new AuditTrail(database.db, {
    payloads: config.auditPayloads,
    redactFields: config.auditRedactFields,
  });
  app.addHook('onClose', async () => {
    // Entries of the last requests are written before the store closes.
    await audit.flush().catch((error: unknown) => app.log.error({ err: error }, 'could not write the audit trail'));
    await queue
      .stop({ graceful: true, close: database.backend === 'postgres', timeout: 10_000 })
      .catch((error: unknown) => {
        app.log.warn({ err: error }, 'job queue did not stop cleanly');
      });
    if (ownsDatabase) await database.close();
  });

  try {
    await setUp();
  } catch (error) {
    // A node that cannot start must not linger: stop the queue, release the store.
    await app.close().catch(() => {});
    throw error;
  }
  return app;

  async function setUp(): Promise<void> {
    const { db } = database;
    const senders = new SenderStore(db);
    const serverKeys = await ServerKeys.load(db, { keyEncryptionKey: config.keyEncryptionKey });
    const tokens = TokenService.fromConfig(config, senders, serverKeys);
    const senderKeys = new SenderKeyResolver(db, {
      allowInsecure: config.allowInsecureCallbacks,
      serverId: config.serverId,
      audit,
      onError: (senderId, error) => app.log.warn({ err: error, senderId }, 'JWKS fetch failed'),
    });
    const replay = new ReplayGuard(db, Math.max(3600, config.clockSkewSeconds * 4));
    const limiter = new RateLimiter();
    // Every request reads its sender: kept 5 s per node, dropped at once when changed here.
    const senderCache = new SenderCache((id: string) => senders.get(id));
    senders.onChange((id) => senderCache.invalidate(id));
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
      sender: (id) => senderCache.get(id),
      senderKey: (senderId, kid) => senderKeys.resolve(senderId, kid),
      consumeMessageId: (senderId, messageId) => replay.consume(senderId, messageId),
    };
    const deps: DciRouteDeps = {
      config,
      ports,
      settings: { receiverIds: config.receiverIds, clockSkewSeconds: config.clockSkewSeconds, versions: ['1.0.0'] },
      signer: serverKeys,
      audit,
      rateLimit: (senderId, perMinute) => limiter.take(senderId, perMinute),
    };
    registerDciAudit(app, deps);
    // Compiled once, at start: the first request must not pay for it.
    compileValidators();

    const reader = new RegistryReader(db);
    const searchPorts: SearchPorts = {
      // An identifier lookup reads its person in the same statement.
      find: (input) => runSearch(db, { ...input, holderLookup: (...lookup) => reader.holderOf(...lookup) }),
      load: (request) => reader.load(request),
    };
    const validator = (wire: WireEndpoint) => (body: unknown) => {
      const result = validateRequest(wire, body);
      return result.ok ? undefined : result.error;
    };
    const results = new TransactionResults(db);
    const subscriptions = new SubscriptionStore(db);
    const txnPorts = {
      find: (lookup: TransactionLookup) => results.find(lookup),
      subscriptions: (senderId: string, domain: Domain, codes: readonly string[]) =>
        subscriptions.states(senderId, domain, codes),
    };
    const searchSettings = (domain: Domain) => ({
      domain,
      defaultPageSize: config.defaultPageSize,
      maxPageSize: config.maxPageSize,
    });
    // Each request kind runs the same engine code, sync or as the job of its async twin.
    const handlers: Record<
      RequestKind,
      (
        message: Envelope['message'],
        correlationId: string,
        caller: Caller,
        domain: Domain,
        callbackUrl?: string,
      ) => Promise<RequestOutcome>
    > = {
      search: (message, correlationId, caller, domain) =>
        search(message as unknown as SearchMessage, correlationId, caller, searchPorts, searchSettings(domain)),
      'txn-status': (message, correlationId, caller, domain) =>
        txnStatus(message as unknown as TxnStatusRequest, correlationId, caller, txnPorts, { domain }),
      subscribe: (message, correlationId, caller, domain, callbackUrl) => {
        const notifyUrl = notifyTarget(caller.sender.notifyUri, callbackUrl);
        return subscribe(message as unknown as SubscribeRequest, correlationId, caller, subscriptions, {
          domain,
          ...(notifyUrl ? { notifyUrl } : {}),
        });
      },
      unsubscribe: (message, correlationId, caller) =>
        unsubscribe(message as unknown as UnsubscribeRequest, correlationId, caller, subscriptions),
    };
    const paths: Record<RequestKind, { sync?: string; async: string }> = {
      search: { sync: 'registry/sync/search', async: 'registry/search' },
      'txn-status': { sync: 'registry/sync/txn/status', async: 'registry/txn/status' },
      subscribe: { async: 'registry/subscribe' },
      unsubscribe: { async: 'registry/unsubscribe' },
    };
    /** The ACK of an async request is sent once its audit row, kept answer and job are committed. */
    const accept = (kind: RequestKind, wire: WireEndpoint) => (input: AsyncAcceptInput) =>
      runInTx(db, async (trx) => {
        const { envelope, caller, correlationId, callbackUrl, domain } = input;
        const message = envelope.message as RequestJob['message'];
        const referenceIds = referenceIdsOf(message);
        const audit = deps.audit.recording(
          {
            direction: 'inbound',
            senderId: caller.sender.id,
            receiverId: typeof envelope.header.receiver_id === 'string' ? envelope.header.receiver_id : null,
            domain,
            action: wire.action,
            path: wire.path,
            messageId: envelope.header.message_id,
            transactionId: message.transaction_id,
            correlationId,
            referenceIds,
            status: 'pdng',
            httpStatus: 202,
            receivedAt: new Date(),
            request: envelope,
          },
          trx,
        );
        // The audit row and the kept answer in one statement.
        await executePrepared(
          trx,
          REQUEST_KINDS[kind].keepsResult
            ? trx
                .with('audit', () => audit)
                .insertInto('dci_result')
                .values(
                  TransactionResults.pending({
                    correlationId,
                    senderId: caller.sender.id,
                    domain,
                    txnType: kind as TxnType,
                    transactionId: message.transaction_id,
                    referenceIds,
                  }),
                )
            : audit,
        );
        const job: RequestJob = {
          kind,
          domain,
          senderId: caller.sender.id,
          correlationId,
          message,
          ...(callbackUrl ? { callbackUrl } : {}),
        };
        await enqueue(queue, QUEUES.request, job);
      });
    // Every request kind, sync and async, on every enabled domain; the default one also at /registry/….
    for (const domain of config.domains) {
      for (const kind of Object.keys(REQUEST_KINDS) as RequestKind[]) {
        const syncPath = paths[kind].sync;
        const sync = syncPath ? endpointFor(domain, syncPath) : undefined;
        if (sync && sync.response.kind === 'envelope') {
          registerSyncEndpoint(app, deps, domain, {
            path: sync.path,
            action: sync.action,
            responseAction: sync.response.action,
            operation: sync.operation,
            validate: validator(sync),
            handle: (envelope, caller, context) =>
              handlers[kind](envelope.message, context.correlationId, caller, domain),
          });
        }
        const asynchronous = endpointFor(domain, paths[kind].async);
        if (asynchronous) {
          registerAsyncEndpoint(app, deps, domain, {
            path: asynchronous.path,
            action: asynchronous.action,
            operation: asynchronous.operation,
            validate: validator(asynchronous),
            accept: accept(kind, asynchronous),
          });
        }
      }
      // Verify (OpenDCI extension, contract §9): sync only; yes/no/unknown per claim, never record data.
      const syncVerify = endpointFor(domain, 'registry/sync/verify');
      if (syncVerify && syncVerify.response.kind === 'envelope') {
        const verifyPorts: VerifyPorts = { check: (input) => checkClaims(db, input) };
        registerSyncEndpoint(app, deps, domain, {
          path: syncVerify.path,
          action: syncVerify.action,
          responseAction: syncVerify.response.action,
          operation: syncVerify.operation,
          validate: validator(syncVerify),
          handle: (envelope, caller, context) =>
            verify(envelope.message as unknown as VerifyMessage, context.correlationId, caller, verifyPorts, {
              domain,
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

    const retry = {
      retryLimit: config.callbackRetryLimit,
      retryDelaySeconds: config.callbackRetryDelaySeconds,
      retryDelayMaxSeconds: config.callbackRetryDelayMaxSeconds,
    };
    await ensureQueues(queue, retry);
    const callbackDeps = {
      serverId: config.serverId,
      signer: serverKeys,
      audit: deps.audit,
      allowInsecure: config.allowInsecureCallbacks,
      timeoutMs: config.callbackTimeoutMs,
      callbackAuth: (receiverId: string) =>
        senders.callbackAuth(receiverId, { keyEncryptionKey: config.keyEncryptionKey }),
    };
    if (config.role !== 'api') {
      await startWorkers({
        db,
        queue,
        audit: deps.audit,
        sender: (id) => senderCache.get(id),
        results,
        run: (job, sender) =>
          handlers[job.kind](
            job.message,
            job.correlationId,
            { sender, scope: sender.operations },
            job.domain,
            job.callbackUrl,
          ),
        callbacks: callbackDeps,
        retry,
        notifier: {
          db,
          load: (request) => reader.load(request),
          callbacks: callbackDeps,
          eventsPerMessage: config.notifyEventsPerMessage,
          retry,
        },
        concurrency: config.workerConcurrency,
        batchSize: config.workerBatchSize,
      });
      const stopDispatcher = startDispatcher({ db, queue }, 1_000, (error) =>
        app.log.warn({ err: error }, 'could not start notification deliveries'),
      );
      app.addHook('onClose', async () => stopDispatcher());
    }

    if (config.role !== 'api') {
      // Kept answers and delivered notifications go after their retention (every node may purge).
      const purge = setInterval(() => {
        Promise.all([
          results.purge(config.resultRetentionDays),
          subscriptions.purgeDelivered(config.resultRetentionDays),
        ]).catch((error: unknown) => {
          app.log.warn({ err: error }, 'could not purge kept transaction answers and delivered notifications');
        });
      }, 3_600_000);
      purge.unref();
      app.addHook('onClose', async () => clearInterval(purge));
    }

    // The admin API (contract §3): bearer of an active sender with the `admin` operation.
    await app.register(adminRoutes, {
      prefix: '/admin/api',
      subscriptions,
      verifyToken: (token: string) => tokens.verify(token),
      sender: (id: string) => senders.get(id),
    });

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
  }
}
