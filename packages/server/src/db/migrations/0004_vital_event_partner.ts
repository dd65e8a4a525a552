import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/** CRVS records show the marriages and divorces a person was the partner in: found by this index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `create index vital_event_partner_idx on vital_event (partner_id) where partner_id is not null;`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `drop index vital_event_partner_idx;`);
}
