import { describe, expect, it } from 'vitest';
import { StockChanges } from '../src/infra/stock-changes.js';
import type { StockChange } from '../src/domain/stock-change.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers, postgresUrl } from './support/databases.js';
import { useStockroom, world } from './support/harness.js';

/** Every change heard, and a way to wait for the first one that names a variant. */
function recorder(changes: StockChanges) {
  const heard: StockChange[] = [];
  const waiting = new Set<{ sku: string; resolve: () => void }>();
  changes.subscribe((c) => {
    heard.push(c);
    for (const w of waiting) {
      if ('all' in c || c.skus.includes(w.sku)) {
        waiting.delete(w);
        w.resolve();
      }
    }
  });
  return {
    heard,
    until: (sku: string) => new Promise<void>((resolve) => waiting.add({ sku, resolve })),
  };
}

describe.each(drivers())('announcements of committed stock changes on %s', (driver) => {
  const h = useStockroom(driver);
  const idOf = async (sku: string): Promise<number> =>
    (await h.test.db.query<{ id: number }>('SELECT id FROM variants WHERE sku = $1', [sku])).rows[0]?.id ?? -1;

  it('name the variants a committed change touched, and never one that rolled back', async () => {
    const changes = await StockChanges.follow(h.test.db);
    const r = recorder(changes);
    try {
      const kept = await world(h.s, [5]);
      const undone = await world(h.s, [5]);
      const undoneId = await idOf(undone.sku);
      // notices arrive in commit order: once this one is heard, every earlier one has been
      let heard = r.until(kept.sku);
      await h.s.stock.receive({ sku: kept.sku, warehouse: kept.wh[0]!, qty: 1 });
      await heard;
      const mark = r.heard.length;

      const rolledBack = h.test.db.transaction(async (tx) => {
        await tx.query('UPDATE stock_levels SET on_hand = on_hand + 1 WHERE variant_id = $1', [undoneId]);
        throw new Error('changed my mind');
      });
      await expect(rolledBack).rejects.toThrow('changed my mind');
      heard = r.until(kept.sku);
      await h.s.reservations.reserve({ order_ref: 'announced', lines: [{ sku: kept.sku, qty: 1 }] });
      await heard;
      const since = r.heard.slice(mark);
      expect(since.some((c) => 'skus' in c && c.skus.includes(kept.sku))).toBe(true);
      expect(since.some((c) => 'all' in c || c.skus.includes(undone.sku))).toBe(false);
    } finally {
      await changes.close();
    }
  });

  it("announce a change of a variant's settings", async () => {
    const changes = await StockChanges.follow(h.test.db);
    const r = recorder(changes);
    try {
      const { sku } = await world(h.s, [1]);
      const heard = r.until(sku);
      await h.s.catalog.updateVariant(sku, { low_stock_threshold: 9 });
      await heard;
    } finally {
      await changes.close();
    }
  });
});

describe.skipIf(!postgresUrl())('announcements across processes on postgres', () => {
  const h = useStockroom('postgres');
  it('are heard by every process, not only the one that made the change', async () => {
    const other = new Stockroom({ db: await openPostgres(h.test.url ?? '', { max: 2 }) });
    const changes = await StockChanges.follow(h.test.db);
    const r = recorder(changes);
    try {
      const { sku, wh } = await world(h.s, [0]);
      const heard = r.until(sku);
      await other.stock.receive({ sku, warehouse: wh[0]!, qty: 3 });
      await heard;
    } finally {
      await changes.close();
      await other.close();
    }
  });
});
