/** What every `dci` command shares: output, the store, and how expected failures end. */
import { loadConfig, openStore, SenderError, ServerKeyError, type Database } from '@opendci/server';

/** An expected failure of a command: printed as `dci: message`, exit code 1, no stack trace. */
export class CliInputError extends Error {}

/** Runs an action; expected failures become a one-line message and exit code 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      if (error instanceof SenderError || error instanceof ServerKeyError || error instanceof CliInputError) {
        process.stderr.write(`dci: ${error.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw error;
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Opens (and migrates) the store named by DATABASE_URL for the time of `fn`. */
export async function withStore<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const database = await openStore(config.databaseUrl, { preparedStatements: config.preparedStatements });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}
