import { migrateToLatest } from './db/migrate.js';
import { openDatabase, type Database } from './db/open.js';

/** Opens the store named by the configuration and brings its schema up to date. */
export async function openStore(
  databaseUrl: string,
  options: { preparedStatements?: boolean } = {},
): Promise<Database> {
  const database = await openDatabase(databaseUrl, options);
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
