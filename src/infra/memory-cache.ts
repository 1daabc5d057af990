import { ChangeClock } from './change-clock.js';
import type { StockChange } from '../domain/stock-change.js';

/**
 * A cache in this process with a time to live, emptied key by key as the database announces changes. A read
 * that began before a change of a key cannot put its (older) answer in afterwards (see ChangeClock).
 */
export class MemoryCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  private readonly clock: ChangeClock;
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {
    this.clock = new ChangeClock(now);
  }

  /** The keys held and still fresh; the others are for the caller to read from the source. */
  get(keys: readonly string[]): Map<string, T> {
    const found = new Map<string, T>();
    const now = this.now();
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry && entry.until > now) found.set(key, entry.value);
      else if (entry) this.entries.delete(key);
    }
    this.stats.hits += found.size;
    this.stats.misses += keys.length - found.size;
    return found;
  }

  /** A read of the source begins (as of `lookbackMs` ago, for a replica's read): give its mark to `set` and `end`. */
  begin(lookbackMs?: number): number {
    return this.clock.begin(lookbackMs);
  }

  /**
   * Keeps what a read begun at `since` found, but for keys that changed while it ran; a key with a lifetime
   * (ms) is kept no longer than that, and not at all if it has none left.
   */
  set(entries: ReadonlyMap<string, T>, since: number, lifetimes?: ReadonlyMap<string, number>): void {
    const now = this.now();
    for (const [key, value] of entries) {
      if (!this.clock.unchangedSince(key, since)) continue;
      const keep = Math.min(this.ttlMs, lifetimes?.get(key) ?? Infinity);
      if (keep <= 0) continue;
      const until = now + keep;
      // past the bound, the oldest entry goes (a Map keeps insertion order)
      if (this.entries.size >= this.maxEntries && !this.entries.has(key))
        this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, until });
    }
  }

  /** The read begun at `since` is over. */
  end(since: number): void {
    this.clock.end(since);
  }

  /** Drops what an announced change made stale, and keeps reads in flight from putting it back. */
  invalidate(change: StockChange): void {
    this.clock.changed(change);
    if ('all' in change) this.entries.clear();
    else for (const key of change.skus) this.entries.delete(key);
  }

  /** Nothing to release: the entries go with the process. */
  async close(): Promise<void> {
    this.entries.clear();
  }
}
