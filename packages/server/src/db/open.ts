import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir, type DirLock } from './lock.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { DB } from './schema.js';
import { preparingPool } from './prepared.js';

export type Backend = 'pglite' | 'postgres';

export interface Database {
  readonly backend: Backend;
  readonly db: Kysely<DB>;
  /** Set on the embedded backend only. */
  readonly pglite?: PGlite;
  /** Connection string for pg-boss on PostgreSQL. */
  readonly connectionString?: string;
  /** The data directory of the embedded backend (undefined = in memory). */
  readonly dataDir?: string;
  /** PostgreSQL: marked statements are prepared (db/prepared.ts). */
  readonly preparedStatements?: boolean;
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'pglite:./.data/opendci';

const DATE_OID = 1082;
const INT8_OID = 20;

export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Embedded only: start from a dumped data dir (test templates). */
  loadDataDir?: Blob;
  /** PostgreSQL only: send the marked hot statements as named prepared statements (default true). */
  preparedStatements?: boolean;
}

/** Opens the store named by a `DATABASE_URL`: `pglite:DIR`, `pglite:memory:` or `postgres://…`. */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  if (url.startsWith('pglite:')) return openPglite(url.slice('pglite:'.length), options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, options);
  throw new Error(`DATABASE_URL must start with pglite: or postgres:// (got ${redactUrl(url)})`);
}

async function openPglite(location: string, options: OpenOptions): Promise<Database> {
  const inMemory = location === '' || location === 'memory:';
  const dataDir = inMemory ? undefined : resolve(location);
  const lock: DirLock | undefined = dataDir ? lockDataDir(dataDir) : undefined;
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      parsers: { [DATE_OID]: (value: string) => value, [INT8_OID]: (value: string) => value },
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  let closed = false;
  return {
    backend: 'pglite',
    db,
    pglite,
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Dates stay `YYYY-MM-DD` strings: a JS Date would shift them by the time zone. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === DATE_OID ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function openPostgres(connectionString: string, options: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10, types: pgTypes });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it kills the process.
  pool.on('error', () => {});
  const preparedStatements = options.preparedStatements ?? true;
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: preparedStatements ? preparingPool(pool) : pool }),
  });
  let closed = false;
  return {
    backend: 'postgres',
    db,
    connectionString,
    preparedStatements,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** True when the database answers a trivial query. */
export async function ping(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** A connection string safe to print: the password is masked. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** A store handle bound to one connection of its own (bulk loads: COPY needs the raw client). */
export interface Session {
  readonly db: Kysely<DB>;
  /** The raw PostgreSQL client; undefined on the embedded store. */
  readonly client?: pg.Client;
  close(): Promise<void>;
}

export async function openSession(database: Database): Promise<Session> {
  if (database.backend !== 'postgres') return { db: database.db, close: async () => {} };
  const client = new pg.Client({ connectionString: database.connectionString, types: pgTypes });
  await client.connect();
  client.on('error', () => {});
  const single = Object.assign(client, { release: () => {} });
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: { connect: async () => single, end: async () => {} } }),
  });
  return {
    db,
    client,
    async close() {
      await db.destroy();
      await client.end();
    },
  };
}
