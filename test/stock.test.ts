import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  InsufficientStockError,
  NotFoundError,
  StaleQuantityError,
  UnknownSkuError,
  ValidationError,
} from '../src/domain/errors.js';
import type { AdjustInput, ReceiveInput } from '../src/index.js';
import { listOutbox } from '../src/store/outbox.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';

describe.each(drivers())('stock operations on %s', (driver) => {
  const h = useStockroom(driver);

  const lastMovement = async (sku: string) => (await h.s.stock.movements({ sku, limit: 1 })).items[0];

  it('receive adds on hand, writes one ledger row and puts units away in a bin', async () => {
    const { sku, wh } = await world(h.s, [0]);
    await h.s.catalog.addBin({ warehouse: wh[0]!, code: 'A-01-02' });
    const level = await h.s.stock.receive(
      { sku, warehouse: wh[0]!, qty: 12, bin: 'A-01-02', reference: 'ASN-7' },
      { actor: 'dock' },
    );
    expect(level).toEqual({ sku, warehouse: wh[0], on_hand: 12, reserved: 0, available: 12 });
    expect(await lastMovement(sku)).toMatchObject({
      type: 'receive',
      delta_on_hand: 12,
      delta_reserved: 0,
      on_hand_after: 12,
      reserved_after: 0,
      reason: 'received',
      reference: 'ASN-7',
      actor: 'dock',
    });
    expect((await h.s.stock.get(sku)).warehouses[0]!.bins).toEqual([{ bin: 'A-01-02', qty: 12 }]);
  });

  it('receive into an unknown bin is refused and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [3]);
    await expect(h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 1, bin: 'Z-99-99' })).rejects.toThrow(NotFoundError);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [3, 0, 3] });
  });

  it('takes units leaving a level out of its bins in bin order, so bins never hold more than is on hand', async () => {
    const { sku, wh } = await world(h.s, [0]);
    for (const code of ['B-01-01', 'A-01-01']) await h.s.catalog.addBin({ warehouse: wh[0]!, code });
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 4, bin: 'B-01-01' });
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 3, bin: 'A-01-01' });
    await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -5, reason: 'shrinkage' });
    expect((await h.s.stock.get(sku)).warehouses[0]!.bins).toEqual([{ bin: 'B-01-01', qty: 2 }]);
  });

  it('adjust moves on hand by a signed delta with its reason, never below zero', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const w = wh[0]!;
    expect(
      await h.s.stock.adjust({ sku, warehouse: w, delta: -4, reason: 'damaged', reference: 'INC-1' }),
    ).toMatchObject({ on_hand: 6, shortfall: 0 });
    expect(await lastMovement(sku)).toMatchObject({
      type: 'adjust',
      delta_on_hand: -4,
      reason: 'damaged',
      reference: 'INC-1',
    });
    await h.s.stock.adjust({ sku, warehouse: w, delta: 2, reason: 'correction' });
    await expect(h.s.stock.adjust({ sku, warehouse: w, delta: -9, reason: 'shrinkage' })).rejects.toThrow(
      InsufficientStockError,
    );
    expect(await levels(h.s, sku, wh)).toEqual({ [w]: [8, 0, 8] });
  });

  it('adjust below what is reserved is recorded and flagged as a shortfall in the outbox', async () => {
    const { sku, wh } = await world(h.s, [5]);
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }] });
    const level = await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -3, reason: 'damaged' });
    expect(level).toMatchObject({ on_hand: 2, reserved: 4, available: -2, shortfall: 2 });
    const flagged = (await listOutbox(h.s.db, 'stock.shortfall', 1000)).map((r) => r.payload);
    expect(flagged).toContainEqual(expect.objectContaining({ sku, warehouse: wh[0], shortfall: 2, cause: 'adjust' }));
  });

  it('adjust with expected_on_hand refuses a level that moved on (compare-and-set)', async () => {
    const { sku, wh } = await world(h.s, [7]);
    const w = wh[0]!;
    await expect(
      h.s.stock.adjust({ sku, warehouse: w, delta: -1, reason: 'correction', expected_on_hand: 6 }),
    ).rejects.toThrow(StaleQuantityError);
    expect(
      await h.s.stock.adjust({ sku, warehouse: w, delta: -1, reason: 'correction', expected_on_hand: 7 }),
    ).toMatchObject({ on_hand: 6 });
  });

  it('count sets the counted number and the ledger records the difference', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await h.s.stock.count({ sku, warehouse: wh[0]!, counted: 7, reference: 'CC-3' });
    expect(r).toMatchObject({ on_hand: 7, difference: -3 });
    expect(await lastMovement(sku)).toMatchObject({
      type: 'count',
      delta_on_hand: -3,
      reason: 'cycle_count',
      on_hand_after: 7,
    });
    await expect(h.s.stock.count({ sku, warehouse: wh[0]!, counted: 9, expected_on_hand: 10 })).rejects.toThrow(
      StaleQuantityError,
    );
    expect(await h.s.stock.count({ sku, warehouse: wh[0]!, counted: 9, expected_on_hand: 7 })).toMatchObject({
      on_hand: 9,
      difference: 2,
    });
  });

  it('transfer moves units atomically and only units nobody is promised', async () => {
    const { sku, wh } = await world(h.s, [10, 1]);
    const [a, b] = [wh[0]!, wh[1]!];
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 6 }], warehouse: a });
    await expect(h.s.stock.transfer({ sku, from: a, to: b, qty: 5 })).rejects.toThrow(InsufficientStockError);
    expect(await levels(h.s, sku, wh)).toEqual({ [a]: [10, 6, 4], [b]: [1, 0, 1] });
    const t = await h.s.stock.transfer({ sku, from: a, to: b, qty: 4, reference: 'TO-1' });
    expect(t.from).toMatchObject({ on_hand: 6, reserved: 6, available: 0 });
    expect(t.to).toMatchObject({ on_hand: 5, available: 5 });
    const rows = (await h.s.stock.movements({ sku, limit: 2 })).items;
    expect(rows.map((m) => [m.type, m.warehouse, m.delta_on_hand, m.reason])).toEqual(
      expect.arrayContaining([
        ['transfer_out', a, -4, 'transfer'],
        ['transfer_in', b, 4, 'transfer'],
      ]),
    );
  });

  it('transfer keeps safety stock where it is', async () => {
    const { sku, wh } = await world(h.s, [10, 0], { safety_stock: 3 });
    await expect(h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 8 })).rejects.toThrow(InsufficientStockError);
    await h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 7 });
  });

  it('the total available is what the storefront can sell: empty warehouses holding safety stock back add nothing', async () => {
    const { sku, wh } = await world(h.s, [10, 0, 0, 0], { safety_stock: 2, low_stock_threshold: 0 });
    const stock = await h.s.stock.get(sku);
    // every warehouse of the database has a level (other tests' too): each empty one says -2 on its own
    expect(stock.warehouses.length).toBeGreaterThanOrEqual(4);
    expect(await levels(h.s, sku, wh)).toEqual({
      [wh[0]!]: [10, 0, 8],
      [wh[1]!]: [0, 0, -2],
      [wh[2]!]: [0, 0, -2],
      [wh[3]!]: [0, 0, -2],
    });
    expect(stock.total).toMatchObject({ on_hand: 10, reserved: 0, available: 8 });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]?.available).toBe(8);

    // sold short on a backorder variant: the total never goes below zero, and backorder headroom is not stock
    const b = await world(h.s, [1, 0], { safety_stock: 0, backorder: { policy: 'backorder', limit: 3 } });
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku: b.sku, qty: 3 }], warehouse: b.wh[0]! });
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [1, 3, -2], [b.wh[1]!]: [0, 0, 0] });
    expect((await h.s.stock.get(b.sku)).total).toMatchObject({ on_hand: 1, reserved: 3, available: 0 });
    await h.s.stock.receive({ sku: b.sku, warehouse: b.wh[1]!, qty: 4 });
    expect((await h.s.stock.get(b.sku)).total.available).toBe(4);
    expect((await h.s.availability.get({ sku: [b.sku] })).items[0]?.available).toBe(4);
  });

  it('sync sets absolute on hand for a batch and never touches reserved', async () => {
    const { sku, wh } = await world(h.s, [10, 10]);
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }], warehouse: wh[0]! });
    const r = await h.s.stock.sync({
      source: 'wms-eu',
      items: [
        { sku, warehouse: wh[0]!, on_hand: 8 },
        { sku, warehouse: wh[1]!, on_hand: 15 },
      ],
    });
    expect(r.shortfalls).toEqual([]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [8, 3, 5], [wh[1]!]: [15, 0, 15] });
    expect(await lastMovement(sku)).toMatchObject({
      type: 'sync',
      reason: 'sync',
      reference: 'wms-eu',
      delta_reserved: 0,
    });
  });

  it('sync below reserved is applied, reported and flagged, not silently refused', async () => {
    const { sku, wh } = await world(h.s, [10]);
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 6 }] });
    const r = await h.s.stock.sync({ source: 'wms', items: [{ sku, warehouse: wh[0]!, on_hand: 4 }] });
    expect(r.shortfalls).toEqual([{ sku, warehouse: wh[0], on_hand: 4, reserved: 6, available: -2, shortfall: 2 }]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [4, 6, -2] });
    const flagged = (await listOutbox(h.s.db, 'stock.shortfall', 1000)).map((x) => x.payload);
    expect(flagged).toContainEqual(expect.objectContaining({ sku, cause: 'sync', shortfall: 2 }));
  });

  it('sync is all or nothing: one unknown SKU or one stale level refuses the whole batch', async () => {
    const { sku, wh } = await world(h.s, [5]);
    await expect(
      h.s.stock.sync({
        source: 'wms',
        items: [
          { sku, warehouse: wh[0]!, on_hand: 1 },
          { sku: 'NOPE-404', warehouse: wh[0]!, on_hand: 1 },
        ],
      }),
    ).rejects.toThrow(UnknownSkuError);
    await expect(
      h.s.stock.sync({ source: 'wms', items: [{ sku, warehouse: wh[0]!, on_hand: 1, expected_on_hand: 4 }] }),
    ).rejects.toThrow(StaleQuantityError);
    await expect(
      h.s.stock.sync({
        source: 'wms',
        items: [
          { sku, warehouse: wh[0]!, on_hand: 1 },
          { sku, warehouse: wh[0]!, on_hand: 2 },
        ],
      }),
    ).rejects.toThrow(/appears twice/);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
  });

  it('returns put resellable units back on hand and record damaged ones without making them sellable', async () => {
    const { sku, wh } = await world(h.s, [2]);
    const ok = await h.s.stock.return({ sku, warehouse: wh[0]!, qty: 1, condition: 'resellable', reference: 'RMA-1' });
    expect(ok.level).toMatchObject({ on_hand: 3, available: 3 });
    const bad = await h.s.stock.return({ sku, warehouse: wh[0]!, qty: 2, condition: 'damaged', reference: 'RMA-2' });
    expect(bad.level).toMatchObject({ on_hand: 3, available: 3 });
    expect(await lastMovement(sku)).toMatchObject({
      type: 'return',
      reason: 'damaged',
      delta_on_hand: 0,
      reference: 'RMA-2',
    });
  });

  it('bad input is refused with a clear error and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5, 0]);
    const w = wh[0]!;
    const movementsBefore = (await h.s.stock.movements({ sku })).items.length;
    const refused: [() => Promise<unknown>, RegExp | (new (...args: never[]) => Error)][] = [
      [() => h.s.stock.receive({ sku, warehouse: w, qty: 0 }), /\/qty: must be >= 1/],
      [() => h.s.stock.receive({ sku, warehouse: w, qty: -2 }), ValidationError],
      [() => h.s.stock.receive({ sku, warehouse: w, qty: 1.5 }), /\/qty: must be integer/],
      [() => h.s.stock.receive({ sku, warehouse: w, qty: '3' } as unknown as ReceiveInput), ValidationError],
      [() => h.s.stock.receive({ sku: 'NOPE-1', warehouse: w, qty: 1 }), UnknownSkuError],
      [() => h.s.stock.receive({ sku, warehouse: 'NOWHERE', qty: 1 }), /warehouse not found: NOWHERE/],
      [() => h.s.stock.adjust({ sku, warehouse: w, delta: 0, reason: 'other' }), /must not be 0/],
      [
        () => h.s.stock.adjust({ sku, warehouse: w, delta: 1 } as unknown as AdjustInput),
        /must have required properties reason/,
      ],
      [
        () => h.s.stock.adjust({ sku, warehouse: w, delta: 1, reason: 'because' } as unknown as AdjustInput),
        /must be one of: received/,
      ],
      [() => h.s.stock.transfer({ sku, from: w, to: w, qty: 1 }), /two different warehouses/],
      [() => h.s.stock.count({ sku, warehouse: w, counted: -1 }), ValidationError],
      [
        () => h.s.stock.receive({ sku, warehouse: w, qty: 1, surprise: true } as unknown as ReceiveInput),
        /\/surprise: unknown field/,
      ],
      [() => h.s.stock.receive({ sku: "x' OR 1=1; DROP TABLE variants; --", warehouse: w, qty: 1 }), ValidationError],
      [() => h.s.stock.receive({ sku: "x'OR'1'='1", warehouse: w, qty: 1 }), UnknownSkuError],
      [() => h.s.stock.movements({ reservation_id: 'nope' }), /must match format/],
      [() => h.s.stock.movements({ type: 'teleport' }), /unknown movement type teleport/],
      [() => h.s.stock.movements({ since: 'yesterday' }), /ISO 8601/],
    ];
    for (const [attempt, expected] of refused) await expect(attempt()).rejects.toThrow(expected);
    expect((await h.s.stock.movements({ sku })).items.length).toBe(movementsBefore);
    expect(await levels(h.s, sku, wh)).toEqual({ [w]: [5, 0, 5], [wh[1]!]: [0, 0, 0] });
  });

  it('accepts unicode SKUs', async () => {
    const sku = uniq('ТЕЕ-黒-Ø');
    const { wh } = await world(h.s, [0]);
    await h.s.catalog.addVariant({ sku, product: { title: 'Unicode tee' } });
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 2 });
    expect((await h.s.stock.get(sku)).total.on_hand).toBe(2);
  });

  it('the ledger refuses UPDATE, DELETE and TRUNCATE issued directly in SQL', async () => {
    const { sku } = await world(h.s, [1]);
    const id = (await lastMovement(sku))!.id;
    await expect(h.s.db.query('UPDATE stock_movements SET delta_on_hand = 100 WHERE id = $1', [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(h.s.db.query('DELETE FROM stock_movements WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(h.s.db.query('TRUNCATE stock_movements CASCADE')).rejects.toThrow(/append-only/);
    expect((await lastMovement(sku))!.delta_on_hand).toBe(1);
  });

  it('the database refuses ledger rows and lines naming no level or reservation, and keeps levels and reservations', async () => {
    const { sku, wh } = await world(h.s, [3]);
    const held = await h.s.reservations.reserve({ order_ref: uniq('keep'), lines: [{ sku, qty: 1 }] });
    const v = `(SELECT id FROM variants WHERE sku = '${sku}')`;
    const w = `(SELECT id FROM warehouses WHERE code = '${wh[0]!}')`;
    const missing = '00000000-0000-4000-8000-000000000000';
    const before = (await h.s.stock.movements({ sku })).items.length;
    // a level that does not exist (the variant in a warehouse id no level has), then a reservation that does not
    await expect(
      h.s.db.query(
        `INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after, reserved_after)
         VALUES (${v}, -1, 'reserve', 0, 1, 0, 1)`,
      ),
    ).rejects.toThrow(/does not exist/);
    await expect(
      h.s.db.query(
        `INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after, reserved_after, reservation_id)
         VALUES (${v}, ${w}, 'reserve', 0, 1, 3, 2, '${missing}')`,
      ),
    ).rejects.toThrow(/does not exist/);
    await expect(
      h.s.db.query(
        `INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty) VALUES ('${missing}', 1, ${v}, ${w}, 1)`,
      ),
    ).rejects.toThrow(/does not exist/);
    await expect(
      h.s.db.query(`UPDATE reservation_lines SET warehouse_id = -1 WHERE reservation_id = '${held.id}'`),
    ).rejects.toThrow(/does not exist/);
    // what rows refer to is never taken away or re-keyed
    await expect(h.s.db.query(`DELETE FROM reservations WHERE id = '${held.id}'`)).rejects.toThrow(/kept for good/);
    await expect(h.s.db.query(`DELETE FROM stock_levels WHERE variant_id = ${v}`)).rejects.toThrow(/kept for good/);
    await expect(h.s.db.query(`UPDATE stock_levels SET warehouse_id = -1 WHERE variant_id = ${v}`)).rejects.toThrow(
      /kept for good/,
    );
    await expect(h.s.db.query('TRUNCATE reservations CASCADE')).rejects.toThrow(/kept for good|append-only/);
    expect((await h.s.stock.movements({ sku })).items.length).toBe(before);
    expect((await h.s.reservations.get(held.id)).lines[0]?.warehouse).toBe(wh[0]);
  });

  it('the database itself refuses a negative on hand or an oversold reservation written around the services', async () => {
    const { sku } = await world(h.s, [2]);
    const v = `(SELECT id FROM variants WHERE sku = '${sku}')`;
    await expect(h.s.db.query(`UPDATE stock_levels SET on_hand = -1 WHERE variant_id = ${v}`)).rejects.toThrow(
      /check constraint/,
    );
    await expect(h.s.db.query(`UPDATE stock_levels SET reserved = 3 WHERE variant_id = ${v}`)).rejects.toThrow(
      /below its limit/,
    );
  });

  it('catalog: duplicate codes and SKUs are refused; a backorder policy needs a limit', async () => {
    const { sku, wh } = await world(h.s, [0]);
    await expect(h.s.catalog.addWarehouse({ code: wh[0]!, name: 'again' })).rejects.toThrow(AlreadyExistsError);
    await expect(h.s.catalog.addVariant({ sku, product: { title: 'again' } })).rejects.toThrow(AlreadyExistsError);
    await expect(
      h.s.catalog.addVariant({ sku: uniq('P'), product: { title: 'p' }, backorder: { policy: 'preorder' } }),
    ).rejects.toThrow(/needs a limit/);
    await expect(h.s.catalog.addWarehouse({ code: uniq('G'), name: 'g', lat: 50 })).rejects.toThrow(
      /lat and lon go together/,
    );
  });

  it('a variant added after its warehouses, and a warehouse added after its variants, both get levels', async () => {
    const { sku } = await world(h.s, [0]);
    const late = uniq('LATE');
    await h.s.catalog.addWarehouse({ code: late, name: late });
    await h.s.stock.receive({ sku, warehouse: late, qty: 1 });
    expect((await levels(h.s, sku, [late]))[late]).toEqual([1, 0, 1]);
  });
});
