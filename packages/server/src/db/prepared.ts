/**
 * Named prepared statements for the hot queries. PostgreSQL parses and plans an unnamed statement
 * on every execution; for the short queries of a request (an identifier lookup, a record load, the
 * replay and audit inserts) that planning costs more server CPU than running them. A statement
 * whose text starts with `PREPARE_MARK` is sent as a named statement (named by a hash of its text),
 * which `pg` prepares once per connection and then only binds and executes. Only marked statements
 * are named, and only statements whose text does not vary with their input should be marked:
 * every distinct text stays prepared in every connection of the pool for its lifetime.
 */
import { createHash } from 'node:crypto';
import { CompiledQuery, sql, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { DB } from './schema.js';
import type pg from 'pg';

export const PREPARE_MARK = '/*prepared*/ ';

/** Put first in a `sql` template: `sql\`${prepared}select …\``. */
export const prepared = sql.raw(PREPARE_MARK);

/** Distinct statements named at most: past it, new texts go unnamed (a guard, not a working limit). */
const MAX_NAMED = 500;
const names = new Map<string, string>();

/** The statement name of a text, or undefined once MAX_NAMED texts have names. */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `dci_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** Runs a query built with Kysely's builder as a prepared statement (its text must not vary). */
export function executePrepared<R>(db: Kysely<DB>, query: Compilable<R>): Promise<QueryResult<R>> {
  const compiled = query.compile();
  return db.executeQuery({ ...compiled, sql: PREPARE_MARK + compiled.sql });
}

const PATCHED = Symbol('opendci.prepared');
type Query = (...args: unknown[]) => unknown;

/**
 * Makes a client send the statements `named` picks as named ones (once per client): a text with
 * its values, in either call form (`query(text, values)`, `query(text, values, callback)`).
 */
function nameStatements(client: pg.ClientBase, named: (text: string, values: unknown[]) => boolean): void {
  const patched = client as pg.ClientBase & { [PATCHED]?: true };
  if (patched[PATCHED]) return;
  const query = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (...args: unknown[]) => {
    const [text, values, ...rest] = args;
    const name =
      typeof text === 'string' && Array.isArray(values) && named(text, values) ? statementName(text) : undefined;
    return name ? query({ name, text, values }, ...rest) : query(...args);
  };
  patched[PATCHED] = true;
}

const marked = (text: string) => text.startsWith(PREPARE_MARK);

/**
 * The pool Kysely's PostgresDialect gets: `pool`, with marked statements prepared. Their plans are
 * generic (`plan_cache_mode` only concerns named statements: every other query keeps a plan made
 * for its values): the marked queries are key lookups whose best plan does not depend on them, and
 * a custom plan would be made again on every execution.
 */
export function preparingPool(pool: pg.Pool): { connect(): Promise<pg.PoolClient>; end(): Promise<void> } {
  // Queued on a new connection before anything else runs on it.
  pool.on('connect', (client) => void client.query('set plan_cache_mode = force_generic_plan').catch(() => {}));
  return {
    connect: async () => {
      const client = await pool.connect();
      nameStatements(client, marked);
      return client;
    },
    end: () => pool.end(),
  };
}

/**
 * pg-boss's statements (a fixed set of texts) prepared too: every statement with parameters that
 * its own pool runs is named. Wraps the adapter's `open()`, where that pool is made; call before
 * `start()`.
 */
export function preparePgBossStatements(db: { open(): Promise<void>; pool?: pg.Pool }): void {
  const open = db.open.bind(db);
  db.open = async () => {
    await open();
    db.pool?.on('connect', (client) => nameStatements(client, (_text, values) => values.length > 0));
  };
}

/**
 * pg-boss's adapter for a Kysely transaction (jobs sent inside `runInTx`), its statements marked
 * to be prepared like ours.
 */
export function preparedKyselyAdapter(trx: Kysely<DB>): {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
} {
  return {
    async executeSql(text, values) {
      const marked = values && values.length > 0 ? PREPARE_MARK + text : text;
      const result = await trx.executeQuery(CompiledQuery.raw(marked, values ?? []));
      return { rows: [...result.rows] };
    },
  };
}
