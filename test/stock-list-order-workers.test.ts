import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StockChanges } from '../src/infra/stock-changes.js';
import type { StockListOrderRefresh } from '../src/services/stock-list.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';

describe.each(drivers())('the stock list order compared at start, by several server processes on %s', (driver) => {
  const h = useStockroom(driver);
  /** A second server process on the same database: its own pool on PostgreSQL (the embedded one is shared). */
  let other: Stockroom;
  beforeAll(async () => {
    const ownPool = driver === 'postgres' && h.test.url;
    other = new Stockroom({ db: ownPool ? await openPostgres(h.test.url ?? '', { max: 2 }) : h.s.db });
  });
  afterAll(async () => {
    if (other.db !== h.s.db) await other.close();
  });

  /** A process following the announced changes as `stockroom serve` does; its refreshes are recorded. */
  async function follower(s: Stockroom) {
    const changes = await StockChanges.follow(s.db);
    const refreshes: StockListOrderRefresh[] = [];
    const upkeep = s.stockList.follow({ onRefreshed: (refresh) => refreshes.push(refresh) });
    changes.subscribe((change) => {
      upkeep.onChange(change);
    });
    return {
      refreshes,
      refresh: () => upkeep.refresh(),
      close: async () => {
        await s.stockList.unfollow();
        await changes.close();
      },
    };
  }

  it('compares every level once when workers start together, and again for one that starts after', async () => {
    await world(h.s, [5, 7]);
    // the levels' order is behind (as if changed while no server listened)
    await h.s.db.exec('UPDATE stock_list_order SET available = available + 1');
    const first = await follower(h.s);
    const second = await follower(other);
    try {
      await first.refresh();
      await second.refresh();
      // the first compared every level after both were following: the second had nothing left to catch up on
      expect(first.refreshes).toEqual([{ all: true, skus: 0, levels: expect.any(Number) as number }]);
      expect(first.refreshes[0]?.levels).toBeGreaterThanOrEqual(2);
      expect(second.refreshes).toEqual([{ all: true, skus: 0, levels: 0, covered: true }]);
      const { rows } = await h.s.db.query<{ behind: number }>(
        `SELECT count(*)::int AS behind FROM stock_list_order o JOIN stock_levels l USING (variant_id, warehouse_id)
          WHERE o.available <> l.available`,
      );
      expect(rows[0]?.behind).toBe(0);
    } finally {
      await second.close();
    }
    // one that starts following later may have missed changes since: it compares every level itself
    const late = await follower(other);
    try {
      await late.refresh();
      expect(late.refreshes).toEqual([{ all: true, skus: 0, levels: 0 }]);
    } finally {
      await late.close();
      await first.close();
    }
  });
});
