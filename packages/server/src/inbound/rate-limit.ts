/**
 * Per-sender request rate limit (a fixed one-minute window, per node). A sender's limit is
 * `rate_limit_per_minute`; unset = unlimited.
 */
export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  /** Returns 0 when allowed, else the seconds until the window resets. */
  take(key: string, perMinute: number | null | undefined, now = Date.now()): number {
    if (!perMinute) return 0;
    let window = this.windows.get(key);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) this.prune(now);
    }
    window.count++;
    return window.count > perMinute ? Math.ceil((window.start + 60_000 - now) / 1000) : 0;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= 60_000) this.windows.delete(key);
  }
}
