import { fromKysely, fromPglite, PgBoss, type SendOptions } from 'pg-boss';
import type { Database } from '../db/open.js';
import { preparedKyselyAdapter, preparePgBossStatements } from '../db/prepared.js';
import { txContext } from '../db/tx.js';

export type JobQueue = PgBoss;

/**
 * pg-boss's database adapter for PGlite. Inside `runInTx` every statement pg-boss issues (its own
 * lookups included) goes through the open transaction: PGlite has one session, and a statement
 * outside the transaction would wait for it while the transaction waits for pg-boss — a deadlock.
 */
function pgliteAdapter(database: Database) {
  const base = fromPglite(database.pglite!);
  return {
    ...base,
    executeSql(text: string, values?: unknown[]) {
      const current = txContext.getStore();
      return current ? fromKysely(current.trx).executeSql(text, values) : base.executeSql(text, values);
    },
  };
}

export interface QueueOptions {
  /** Run maintenance and schedules (workers); API-only nodes leave it to the workers. */
  supervise?: boolean;
  /** PostgreSQL connections of the queue's own pool. */
  poolSize?: number;
}

/** Starts pg-boss on the store's backend (it creates and migrates its own `pgboss` schema). */
export async function startQueue(database: Database, options: QueueOptions = {}): Promise<JobQueue> {
  const boss =
    database.backend === 'pglite'
      ? new PgBoss({ db: pgliteAdapter(database), backend: 'pglite', supervise: options.supervise ?? true })
      : new PgBoss({
          connectionString: database.connectionString!,
          max: options.poolSize ?? 4,
          supervise: options.supervise ?? true,
        });
  if (database.preparedStatements)
    preparePgBossStatements(boss.getDb() as unknown as Parameters<typeof preparePgBossStatements>[0]);
  // pg-boss reports background errors as events; without a listener they would crash the process.
  boss.on('error', () => {});
  await boss.start();
  return boss;
}

/**
 * Enqueues a job. Inside `runInTx` it is written through the open transaction, so it exists only
 * if that transaction commits (outbox semantics).
 */
export async function enqueue(
  boss: JobQueue,
  queue: string,
  data: object,
  options: SendOptions = {},
): Promise<string | null> {
  const current = txContext.getStore();
  return boss.send(queue, data, current ? { ...options, db: preparedKyselyAdapter(current.trx) } : options);
}
