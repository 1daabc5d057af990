import { describe, expect, it } from 'vitest';
import { expectedDateFrom } from '../src/domain/purchasing.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';

describe.each(drivers())('replenishment on %s', (driver) => {
  const h = useStockroom(driver);

  /** Ships `qty` of a SKU today (by the test clock): reserve, commit, fulfil. */
  async function ship(sku: string, qty: number): Promise<void> {
    const r = await h.s.reservations.reserve({ order_ref: uniq('order'), lines: [{ sku, qty }] });
    await h.s.reservations.commit(r.id);
    await h.s.reservations.fulfil(r.id);
  }

  async function supplier(lead = 4, warehouse?: string): Promise<string> {
    const code = uniq('SUP');
    await h.s.purchasing.addSupplier({ code, name: code, lead_time_days: lead, ...(warehouse ? { warehouse } : {}) });
    return code;
  }

  it('suggests safety stock and reorder point from the daily demand in the ledger, worked out by hand', async () => {
    const sup = await supplier(4);
    const { sku } = await world(h.s, [100], { reorder_point: 30, reorder_qty: 50, supplier: sup });
    await ship(sku, 9); // 8 days before "today": outside a 7-day window
    h.clock.advance(86_400);
    for (const qty of [2, 4, 4, 4, 5, 5, 7]) {
      await ship(sku, qty);
      h.clock.advance(86_400);
    }
    await ship(sku, 3); // today: a day not over yet is not counted
    await h.s.reservations.reserve({ order_ref: uniq('order'), lines: [{ sku, qty: 30 }] }); // promised, not shipped

    // daily demand 2,4,4,4,5,5,7: mean 31/7 = 4.428571; sample deviation sqrt(13.714286 / 6) = 1.511858
    // lead time 4 days (the supplier's). At 95%, z = 1.644854: safety = ceil(1.644854 x 1.511858 x 2) = ceil(4.9736) = 5,
    // reorder point = ceil(4.428571 x 4) + 5 = 18 + 5 = 23. Position: 100 - 9 - 31 - 3 on hand, 30 reserved -> 27 <= 30,
    // so due: order up to 30 + 50, i.e. 53.
    const [s] = (await h.s.replenishment.suggestions({ sku: [sku], window_days: 7 })).items;
    expect(s).toMatchObject({
      sku,
      supplier: sup,
      net: 27,
      incoming: 0,
      position: 27,
      reorder_point: 30,
      lead_time_days: 4,
      due: true,
      suggested_qty: 53,
    });
    expect(s!.demand.mean_per_day).toBeCloseTo(4.428571, 6);
    expect(s!.demand.deviation_per_day).toBeCloseTo(1.511858, 6);
    expect(s).toMatchObject({ suggested_safety_stock: 5, suggested_reorder_point: 23 });
    // at 97.5%, z = 1.959964: safety = ceil(5.9264) = 6, reorder point 24
    const strict = (await h.s.replenishment.suggestions({ sku: [sku], window_days: 7, service_level: 0.975 })).items[0];
    expect(strict).toMatchObject({ suggested_safety_stock: 6, suggested_reorder_point: 24 });
    // over 14 days the 9 of day -8 counts too: 9,2,4,4,4,5,5,7 and six zeros, 40 units, mean 2.857143;
    // sum of squares 232 - 14 x 2.857143^2 = 117.714286, / 13 = 9.054945, deviation 3.009144;
    // safety = ceil(1.644854 x 3.009144 x 2) = ceil(9.8992) = 10; reorder point = ceil(11.428571) + 10 = 22
    const wide = (await h.s.replenishment.suggestions({ sku: [sku], window_days: 14 })).items[0];
    expect(wide!.demand.mean_per_day).toBeCloseTo(2.857143, 6);
    expect(wide!.demand.deviation_per_day).toBeCloseTo(3.009144, 6);
    expect(wide).toMatchObject({ suggested_safety_stock: 10, suggested_reorder_point: 22 });
  });

  it('lists only variants at or below their reorder point, counting units on order as coming', async () => {
    const sup = await supplier();
    const low = await world(h.s, [10], { reorder_point: 10, reorder_qty: 20, supplier: sup });
    const fine = await world(h.s, [11], { reorder_point: 10, reorder_qty: 20, supplier: sup });
    const ours = async () =>
      (await h.s.replenishment.suggestions({ limit: 500 })).items
        .filter((i) => [low.sku, fine.sku].includes(i.sku))
        .map((i) => i.sku);
    expect(await ours()).toEqual([low.sku]);
    const po = await h.s.purchasing.create({ supplier: sup, warehouse: low.wh[0]!, lines: [{ sku: low.sku, qty: 5 }] });
    expect(await ours()).toEqual([low.sku]); // a draft is not coming yet
    await h.s.purchasing.send(po.id);
    expect(await ours()).toEqual([]); // 10 + 5 on order
    await expect(h.s.replenishment.suggestions({ service_level: 1 })).rejects.toThrow('/service_level');
    await expect(h.s.replenishment.suggestions({ window_days: 0 })).rejects.toThrow('/window_days');
  });

  it('drafts one purchase order per supplier for due variants without an open order, and adds to it later', async () => {
    const dock = uniq('DOCK');
    await h.s.catalog.addWarehouse({ code: dock, name: 'Receiving dock', priority: -1000 });
    const [s1, s2] = [await supplier(3, dock), await supplier(10, dock)];
    const a = await world(h.s, [2], { reorder_point: 5, reorder_qty: 10, supplier: s1 });
    const b = await world(h.s, [0], { reorder_point: 4, supplier: s1 });
    const c = await world(h.s, [1], { reorder_point: 1, reorder_qty: 6, supplier: s2 });
    const orphan = await world(h.s, [0], { reorder_point: 1 });
    const busy = await world(h.s, [0], { reorder_point: 1, supplier: s2 });
    await h.s.purchasing.create({ supplier: s2, warehouse: busy.wh[0]!, lines: [{ sku: busy.sku, qty: 1 }] });

    const run = await h.s.replenishment.replenish();
    const mine = run.orders.filter((o) => [s1, s2].includes(o.supplier));
    expect(
      mine.map((o) => ({
        supplier: o.supplier,
        warehouse: o.warehouse,
        status: o.status,
        origin: o.origin,
        expected: o.expected_date,
        lines: o.lines.map((l) => [l.sku, l.qty]),
      })),
    ).toEqual([
      {
        supplier: s1,
        warehouse: dock,
        status: 'DRAFT',
        origin: 'replenishment',
        expected: expectedDateFrom(h.clock.now(), 3),
        lines: [
          [a.sku, 13],
          [b.sku, 8],
        ],
      }, // 5+10-2; 4+4-0
      {
        supplier: s2,
        warehouse: dock,
        status: 'DRAFT',
        origin: 'replenishment',
        expected: expectedDateFrom(h.clock.now(), 10),
        lines: [[c.sku, 6]],
      }, // 1+6-1
    ]);
    expect(run.skipped).toEqual(
      expect.arrayContaining([
        { sku: orphan.sku, reason: 'no_supplier' },
        { sku: busy.sku, reason: 'open_purchase_order' },
      ]),
    );

    const again = await h.s.replenishment.replenish();
    expect(again.orders.filter((o) => [s1, s2].includes(o.supplier))).toEqual([]);
    const later = await world(h.s, [0], { reorder_point: 2, reorder_qty: 3, supplier: s1 });
    const third = (await h.s.replenishment.replenish()).orders.filter((o) => o.supplier === s1);
    expect(third.map((o) => [o.id, o.lines.map((l) => l.sku)])).toEqual([[mine[0]!.id, [a.sku, b.sku, later.sku]]]);
  });

  it('drafts nothing into an archived warehouse and nothing of an archived variant', async () => {
    const shut = uniq('SHUT');
    await h.s.catalog.addWarehouse({ code: shut, name: 'Closed dock', priority: -1000 });
    const [closing, open] = [await supplier(3, shut), await supplier(3)];
    const stranded = await world(h.s, [0], { reorder_point: 2, supplier: closing });
    const gone = await world(h.s, [0], { reorder_point: 2, supplier: open });
    await h.s.catalog.archiveWarehouse(shut);
    await h.s.catalog.archiveVariant(gone.sku);
    const run = await h.s.replenishment.replenish();
    const lines = run.orders.flatMap((order) => order.lines.map((line) => line.sku));
    expect(lines).not.toContain(stranded.sku);
    expect(lines).not.toContain(gone.sku);
    expect(run.orders.map((order) => order.warehouse)).not.toContain(shut);
    expect(run.skipped).toContainEqual({ sku: stranded.sku, reason: 'no_warehouse' });
    expect(run.skipped.map((skip) => skip.sku)).not.toContain(gone.sku);
  });

  it('never drafts twice when runs overlap', async () => {
    const sup = await supplier();
    const skus = [];
    for (let i = 0; i < 3; i++) skus.push((await world(h.s, [0], { reorder_point: 3, supplier: sup })).sku);
    const runs = await Promise.all(Array.from({ length: 6 }, () => h.s.replenishment.replenish()));
    const drafted = runs.flatMap((r) => r.orders).filter((o) => o.supplier === sup);
    expect(drafted).toHaveLength(1);
    expect(drafted[0]!.lines.map((l) => l.sku)).toEqual(skus);
    expect((await h.s.purchasing.list({ supplier: sup })).items).toHaveLength(1);
  });

  it('runs on schedule only when the last run is long enough ago', async () => {
    await h.s.replenishment.replenish();
    expect(await h.s.replenishment.replenishIfDue(86_400_000)).toBeUndefined();
    expect(await h.s.replenishment.replenishIfDue(0)).toMatchObject({ orders: expect.any(Array) as unknown });
  });
});
