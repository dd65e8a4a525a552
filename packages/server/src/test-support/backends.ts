import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase, type Database, type OpenOptions } from '../db/open.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const requirePostgres = process.env.REQUIRE_POSTGRES === '1' || process.env.REQUIRE_POSTGRES === 'true';

let postgresAnswers: Promise<boolean> | undefined;
/** Whether the test PostgreSQL answers; memoised per test file. */
export function postgresAvailable(): Promise<boolean> {
  postgresAnswers ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresAnswers;
}

/** Evaluated once per test file, before its suites are declared. */
const postgresUp = await postgresAvailable();

let template: Promise<Blob> | undefined;
/** A migrated PGlite data dir, dumped once per test file: a fresh initdb costs seconds. */
function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const seed = await openDatabase('pglite:memory:');
    await migrateToLatest(seed.db);
    const dump = await seed.pglite!.dumpDataDir('none');
    await seed.close();
    return dump;
  })();
  return template;
}

/** A fresh, migrated in-memory PGlite store. */
export async function freshPglite(): Promise<Database> {
  return openDatabase('pglite:memory:', { loadDataDir: await pgliteTemplate() });
}

/** A fresh, migrated PostgreSQL database; `close()` drops it. */
export async function freshPostgres(options: OpenOptions = {}): Promise<Database> {
  const name = `opendci_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase(url.toString(), { poolSize: 5, ...options });
  await migrateToLatest(database.db);
  return {
    ...database,
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

export type BackendName = 'pglite' | 'postgres';

export interface BackendContext {
  readonly name: BackendName;
  /** The store of the current test file (opened in beforeAll). */
  readonly database: Database;
}

/**
 * Declares the same suite on both backends. The PostgreSQL half is skipped, with a printed
 * reason, when no server answers — unless REQUIRE_POSTGRES=1 turns that into a failure.
 */
export function describeBackends(title: string, suite: (ctx: BackendContext) => void): void {
  for (const name of ['pglite', 'postgres'] as const) {
    const skip = name === 'postgres' && !postgresUp && !requirePostgres;
    if (skip) console.warn(`skipping PostgreSQL tests of "${title}": ${TEST_DATABASE_URL} does not answer`);
    describe.skipIf(skip)(`${title} [${name}]`, () => {
      const ctx = { name } as { name: BackendName; database: Database };
      beforeAll(async () => {
        if (name === 'postgres' && !postgresUp) {
          throw new Error(`REQUIRE_POSTGRES is set but ${TEST_DATABASE_URL} does not answer`);
        }
        ctx.database = name === 'pglite' ? await freshPglite() : await freshPostgres();
      }, 60_000);
      afterAll(async () => {
        await ctx.database?.close();
      });
      suite(ctx);
    });
  }
}
