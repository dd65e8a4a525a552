import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import { isMigrated } from '../db/migrate.js';
import { ping, type Database } from '../db/open.js';
import { startQueue, type JobQueue } from '../jobs/queue.js';
import { openStore } from '../store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: Database;
    queue: JobQueue;
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
