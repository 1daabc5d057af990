import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { applyMovements } from '../src/store/levels.js';
import { drivers } from './support/databases.js';
import { apiCall } from './support/served.js';
import { uniq, useStockroom } from './support/harness.js';

interface Reply {
  status: number;
  body: Record<string, unknown> & { code?: string };
}

describe.each(drivers())('variant-wide limits (limit_scope: variant) over HTTP on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  let app: FastifyInstance;
  let url: string;
  let key: string;
  let priority = -900;

  beforeAll(async () => {
    ({ key } = await h.s.keys.create({ name: 'limits', scopes: ['admin'] }));
    app = await buildServer({ stockroom: h.s });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const { status, body: answer } = await apiCall({ url }, method, path, { key, body });
    return { status, body: answer };
  }

  /** a variant with these settings, stocked in warehouses of this test's own (first ranked highest) */
  async function stocked(settings: Record<string, unknown>, stock: readonly number[]) {
    priority += 10;
    const wh: string[] = [];
    for (const [i] of stock.entries()) {
      const code = uniq(`L${i}`);
      expect((await call('POST', '/v1/warehouses', { code, name: code, priority: priority - i })).status).toBe(201);
      wh.push(code);
    }
    const sku = uniq('LSKU');
    const created = await call('POST', '/v1/variants', { sku, product: { title: sku }, ...settings });
    expect(created.status).toBe(201);
    for (const [i, qty] of stock.entries())
      if (qty > 0) expect((await call('POST', '/v1/stock/receive', { sku, warehouse: wh[i], qty })).status).toBe(200);
    return { sku, wh };
  }

  const reserve = (sku: string, qty: number, extra: Record<string, unknown> = {}) =>
    call('POST', '/v1/reservations', { order_ref: uniq('order'), lines: [{ sku, qty }], ...extra });

  /** units reserved of a SKU in the given warehouses */
  async function reservedIn(sku: string, wh: readonly string[]): Promise<number> {
    const stock = (await call('GET', `/v1/stock/${sku}`)).body.warehouses as { warehouse: string; reserved: number }[];
    return stock.filter((level) => wh.includes(level.warehouse)).reduce((sum, level) => sum + level.reserved, 0);
  }

  it('variants are limited per warehouse unless they say otherwise; create and update accept limit_scope', async () => {
    const { sku } = await stocked({}, [1]);
    expect((await call('GET', `/v1/variants/${sku}`)).body).toMatchObject({ limit_scope: 'warehouse' });
    const updated = await call('PUT', `/v1/variants/${sku}`, { limit_scope: 'variant' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ limit_scope: 'variant' });
    const refused = await call('PUT', `/v1/variants/${sku}`, { limit_scope: 'region' });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    expect((await call('GET', `/v1/variants/${sku}`)).body).toMatchObject({ limit_scope: 'variant' });
  });

  it('holds safety stock back once from the sum over warehouses, not in each', async () => {
    const perWarehouse = await stocked({ safety_stock: 4 }, [5, 5]);
    expect((await reserve(perWarehouse.sku, 3)).status).toBe(409);
    const wide = await stocked({ safety_stock: 4, limit_scope: 'variant' }, [5, 5]);
    const held = await reserve(wide.sku, 6);
    expect(held.status).toBe(201);
    const refused = await reserve(wide.sku, 1);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('insufficient_stock');
    expect(refused.body.lines).toEqual([
      { sku: wide.sku, requested: 1, available: 0, reason: 'variant-wide limit over all warehouses' },
    ]);
    expect(await reservedIn(wide.sku, wide.wh)).toBe(6);
    // the storefront offers what the sum allows, not each warehouse's stock
    const before = await fetch(`${url}/v1/availability?sku=${wide.sku}`);
    expect(await before.json()).toMatchObject({ items: [{ sku: wide.sku, available: 0, status: 'out_of_stock' }] });
    expect((await call('GET', `/v1/stock/${wide.sku}`)).body.total).toMatchObject({ on_hand: 10, available: 0 });
  });

  it('caps backorders and pre-orders for the variant as a whole', async () => {
    const settings = { backorder: { policy: 'backorder', limit: 3 } };
    const perWarehouse = await stocked(settings, [2, 2]);
    expect((await reserve(perWarehouse.sku, 10)).status).toBe(201);
    const wide = await stocked({ ...settings, limit_scope: 'variant' }, [2, 2]);
    expect((await reserve(wide.sku, 8)).status).toBe(409);
    const held = await reserve(wide.sku, 7);
    expect(held.status).toBe(201);
    const lines = held.body.lines as { backordered: number }[];
    expect(lines.reduce((sum, line) => sum + line.backordered, 0)).toBe(3);
    expect((await reserve(wide.sku, 1)).status).toBe(409);
    // units past what the variant has left over all warehouses (its safety stock held back) are backordered,
    // even where the line's own warehouse had them
    const guarded = await stocked({ ...settings, limit_scope: 'variant', safety_stock: 2 }, [2, 2]);
    const short = await reserve(guarded.sku, 4);
    expect(short.status).toBe(201);
    expect((short.body.lines as { backordered: number }[]).reduce((sum, line) => sum + line.backordered, 0)).toBe(2);
    // switching back to per warehouse gives each warehouse its own limit again
    expect((await call('PUT', `/v1/variants/${wide.sku}`, { limit_scope: 'warehouse' })).status).toBe(200);
    expect((await reserve(wide.sku, 3)).status).toBe(201);
  });

  it('never promises beyond the variant-wide cap under concurrent clients, whichever warehouse they ask for', async () => {
    // 10 in stock, safety stock 2, backorder limit 4: 12 units can be promised over both warehouses together
    const { sku, wh } = await stocked(
      { safety_stock: 2, backorder: { policy: 'preorder', limit: 4 }, limit_scope: 'variant' },
      [5, 5],
    );
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        reserve(sku, 1 + (i % 2), i % 3 === 0 ? {} : { warehouse: wh[i % 3 === 1 ? 0 : 1] }),
      ),
    );
    expect(replies.every((reply) => reply.status === 201 || reply.status === 409)).toBe(true);
    const promised = replies
      .filter((reply) => reply.status === 201)
      // an order may be split over both warehouses: every line counts
      .reduce(
        (sum, reply) => sum + (reply.body.lines as { qty: number }[]).reduce((units, line) => units + line.qty, 0),
        0,
      );
    expect(promised).toBeLessThanOrEqual(12);
    expect(promised).toBeGreaterThanOrEqual(11);
    expect(await reservedIn(sku, wh)).toBe(promised);
  });

  it('is enforced by the database too: a hold past the variant-wide cap is refused whatever wrote it', async () => {
    const { sku, wh } = await stocked({ safety_stock: 3, limit_scope: 'variant' }, [2, 2]);
    const { rows } = await h.s.db.query<{ variant_id: number; warehouse_id: number }>(
      `SELECT l.variant_id, l.warehouse_id FROM stock_levels l JOIN variants v ON v.id = l.variant_id
        JOIN warehouses w ON w.id = l.warehouse_id WHERE v.sku = $1 AND w.code = $2`,
      [sku, wh[0]],
    );
    const level = rows[0]!;
    // the level's own guard allows 2 (it holds no safety stock of its own); the variant's sum allows 1
    const hold = (qty: number) =>
      h.s.db.transaction((tx) =>
        applyMovements(tx, 'test', [
          {
            variantId: level.variant_id,
            warehouseId: level.warehouse_id,
            type: 'adjust',
            deltaOnHand: 0,
            deltaReserved: qty,
            guard: 'reservable',
          },
        ]),
      );
    await expect(hold(2)).rejects.toThrow(/variant-wide limit/);
    expect(await reservedIn(sku, wh)).toBe(0);
  });
});
