import { sql, type Kysely } from 'kysely';

/**
 * Runs a migration script statement by statement: PGlite's extended protocol takes one statement
 * per query. Statements are separated by a semicolon at the end of a line.
 */
export async function runScript(db: Kysely<unknown>, script: string): Promise<void> {
  for (const statement of script.split(/;\s*\n/)) {
    const text = statement.trim();
    if (text) await sql.raw(text).execute(db);
  }
}
