import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/**
 * A notification message that failed waits out its backoff in the outbox itself: the dispatcher
 * starts a subscription's delivery only once its head message is due, so the retry schedule does
 * not depend on how often dispatchers run or how many nodes run them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `alter table notification add column next_attempt_at timestamptz;`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `alter table notification drop column next_attempt_at;`);
}
