/**
 * The hot statements as named prepared statements on PostgreSQL: marked statements are prepared
 * once per connection (and answer as before), unmarked ones are not, and the switch
 * (DCI_DB_PREPARED_STATEMENTS=false, for transaction-mode poolers) leaves every statement unnamed.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgres, postgresAvailable } from '../test-support/backends.js';
import type { Database } from './open.js';
import { executePrepared, prepared } from './prepared.js';

const postgresUp = await postgresAvailable();
const required = process.env.REQUIRE_POSTGRES === '1' || process.env.REQUIRE_POSTGRES === 'true';

describe.skipIf(!postgresUp && !required)('prepared statements [postgres]', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  /** Statements prepared in the session of the (only) pooled connection. */
  const preparedHere = async (db: Database['db']) =>
    (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(db))
      .rows;

  it('prepares a marked statement once per connection and answers as an unmarked one does', async () => {
    database = await freshPostgres({ poolSize: 1 });
    const { db } = database;
    for (const value of ['a', 'b', 'c']) {
      const marked = await sql<{ v: string }>`${prepared}select ${value}::text as v`.execute(db);
      expect(marked.rows).toEqual([{ v: value }]);
    }
    await executePrepared(db, db.selectFrom('sender').select('id').where('id', '=', 'nobody'));
    await sql`select ${'unmarked'}::text as v`.execute(db);
    const statements = await preparedHere(db);
    const ours = statements.filter((s) => s.name.startsWith('dci_'));
    expect(ours).toHaveLength(2); // one per marked text, whatever the values
    expect(ours.map((s) => s.statement)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('select $1::text as v'),
        expect.stringContaining('from "sender"'),
      ]),
    );
    expect(statements.some((s) => s.statement.includes('unmarked'))).toBe(false);
    const plan = await sql<{ v: string }>`show plan_cache_mode`.execute(db);
    expect(plan.rows[0]).toEqual({ plan_cache_mode: 'force_generic_plan' });
  });

  it('sends every statement unnamed when switched off', async () => {
    database = await freshPostgres({ poolSize: 1, preparedStatements: false });
    const { db } = database;
    const marked = await sql<{ v: string }>`${prepared}select ${'a'}::text as v`.execute(db);
    expect(marked.rows).toEqual([{ v: 'a' }]);
    expect(await preparedHere(db)).toEqual([]);
  });
});
