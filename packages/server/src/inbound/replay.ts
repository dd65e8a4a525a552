import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * Replay protection: a `message_id` may be used once per sender. Kept in the database so that
 * every server node sees every other node's messages; the primary key makes the check atomic.
 */
export class ReplayGuard {
  private lastPurge = 0;

  constructor(
    private readonly db: Kysely<DB>,
    /** How long a message id is remembered: longer than the clock-skew window, after which old messages are refused anyway. */
    private readonly retentionSeconds: number,
  ) {}

  /** Records the message id; false when this sender used it before. */
  async consume(senderId: string, messageId: string): Promise<boolean> {
    const inserted = await sql<{ ok: number }>`
      insert into replay (sender_id, message_id) values (${senderId}, ${messageId})
      on conflict do nothing returning 1 as ok`.execute(this.db);
    this.purgeSometimes();
    return inserted.rows.length === 1;
  }

  private purgeSometimes(): void {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    void sql`delete from replay where seen_at < now() - make_interval(secs => ${this.retentionSeconds})`
      .execute(this.db)
      .catch(() => {});
  }
}
