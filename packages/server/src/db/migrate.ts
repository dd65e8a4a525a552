import { Migrator, type Kysely, type Migration, type MigrationResult } from 'kysely';
import * as registry from './migrations/0001_registry.js';
import * as protocol from './migrations/0002_protocol.js';
import * as results from './migrations/0003_results.js';
import * as partner from './migrations/0004_vital_event_partner.js';
import * as subscriptions from './migrations/0005_subscriptions.js';
import * as notificationBackoff from './migrations/0006_notification_backoff.js';
import type { DB } from './schema.js';

/** All migrations, in order. Static imports: the compiled package needs no file-system discovery. */
const migrations: Record<string, Migration> = {
  '0001_registry': registry,
  '0002_protocol': protocol,
  '0003_results': results,
  '0004_vital_event_partner': partner,
  '0005_subscriptions': subscriptions,
  '0006_notification_backoff': notificationBackoff,
};

export const LATEST_MIGRATION = Object.keys(migrations).at(-1)!;

function migrator(db: Kysely<DB>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
}

/**
 * Brings the schema to the latest version. Kysely's Migrator runs inside a transaction holding a
 * PostgreSQL advisory lock (`pg_advisory_xact_lock`), so several nodes starting at once apply each
 * migration exactly once.
 */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationResult[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${message}`, { cause: error });
  }
  return results ?? [];
}

/** True when every known migration has been applied. */
export async function isMigrated(db: Kysely<DB>): Promise<boolean> {
  try {
    const all = await migrator(db).getMigrations();
    return all.every((m) => m.executedAt !== undefined);
  } catch {
    return false;
  }
}
