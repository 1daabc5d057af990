import type { StockChange } from './stock-changes.js';

/**
 * A cache in this process with a time to live, emptied key by key as the database announces changes. A read
 * that began before a change of a key cannot put its (older) answer in afterwards: `begin` marks when a read
 * starts, and `set` refuses what changed since. Only while reads are in flight does it remember which keys
 * changed when, so that memory stays bounded.
 */
export class MemoryCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  /** counts invalidations */
  private epoch = 0;
  private changedAt = new Map<string, number>();
  private allChangedAt = -1;
  /** reads in flight, by the epoch they began at */
  private reading = new Map<number, number>();
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  get(keys: readonly string[]): Map<string, T> {
    const found = new Map<string, T>();
    const now = this.now();
    for (const key of keys) {
      const e = this.entries.get(key);
      if (e && e.until > now) found.set(key, e.value);
      else if (e) this.entries.delete(key);
    }
    this.stats.hits += found.size;
    this.stats.misses += keys.length - found.size;
    return found;
  }

  /** A read of the source begins: give its mark to `set` and `end`. */
  begin(): number {
    this.reading.set(this.epoch, (this.reading.get(this.epoch) ?? 0) + 1);
    return this.epoch;
  }

  /** Keeps what a read begun at `since` found, but for keys that changed while it ran. */
  set(entries: ReadonlyMap<string, T>, since: number): void {
    if (this.allChangedAt > since) return;
    const until = this.now() + this.ttlMs;
    for (const [key, value] of entries) {
      if ((this.changedAt.get(key) ?? -1) > since) continue;
      // past the bound, the oldest entry goes (a Map keeps insertion order)
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, until });
    }
  }

  /** The read begun at `since` is over. */
  end(since: number): void {
    const left = (this.reading.get(since) ?? 1) - 1;
    if (left > 0) this.reading.set(since, left);
    else this.reading.delete(since);
    if (this.reading.size === 0) this.changedAt.clear();
  }

  invalidate(change: StockChange): void {
    this.epoch++;
    if ('all' in change) {
      this.entries.clear();
      this.changedAt.clear();
      this.allChangedAt = this.epoch;
      return;
    }
    for (const key of change.skus) {
      this.entries.delete(key);
      if (this.reading.size > 0) this.changedAt.set(key, this.epoch);
    }
  }
}
