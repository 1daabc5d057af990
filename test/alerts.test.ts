import { describe, expect, it } from 'vitest';
import { applyMovements } from '../src/store/levels.js';
import { listOutbox } from '../src/store/outbox.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import type { Harness } from './support/harness.js';

/** The alerts of a SKU, oldest first, as `type@warehouse:available` (warehouse * is the variant overall). */
async function alertsOf(h: Harness, sku: string): Promise<string[]> {
  const page = await h.s.alerts.list({ sku, limit: 500 });
  return page.items.reverse().map((a) => `${a.type}@${a.warehouse ?? '*'}:${a.available}`);
}

describe.each(drivers())('threshold alerts on %s', (driver) => {
  const h = useStockroom(driver);

  it('fires low_stock, out_of_stock and back_in_stock once per crossing, per warehouse and overall', async () => {
    // threshold 5: in stock above 5, low at 1..5, out at 0
    const { sku, wh } = await world(h.s, [8], { low_stock_threshold: 5 });
    const w = wh[0]!;
    expect(await alertsOf(h, sku)).toEqual([]); // the first delivery of a new variant is not a recovery
    await h.s.stock.adjust({ sku, warehouse: w, delta: -2, reason: 'damaged' }); // 6: still in stock
    expect(await alertsOf(h, sku)).toEqual([]);
    await h.s.stock.adjust({ sku, warehouse: w, delta: -1, reason: 'damaged' }); // 5: low
    await h.s.stock.adjust({ sku, warehouse: w, delta: -2, reason: 'damaged' }); // 3: still low, no second alert
    expect(await alertsOf(h, sku)).toEqual([`low_stock@${w}:5`, 'low_stock@*:5']);
    await h.s.stock.adjust({ sku, warehouse: w, delta: -3, reason: 'damaged' }); // 0: out
    await h.s.stock.adjust({ sku, warehouse: w, delta: 2, reason: 'correction' }); // 2: back, though low
    await h.s.stock.adjust({ sku, warehouse: w, delta: 10, reason: 'correction' }); // 12: in stock, nothing new
    await h.s.stock.adjust({ sku, warehouse: w, delta: -8, reason: 'damaged' }); // 4: low again (re-armed)
    expect(await alertsOf(h, sku)).toEqual([
      `low_stock@${w}:5`,
      'low_stock@*:5',
      `out_of_stock@${w}:0`,
      'out_of_stock@*:0',
      `back_in_stock@${w}:2`,
      'back_in_stock@*:2',
      `low_stock@${w}:4`,
      'low_stock@*:4',
    ]);
  });

  it('judges a warehouse on its own numbers and the variant on the total of all of them', async () => {
    const { sku, wh } = await world(h.s, [10, 10], { low_stock_threshold: 5 });
    const [a, b] = [wh[0]!, wh[1]!];
    await h.s.stock.adjust({ sku, warehouse: a, delta: -10, reason: 'damaged' }); // a out; total 10
    expect(await alertsOf(h, sku)).toEqual([`out_of_stock@${a}:0`]);
    await h.s.stock.transfer({ sku, from: b, to: a, qty: 4 }); // a 4 (back, low), b 6; total 10
    expect(await alertsOf(h, sku)).toEqual([`out_of_stock@${a}:0`, `back_in_stock@${a}:4`]);
    await h.s.stock.adjust({ sku, warehouse: b, delta: -2, reason: 'damaged' }); // b 4 low; total 8
    await h.s.stock.adjust({ sku, warehouse: b, delta: -3, reason: 'damaged' }); // b 1; total 5: low overall
    expect((await alertsOf(h, sku)).slice(2)).toEqual([`low_stock@${b}:4`, 'low_stock@*:5']);
  });

  it('keeps judging the variant overall when one level stays above the threshold and another crosses', async () => {
    // a level above the threshold before and one above it after mean the total is too: that variant is not summed
    const { sku, wh } = await world(h.s, [20, 6], { low_stock_threshold: 5 });
    const [a, b] = [wh[0]!, wh[1]!];
    await h.s.stock.adjust({ sku, warehouse: a, delta: -10, reason: 'damaged' }); // a 10; total 16
    await h.s.stock.adjust({ sku, warehouse: b, delta: -6, reason: 'damaged' }); // b out; total 10, in stock
    expect(await alertsOf(h, sku)).toEqual([`out_of_stock@${b}:0`]);
    await h.s.stock.transfer({ sku, from: a, to: b, qty: 4 }); // a 6, b 4 (back, low): above and under, total 10
    await h.s.stock.adjust({ sku, warehouse: a, delta: -3, reason: 'damaged' }); // a 3: the total 7, in stock
    expect(await alertsOf(h, sku)).toEqual([`out_of_stock@${b}:0`, `back_in_stock@${b}:4`, `low_stock@${a}:3`]);
    await h.s.stock.adjust({ sku, warehouse: b, delta: -2, reason: 'damaged' }); // b 2: the total 5, low overall
    expect((await alertsOf(h, sku)).slice(3)).toEqual(['low_stock@*:5']);
  });

  it('judges concurrent changes in two warehouses of one variant one after the other: the total crosses once', async () => {
    const { sku, wh } = await world(h.s, [10, 10], { low_stock_threshold: 5 });
    const [a, b] = [wh[0]!, wh[1]!];
    // 20 clients at once, half at each warehouse, each taking one unit: every scope ends at zero
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.s.stock.adjust({ sku, warehouse: i % 2 === 0 ? a : b, delta: -1, reason: 'shrinkage' }),
      ),
    );
    expect((await alertsOf(h, sku)).sort()).toEqual(
      [
        `low_stock@${a}:5`,
        `out_of_stock@${a}:0`,
        `low_stock@${b}:5`,
        `out_of_stock@${b}:0`,
        'low_stock@*:5',
        'out_of_stock@*:0',
      ].sort(),
    );
  });

  it('counts reservations: available, not on hand, crosses the threshold; a release brings it back', async () => {
    const { sku, wh } = await world(h.s, [3], { low_stock_threshold: 1 });
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }] });
    expect(await alertsOf(h, sku)).toEqual([`out_of_stock@${wh[0]}:0`, 'out_of_stock@*:0']);
    await h.s.reservations.release(r.id);
    expect((await alertsOf(h, sku)).slice(2)).toEqual([`back_in_stock@${wh[0]}:3`, 'back_in_stock@*:3']);
  });

  it('a new threshold alone can cross it, and safety stock counts against available', async () => {
    const { sku, wh } = await world(h.s, [8], { low_stock_threshold: 5 });
    await h.s.catalog.updateVariant(sku, { product: { title: sku }, low_stock_threshold: 10 });
    expect(await alertsOf(h, sku)).toEqual([`low_stock@${wh[0]}:8`, 'low_stock@*:8']);
    await h.s.catalog.updateVariant(sku, { product: { title: sku }, low_stock_threshold: 2 }); // re-armed
    await h.s.catalog.updateVariant(sku, { product: { title: sku }, low_stock_threshold: 2, safety_stock: 8 });
    expect((await alertsOf(h, sku)).slice(2)).toEqual([`out_of_stock@${wh[0]}:0`, 'out_of_stock@*:0']);
  });

  it('writes each alert to the outbox in the same transaction, and nothing for a change rolled back', async () => {
    const { sku, wh } = await world(h.s, [6], { low_stock_threshold: 5 });
    const outboxOf = async () =>
      (await listOutbox(h.s.db, 'alert', 100_000))
        .map((r) => r.payload as { sku: string })
        .filter((p) => p.sku === sku);
    const [variant] = (await h.s.db.query<{ id: number }>('SELECT id FROM variants WHERE sku = $1', [sku])).rows;
    const [warehouse] = (await h.s.db.query<{ id: number }>('SELECT id FROM warehouses WHERE code = $1', [wh[0]])).rows;
    await expect(
      h.s.db.transaction(async (tx) => {
        await applyMovements(tx, 'test', [
          {
            variantId: variant!.id,
            warehouseId: warehouse!.id,
            type: 'adjust',
            deltaOnHand: -6,
            deltaReserved: 0,
            guard: 'none',
            reason: 'damaged',
          },
        ]);
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow('changed its mind');
    expect(await alertsOf(h, sku)).toEqual([]);
    expect(await outboxOf()).toEqual([]);
    await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -6, reason: 'damaged' });
    const alerts = (await h.s.alerts.list({ sku })).items;
    expect(await outboxOf()).toEqual(
      alerts.reverse().map((a) => ({
        alert_id: a.id,
        type: a.type,
        sku,
        warehouse: a.warehouse,
        available: 0,
        threshold: 5,
        created_at: expect.any(String) as unknown,
      })),
    );
  });

  it('lists alerts by type, newest first, paged', async () => {
    const { sku, wh } = await world(h.s, [2], { low_stock_threshold: 5 });
    await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -2, reason: 'damaged' });
    await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: 1, reason: 'correction' });
    const out = await h.s.alerts.list({ sku, type: 'out_of_stock', limit: 1 });
    expect(out.items).toMatchObject([{ type: 'out_of_stock', warehouse: null }]);
    const next = await h.s.alerts.list({ sku, type: 'out_of_stock', limit: 1, cursor: out.next_cursor ?? undefined });
    expect(next).toMatchObject({ items: [{ type: 'out_of_stock', warehouse: wh[0] }], next_cursor: null });
    await expect(h.s.alerts.list({ type: 'sold_out' })).rejects.toThrow('unknown alert type');
  });
});
