import type { StockChange } from '../domain/stock-change.js';

/** One announced change: when, its number, and the keys it named (none for "anything may have changed"). */
interface Announced {
  at: number;
  epoch: number;
  keys: readonly string[];
}

/**
 * Keeps a read's older answer out of a cache: `begin` marks when a read of the database starts, `changed`
 * records announced changes, and `unchangedSince` says whether a key may be cached from a read begun at a mark.
 * A read of a replica begins `lookbackMs` earlier: the replica may not have replayed what was announced in that
 * time. Only while reads in flight or such a look-back may need it does it remember which keys changed when,
 * so memory stays bounded.
 */
export class ChangeClock {
  /** counts announced changes */
  private epoch = 0;
  /** the changes still remembered, oldest first, from `head` on (those before it are forgotten) */
  private announced: Announced[] = [];
  private head = 0;
  /** the last remembered change of each key */
  private changedAt = new Map<string, number>();
  private allChangedAt = -1;
  /** reads in flight, by the epoch they began at */
  private reading = new Map<number, number>();
  /** the longest look-back asked for so far, in ms */
  private window = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A read of the database starts now (as of `lookbackMs` ago: what a replica may lack); returns the mark to
   * check its keys against and to end it with.
   */
  begin(lookbackMs = 0): number {
    let since = this.epoch;
    if (lookbackMs > 0) {
      this.window = Math.max(this.window, lookbackMs);
      const first = this.announced[this.firstSince(this.now() - lookbackMs)];
      if (first) since = first.epoch - 1;
    }
    this.reading.set(since, (this.reading.get(since) ?? 0) + 1);
    return since;
  }

  /** The read begun at `since` is over; what no read in flight or look-back needs is forgotten. */
  end(since: number): void {
    const left = (this.reading.get(since) ?? 1) - 1;
    if (left > 0) this.reading.set(since, left);
    else this.reading.delete(since);
    this.forget();
  }

  /** Records an announced change, so reads already in flight cannot cache what it made stale. */
  changed(change: StockChange): void {
    this.epoch++;
    const keys = 'all' in change ? [] : change.skus;
    if ('all' in change) this.allChangedAt = this.epoch;
    this.announced.push({ at: this.now(), epoch: this.epoch, keys });
    for (const key of keys) this.changedAt.set(key, this.epoch);
    this.forget();
  }

  /** Whether what a read begun at `since` found for this key is still current. */
  unchangedSince(key: string, since: number): boolean {
    return this.allChangedAt <= since && (this.changedAt.get(key) ?? -1) <= since;
  }

  /** The index of the first remembered change announced at or after `from` (a binary search: they are in order). */
  private firstSince(from: number): number {
    let low = this.head;
    let high = this.announced.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.announced[middle]?.at ?? Infinity) < from) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Drops the changes older than the look-back that no read in flight began before. */
  private forget(): void {
    const from = this.now() - this.window;
    let oldestRead = Infinity;
    for (const since of this.reading.keys()) oldestRead = Math.min(oldestRead, since);
    for (; this.head < this.announced.length; this.head++) {
      const change = this.announced[this.head];
      if (!change || change.at >= from || change.epoch > oldestRead) break;
      for (const key of change.keys) if (this.changedAt.get(key) === change.epoch) this.changedAt.delete(key);
    }
    // the forgotten are cut off in bulk, not one by one: a busy store announces thousands of changes a second
    if (this.head > 1024 && this.head * 2 > this.announced.length) {
      this.announced = this.announced.slice(this.head);
      this.head = 0;
    }
  }
}
