import { describe, expect, it } from 'vitest';
import { setWarehouseArchived } from '../src/store/archive.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';
import { inLockOrder } from './support/lock-race.js';

describe.each(drivers())('archiving warehouses and variants over HTTP on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  const { call } = useHttpServer(h);

  const reserve = (sku: string, qty: number, more: object = {}) =>
    call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('o'), lines: [{ sku, qty }], ...more },
    });
  const receive = (sku: string, warehouse: string, qty: number) =>
    call('POST', '/v1/stock/receive', { scope: 'warehouse', body: { sku, warehouse, qty } });
  const codes = async (path: string) =>
    ((await call('GET', path, { scope: 'storefront' })).body.items as { code?: string; sku?: string }[]).map(
      (item) => item.code ?? item.sku,
    );
  const backorder = { backorder: { policy: 'backorder', limit: 5 } };

  it('refuses to archive a warehouse that holds stock or open reservations, and allows it once it holds none', async () => {
    const { sku, wh } = await world(h.s, [3], backorder);
    const w = wh[0]!;
    const holding = await call('POST', `/v1/warehouses/${w}/archive`);
    expect(holding.status).toBe(409);
    expect(holding.body).toMatchObject({
      code: 'in_use',
      resource: 'warehouse',
      key: w,
      on_hand: 3,
      reserved: 0,
      open_reservations: 0,
    });
    expect(
      (
        await call('POST', '/v1/stock/adjust', {
          scope: 'warehouse',
          body: { sku, warehouse: w, delta: -3, reason: 'shrinkage' },
        })
      ).status,
    ).toBe(200);
    // a backorder holds units that are not there: an open reservation keeps the warehouse in use too
    const held = await reserve(sku, 2, { warehouse: w });
    expect(held.status).toBe(201);
    expect((await call('POST', `/v1/warehouses/${w}/archive`)).body).toMatchObject({
      code: 'in_use',
      on_hand: 0,
      reserved: 2,
      open_reservations: 1,
    });
    expect((await call('POST', `/v1/reservations/${String(held.body.id)}/cancel`, { scope: 'checkout' })).status).toBe(
      200,
    );
    const archived = await call('POST', `/v1/warehouses/${w}/archive`);
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ code: w, archived_at: expect.any(String) as unknown });
    expect((await call('POST', `/v1/warehouses/${w}/archive`)).body).toEqual(archived.body);
    expect((await call('POST', `/v1/warehouses/${w}/archive`, { scope: 'warehouse' })).status).toBe(403);
    expect((await call('POST', `/v1/warehouses/${uniq('NOPE')}/archive`)).body.code).toBe('not_found');
  });

  it('an archived warehouse leaves routing, the storefront and the list; its history stays readable', async () => {
    const { sku, wh } = await world(h.s, [0, 0], backorder);
    const [gone, kept] = [wh[0]!, wh[1]!];
    const before = await reserve(sku, 1, { warehouse: gone });
    expect(before.status).toBe(201);
    await call('POST', `/v1/reservations/${String(before.body.id)}/cancel`, { scope: 'checkout' });
    expect((await call('POST', `/v1/warehouses/${gone}/archive`)).status).toBe(200);

    // only the warehouse in use may sell short now: 5, not 10
    expect((await call('GET', `/v1/availability?sku=${sku}`)).body.items).toEqual([
      expect.objectContaining({ status: 'backorder' }),
    ]);
    expect((await reserve(sku, 6)).body.code).toBe('insufficient_stock');
    expect((await reserve(sku, 1, { warehouse: gone })).body.code).toBe('insufficient_stock');
    const routed = await reserve(sku, 5);
    expect(routed.body).toMatchObject({ lines: [{ warehouse: kept, qty: 5, backordered: 5 }] });
    await call('POST', `/v1/reservations/${String(routed.body.id)}/cancel`, { scope: 'checkout' });

    expect(await codes('/v1/warehouses')).not.toContain(gone);
    expect(await codes('/v1/warehouses')).toContain(kept);
    expect(await codes('/v1/warehouses?archived=true')).toContain(gone);
    expect(await codes('/v1/warehouses?archived=true')).not.toContain(kept);
    expect((await call('GET', '/v1/warehouses?archived=yes', { scope: 'storefront' })).body.code).toBe(
      'validation_failed',
    );
    const ledger = await call('GET', `/v1/movements?sku=${sku}&warehouse=${gone}`, { scope: 'warehouse' });
    expect((ledger.body.items as { type: string }[]).map((row) => row.type)).toEqual(['release', 'reserve']);
    expect((await call('GET', `/v1/reservations/${String(before.body.id)}`, { scope: 'checkout' })).body).toMatchObject(
      {
        status: 'released',
        lines: [{ warehouse: gone }],
      },
    );
  });

  it('refuses receipts, transfers and returns into an archived warehouse, and takes them again once unarchived', async () => {
    const { sku, wh } = await world(h.s, [0, 4]);
    const [gone, kept] = [wh[0]!, wh[1]!];
    expect((await call('POST', `/v1/warehouses/${gone}/archive`)).status).toBe(200);
    const refused = await receive(sku, gone, 2);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'archived', resource: 'warehouse', key: gone });
    const transfer = await call('POST', '/v1/stock/transfer', {
      scope: 'warehouse',
      body: { sku, from: kept, to: gone, qty: 1 },
    });
    expect(transfer.body).toMatchObject({ code: 'archived', key: gone });
    const returned = await call('POST', '/v1/returns', {
      scope: 'warehouse',
      body: { sku, warehouse: gone, qty: 1, condition: 'resellable', reference: 'rma-1' },
    });
    expect(returned.body).toMatchObject({ code: 'archived' });
    const stock = (await h.s.stock.get(sku)).warehouses;
    expect(stock.filter((row) => wh.includes(row.warehouse)).map((row) => [row.warehouse, row.on_hand])).toEqual([
      [gone, 0],
      [kept, 4],
    ]);

    const back = await call('POST', `/v1/warehouses/${gone}/unarchive`);
    expect(back.body).toMatchObject({ code: gone, archived_at: null });
    expect((await receive(sku, gone, 2)).status).toBe(200);
    expect(await codes('/v1/warehouses')).toContain(gone);
  });

  it('refuses adjustments, counts and syncs that would bring units into an archived warehouse or of an archived variant, changing nothing', async () => {
    const { sku, wh } = await world(h.s, [0, 4]);
    const [gone, kept] = [wh[0]!, wh[1]!];
    expect((await call('POST', `/v1/warehouses/${gone}/archive`)).status).toBe(200);
    const writes: [string, object][] = [
      ['/v1/stock/adjust', { sku, warehouse: gone, delta: 3, reason: 'correction' }],
      ['/v1/stock/count', { sku, warehouse: gone, counted: 5 }],
    ];
    for (const [path, body] of writes) {
      const refused = await call('POST', path, { scope: 'admin', body });
      expect(refused.status, path).toBe(409);
      expect(refused.body).toMatchObject({ code: 'archived', resource: 'warehouse', key: gone });
    }
    await expect(
      h.s.stock.sync({
        source: 'wms',
        items: [
          { sku, warehouse: kept, on_hand: 6 },
          { sku, warehouse: gone, on_hand: 2 },
        ],
      }),
    ).rejects.toMatchObject({ code: 'archived', key: gone });
    // the sync is all or nothing: its other level did not move either
    const stock = (await h.s.stock.get(sku)).warehouses;
    expect(stock.filter((row) => wh.includes(row.warehouse)).map((row) => [row.warehouse, row.on_hand])).toEqual([
      [gone, 0],
      [kept, 4],
    ]);
    // a variant archived (nothing held) refuses the same
    const other = await world(h.s, [0]);
    expect((await call('POST', `/v1/variants/${other.sku}/archive`)).status).toBe(200);
    const adjust = await call('POST', '/v1/stock/adjust', {
      scope: 'admin',
      body: { sku: other.sku, warehouse: other.wh[0], delta: 1, reason: 'correction' },
    });
    expect(adjust.body).toMatchObject({ code: 'archived', resource: 'variant', key: other.sku });
  });

  it('a held line moved into an archived warehouse is refused as archived, not as an unknown level', async () => {
    const { sku, wh } = await world(h.s, [3, 0]);
    const reservation = await reserve(sku, 2);
    expect(reservation.status).toBe(201);
    expect((await call('POST', `/v1/warehouses/${wh[1]}/archive`)).status).toBe(200);
    const moved = await call('POST', `/v1/reservations/${String(reservation.body.id)}/move`, {
      scope: 'checkout',
      body: { sku, to: wh[1] },
    });
    expect(moved.status).toBe(409);
    expect(moved.body).toMatchObject({ code: 'archived', resource: 'warehouse', key: wh[1] });
  });

  /** A supplier of this test's own. */
  async function supplier(): Promise<string> {
    const code = uniq('SUP');
    expect((await call('POST', '/v1/suppliers', { body: { code, name: code } })).status).toBe(201);
    return code;
  }

  it('refuses to archive a warehouse or variant while an open purchase order, a draft too, has units of it to come', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const w = wh[0]!;
    const { sku: other } = await world(h.s, [0]);
    const order = await call('POST', '/v1/purchase-orders', {
      body: {
        supplier: await supplier(),
        warehouse: w,
        lines: [
          { sku, qty: 5 },
          { sku: other, qty: 1 },
        ],
      },
    });
    const id = String(order.body.id);
    const refused = async (status: string, onHand: number) => {
      expect((await call('GET', `/v1/purchase-orders/${id}`)).body.status).toBe(status);
      expect((await call('POST', `/v1/warehouses/${w}/archive`)).body, status).toMatchObject({
        code: 'in_use',
        resource: 'warehouse',
        key: w,
        on_hand: onHand,
        reserved: 0,
        open_reservations: 0,
        open_purchase_orders: 1,
      });
      expect((await call('POST', `/v1/variants/${sku}/archive`)).body, status).toMatchObject({
        code: 'in_use',
        resource: 'variant',
        key: sku,
        on_hand: 0,
        open_purchase_orders: 1,
      });
    };
    // a draft can still be sent, confirmed and received: it counts as every open order does
    await refused('DRAFT', 0);
    await call('POST', `/v1/purchase-orders/${id}/send`);
    await refused('SENT', 0);
    await call('POST', `/v1/purchase-orders/${id}/confirm`, { body: {} });
    await refused('CONFIRMED', 0);
    const receipt = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      body: { lines: [{ sku: other, qty: 1 }] },
    });
    expect(receipt.status).toBe(200);
    await refused('PARTIAL', 1);
    // a line received in full has nothing to come: its variant is in use for its unit only
    expect((await call('POST', `/v1/variants/${other}/archive`)).body).toMatchObject({
      code: 'in_use',
      on_hand: 1,
      open_purchase_orders: 0,
    });

    // cancelled, nothing is to come: both may go (once the received unit is gone from the warehouse)
    expect((await call('POST', `/v1/purchase-orders/${id}/cancel`)).body.status).toBe('CANCELLED');
    expect((await call('GET', `/v1/stock/${sku}`)).body).toMatchObject({ total: { incoming: 0 } });
    expect((await call('POST', `/v1/variants/${sku}/archive`)).status).toBe(200);
    await call('POST', '/v1/stock/adjust', { body: { sku: other, warehouse: w, delta: -1, reason: 'shrinkage' } });
    expect((await call('POST', `/v1/warehouses/${w}/archive`)).status).toBe(200);
  });

  it('refuses a receipt of an order whose warehouse was archived under it (before archiving checked open orders), and takes it once unarchived', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier: await supplier(), warehouse: wh[0], lines: [{ sku, qty: 5 }] },
    });
    const id = String(order.body.id);
    await call('POST', `/v1/purchase-orders/${id}/send`);
    await call('POST', `/v1/purchase-orders/${id}/confirm`, { body: {} });
    // as an older version left it: archived with the order open
    await h.test.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>('SELECT id FROM warehouses WHERE code = $1', [wh[0]]);
      await setWarehouseArchived(tx, rows[0]!.id, new Date());
    });
    const receipt = { lines: [{ sku, qty: 5 }] };
    const refused = await call('POST', `/v1/purchase-orders/${id}/receive`, { body: receipt });
    expect(refused.body).toMatchObject({ code: 'archived', resource: 'warehouse', key: wh[0] });
    expect((await call('GET', `/v1/purchase-orders/${id}`)).body).toMatchObject({ status: 'CONFIRMED' });
    await call('POST', `/v1/warehouses/${wh[0]}/unarchive`);
    expect((await call('POST', `/v1/purchase-orders/${id}/receive`, { body: receipt })).body).toMatchObject({
      order: { status: 'RECEIVED' },
    });
  });

  it.runIf(driver === 'postgres').each(['warehouse', 'variant'] as const)(
    'an order placed while its %s is being archived: one of the two sees the other, never an open order in an archived place',
    async (what) => {
      const { sku, wh } = await world(h.s, [0]);
      const code = await supplier();
      // the order waits, once it has looked at the warehouse and variant, on the supplier's row (its foreign key)
      const [placed, archived] = await inLockOrder(
        h.test.db,
        { sql: 'SELECT 1 FROM suppliers WHERE code = $1', params: [code] },
        () =>
          call('POST', '/v1/purchase-orders', { body: { supplier: code, warehouse: wh[0], lines: [{ sku, qty: 5 }] } }),
        () => call('POST', what === 'warehouse' ? `/v1/warehouses/${wh[0]}/archive` : `/v1/variants/${sku}/archive`),
      );
      expect(placed.status).toBe(201);
      expect(archived).toMatchObject({ body: { code: 'in_use', open_purchase_orders: 1 } });
      await call('POST', `/v1/purchase-orders/${String(placed.body.id)}/cancel`);
    },
  );

  it('archives a variant once no warehouse holds it: out of routing, the storefront and the list; readable by SKU', async () => {
    const { sku, wh } = await world(h.s, [2, 0]);
    expect((await call('POST', `/v1/variants/${sku}/archive`)).body).toMatchObject({
      code: 'in_use',
      resource: 'variant',
      on_hand: 2,
    });
    await call('POST', '/v1/stock/count', { scope: 'warehouse', body: { sku, warehouse: wh[0], counted: 0 } });
    const archived = await call('POST', `/v1/variants/${sku}/archive`);
    expect(archived.body).toMatchObject({ sku, archived_at: expect.any(String) as unknown });

    expect(await codes(`/v1/variants?query=${sku}`)).toEqual([]);
    expect(await codes(`/v1/variants?query=${sku}&archived=true`)).toEqual([sku]);
    expect((await call('GET', `/v1/variants/${sku}`, { scope: 'storefront' })).body).toMatchObject({ sku });
    expect((await call('GET', `/v1/availability?sku=${sku}`)).body.items).toEqual([
      expect.objectContaining({ sku, available: 0, status: 'out_of_stock' }),
    ]);
    expect((await reserve(sku, 1)).body.code).toBe('insufficient_stock');
    expect((await receive(sku, wh[1]!, 1)).body).toMatchObject({ code: 'archived', resource: 'variant', key: sku });
    expect((await call('GET', `/v1/movements?sku=${sku}`, { scope: 'warehouse' })).body.items).toHaveLength(2);

    expect((await call('POST', `/v1/variants/${sku}/unarchive`)).body).toMatchObject({ archived_at: null });
    expect((await receive(sku, wh[1]!, 1)).status).toBe(200);
    expect((await reserve(sku, 1)).status).toBe(201);
  });

  it('a level stays archived while its warehouse is, whatever happens to its variant', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    await call('POST', `/v1/warehouses/${wh[0]}/archive`);
    await call('POST', `/v1/variants/${sku}/archive`);
    await call('POST', `/v1/variants/${sku}/unarchive`);
    expect((await receive(sku, wh[0]!, 1)).body.code).toBe('archived');
    expect((await receive(sku, wh[1]!, 1)).status).toBe(200);
    // a variant added while a warehouse is archived has no live level there either
    const later = uniq('SKU');
    expect((await call('POST', '/v1/variants', { body: { sku: later, product: { title: later } } })).status).toBe(201);
    expect((await receive(later, wh[0]!, 1)).body.code).toBe('archived');
  });

  it('racing receipts and reservations against archiving: either the stock lands and the archive is refused, or the archive wins and they are refused', async () => {
    for (let round = 0; round < 8; round++) {
      const { sku, wh } = await world(h.s, [0, 0], backorder);
      const w = wh[0]!;
      const [received, reserved, archived] = await Promise.all([
        receive(sku, w, 1),
        reserve(sku, 1, { warehouse: w }),
        call('POST', `/v1/warehouses/${w}/archive`),
      ]);
      const level = (await h.s.stock.get(sku)).warehouses.find((row) => row.warehouse === w)!;
      if (archived.status === 200) {
        expect(level).toMatchObject({ on_hand: 0, reserved: 0 });
        expect([received.status, reserved.status].every((status) => status === 409)).toBe(true);
      } else {
        expect(archived.body.code).toBe('in_use');
        expect(received.status === 200 || reserved.status === 201).toBe(true);
      }
      expect([200, 409]).toContain(received.status);
      expect([201, 409]).toContain(reserved.status);
      if (reserved.status === 201)
        await call('POST', `/v1/reservations/${String(reserved.body.id)}/cancel`, { scope: 'checkout' });
    }
  });
});
