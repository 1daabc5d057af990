import { describe, expect, it } from 'vitest';
import { Stockroom } from '../src/index.js';
import { writeKit } from '../src/store/kits.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';
import { inLockOrder } from './support/lock-race.js';

describe.each(drivers())('kits over HTTP on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  const { call, fetchRaw } = useHttpServer(h);
  const api = (method: string, path: string, body?: unknown, scope?: 'storefront') =>
    call(method, path, { ...(body === undefined ? {} : { body }), ...(scope ? { scope } : {}) });
  let priority = 500;

  /** warehouses of this test's own, the first ranked highest */
  async function warehouses(n: number): Promise<string[]> {
    priority += 10;
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      const code = uniq(`K${i}`);
      expect((await api('POST', '/v1/warehouses', { code, name: code, priority: priority - i })).status).toBe(201);
      codes.push(code);
    }
    return codes;
  }

  /** a variant with these units in the given warehouses */
  async function stocked(wh: readonly string[], units: readonly number[], settings: Record<string, unknown> = {}) {
    const sku = uniq('C');
    expect((await api('POST', '/v1/variants', { sku, product: { title: sku }, ...settings })).status).toBe(201);
    for (const [i, qty] of units.entries())
      if (qty > 0) expect((await api('POST', '/v1/stock/receive', { sku, warehouse: wh[i], qty })).status).toBe(200);
    return sku;
  }

  /** a kit of these components */
  async function kit(components: { sku: string; qty: number }[], settings: Record<string, unknown> = {}) {
    const sku = uniq('KIT');
    expect((await api('POST', '/v1/variants', { sku, product: { title: sku }, ...settings })).status).toBe(201);
    const defined = await api('PUT', `/v1/kits/${sku}`, { components });
    expect(defined.status).toBe(200);
    return sku;
  }

  const available = async (sku: string, wh: readonly string[]) => {
    const stock = await api('GET', `/v1/stock/${sku}`);
    const levels = stock.body.warehouses as { warehouse: string; available: number }[];
    return wh.map((code) => levels.find((level) => level.warehouse === code)?.available);
  };

  it('defines a kit of components, lists it and reads it back', async () => {
    const wh = await warehouses(1);
    const [mug, coffee] = [await stocked(wh, [4]), await stocked(wh, [3])];
    const sku = await kit([
      { sku: mug, qty: 2 },
      { sku: coffee, qty: 1 },
    ]);
    const read = await api('GET', `/v1/kits/${sku}`);
    expect(read.body).toEqual({
      sku,
      components: [
        { sku: mug, qty: 2 },
        { sku: coffee, qty: 1 },
      ].sort((a, b) => (a.sku < b.sku ? -1 : 1)),
    });
    const list = await api('GET', '/v1/kits', undefined, 'storefront');
    expect((list.body.items as { sku: string }[]).map((item) => item.sku)).toContain(sku);
  });

  it('refuses a kit inside itself, in another kit, of untracked or unknown SKUs, or with quantities not positive', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [1]);
    const untracked = await stocked(wh, [0], { track_inventory: false });
    const wide = await stocked(wh, [0], { limit_scope: 'variant' });
    const inner = await kit([{ sku: mug, qty: 1 }]);
    const sku = uniq('KIT');
    await api('POST', '/v1/variants', { sku, product: { title: sku } });
    const define = (components: unknown) => api('PUT', `/v1/kits/${sku}`, { components });
    const refusals = [
      await define([{ sku, qty: 1 }]),
      await define([{ sku: inner, qty: 1 }]),
      await define([{ sku: untracked, qty: 1 }]),
      await define([{ sku: wide, qty: 1 }]),
      await define([{ sku: mug, qty: 0 }]),
      await define([]),
      await define([
        { sku: mug, qty: 1 },
        { sku: mug, qty: 2 },
      ]),
    ];
    expect(refusals.map((reply) => [reply.status, reply.body.code])).toEqual(
      Array.from({ length: 7 }, () => [400, 'validation_failed']),
    );
    const unknown = await define([{ sku: 'NO-SUCH-SKU', qty: 1 }]);
    expect([unknown.status, unknown.body.code, unknown.body.skus]).toEqual([404, 'unknown_sku', ['NO-SUCH-SKU']]);
    // a component of a kit cannot become a kit itself
    const nested = await api('PUT', `/v1/kits/${mug}`, { components: [{ sku: untracked, qty: 1 }] });
    expect(nested.status).toBe(400);
    // nothing was defined by any of them
    expect((await api('GET', `/v1/kits/${sku}`)).status).toBe(404);
  });

  it('refuses receiving into a kit, and making a kit of a variant that holds stock', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [2]);
    const sku = await kit([{ sku: mug, qty: 1 }]);
    // nor received, adjusted up, counted (at 0 too) or returned (damaged too, which puts no units on hand): each
    // refusal names the kit, and there is no ledger row on it
    for (const [path, body] of [
      ['/v1/stock/receive', { sku, warehouse: wh[0], qty: 1 }],
      ['/v1/stock/adjust', { sku, warehouse: wh[0], delta: 1, reason: 'correction' }],
      ['/v1/stock/count', { sku, warehouse: wh[0], counted: 0 }],
      ['/v1/returns', { sku, warehouse: wh[0], qty: 1, condition: 'damaged', reference: 'rma-1' }],
      ['/v1/returns', { sku, warehouse: wh[0], qty: 1, condition: 'resellable', reference: 'rma-2' }],
    ] as const) {
      const refused = await api('POST', path, body);
      expect([refused.status, refused.body.code, refused.body.sku]).toEqual([409, 'kit_holds_no_stock', sku]);
    }
    expect((await api('GET', `/v1/movements?sku=${sku}`)).body.items).toEqual([]);
    const other = await stocked(wh, [1]);
    const holding = await api('PUT', `/v1/kits/${other}`, { components: [{ sku: mug, qty: 1 }] });
    expect([holding.status, holding.body.code]).toEqual([409, 'kit_holds_no_stock']);
    // a new warehouse gives the kit a level that holds nothing either
    const [later] = await warehouses(1);
    const there = await api('POST', '/v1/stock/receive', { sku, warehouse: later, qty: 1 });
    expect([there.status, there.body.code, there.body.sku]).toEqual([409, 'kit_holds_no_stock', sku]);
  });

  it("shows a kit's availability per warehouse as the least of its components' available ÷ quantity", async () => {
    const wh = await warehouses(2);
    const mug = await stocked(wh, [7, 2]);
    const coffee = await stocked(wh, [2, 9]);
    const sku = await kit(
      [
        { sku: mug, qty: 2 },
        { sku: coffee, qty: 1 },
      ],
      { low_stock_threshold: 1 },
    );
    expect(await available(sku, wh)).toEqual([2, 1]);
    const total = await api('GET', `/v1/stock/${sku}`);
    expect((total.body.total as { available: number }).available).toBe(3);
    const shown = await api('GET', `/v1/availability?sku=${sku}`, undefined, 'storefront');
    expect(shown.body.items).toEqual([{ sku, available: 3, status: 'in_stock', label: 'In stock' }]);
    // a component sale lowers the kit
    await api('POST', '/v1/reservations', { order_ref: uniq('o'), lines: [{ sku: coffee, qty: 2 }], warehouse: wh[0] });
    expect(await available(sku, wh)).toEqual([0, 1]);
  });

  it('leaves a kit out of the stock list, the low list and their exports: its levels hold nothing, its components do', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [4], { low_stock_threshold: 10 });
    const sku = await kit([{ sku: mug, qty: 2 }], { low_stock_threshold: 5 });
    const listed = async (path: string, text: string) =>
      ((await api('GET', `${path}?warehouse=${wh[0]}&q=${text}`)).body.items as { sku: string }[]).map((i) => i.sku);
    // the component is listed (and low), the kit is in neither list, though it sells (2 available)
    expect(await available(sku, wh)).toEqual([2]);
    expect(await listed('/v1/stock', mug)).toEqual([mug]);
    expect(await listed('/v1/stock/low', mug)).toEqual([mug]);
    expect(await listed('/v1/stock', sku)).toEqual([]);
    expect(await listed('/v1/stock/low', sku)).toEqual([]);
    const csv = await (await fetchRaw(`/v1/stock/export.csv?warehouse=${wh[0]}&q=${sku}`)).text();
    expect(csv.trim().split('\n')).toHaveLength(1);
  });

  it('reserves a kit as its components at one warehouse, shows the kit line with them, fulfils and releases them', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [10]);
    const coffee = await stocked(wh, [10]);
    const sku = await kit([
      { sku: mug, qty: 2 },
      { sku: coffee, qty: 1 },
    ]);
    const reserved = await api('POST', '/v1/reservations', {
      order_ref: uniq('o'),
      lines: [
        { sku, qty: 3 },
        { sku: mug, qty: 1 },
      ],
    });
    expect(reserved.status).toBe(201);
    const lines = reserved.body.lines as Record<string, unknown>[];
    expect(lines).toEqual([
      { sku: mug, warehouse: wh[0], qty: 1, backordered: 0, fulfilled: 0, released: 0 },
      {
        sku,
        warehouse: wh[0],
        qty: 3,
        backordered: 0,
        fulfilled: 0,
        released: 0,
        components: expect.arrayContaining([
          { sku: mug, warehouse: wh[0], qty: 6, fulfilled: 0, released: 0 },
          { sku: coffee, warehouse: wh[0], qty: 3, fulfilled: 0, released: 0 },
        ]) as unknown,
      },
    ]);
    expect(await available(mug, wh)).toEqual([3]);
    expect(await available(coffee, wh)).toEqual([7]);
    const id = String(reserved.body.id);
    // one kit ships: its components with it
    const shipped = await api('POST', `/v1/reservations/${id}/fulfil`, { lines: [{ sku, qty: 1 }] });
    expect(shipped.status).toBe(200);
    const kitLine = (shipped.body.lines as { sku: string; fulfilled: number; components?: unknown[] }[]).find(
      (line) => line.sku === sku,
    );
    expect(kitLine?.fulfilled).toBe(1);
    expect(kitLine?.components).toEqual(
      expect.arrayContaining([
        { sku: mug, warehouse: wh[0], qty: 6, fulfilled: 2, released: 0 },
        { sku: coffee, warehouse: wh[0], qty: 3, fulfilled: 1, released: 0 },
      ]),
    );
    // the ledger names the kit on its components' rows
    const ledger = await api('GET', `/v1/movements?reservation_id=${id}`);
    const rows = ledger.body.items as { sku: string; type: string; kit: string | null }[];
    expect(rows.filter((row) => row.sku === coffee).map((row) => [row.type, row.kit])).toEqual([
      ['fulfil', sku],
      ['reserve', sku],
    ]);
    expect(rows.filter((row) => row.sku === mug).every((row) => row.kit === sku || row.kit === null)).toBe(true);
    // a component is not given back alone, only with its kit
    const alone = await api('POST', `/v1/reservations/${id}/cancel`, { lines: [{ sku: coffee, qty: 1 }] });
    expect(alone.status).toBe(400);
    const oneKit = await api('POST', `/v1/reservations/${id}/cancel`, { lines: [{ sku, qty: 1 }] });
    expect(oneKit.status).toBe(200);
    expect((oneKit.body.lines as { sku: string; components?: unknown[] }[]).find((line) => line.sku === sku)).toEqual({
      sku,
      warehouse: wh[0],
      qty: 3,
      backordered: 0,
      fulfilled: 1,
      released: 1,
      components: expect.arrayContaining([
        { sku: mug, warehouse: wh[0], qty: 6, fulfilled: 2, released: 2 },
        { sku: coffee, warehouse: wh[0], qty: 3, fulfilled: 1, released: 1 },
      ]) as unknown,
    });
    expect(await available(mug, wh)).toEqual([5]);
    expect(await available(coffee, wh)).toEqual([8]);
    const cancelled = await api('POST', `/v1/reservations/${id}/cancel`);
    expect(cancelled.body.status).toBe('released');
    expect(await available(mug, wh)).toEqual([8]);
    expect(await available(coffee, wh)).toEqual([9]);
  });

  it('refuses a kit its components cannot cover, naming the kit, and holds nothing', async () => {
    const wh = await warehouses(2);
    const mug = await stocked(wh, [3, 3]);
    const sku = await kit([{ sku: mug, qty: 2 }]);
    // 1 kit in each warehouse: never a kit split over two
    const refused = await api('POST', '/v1/reservations', { order_ref: uniq('o'), lines: [{ sku, qty: 3 }] });
    expect([refused.status, refused.body.code, refused.body.lines]).toEqual([
      409,
      'insufficient_stock',
      [{ sku, requested: 3, available: 2 }],
    ]);
    expect(await available(mug, wh)).toEqual([3, 3]);
    const split = await api('POST', '/v1/reservations', { order_ref: uniq('o'), lines: [{ sku, qty: 2 }] });
    expect(split.status).toBe(201);
    expect(
      (split.body.lines as { warehouse: string; qty: number }[]).map((line) => [line.warehouse, line.qty]),
    ).toEqual([
      [wh[0], 1],
      [wh[1], 1],
    ]);
    expect(await available(mug, wh)).toEqual([1, 1]);
  });

  it('releases an expired kit reservation through its components', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [4]);
    const sku = await kit([{ sku: mug, qty: 2 }]);
    const reserved = await api('POST', '/v1/reservations', {
      order_ref: uniq('o'),
      lines: [{ sku, qty: 2 }],
      ttl_seconds: 60,
    });
    expect(reserved.status).toBe(201);
    expect(await available(mug, wh)).toEqual([0]);
    h.clock.advance(61);
    expect(await h.s.reservations.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await available(mug, wh)).toEqual([4]);
    const ledger = await api('GET', `/v1/movements?reservation_id=${String(reserved.body.id)}&type=expire`);
    expect((ledger.body.items as { kit: string }[]).map((row) => row.kit)).toEqual([sku]);
  });

  it('a process that does not know a kit yet refuses it rather than sell it; once it reads the kits again, it holds it', async () => {
    const wh = await warehouses(1);
    const mug = await stocked(wh, [4]);
    // another process on the same database, which read the kits before this one was defined
    const other = new Stockroom({ db: h.test.db, clock: h.clock.now });
    await other.kits.registry.load();
    const sku = await kit([{ sku: mug, qty: 2 }]);
    await expect(other.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }] })).rejects.toMatchObject({
      code: 'insufficient_stock',
    });
    expect(await available(mug, wh)).toEqual([4]);
    await other.kits.registry.load();
    const held = await other.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }] });
    expect(held.lines[0]?.components).toEqual([{ sku: mug, warehouse: wh[0], qty: 2, fulfilled: 0, released: 0 }]);
    expect(await available(mug, wh)).toEqual([2]);
  });

  it('commits a kit reservation and refuses changes that would split a kit (move, amend to add a kit)', async () => {
    const wh = await warehouses(2);
    const mug = await stocked(wh, [4, 4]);
    const sku = await kit([{ sku: mug, qty: 1 }]);
    const reserved = await api('POST', '/v1/reservations', { order_ref: uniq('o'), lines: [{ sku, qty: 1 }] });
    const id = String(reserved.body.id);
    expect((await api('POST', `/v1/reservations/${id}/commit`)).body.status).toBe('committed');
    const moved = await api('POST', `/v1/reservations/${id}/move`, { sku: mug, qty: 1, to: wh[1] });
    expect([moved.status, moved.body.code]).toEqual([409, 'invalid_transition']);
    const plain = await api('POST', '/v1/reservations', { order_ref: uniq('o'), lines: [{ sku: mug, qty: 1 }] });
    const amended = await api('PATCH', `/v1/reservations/${String(plain.body.id)}`, {
      body: { lines: [{ sku, qty: 1 }] },
    });
    expect([amended.status, amended.body.code]).toEqual([400, 'validation_failed']);
    const fulfilled = await api('POST', `/v1/reservations/${id}/fulfil`);
    expect(fulfilled.body.status).toBe('fulfilled');
    // the kit's unit shipped from the first warehouse, where the plain order holds one more
    expect(await available(mug, wh)).toEqual([2, 4]);
  });

  /** A supplier delivering into a warehouse. */
  async function supplier(warehouse: string): Promise<string> {
    const code = uniq('SUP');
    expect((await api('POST', '/v1/suppliers', { code, name: code, warehouse })).status).toBe(201);
    return code;
  }

  /** a purchase order of these lines, sent and confirmed: its units are to come */
  async function confirmedOrder(vendor: string, warehouse: string, lines: { sku: string; qty: number }[]) {
    const order = await api('POST', '/v1/purchase-orders', { supplier: vendor, warehouse, lines });
    expect(order.status).toBe(201);
    const id = String(order.body.id);
    expect((await api('POST', `/v1/purchase-orders/${id}/send`)).status).toBe(200);
    expect((await api('POST', `/v1/purchase-orders/${id}/confirm`, {})).status).toBe(200);
    return id;
  }

  it('refuses a kit on a purchase order, naming it, and replenishment neither suggests nor drafts one', async () => {
    const wh = await warehouses(1);
    const vendor = await supplier(wh[0]!);
    const mug = await stocked(wh, [0]);
    const sku = await kit([{ sku: mug, qty: 1 }], { reorder_point: 5, supplier: vendor });
    for (const lines of [
      [{ sku, qty: 5 }],
      [
        { sku: mug, qty: 5 },
        { sku, qty: 1 },
      ],
    ]) {
      const refused = await api('POST', '/v1/purchase-orders', { supplier: vendor, warehouse: wh[0], lines });
      expect(refused).toMatchObject({ status: 409, body: { code: 'kit_holds_no_stock', sku } });
    }
    expect((await api('GET', `/v1/purchase-orders?supplier=${vendor}`)).body.items).toEqual([]);
    expect((await api('GET', `/v1/stock/${sku}`)).body).toMatchObject({ total: { incoming: 0 } });

    // at its reorder point with nothing on order, still not suggested, asked about or not, nor ordered
    const suggested = async (query: string) =>
      ((await api('GET', `/v1/replenishment/suggestions${query}`)).body.items as { sku: string }[]).map(
        (item) => item.sku,
      );
    expect(await suggested('')).not.toContain(sku);
    expect(await suggested(`?sku=${sku}&sku=${mug}`)).toEqual([mug]);
    const run = await api('POST', '/v1/replenishment/run');
    expect(run.status).toBe(200);
    const runs = run.body as { orders: { lines: { sku: string }[] }[]; skipped: { sku: string }[] };
    expect(runs.orders.flatMap((order) => order.lines.map((line) => line.sku))).not.toContain(sku);
    expect(runs.skipped.map((skip) => skip.sku)).not.toContain(sku);
  });

  it('refuses making a variant a kit while an open purchase order has units of it to come', async () => {
    const wh = await warehouses(1);
    const vendor = await supplier(wh[0]!);
    const mug = await stocked(wh, [0]);
    const box = await stocked(wh, [0]);
    const id = await confirmedOrder(vendor, wh[0]!, [{ sku: box, qty: 5 }]);
    const refused = await api('PUT', `/v1/kits/${box}`, { components: [{ sku: mug, qty: 1 }] });
    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'kit_holds_no_stock', sku: box, open_purchase_orders: 1 },
    });
    expect((await api('GET', `/v1/kits/${box}`)).status).toBe(404);
    await api('POST', `/v1/purchase-orders/${id}/cancel`);
    expect((await api('PUT', `/v1/kits/${box}`, { components: [{ sku: mug, qty: 1 }] })).status).toBe(200);
  });

  it('names the kit when a receipt of an order made before kits were refused on orders would put units on it', async () => {
    const wh = await warehouses(1);
    const vendor = await supplier(wh[0]!);
    const mug = await stocked(wh, [0]);
    const box = await stocked(wh, [0]);
    const id = await confirmedOrder(vendor, wh[0]!, [
      { sku: mug, qty: 2 },
      { sku: box, qty: 5 },
    ]);
    // as an older version let it happen: the variant made a kit with the order open
    await h.test.db.transaction(async (tx) => {
      const ids = await tx.query<{ id: number; sku: string }>('SELECT id, sku FROM variants WHERE sku = ANY($1)', [
        [mug, box],
      ]);
      const idOf = (sku: string) => ids.rows.find((row) => row.sku === sku)!.id;
      await writeKit(tx, idOf(box), [{ variantId: idOf(mug), qty: 1 }]);
    });
    const receipt = await api('POST', `/v1/purchase-orders/${id}/receive`, {
      lines: [
        { sku: mug, qty: 2 },
        { sku: box, qty: 5 },
      ],
    });
    expect(receipt).toMatchObject({ status: 409, body: { code: 'kit_holds_no_stock', sku: box } });
    expect(await available(mug, wh)).toEqual([0]);
  });

  it.runIf(driver === 'postgres')(
    'an order placed while its variant is being made a kit: one of the two sees the other, never a kit on an order',
    async () => {
      const wh = await warehouses(1);
      const vendor = await supplier(wh[0]!);
      const mug = await stocked(wh, [0]);
      const box = await stocked(wh, [0]);
      // the order waits, once it has looked at its variant, on the supplier's row (its foreign key)
      const [placed, defined] = await inLockOrder(
        h.test.db,
        { sql: 'SELECT 1 FROM suppliers WHERE code = $1', params: [vendor] },
        () => api('POST', '/v1/purchase-orders', { supplier: vendor, warehouse: wh[0], lines: [{ sku: box, qty: 5 }] }),
        () => api('PUT', `/v1/kits/${box}`, { components: [{ sku: mug, qty: 1 }] }),
      );
      expect(placed.status).toBe(201);
      expect(defined).toMatchObject({
        status: 409,
        body: { code: 'kit_holds_no_stock', open_purchase_orders: 1 },
      });
    },
  );
});
