import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/open.js';
import type { DB } from '../db/schema.js';
import { generateRegistry } from './generate.js';
import { importRows, type ImportReport } from './import.js';
import type { SourceRow } from './sources.js';

export const DEMO_SEED = 'opendci-demo';

/** Turns generated records into import rows (line = record number). */
export async function* generatedRows(households: number, seed: number | string): AsyncGenerator<SourceRow> {
  let line = 0;
  for (const record of generateRegistry({ households, seed })) {
    line++;
    yield { line, record, bytes: 0 };
  }
}

export async function registryIsEmpty(db: Kysely<DB>): Promise<boolean> {
  const { rows } = await sql<{ any: boolean }>`select exists (select 1 from individual) as any`.execute(db);
  return !rows[0]?.any;
}

/** Loads generated demo data when the registry holds nobody; returns undefined when it does. */
export async function seedDemoRegistry(database: Database, households: number): Promise<ImportReport | undefined> {
  if (!(await registryIsEmpty(database.db))) return undefined;
  return importRows(database, generatedRows(households, DEMO_SEED));
}
