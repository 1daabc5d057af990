import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AllocationStrategy } from '../src/domain/routing.js';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { apiCall } from './support/served.js';
import { uniq, useStockroom } from './support/harness.js';

interface Reply {
  status: number;
  body: Record<string, unknown> & { code?: string };
}

interface Place {
  stock: number;
  priority?: number;
  lat?: number;
  lon?: number;
  regions?: string[];
  serves_within_km?: number;
}

const AMSTERDAM = { lat: 52.37, lon: 4.9 };
const ROTTERDAM = { lat: 51.92, lon: 4.48 };
const BERLIN = { lat: 52.52, lon: 13.4 };
const MADRID = { lat: 40.42, lon: -3.7 };

describe.each(drivers())('allocation strategies over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  /** a server on the store's default allocation (priority), and one whose store setting is most_available */
  const servers: { app: FastifyInstance; url: string }[] = [];
  let key: string;
  let base = -900;

  beforeAll(async () => {
    ({ key } = await h.s.keys.create({ name: 'routing', scopes: ['admin'] }));
    const mostAvailable = new Stockroom({ db: h.test.db, clock: h.clock.now, allocation: 'most_available' });
    for (const stockroom of [h.s, mostAvailable]) {
      const app = await buildServer({ stockroom });
      await app.listen({ port: 0, host: '127.0.0.1' });
      servers.push({ app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
    }
  });
  afterAll(async () => {
    for (const { app } of servers) await app.close();
  });

  async function call(method: string, path: string, body?: unknown, server = 0): Promise<Reply> {
    const { status, body: answer } = await apiCall({ url: String(servers[server]?.url) }, method, path, { key, body });
    return { status, body: answer };
  }

  /**
   * Warehouses of this test's own (priorities above every earlier test's, in the order given unless said) and
   * SKUs stocked in them: stock[sku][i] units in the i-th warehouse.
   */
  async function setUp(places: readonly Omit<Place, 'stock'>[], stock: readonly (readonly number[])[]) {
    base += 100;
    const wh: string[] = [];
    for (const [i, place] of places.entries()) {
      const code = uniq(`R${i}`);
      const created = await call('POST', '/v1/warehouses', {
        code,
        name: code,
        ...place,
        priority: base + (place.priority ?? -i),
      });
      expect(created.status).toBe(201);
      wh.push(code);
    }
    const skus: string[] = [];
    for (const units of stock) {
      const sku = uniq('RSKU');
      expect((await call('POST', '/v1/variants', { sku, product: { title: sku } })).status).toBe(201);
      for (const [i, qty] of units.entries())
        if (qty > 0) expect((await call('POST', '/v1/stock/receive', { sku, warehouse: wh[i], qty })).status).toBe(200);
      skus.push(sku);
    }
    return { wh, skus };
  }

  /** warehouse -> units held, of one SKU, as the reservation's lines say */
  const heldAt = (reply: Reply, sku: string): Record<string, number> =>
    Object.fromEntries(
      (reply.body.lines as { sku: string; warehouse: string; qty: number }[])
        .filter((line) => line.sku === sku)
        .map((line) => [line.warehouse, line.qty]),
    );

  const reserve = (body: Record<string, unknown>, server = 0) =>
    call('POST', '/v1/reservations', { order_ref: uniq('order'), ...body }, server);

  it('priority (the default) takes the highest-priority warehouse that has the line; most_available the fullest', async () => {
    const { wh, skus } = await setUp([{}, {}, {}], [[9, 50, 20]]);
    const [sku] = skus as [string];
    const line = [{ sku, qty: 3 }];
    expect(heldAt(await reserve({ lines: line }), sku)).toEqual({ [wh[0]!]: 3 });
    expect(heldAt(await reserve({ lines: line, allocation: 'priority' }), sku)).toEqual({ [wh[0]!]: 3 });
    expect(heldAt(await reserve({ lines: line, allocation: 'most_available' }), sku)).toEqual({ [wh[1]!]: 3 });
    // splitting under most_available drains the fullest first
    expect(heldAt(await reserve({ lines: [{ sku, qty: 60 }], allocation: 'most_available' }), sku)).toEqual({
      [wh[1]!]: 47,
      [wh[2]!]: 13,
    });
  });

  it('nearest takes the warehouse nearest to ship_to, whatever the priorities', async () => {
    const { wh, skus } = await setUp([{ ...MADRID }, { ...BERLIN }, { ...AMSTERDAM }], [[10, 10, 10]]);
    const [sku] = skus as [string];
    const reply = await reserve({ lines: [{ sku, qty: 2 }], allocation: 'nearest', ship_to: ROTTERDAM });
    expect(reply.status).toBe(201);
    expect(heldAt(reply, sku)).toEqual({ [wh[2]!]: 2 });
    expect(heldAt(await reserve({ lines: [{ sku, qty: 2 }], ship_to: ROTTERDAM }), sku)).toEqual({ [wh[0]!]: 2 });
    expect(
      heldAt(await reserve({ lines: [{ sku, qty: 15 }], allocation: 'nearest', ship_to: ROTTERDAM }), sku),
    ).toEqual({ [wh[2]!]: 8, [wh[1]!]: 7 });
  });

  it('refuses nearest without ship_to (400, nothing held); a store whose setting is nearest routes such an order by priority', async () => {
    const { wh, skus } = await setUp([{ ...MADRID }, { ...AMSTERDAM }], [[10, 10]]);
    const [sku] = skus as [string];
    const refused = await reserve({ lines: [{ sku, qty: 2 }], allocation: 'nearest' });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    expect(JSON.stringify(refused.body)).toContain('ship_to');
    const nearestStore = new Stockroom({ db: h.test.db, clock: h.clock.now, allocation: 'nearest' });
    const unplaced = await nearestStore.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }] });
    expect(unplaced.lines.map((line) => line.warehouse)).toEqual([wh[0]]);
    const placed = await nearestStore.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 2 }],
      ship_to: ROTTERDAM,
    });
    expect(placed.lines.map((line) => line.warehouse)).toEqual([wh[1]]);
    const stock = (await call('GET', `/v1/stock/${sku}`)).body.warehouses as { warehouse: string; reserved: number }[];
    expect(stock.filter((level) => wh.includes(level.warehouse)).map((level) => level.reserved)).toEqual([2, 2]);
  });

  it('fewest_shipments sends the whole order from one warehouse where priority would use two', async () => {
    // the first warehouse has only the first SKU; the second and third have both, the second ranks higher
    const { wh, skus } = await setUp(
      [{}, {}, {}],
      [
        [5, 5, 5],
        [0, 5, 5],
      ],
    );
    const [first, second] = skus as [string, string];
    const lines = [
      { sku: first, qty: 2 },
      { sku: second, qty: 2 },
    ];
    const byPriority = await reserve({ lines });
    expect([heldAt(byPriority, first), heldAt(byPriority, second)]).toEqual([{ [wh[0]!]: 2 }, { [wh[1]!]: 2 }]);
    const fewest = await reserve({ lines, allocation: 'fewest_shipments' });
    expect([heldAt(fewest, first), heldAt(fewest, second)]).toEqual([{ [wh[1]!]: 2 }, { [wh[1]!]: 2 }]);
  });

  it('split: false refuses a line no single warehouse has (409 insufficient_stock saying why) and holds nothing', async () => {
    const { wh, skus } = await setUp([{}, {}], [[6, 5]]);
    const [sku] = skus as [string];
    const refused = await reserve({ lines: [{ sku, qty: 10 }], split: false });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('insufficient_stock');
    expect(refused.body.lines).toEqual([
      { sku, requested: 10, available: 11, reason: 'no single warehouse has all 10 and split is false' },
    ]);
    for (const allocation of ['priority', 'most_available', 'fewest_shipments'] as const)
      expect((await reserve({ lines: [{ sku, qty: 10 }], split: false, allocation })).status).toBe(409);
    const stock = (await call('GET', `/v1/stock/${sku}`)).body.warehouses as { warehouse: string; reserved: number }[];
    expect(stock.filter((level) => wh.includes(level.warehouse)).every((level) => level.reserved === 0)).toBe(true);
    // one warehouse that has it all is fine; without split: false the line is split
    expect(heldAt(await reserve({ lines: [{ sku, qty: 5 }], split: false }), sku)).toEqual({ [wh[0]!]: 5 });
    expect(heldAt(await reserve({ lines: [{ sku, qty: 6 }] }), sku)).toEqual({ [wh[0]!]: 1, [wh[1]!]: 5 });
  });

  it("routes by the store's setting unless the request names a strategy", async () => {
    const { wh, skus } = await setUp([{}, {}], [[9, 50]]);
    const [sku] = skus as [string];
    const line = [{ sku, qty: 3 }];
    expect(heldAt(await reserve({ lines: line }, 1), sku)).toEqual({ [wh[1]!]: 3 });
    expect(heldAt(await reserve({ lines: line, allocation: 'priority' }, 1), sku)).toEqual({ [wh[0]!]: 3 });
    expect(heldAt(await reserve({ lines: line }, 0), sku)).toEqual({ [wh[0]!]: 3 });
  });

  it('keeps every strategy to the warehouses that serve the destination', async () => {
    // the fullest, highest-ranked and nearest warehouses serve only the US or lie outside their radius
    const { wh, skus } = await setUp(
      [
        { regions: ['US'], priority: 50 },
        { ...ROTTERDAM, serves_within_km: 10 },
        { ...MADRID, regions: ['EU'] },
        { ...BERLIN },
      ],
      [
        [100, 100, 4, 4],
        [100, 100, 0, 4],
      ],
    );
    const [first, second] = skus as [string, string];
    const outside = new Set([wh[0], wh[1]]);
    const strategies: AllocationStrategy[] = ['priority', 'most_available', 'nearest', 'fewest_shipments'];
    for (const allocation of strategies) {
      const reply = await reserve({
        lines: [
          { sku: first, qty: 5 },
          { sku: second, qty: 1 },
        ],
        allocation,
        region: 'EU',
        ship_to: AMSTERDAM,
      });
      expect(reply.status, allocation).toBe(201);
      const lines = reply.body.lines as { warehouse: string; qty: number }[];
      expect(
        lines.filter((line) => outside.has(line.warehouse)),
        allocation,
      ).toEqual([]);
      await call('POST', `/v1/reservations/${String(reply.body.id)}/cancel`);
    }
    // what only the warehouses outside the area have is refused, saying so
    const refused = await reserve({
      lines: [{ sku: first, qty: 9 }],
      allocation: 'most_available',
      region: 'EU',
      ship_to: AMSTERDAM,
    });
    expect(refused.status).toBe(409);
    expect((refused.body.lines as { reason?: string }[])[0]?.reason).toBe(
      '200 more in warehouses that do not serve the destination',
    );
  });
});
