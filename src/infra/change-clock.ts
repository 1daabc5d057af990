import type { StockChange } from '../domain/stock-change.js';

/**
 * Keeps a read's older answer out of a cache: `begin` marks when a read of the database starts, `changed`
 * records announced changes, and `unchangedSince` says whether a key may be cached from a read begun at a mark.
 * Only while reads are in flight does it remember which keys changed when, so memory stays bounded.
 */
export class ChangeClock {
  /** counts announced changes */
  private epoch = 0;
  private changedAt = new Map<string, number>();
  private allChangedAt = -1;
  /** reads in flight, by the epoch they began at */
  private reading = new Map<number, number>();

  /** A read of the database starts now; returns the mark to check its keys against and to end it with. */
  begin(): number {
    this.reading.set(this.epoch, (this.reading.get(this.epoch) ?? 0) + 1);
    return this.epoch;
  }

  /** The read begun at `since` is over; once none is in flight, no change needs remembering. */
  end(since: number): void {
    const left = (this.reading.get(since) ?? 1) - 1;
    if (left > 0) this.reading.set(since, left);
    else this.reading.delete(since);
    if (this.reading.size === 0) this.changedAt.clear();
  }

  /** Records an announced change, so reads already in flight cannot cache what it made stale. */
  changed(change: StockChange): void {
    this.epoch++;
    if ('all' in change) {
      this.changedAt.clear();
      this.allChangedAt = this.epoch;
      return;
    }
    if (this.reading.size === 0) return;
    for (const key of change.skus) this.changedAt.set(key, this.epoch);
  }

  /** Whether what a read begun at `since` found for this key is still current. */
  unchangedSince(key: string, since: number): boolean {
    return this.allChangedAt <= since && (this.changedAt.get(key) ?? -1) <= since;
  }
}
