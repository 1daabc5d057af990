import { describe, expect, it } from 'vitest';
import { StockChanges } from '../src/infra/stock-changes.js';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import type { AvailabilityEvent } from '../src/services/availability-feed.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';

/** A stream's listener: every event it was told, and a way to wait for the one that says `available`. */
function listener() {
  const told: AvailabilityEvent[] = [];
  const waiting = new Set<{ available: number; resolve: (event: AvailabilityEvent) => void }>();
  return {
    told,
    listen: (event: AvailabilityEvent): void => {
      told.push(event);
      for (const wait of waiting) {
        if (event.item.available === wait.available) {
          waiting.delete(wait);
          wait.resolve(event);
        }
      }
    },
    until: (available: number): Promise<AvailabilityEvent> =>
      new Promise((resolve) => waiting.add({ available, resolve })),
  };
}

// the feed of `stockroom serve`, following the database's announcements, with streams coming and going
describe.each(drivers())('resuming live availability on %s', (driver) => {
  const h = useStockroom(driver);

  it('a stream that was the only watcher, left and came back with the id it saw gets exactly the events it missed', async () => {
    const changes = await StockChanges.follow(h.test.db);
    const feed = new AvailabilityFeed(h.s.availability);
    changes.subscribe((change) => {
      feed.onChange(change);
    });
    try {
      const { sku } = await world(h.s, [6]);
      const reserve = (qty: number) =>
        h.s.reservations.reserve({ order_ref: uniq(`resume-${qty}`), lines: [{ sku, qty }] });
      const away = listener();
      const first = await feed.watch([sku], away.listen);
      expect(first.first.map((event) => event.item.available)).toEqual([6]);
      let next = away.until(5);
      await reserve(1);
      const seen = await next;
      // two more changes are told to the stream, which drops before reading them
      next = away.until(3);
      await reserve(2);
      await next;
      next = away.until(1);
      await reserve(2);
      await next;
      first.stop();
      const missed = away.told.slice(away.told.indexOf(seen) + 1);
      expect(missed.map((event) => event.item.available)).toEqual([3, 1]);

      const back = listener();
      const resumed = await feed.watch([sku], back.listen, seen.id);
      expect(resumed.first).toEqual(missed);
      expect(back.told).toEqual([]);
      resumed.stop();

      // a change while nobody watches was never followed: the resume gets one event with the state now
      await reserve(1);
      const later = listener();
      const again = await feed.watch([sku], later.listen, missed[1]!.id);
      expect(again.first).toEqual([]);
      expect(later.told.map((event) => event.item)).toEqual([
        { sku, available: 0, status: 'out_of_stock', label: 'Out of stock' },
      ]);
      again.stop();
    } finally {
      await changes.close();
    }
  });
});
