import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.js';

/** The transaction the current async call chain runs in, if any. */
export const txContext = new AsyncLocalStorage<{ trx: Transaction<DB> }>();

export type Executor = Kysely<DB>;

/**
 * Runs `fn` in a database transaction. Nested calls join the outer transaction, so a repository
 * that needs atomicity can call it without knowing whether its caller already opened one.
 * Jobs enqueued with `enqueue()` inside `fn` commit or roll back with the data.
 */
export function runInTx<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const current = txContext.getStore();
  if (current) return fn(current.trx);
  return db.transaction().execute((trx) => txContext.run({ trx }, () => fn(trx)));
}

/** The open transaction if there is one, else the root handle. */
export function currentExecutor(db: Kysely<DB>): Kysely<DB> {
  return txContext.getStore()?.trx ?? db;
}
