import { sql, type Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import { Batcher } from '../util/batcher.js';

/**
 * Replay protection: a `message_id` may be used once per sender. Kept in the database so that
 * every server node sees every other node's messages; the primary key makes the check atomic.
 * Simultaneous requests share one insert (group commit): one round trip for many messages.
 */
export class ReplayGuard {
  private lastPurge = 0;
  private readonly batcher = new Batcher<string, boolean>((keys) => this.insert(keys));

  constructor(
    private readonly db: Kysely<DB>,
    /** How long a message id is remembered: longer than the clock-skew window, after which old messages are refused anyway. */
    private readonly retentionSeconds: number,
  ) {}

  /** Records the message id; false when this sender used it before. */
  async consume(senderId: string, messageId: string): Promise<boolean> {
    this.purgeSometimes();
    return this.batcher.submit(JSON.stringify([senderId, messageId]));
  }

  /** Inserts the keys; true for each one not seen before (a repeat inside the batch is a replay too). */
  private async insert(keys: string[]): Promise<boolean[]> {
    const unique = [...new Set(keys)];
    const pairs = unique.map((key) => JSON.parse(key) as [string, string]);
    const inserted = await sql<{ sender_id: string; message_id: string }>`${prepared}
      insert into replay (sender_id, message_id)
      select * from unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[])
      on conflict do nothing returning sender_id, message_id`.execute(this.db);
    const fresh = new Set(inserted.rows.map((row) => JSON.stringify([row.sender_id, row.message_id])));
    return keys.map((key) => {
      const isFresh = fresh.has(key);
      fresh.delete(key);
      return isFresh;
    });
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
