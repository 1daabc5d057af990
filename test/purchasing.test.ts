import { describe, expect, it } from 'vitest';
import { ArchivedError, InvalidTransitionError, NotFoundError, ValidationError } from '../src/domain/errors.js';
import { PO_STATUSES } from '../src/domain/purchasing.js';
import type { PoStatus } from '../src/domain/purchasing.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

describe.each(drivers())('purchase orders on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  /** A supplier delivering in 7 days, and a world of two SKUs in one warehouse. */
  async function setup(stock: [number, number] = [0, 0]) {
    const a = await world(h.s, [stock[0]]);
    const b = uniq('SKU');
    await h.s.catalog.addVariant({ sku: b, product: { title: b } });
    if (stock[1] > 0) await h.s.stock.receive({ sku: b, warehouse: a.wh[0]!, qty: stock[1] });
    const supplier = uniq('SUP');
    await h.s.purchasing.addSupplier({ code: supplier, name: 'Acme Textiles', lead_time_days: 7 });
    return { skuA: a.sku, skuB: b, warehouse: a.wh[0]!, supplier };
  }

  it('goes DRAFT, SENT, CONFIRMED, PARTIAL, RECEIVED; incoming counts what the supplier has and is not yet here', async () => {
    const { skuA, skuB, warehouse, supplier } = await setup([2, 0]);
    const draft = await h.s.purchasing.create({
      supplier,
      warehouse,
      lines: [
        { sku: skuA, qty: 10 },
        { sku: skuB, qty: 5 },
      ],
    });
    expect(draft).toMatchObject({
      status: 'DRAFT',
      expected_date: null,
      origin: 'manual',
      lines: [
        { sku: skuA, qty: 10, received_qty: 0, outstanding: 10 },
        { sku: skuB, qty: 5 },
      ],
    });
    expect((await h.s.stock.get(skuA)).total.incoming).toBe(0); // a draft is not an order yet

    const sent = await h.s.purchasing.send(draft.id);
    expect(sent).toMatchObject({ status: 'SENT', expected_date: '2026-01-22', sent_at: '2026-01-15T10:00:00.000Z' }); // the clock's today + 7
    expect((await h.s.stock.get(skuA)).total).toMatchObject({ on_hand: 2, available: 2, incoming: 10 });
    const confirmed = await h.s.purchasing.confirm(draft.id, { expected_date: '2026-01-25' });
    expect(confirmed).toMatchObject({ status: 'CONFIRMED', expected_date: '2026-01-25' });

    await h.s.catalog.addBin({ warehouse, code: 'A-01-01' });
    await h.s.catalog.addBin({ warehouse, code: 'B-01-01' });
    const first = await h.s.purchasing.receive(draft.id, {
      lines: [
        { sku: skuA, qty: 4, bin: 'B-01-01' },
        { sku: skuB, qty: 3 },
      ],
    });
    expect(first.order).toMatchObject({
      status: 'PARTIAL',
      lines: [
        { sku: skuA, received_qty: 4, outstanding: 6 },
        { sku: skuB, received_qty: 3, outstanding: 2 },
      ],
    });
    expect(first.put_away).toEqual([
      { sku: skuA, qty: 4, bin: 'B-01-01', suggested: false },
      { sku: skuB, qty: 3, bin: 'A-01-01', suggested: true }, // no bin holds it yet: the first empty one
    ]);
    expect((await h.s.stock.get(skuA)).total).toMatchObject({ on_hand: 6, available: 6, incoming: 6 });
    expect((await h.s.stock.get(skuA)).warehouses.find((w) => w.warehouse === warehouse)).toMatchObject({
      incoming: 6,
      bins: [{ bin: 'B-01-01', qty: 4 }],
    });
    expect((await h.s.stock.movements({ sku: skuA, limit: 1 })).items[0]).toMatchObject({
      type: 'receive',
      delta_on_hand: 4,
      reason: 'received',
      reference: `PO-${draft.id}`,
    });

    const second = await h.s.purchasing.receive(draft.id, {
      lines: [
        { sku: skuB, qty: 2 },
        { sku: skuA, qty: 6 },
      ],
    });
    expect(second.put_away).toEqual([
      { sku: skuB, qty: 2, bin: 'A-01-01', suggested: true }, // the bin already holding it
      { sku: skuA, qty: 6, bin: 'B-01-01', suggested: true },
    ]);
    expect(second.order).toMatchObject({ status: 'RECEIVED', closed_at: expect.any(String) as unknown });
    expect((await h.s.stock.get(skuA)).total).toMatchObject({ on_hand: 12, available: 12, incoming: 0 });
    expect(await levels(h.s, skuB, [warehouse])).toEqual({ [warehouse]: [5, 0, 5] });
  });

  it('refuses every transition not drawn, and a refused one changes nothing', async () => {
    const { skuA, warehouse, supplier } = await setup();
    const allowed: Record<PoStatus, string[]> = {
      DRAFT: ['send', 'cancel'],
      SENT: ['confirm', 'cancel'],
      CONFIRMED: ['receive', 'cancel'],
      PARTIAL: ['receive', 'cancel'],
      RECEIVED: [],
      CANCELLED: [],
    };
    const orderIn = async (status: PoStatus): Promise<number> => {
      const { id } = await h.s.purchasing.create({ supplier, warehouse, lines: [{ sku: skuA, qty: 4 }] });
      const path: Record<PoStatus, ((id: number) => Promise<unknown>)[]> = {
        DRAFT: [],
        SENT: [(i) => h.s.purchasing.send(i)],
        CONFIRMED: [(i) => h.s.purchasing.send(i), (i) => h.s.purchasing.confirm(i)],
        PARTIAL: [
          (i) => h.s.purchasing.send(i),
          (i) => h.s.purchasing.confirm(i),
          (i) => h.s.purchasing.receive(i, { lines: [{ sku: skuA, qty: 1 }] }),
        ],
        RECEIVED: [
          (i) => h.s.purchasing.send(i),
          (i) => h.s.purchasing.confirm(i),
          (i) => h.s.purchasing.receive(i, { lines: [{ sku: skuA, qty: 4 }] }),
        ],
        CANCELLED: [(i) => h.s.purchasing.cancel(i)],
      };
      for (const step of path[status]) await step(id);
      expect((await h.s.purchasing.get(id)).status).toBe(status);
      return id;
    };
    const act = {
      send: (id: number) => h.s.purchasing.send(id),
      confirm: (id: number) => h.s.purchasing.confirm(id),
      receive: (id: number) => h.s.purchasing.receive(id, { lines: [{ sku: skuA, qty: 1 }] }),
      cancel: (id: number) => h.s.purchasing.cancel(id),
    };
    let refused = 0;
    for (const status of PO_STATUSES) {
      for (const [action, run] of Object.entries(act)) {
        if (allowed[status].includes(action)) continue;
        const id = await orderIn(status);
        const before = await h.s.stock.get(skuA);
        await expect(run(id), `${action} on ${status}`).rejects.toThrow(InvalidTransitionError);
        expect((await h.s.purchasing.get(id)).status).toBe(status);
        expect(await h.s.stock.get(skuA)).toEqual(before);
        refused++;
      }
    }
    expect(refused).toBe(16);
  });

  it('refuses receiving more than is outstanding, a SKU not on the order, or an unknown bin, changing nothing', async () => {
    const { skuA, skuB, warehouse, supplier } = await setup();
    const { id } = await h.s.purchasing.create({ supplier, warehouse, lines: [{ sku: skuA, qty: 3 }] });
    await h.s.purchasing.send(id);
    await h.s.purchasing.confirm(id);
    await expect(h.s.purchasing.receive(id, { lines: [{ sku: skuA, qty: 4 }] })).rejects.toThrow('/lines/0/qty: 3 of');
    await expect(
      h.s.purchasing.receive(id, {
        lines: [
          { sku: skuA, qty: 1 },
          { sku: skuB, qty: 1 },
        ],
      }),
    ).rejects.toThrow(`/lines/1/sku: ${skuB} is not on purchase order`);
    await expect(h.s.purchasing.receive(id, { lines: [{ sku: skuA, qty: 1, bin: 'Z-99-99' }] })).rejects.toThrow(
      NotFoundError,
    );
    await expect(
      h.s.purchasing.receive(id, {
        lines: [
          { sku: skuA, qty: 1 },
          { sku: skuA, qty: 1 },
        ],
      }),
    ).rejects.toThrow(ValidationError);
    expect((await h.s.purchasing.get(id)).status).toBe('CONFIRMED');
    expect(await levels(h.s, skuA, [warehouse])).toEqual({ [warehouse]: [0, 0, 0] });
    await expect(
      h.s.purchasing.create({ supplier: 'NOPE', warehouse, lines: [{ sku: skuA, qty: 1 }] }),
    ).rejects.toThrow('supplier');
    await expect(
      h.s.purchasing.create({ supplier, warehouse, lines: [{ sku: skuA, qty: 1 }], expected_date: '2026-02-30' }),
    ).rejects.toThrow('/expected_date');
    await expect(h.s.purchasing.confirm(id, { expected_date: '2026-13-01' })).rejects.toThrow(ValidationError);
    await expect(h.s.purchasing.get(999_999_999)).rejects.toThrow(NotFoundError);
  });

  it('refuses an order into an archived warehouse or of an archived variant, and a supplier email that is none', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    const [open, closed] = wh as [string, string];
    const supplier = uniq('SUP');
    await h.s.purchasing.addSupplier({ code: supplier, name: 'Acme' });
    await h.s.catalog.archiveWarehouse(closed);
    await expect(h.s.purchasing.create({ supplier, warehouse: closed, lines: [{ sku, qty: 5 }] })).rejects.toThrow(
      ArchivedError,
    );
    await expect(h.s.purchasing.addSupplier({ code: uniq('SUP'), name: 'Late', warehouse: closed })).rejects.toThrow(
      ArchivedError,
    );
    const { sku: gone } = await world(h.s, [0]);
    await h.s.catalog.archiveVariant(gone);
    await expect(
      h.s.purchasing.create({
        supplier,
        warehouse: open,
        lines: [
          { sku, qty: 5 },
          { sku: gone, qty: 1 },
        ],
      }),
    ).rejects.toThrow(ArchivedError);
    expect((await h.s.purchasing.list({ supplier })).items).toEqual([]);
    await expect(
      h.s.purchasing.addSupplier({ code: uniq('SUP'), name: 'Mail', email: 'not an email' }),
    ).rejects.toThrow('/email');
  });

  it("feeds the storefront's shipping window from the earliest expected date of units on order", async () => {
    const { sku, wh } = await world(h.s, [0], { backorder: { policy: 'preorder', limit: 50, lead_days: 30 } });
    const supplier = uniq('SUP');
    await h.s.purchasing.addSupplier({ code: supplier, name: 'Acme' });
    const label = async () => (await h.s.availability.get({ sku: [sku] })).items[0]?.label;
    expect(await label()).toBe('Pre-order, ships in 30-32 days');
    const { id } = await h.s.purchasing.create({
      supplier,
      warehouse: wh[0]!,
      lines: [{ sku, qty: 20 }],
      expected_date: '2026-01-19',
    });
    expect(await label()).toBe('Pre-order, ships in 30-32 days'); // a draft promises nothing
    await h.s.purchasing.send(id);
    expect(await label()).toBe('Pre-order, ships in 4-6 days'); // the clock says 2026-01-15
    await h.s.purchasing.cancel(id);
    expect(await label()).toBe('Pre-order, ships in 30-32 days');
  });

  it("takes null for a supplier's optional members, as its answers show them: none, or the store's currency", async () => {
    const { wh } = await world(h.s, [0]);
    const code = uniq('SUP');
    const added = await call('POST', '/v1/suppliers', {
      body: { code, name: 'Nulls', email: null, lead_time_days: null, warehouse: null, currency: null },
    });
    expect(added).toMatchObject({
      status: 201,
      body: { code, email: null, lead_time_days: null, warehouse: null, currency: null },
    });
    // an answer sent back as it came (less what the server stamps) is taken as it was meant
    const { created_at: _, ...echo } = added.body;
    expect((await call('POST', '/v1/suppliers', { body: { ...echo, code: uniq('SUP') } })).status).toBe(201);
    // and an order of it is in the store's currency
    const order = await h.s.purchasing.create({
      supplier: code,
      warehouse: wh[0]!,
      lines: [{ sku: (await world(h.s, [0])).sku, qty: 1 }],
    });
    expect(order.currency).toBe('USD');
  });

  it("takes null for a new order's optional members, as its answers show them: none, or the supplier's currency", async () => {
    const { skuA, warehouse, supplier } = await setup();
    const made = await call('POST', '/v1/purchase-orders', {
      body: {
        supplier,
        warehouse,
        lines: [{ sku: skuA, qty: 3, unit_cost: null }],
        expected_date: null,
        reference: null,
        currency: null,
      },
    });
    expect(made).toMatchObject({
      status: 201,
      body: { status: 'DRAFT', expected_date: null, reference: null, currency: 'USD', lines: [{ unit_cost: null }] },
    });
    // none is still a date to come: sending dates it by the supplier's lead time (7 days from 2026-01-15)
    const sent = await call('POST', `/v1/purchase-orders/${String(made.body['id'])}/send`);
    expect(sent).toMatchObject({ status: 200, body: { expected_date: '2026-01-22' } });
  });

  it('refuses a supplier, warehouse or product name of whitespace only, as it would show as nothing', async () => {
    const blank = '  \t ';
    const refusals = [
      ['/v1/suppliers', { code: uniq('SUP'), name: blank }, '/name'],
      ['/v1/warehouses', { code: uniq('W'), name: blank }, '/name'],
      ['/v1/variants', { sku: uniq('SKU'), product: { title: blank } }, '/product/title'],
    ] as const;
    for (const [path, body, at] of refusals)
      expect(await call('POST', path, { body }), path).toMatchObject({
        status: 400,
        body: {
          code: 'validation_failed',
          errors: [{ path: at, message: 'must be text of 1-200 characters, not only whitespace' }],
        },
      });
    // a name with blanks around words is a name
    expect(
      (await call('POST', '/v1/suppliers', { body: { code: uniq('SUP'), name: ' Acme  Textiles ' } })).status,
    ).toBe(201);
  });
});
