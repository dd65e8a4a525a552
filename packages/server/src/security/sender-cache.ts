/**
 * Senders as the request path reads them: every request needs its sender, which changes rarely.
 * Kept a few seconds per node (a change made on another node applies within that time; one made
 * through this node's store at once), and simultaneous lookups share one query.
 */
export class SenderCache<S> {
  private readonly entries = new Map<string, { value: Promise<S | undefined>; at: number }>();

  constructor(
    private readonly load: (id: string) => Promise<S | undefined>,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Promise<S | undefined> {
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.value;
    const value = this.load(id);
    this.entries.set(id, { value, at: this.now() });
    // A failed lookup is not remembered.
    value.catch(() => {
      if (this.entries.get(id)?.value === value) this.entries.delete(id);
    });
    if (this.entries.size > 10_000) this.evictOld();
    return value;
  }

  /** Forgets one sender (every sender without an argument). */
  invalidate(id?: string): void {
    if (id === undefined) this.entries.clear();
    else this.entries.delete(id);
  }

  private evictOld(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (now - entry.at >= this.ttlMs) this.entries.delete(id);
  }
}
