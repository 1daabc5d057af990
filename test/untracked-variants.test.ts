import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { drivers } from './support/databases.js';
import { apiCall } from './support/served.js';
import { uniq, useStockroom } from './support/harness.js';

interface Reply {
  status: number;
  body: Record<string, unknown> & { code?: string };
}

const AMSTERDAM = { lat: 52.37, lon: 4.9 };
const MADRID = { lat: 40.42, lon: -3.7 };

describe.each(drivers())('untracked variants (track_inventory: false) over HTTP on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  let app: FastifyInstance;
  let url: string;
  let key: string;
  let priority = -900;

  beforeAll(async () => {
    ({ key } = await h.s.keys.create({ name: 'untracked', scopes: ['admin'] }));
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

  /** warehouses of this test's own, the first ranked highest */
  async function warehouses(places: readonly Record<string, unknown>[]): Promise<string[]> {
    priority += 10;
    const wh: string[] = [];
    for (const [i, place] of places.entries()) {
      const code = uniq(`U${i}`);
      const created = await call('POST', '/v1/warehouses', { code, name: code, priority: priority - i, ...place });
      expect(created.status).toBe(201);
      wh.push(code);
    }
    return wh;
  }

  async function variant(settings: Record<string, unknown> = { track_inventory: false }): Promise<string> {
    const sku = uniq('USKU');
    expect((await call('POST', '/v1/variants', { sku, product: { title: sku }, ...settings })).status).toBe(201);
    return sku;
  }

  const reserve = (lines: { sku: string; qty: number }[], extra: Record<string, unknown> = {}) =>
    call('POST', '/v1/reservations', { order_ref: uniq('order'), lines, ...extra });

  /** reserved per warehouse of a SKU, and the ledger rows it has */
  async function stockOf(sku: string): Promise<{ reserved: number; movements: number }> {
    const levels = (await call('GET', `/v1/stock/${sku}`)).body.warehouses as { reserved: number }[];
    const { rows } = await h.s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stock_movements m JOIN variants v ON v.id = m.variant_id WHERE v.sku = $1`,
      [sku],
    );
    return { reserved: levels.reduce((sum, level) => sum + level.reserved, 0), movements: rows[0]?.n ?? 0 };
  }

  it('are reserved with nothing in stock, recorded in a warehouse the strategy picks, holding nothing', async () => {
    const wh = await warehouses([{ ...MADRID }, { ...AMSTERDAM }]);
    const sku = await variant();
    expect((await call('GET', `/v1/variants/${sku}`)).body).toMatchObject({ track_inventory: false });
    const byPriority = await reserve([{ sku, qty: 500 }]);
    expect(byPriority.status).toBe(201);
    expect(byPriority.body.lines).toEqual([
      { sku, warehouse: wh[0], qty: 500, backordered: 0, fulfilled: 0, released: 0 },
    ]);
    const nearest = await reserve([{ sku, qty: 2 }], { allocation: 'nearest', ship_to: { lat: 51.92, lon: 4.48 } });
    expect((nearest.body.lines as { warehouse: string }[])[0]?.warehouse).toBe(wh[1]);
    expect(await stockOf(sku)).toEqual({ reserved: 0, movements: 0 });
  });

  it('go through their whole life (commit, fulfil, cancel, expiry) without touching stock or the ledger', async () => {
    await warehouses([{}]);
    const sku = await variant();
    const fulfilled = await reserve([{ sku, qty: 3 }]);
    const id = String(fulfilled.body.id);
    expect((await call('POST', `/v1/reservations/${id}/commit`)).body).toMatchObject({ status: 'committed' });
    // a committed untracked line holds nothing: stock reads show it neither committed nor pending
    expect((await call('GET', `/v1/stock/${sku}`)).body).toMatchObject({
      total: { reserved: 0, committed: 0, pending: 0 },
    });
    const shipped = await call('POST', `/v1/reservations/${id}/fulfil`, { lines: [{ sku, qty: 1 }] });
    expect(shipped.body).toMatchObject({ status: 'partially_fulfilled' });
    expect((await call('POST', `/v1/reservations/${id}/fulfil`)).body).toMatchObject({ status: 'fulfilled' });
    const cancelled = await reserve([{ sku, qty: 4 }]);
    expect((await call('POST', `/v1/reservations/${String(cancelled.body.id)}/cancel`)).body).toMatchObject({
      status: 'released',
      lines: [expect.objectContaining({ released: 4 })],
    });
    const lapsed = await reserve([{ sku, qty: 2 }], { ttl_seconds: 60 });
    h.clock.advance(61);
    expect(await h.s.reservations.expireDue()).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/v1/reservations/${String(lapsed.body.id)}`)).body).toMatchObject({
      status: 'expired',
    });
    expect(await stockOf(sku)).toEqual({ reserved: 0, movements: 0 });
  });

  it('are never refused, by concurrent clients either; an order with a short tracked line is refused whole', async () => {
    const wh = await warehouses([{}, {}]);
    const untracked = await variant();
    const tracked = await variant({});
    expect((await call('POST', '/v1/stock/receive', { sku: tracked, warehouse: wh[1], qty: 2 })).status).toBe(200);
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => reserve([{ sku: untracked, qty: 1 + i }])));
    expect(replies.map((reply) => reply.status)).toEqual(Array.from({ length: 40 }, () => 201));
    const short = await reserve([
      { sku: untracked, qty: 1 },
      { sku: tracked, qty: 3 },
    ]);
    expect(short.status).toBe(409);
    expect((short.body.lines as { sku: string }[]).map((line) => line.sku)).toEqual([tracked]);
    // fewest_shipments sends the untracked line from where the tracked one must come from
    const together = await reserve(
      [
        { sku: untracked, qty: 1 },
        { sku: tracked, qty: 2 },
      ],
      { allocation: 'fewest_shipments' },
    );
    expect((together.body.lines as { warehouse: string }[]).map((line) => line.warehouse)).toEqual([wh[1], wh[1]]);
    expect((await stockOf(untracked)).reserved).toBe(0);
    expect((await stockOf(tracked)).reserved).toBe(2);
  });

  it('are always available on the storefront where a warehouse serves the shopper', async () => {
    await warehouses([{ regions: ['EU'] }]);
    const sku = await variant();
    const shown = await fetch(`${url}/v1/availability?sku=${sku}&region=EU`);
    expect(await shown.json()).toMatchObject({
      items: [{ sku, available: 10_000_000, status: 'in_stock', label: 'In stock' }],
    });
  });

  it('holds made while a variant was tracked still hold, and give stock back, after it stops being tracked', async () => {
    const wh = await warehouses([{}]);
    const sku = await variant({});
    expect((await call('POST', '/v1/stock/receive', { sku, warehouse: wh[0], qty: 5 })).status).toBe(200);
    const held = await reserve([{ sku, qty: 3 }]);
    expect((await call('PUT', `/v1/variants/${sku}`, { track_inventory: false })).status).toBe(200);
    const untracked = await reserve([{ sku, qty: 50 }]);
    expect(untracked.status).toBe(201);
    expect((await stockOf(sku)).reserved).toBe(3);
    await call('POST', `/v1/reservations/${String(held.body.id)}/cancel`);
    await call('POST', `/v1/reservations/${String(untracked.body.id)}/cancel`);
    expect((await stockOf(sku)).reserved).toBe(0);
  });
});
