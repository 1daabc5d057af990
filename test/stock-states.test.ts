import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/** A warehouse's row of GET /v1/stock/{sku}, as far as these tests read it. */
interface LevelRead {
  on_hand: number;
  reserved: number;
  available: number;
  damaged: number;
  quality_control: number;
  safety_stock: number;
}

describe.each(drivers())('stock states over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  const move = (sku: string, warehouse: string, qty: number, from: string, to: string, more: object = {}) =>
    call('POST', '/v1/stock/move-state', {
      scope: 'warehouse',
      body: { sku, warehouse, qty, from, to, reason: 'damaged', ...more },
    });
  const level = async (sku: string, warehouse: string) => {
    const stock = (await call('GET', `/v1/stock/${sku}`, { scope: 'warehouse' })).body as {
      warehouses: Record<string, unknown>[];
    };
    return stock.warehouses.find((row) => row.warehouse === warehouse) as unknown as LevelRead;
  };
  const stateRows = async (sku: string) =>
    (await call('GET', `/v1/movements?sku=${sku}&type=state`, { scope: 'warehouse' })).body.items as object[];

  it('moves available units to damaged: on hand stays, available drops, one state ledger row explains it', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const moved = await move(sku, wh[0]!, 3, 'available', 'damaged', { note: 'crushed box' });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({
      sku,
      warehouse: wh[0],
      on_hand: 10,
      reserved: 0,
      available: 7,
      damaged: 3,
      quality_control: 0,
      safety_stock: 0,
    });
    expect(await level(sku, wh[0]!)).toMatchObject({ on_hand: 10, available: 7, damaged: 3, quality_control: 0 });
    expect(await stateRows(sku)).toEqual([
      expect.objectContaining({
        type: 'state',
        delta_on_hand: 0,
        delta_reserved: 0,
        on_hand_after: 10,
        reserved_after: 0,
        reason: 'damaged',
        reference: 'crushed box',
        state_from: 'available',
        state_to: 'damaged',
        state_qty: 3,
      }),
    ]);
  });

  it('moves units between every pair of states and back, each move one ledger row', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const w = wh[0]!;
    expect((await move(sku, w, 4, 'available', 'quality_control')).body).toMatchObject({
      available: 6,
      quality_control: 4,
    });
    expect((await move(sku, w, 1, 'quality_control', 'damaged')).body).toMatchObject({
      available: 6,
      quality_control: 3,
      damaged: 1,
    });
    expect((await move(sku, w, 3, 'quality_control', 'available')).body).toMatchObject({
      available: 9,
      quality_control: 0,
    });
    expect((await move(sku, w, 2, 'available', 'safety_stock')).body).toMatchObject({
      available: 7,
      safety_stock: 2,
    });
    expect((await move(sku, w, 1, 'safety_stock', 'damaged')).body).toMatchObject({
      available: 7,
      safety_stock: 1,
      damaged: 2,
    });
    expect((await move(sku, w, 2, 'damaged', 'available')).body).toMatchObject({ available: 9, damaged: 0 });
    expect(await stateRows(sku)).toHaveLength(6);
    expect(await level(sku, w)).toMatchObject({ on_hand: 10, available: 9, safety_stock: 1, damaged: 0 });
  });

  it('a level given its own safety stock keeps it when the variant setting changes; the others follow the setting', async () => {
    const { sku, wh } = await world(h.s, [10, 10], { safety_stock: 1 });
    expect((await move(sku, wh[0]!, 3, 'available', 'safety_stock')).body).toMatchObject({ safety_stock: 4 });
    expect((await call('PUT', `/v1/variants/${sku}`, { body: { safety_stock: 2 } })).status).toBe(200);
    expect(await level(sku, wh[0]!)).toMatchObject({ safety_stock: 4, available: 6 });
    expect(await level(sku, wh[1]!)).toMatchObject({ safety_stock: 2, available: 8 });
  });

  it('refuses to move more than the source state holds, or reserved units out of available, and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const w = wh[0]!;
    const reserved = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('o'), lines: [{ sku, qty: 3 }] },
    });
    expect(reserved.status).toBe(201);
    const short = await move(sku, w, 3, 'available', 'damaged');
    expect(short.status).toBe(409);
    expect(short.body).toMatchObject({
      code: 'insufficient_stock',
      lines: [{ sku, warehouse: w, requested: 3, available: 2 }],
    });
    expect((await move(sku, w, 2, 'available', 'damaged')).status).toBe(200);
    const fromDamaged = await move(sku, w, 3, 'damaged', 'quality_control');
    expect(fromDamaged.status).toBe(409);
    expect(fromDamaged.body).toMatchObject({ code: 'insufficient_stock', lines: [{ requested: 3, available: 2 }] });
    expect((await move(sku, w, 1, 'safety_stock', 'available')).status).toBe(409);
    expect(await level(sku, w)).toMatchObject({ on_hand: 5, reserved: 3, available: 0, damaged: 2 });
    expect(await stateRows(sku)).toHaveLength(1);
  });

  it('refuses bad input with a problem document: same state, unknown state, unknown SKU or warehouse, wrong scope', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const w = wh[0]!;
    expect((await move(sku, w, 1, 'damaged', 'damaged')).body.code).toBe('validation_failed');
    expect((await move(sku, w, 1, 'available', 'lost')).body.code).toBe('validation_failed');
    expect((await move(sku, w, 0, 'available', 'damaged')).body.code).toBe('validation_failed');
    expect((await move(sku, w, 1, 'available', 'damaged', { extra: 1 })).body.code).toBe('validation_failed');
    expect((await move(uniq('NOPE'), w, 1, 'available', 'damaged')).body.code).toBe('unknown_sku');
    expect((await move(sku, uniq('NOPE'), 1, 'available', 'damaged')).body.code).toBe('not_found');
    const body = { sku, warehouse: w, qty: 1, from: 'available', to: 'damaged', reason: 'damaged' };
    expect((await call('POST', '/v1/stock/move-state', { scope: 'checkout', body })).status).toBe(403);
    expect((await call('POST', '/v1/stock/move-state', { scope: 'storefront', body })).status).toBe(403);
    expect((await call('POST', '/v1/stock/move-state', { scope: 'admin', body })).status).toBe(200);
    expect(await stateRows(sku)).toHaveLength(1);
  });

  it('a repeated Idempotency-Key moves once and answers the same', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const body = { sku, warehouse: wh[0], qty: 2, from: 'available', to: 'quality_control', reason: 'quality_control' };
    const first = await call('POST', '/v1/stock/move-state', { scope: 'warehouse', body, idempotencyKey: 'qc-1' });
    const again = await call('POST', '/v1/stock/move-state', { scope: 'warehouse', body, idempotencyKey: 'qc-1' });
    expect(again).toEqual(first);
    expect(await level(sku, wh[0]!)).toMatchObject({ quality_control: 2, available: 3 });
  });

  it('units in a state are never sold: reservations, the storefront and transfers see only what is left', async () => {
    const { sku, wh } = await world(h.s, [6, 0]);
    const w = wh[0]!;
    await move(sku, w, 2, 'available', 'damaged');
    await move(sku, w, 1, 'available', 'quality_control');
    const storefront = await call('GET', `/v1/availability?sku=${sku}`);
    expect(storefront.body.items).toEqual([expect.objectContaining({ sku, available: 3 })]);
    const tooMany = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('o'), lines: [{ sku, qty: 4 }], warehouse: w },
    });
    expect(tooMany.body).toMatchObject({ code: 'insufficient_stock' });
    const transfer = await call('POST', '/v1/stock/transfer', {
      scope: 'warehouse',
      body: { sku, from: w, to: wh[1], qty: 4 },
    });
    expect(transfer.body).toMatchObject({ code: 'insufficient_stock', lines: [{ available: 3 }] });
    const fits = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('o'), lines: [{ sku, qty: 3 }], warehouse: w },
    });
    expect(fits.status).toBe(201);
    expect(await level(sku, w)).toMatchObject({ on_hand: 6, reserved: 3, available: 0 });
    // the database refuses it too, whatever code path writes the level
    await expect(
      h.s.db.query(
        `UPDATE stock_levels SET reserved = reserved + 1
          WHERE variant_id = (SELECT id FROM variants WHERE sku = $1)
            AND warehouse_id = (SELECT id FROM warehouses WHERE code = $2)`,
        [sku, w],
      ),
    ).rejects.toThrow(/available below its limit/);
  });

  it('raises alerts when a state move changes available: out of stock, then back in stock', async () => {
    const { sku, wh } = await world(h.s, [4], { low_stock_threshold: 1 });
    const w = wh[0]!;
    await move(sku, w, 4, 'available', 'quality_control');
    await move(sku, w, 4, 'quality_control', 'available');
    const alerts = (await call('GET', `/v1/alerts?sku=${sku}&warehouse=${w}`)).body.items as { type: string }[];
    expect(alerts.map((alert) => alert.type)).toEqual(['back_in_stock', 'out_of_stock']);
  });

  it('stock reads show committed apart from pending, and the states, per warehouse and in total', async () => {
    const { sku, wh } = await world(h.s, [10, 5]);
    const reserve = (qty: number, warehouse: string) =>
      call('POST', '/v1/reservations', {
        scope: 'checkout',
        body: { order_ref: uniq('o'), lines: [{ sku, qty }], warehouse },
      });
    const paid = await reserve(4, wh[0]!);
    await reserve(2, wh[0]!);
    const paidThere = await reserve(1, wh[1]!);
    for (const id of [paid.body.id, paidThere.body.id])
      expect((await call('POST', `/v1/reservations/${String(id)}/commit`, { scope: 'checkout' })).status).toBe(200);
    await call('POST', `/v1/reservations/${String(paid.body.id)}/fulfil`, {
      scope: 'checkout',
      body: { lines: [{ sku, qty: 1 }] },
    });
    await move(sku, wh[1]!, 1, 'available', 'damaged');
    const stock = (await call('GET', `/v1/stock/${sku}`, { scope: 'checkout' })).body;
    const rows = (stock.warehouses as Record<string, unknown>[]).filter((row) => wh.includes(row.warehouse as string));
    expect(rows).toEqual([
      expect.objectContaining({ warehouse: wh[0], on_hand: 9, reserved: 5, committed: 3, pending: 2, available: 4 }),
      expect.objectContaining({ warehouse: wh[1], on_hand: 5, reserved: 1, committed: 1, pending: 0, damaged: 1 }),
    ]);
    expect(stock.total).toMatchObject({ reserved: 6, committed: 4, pending: 2, damaged: 1, quality_control: 0 });
    // a pending hold past its deadline is held by nobody: neither reserved nor pending counts it
    h.clock.advance(3600);
    const later = (await h.s.stock.get(sku)).warehouses.find((row) => row.warehouse === wh[0]);
    expect(later).toMatchObject({ reserved: 3, committed: 3, pending: 0 });
  });

  it('the library moves states too: stockroom.stock.moveState', async () => {
    const { sku, wh } = await world(h.s, [3]);
    const moved = await h.s.stock.moveState({
      sku,
      warehouse: wh[0]!,
      qty: 1,
      from: 'available',
      to: 'damaged',
      reason: 'damaged',
    });
    expect(moved).toMatchObject({ available: 2, damaged: 1 });
  });

  it('state moves racing reservations on one level never let promised and unsellable units pass on hand', async () => {
    const { sku, wh } = await world(h.s, [30]);
    const w = wh[0]!;
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? move(sku, w, 1, 'available', i % 2 === 0 ? 'damaged' : 'quality_control')
        : call('POST', '/v1/reservations', {
            scope: 'checkout',
            body: { order_ref: uniq('race'), lines: [{ sku, qty: 1 }], warehouse: w },
          }),
    );
    const statuses = (await Promise.all(calls)).map((reply) => reply.status);
    expect(statuses.filter((status) => ![200, 201, 409].includes(status))).toEqual([]);
    const after = await level(sku, w);
    expect(after.reserved + after.damaged + after.quality_control).toBe(30);
    expect(after).toMatchObject({ on_hand: 30, available: 0 });
    expect(statuses.filter((status) => status === 200)).toHaveLength(after.damaged + after.quality_control);
    expect(statuses.filter((status) => status === 201)).toHaveLength(after.reserved);
  });

  it('replenishment counts units damaged or in quality control out of the position', async () => {
    const { sku, wh } = await world(h.s, [10], { reorder_point: 5 });
    await move(sku, wh[0]!, 4, 'available', 'damaged');
    await move(sku, wh[0]!, 2, 'available', 'quality_control');
    const suggestions = await call('GET', `/v1/replenishment/suggestions?sku=${sku}`);
    expect(suggestions.body.items).toEqual([expect.objectContaining({ sku, net: 4, position: 4, due: true })]);
  });

  it('reconcile finds a level whose states the ledger does not explain', async () => {
    const { sku, wh } = await world(h.s, [3]);
    const where = `variant_id = (SELECT id FROM variants WHERE sku = $1)
                   AND warehouse_id = (SELECT id FROM warehouses WHERE code = $2)`;
    await h.s.db.query(`UPDATE stock_levels SET damaged = damaged + 1 WHERE ${where}`, [sku, wh[0]]);
    try {
      const report = await call('POST', '/v1/admin/reconcile');
      expect(report.body).toMatchObject({
        clean: false,
        states: [{ sku, warehouse: wh[0], damaged: 1, ledger_damaged: 0, quality_control: 0 }],
      });
    } finally {
      await h.s.db.query(`UPDATE stock_levels SET damaged = damaged - 1 WHERE ${where}`, [sku, wh[0]]);
    }
  });

  it('reconcile over HTTP answers the drift report to admins only', async () => {
    await world(h.s, [2]);
    const report = await call('POST', '/v1/admin/reconcile');
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ clean: true, drift: [], holds: [], states: [] });
    expect(report.body.levels).toBeGreaterThan(0);
    expect(report.body.movements).toBeGreaterThan(0);
    for (const scope of ['checkout', 'warehouse', 'storefront', 'metrics'] as const) {
      const refused = await call('POST', '/v1/admin/reconcile', { scope });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('forbidden');
    }
  });
});
