import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CURRENT_COST_TRIGGER, costTrigger } from './support/cost-trigger.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/** The query docs/operations.md gives operators to find the transfers 0036 and before valued wrongly. */
function misvaluedTransfersQuery(): string {
  const page = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
  const section = page.slice(page.indexOf('### Levels a transfer valued wrongly before 0037'));
  const query = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  if (query === undefined) throw new Error('docs/operations.md gives no query for the levels 0037 left as they were');
  return query;
}

/** The cost columns of a ledger row, as GET /v1/movements shows them. */
interface CostRow {
  type: string;
  delta_on_hand: number;
  on_hand_after: number;
  unit_cost: number | null;
  value_delta: number | null;
  value_after: number | null;
}

describe.each(drivers())('unit cost and moving-average cost over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  /** The rows that moved on hand at one warehouse, oldest first, with what they did to its value. */
  const costRows = async (sku: string, warehouse: string): Promise<CostRow[]> => {
    const page = await call('GET', `/v1/movements?sku=${sku}&warehouse=${warehouse}&limit=100`);
    expect(page.status).toBe(200);
    return (page.body.items as (CostRow & Record<string, unknown>)[])
      .filter((row) => row.delta_on_hand !== 0)
      .reverse()
      .map(({ type, delta_on_hand, on_hand_after, unit_cost, value_delta, value_after }) => ({
        type,
        delta_on_hand,
        on_hand_after,
        unit_cost,
        value_delta,
        value_after,
      }));
  };
  const supplier = async (): Promise<string> => {
    const code = uniq('SUP');
    expect((await call('POST', '/v1/suppliers', { body: { code, name: code } })).status).toBe(201);
    return code;
  };
  const ship = async (sku: string, qty: number): Promise<void> => {
    const reserved = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('order'), lines: [{ sku, qty }] },
    });
    expect(reserved.status).toBe(201);
    const id = reserved.body['id'] as string;
    expect((await call('POST', `/v1/reservations/${id}/commit`, { scope: 'checkout' })).status).toBe(200);
    expect((await call('POST', `/v1/reservations/${id}/fulfil`, { scope: 'checkout' })).body).toMatchObject({
      status: 'fulfilled',
    });
  };

  it('keeps the moving average across three receipts at different costs with a fulfilment between, as computed by hand', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const warehouse = wh[0]!;
    const from = await supplier();
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier: from, warehouse, lines: [{ sku, qty: 14, unit_cost: 1000 }] },
    });
    expect(order).toMatchObject({ status: 201, body: { currency: 'USD', lines: [{ sku, unit_cost: 1000 }] } });
    const id = order.body['id'] as number;
    expect((await call('POST', `/v1/purchase-orders/${id}/send`)).status).toBe(200);
    expect((await call('POST', `/v1/purchase-orders/${id}/confirm`)).status).toBe(200);

    // 1. 10 units at 10.00 from the order: value 100.00, average 10.00
    const first = await call('POST', `/v1/purchase-orders/${id}/receive`, {
      scope: 'warehouse',
      body: { lines: [{ sku, qty: 10 }] },
    });
    expect(first.body).toMatchObject({ order: { status: 'PARTIAL' } });
    // a fulfilment of 4 leaves at the average: cost of goods sold 4 x 10.00
    await ship(sku, 4);
    // 2. 6 units at 13.00, a plain receipt: 60.00 + 78.00 = 138.00 for 12, average 11.50
    expect(
      (
        await call('POST', '/v1/stock/receive', {
          scope: 'warehouse',
          body: { sku, warehouse, qty: 6, unit_cost: 1300 },
        })
      ).status,
    ).toBe(200);
    // 3. the order's remaining 4, re-priced at 17.25: 138.00 + 69.00 = 207.00 for 16, average 12.9375 -> 12.94
    expect(
      (await call('POST', `/v1/purchase-orders/${id}/costs`, { body: { lines: [{ sku, unit_cost: 1725 }] } })).body,
    ).toMatchObject({ lines: [{ sku, unit_cost: 1725, outstanding: 4 }] });
    await call('POST', `/v1/purchase-orders/${id}/receive`, { scope: 'warehouse', body: { lines: [{ sku, qty: 4 }] } });
    // then 5 leave at 12.94: 207.00 - 64.70 = 142.30 for 11, average 12.936 -> 12.94
    await ship(sku, 5);

    expect(await costRows(sku, warehouse)).toEqual([
      {
        type: 'receive',
        delta_on_hand: 10,
        on_hand_after: 10,
        unit_cost: 1000,
        value_delta: 10000,
        value_after: 10000,
      },
      { type: 'fulfil', delta_on_hand: -4, on_hand_after: 6, unit_cost: 1000, value_delta: -4000, value_after: 6000 },
      { type: 'receive', delta_on_hand: 6, on_hand_after: 12, unit_cost: 1300, value_delta: 7800, value_after: 13800 },
      { type: 'receive', delta_on_hand: 4, on_hand_after: 16, unit_cost: 1725, value_delta: 6900, value_after: 20700 },
      { type: 'fulfil', delta_on_hand: -5, on_hand_after: 11, unit_cost: 1294, value_delta: -6470, value_after: 14230 },
    ]);
    // the order's receipt kept the cost it had then: re-pricing a line changes only what arrives after
    expect((await call('GET', `/v1/purchase-orders/${id}`)).body).toMatchObject({ status: 'RECEIVED' });
  });

  it('carries value with a transfer, costs removals at the average and leaves no rounding residue behind', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    const [a, b] = wh as [string, string];
    const receive = (warehouse: string, qty: number, unitCost: number) =>
      call('POST', '/v1/stock/receive', { scope: 'warehouse', body: { sku, warehouse, qty, unit_cost: unitCost } });
    await receive(a, 3, 1000);
    await receive(a, 1, 1); // 3001 for 4: average 750.25 -> 750
    expect(
      (await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from: a, to: b, qty: 2 } })).status,
    ).toBe(200);
    await receive(b, 2, 2000); // B: 1500 + 4000 = 5500 for 4
    await call('POST', '/v1/stock/adjust', {
      scope: 'warehouse',
      body: { sku, warehouse: a, delta: -2, reason: 'damaged' },
    });
    expect(await costRows(sku, a)).toEqual([
      { type: 'receive', delta_on_hand: 3, on_hand_after: 3, unit_cost: 1000, value_delta: 3000, value_after: 3000 },
      { type: 'receive', delta_on_hand: 1, on_hand_after: 4, unit_cost: 1, value_delta: 1, value_after: 3001 },
      {
        type: 'transfer_out',
        delta_on_hand: -2,
        on_hand_after: 2,
        unit_cost: 750,
        value_delta: -1500,
        value_after: 1501,
      },
      // the last units take what is left (1501, not 2 x 751 = 1502 nor 1500)
      { type: 'adjust', delta_on_hand: -2, on_hand_after: 0, unit_cost: 751, value_delta: -1501, value_after: 0 },
    ]);
    expect(await costRows(sku, b)).toEqual([
      { type: 'transfer_in', delta_on_hand: 2, on_hand_after: 2, unit_cost: 750, value_delta: 1500, value_after: 1500 },
      { type: 'receive', delta_on_hand: 2, on_hand_after: 4, unit_cost: 2000, value_delta: 4000, value_after: 5500 },
    ]);
    // units found later come back at the last average known there
    await call('POST', '/v1/stock/adjust', {
      scope: 'warehouse',
      body: { sku, warehouse: a, delta: 1, reason: 'correction' },
    });
    expect((await costRows(sku, a)).at(-1)).toEqual({
      type: 'adjust',
      delta_on_hand: 1,
      on_hand_after: 1,
      unit_cost: 751,
      value_delta: 751,
      value_after: 751,
    });
  });

  it('values the units already on hand with the first cost a level is given; uncosted units stay uncosted', async () => {
    const { sku, wh } = await world(h.s, [5]); // received without a cost
    const warehouse = wh[0]!;
    expect((await costRows(sku, warehouse))[0]).toMatchObject({ unit_cost: null, value_delta: 0, value_after: 0 });
    await call('POST', '/v1/stock/receive', { scope: 'warehouse', body: { sku, warehouse, qty: 5, unit_cost: 800 } });
    expect((await costRows(sku, warehouse)).at(-1)).toMatchObject({
      unit_cost: 800,
      value_delta: 8000,
      value_after: 8000,
    });
  });

  it('values the units already at a never-costed level with the cost a transfer brings, as a first receipt would', async () => {
    // the black-box tester's case: 10 received without a cost; 4 sent on, still uncosted; 1 received at 1.00, the
    // first cost there, so all 7 are worth 1.00; then 2 sent on, carrying 2.00 to where 4 uncosted units wait
    const { sku, wh } = await world(h.s, [10, 0]);
    const [from, to] = wh as [string, string];
    const transfer = async (qty: number): Promise<void> => {
      const moved = await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from, to, qty } });
      expect(moved.status).toBe(200);
    };
    await transfer(4);
    const received = await call('POST', '/v1/stock/receive', {
      scope: 'warehouse',
      body: { sku, warehouse: from, qty: 1, unit_cost: 100 },
    });
    expect(received.status).toBe(200);
    await transfer(2);

    expect((await costRows(sku, from)).slice(-2)).toEqual([
      { type: 'receive', delta_on_hand: 1, on_hand_after: 7, unit_cost: 100, value_delta: 700, value_after: 700 },
      {
        type: 'transfer_out',
        delta_on_hand: -2,
        on_hand_after: 5,
        unit_cost: 100,
        value_delta: -200,
        value_after: 500,
      },
    ]);
    expect(await costRows(sku, to)).toEqual([
      { type: 'transfer_in', delta_on_hand: 4, on_hand_after: 4, unit_cost: null, value_delta: 0, value_after: 0 },
      // the 2 bring exactly the 200 they left with; the 4 waiting take their average, 100, as a receipt's first
      // cost would give them (not 200 for 6, an average of 33 that would cost every later removal)
      { type: 'transfer_in', delta_on_hand: 2, on_hand_after: 6, unit_cost: 100, value_delta: 600, value_after: 600 },
    ]);
    const bySku = await call('GET', '/v1/valuation?group_by=sku');
    expect((bySku.body['groups'] as { key: string }[]).find((group) => group.key === sku)).toEqual({
      key: sku,
      levels: 2,
      on_hand: 11,
      uncosted_units: 0,
      average_cost: 100,
      value: 1100,
    });
    // what leaves there from now on leaves at 1.00
    const adjusted = await call('POST', '/v1/stock/adjust', {
      scope: 'warehouse',
      body: { sku, warehouse: to, delta: -1, reason: 'damaged' },
    });
    expect(adjusted.status).toBe(200);
    expect((await costRows(sku, to)).at(-1)).toEqual({
      type: 'adjust',
      delta_on_hand: -1,
      on_hand_after: 5,
      unit_cost: 100,
      value_delta: -100,
      value_after: 500,
    });
  });

  it("keeps a transfer's value exact when it brings a never-costed level its first cost: the rounding stays with the units moved", async () => {
    const { sku, wh } = await world(h.s, [0, 3]);
    const [from, to] = wh as [string, string];
    for (const unitCost of [1000, 1])
      await call('POST', '/v1/stock/receive', {
        scope: 'warehouse',
        body: { sku, warehouse: from, qty: 1, unit_cost: unitCost },
      });
    // 1001 for 2 leave together, 500.5 each -> 501; the 3 waiting are worth 3 x 501
    const moved = await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from, to, qty: 2 } });
    expect(moved.status).toBe(200);
    expect((await costRows(sku, from)).at(-1)).toMatchObject({
      type: 'transfer_out',
      value_delta: -1001,
      value_after: 0,
    });
    expect((await costRows(sku, to)).at(-1)).toEqual({
      type: 'transfer_in',
      delta_on_hand: 2,
      on_hand_after: 5,
      unit_cost: 501,
      value_delta: 1001 + 3 * 501,
      value_after: 2504,
    });
    // into a level already costed, a transfer still brings just what it carried
    await call('POST', '/v1/stock/receive', {
      scope: 'warehouse',
      body: { sku, warehouse: from, qty: 2, unit_cost: 7 },
    });
    await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from, to, qty: 1 } });
    expect((await costRows(sku, to)).at(-1)).toEqual({
      type: 'transfer_in',
      delta_on_hand: 1,
      on_hand_after: 6,
      unit_cost: 7,
      value_delta: 7,
      value_after: 2511,
    });
  });

  it('finds, with the query docs/operations.md gives, the transfers an older version let value a never-costed level at nothing, and none since', async () => {
    const misvalue = async (): Promise<string> => {
      const { sku, wh } = await world(h.s, [0, 4]);
      const [from, to] = wh as [string, string];
      await call('POST', '/v1/stock/receive', {
        scope: 'warehouse',
        body: { sku, warehouse: from, qty: 2, unit_cost: 100 },
      });
      const moved = await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from, to, qty: 1 } });
      expect(moved.status).toBe(200);
      return sku;
    };
    // what migration 0036's trigger wrote: 100 for 5 units, and reconcile finds nothing wrong with it
    await h.test.db.exec(costTrigger('0036_money_within_safe_integers'));
    let before: string;
    try {
      before = await misvalue();
    } finally {
      await h.test.db.exec(costTrigger(CURRENT_COST_TRIGGER));
    }
    expect((await call('POST', '/v1/admin/reconcile')).body).toMatchObject({ clean: true, costs: [] });
    const since = await misvalue();

    const found = await h.test.db.query<{ sku: string; units_valued_at_nothing: number; unit_cost: string }>(
      `SELECT sku, units_valued_at_nothing, unit_cost::text AS unit_cost FROM (${misvaluedTransfersQuery()}) found
        WHERE sku = ANY($1)`,
      [[before, since]],
    );
    expect(found.rows).toEqual([{ sku: before, units_valued_at_nothing: 4, unit_cost: '100' }]);
    const valued = (await call('GET', '/v1/valuation?group_by=sku')).body['groups'] as { key: string; value: number }[];
    expect([before, since].map((sku) => valued.find((group) => group.key === sku)?.value)).toEqual([
      100 + 100,
      100 + 500,
    ]);
  });

  it("reconcile finds a level whose value was changed behind the ledger's back", async () => {
    const { sku, wh } = await world(h.s, [0]);
    await call('POST', '/v1/stock/receive', {
      scope: 'warehouse',
      body: { sku, warehouse: wh[0], qty: 2, unit_cost: 700 },
    });
    const tamper = (by: number) =>
      h.test.db.query(
        `UPDATE stock_costs SET stock_value = stock_value + $2 WHERE variant_id = (SELECT id FROM variants WHERE sku = $1)`,
        [sku, by],
      );
    await tamper(1);
    try {
      expect((await call('POST', '/v1/admin/reconcile')).body).toMatchObject({
        clean: false,
        costs: [{ sku, warehouse: wh[0], value: 1401, ledger_value: 1400, last_value: 1400, broken_rows: 0 }],
      });
    } finally {
      await tamper(-1);
    }
    expect((await call('POST', '/v1/admin/reconcile')).body).toMatchObject({ clean: true, costs: [] });
  });

  it('refuses costs in another currency, of a closed order, or not in whole minor units, changing nothing', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const warehouse = wh[0]!;
    const code = uniq('SUP');
    expect(await call('POST', '/v1/suppliers', { body: { code, name: code, currency: 'EUR' } })).toMatchObject({
      status: 422,
      body: { code: 'currency_mismatch', currency: 'EUR', store_currency: 'USD' },
    });
    expect((await call('GET', '/v1/suppliers')).body.items).not.toContainEqual(expect.objectContaining({ code }));
    const from = await supplier();
    const foreign = await call('POST', '/v1/purchase-orders', {
      body: { supplier: from, warehouse, currency: 'GBP', lines: [{ sku, qty: 1, unit_cost: 100 }] },
    });
    expect(foreign).toMatchObject({ status: 422, body: { code: 'currency_mismatch', currency: 'GBP' } });
    for (const unitCost of [12.5, -1, 1_000_000_001, '100']) {
      const refused = await call('POST', '/v1/stock/receive', {
        scope: 'warehouse',
        body: { sku, warehouse, qty: 1, unit_cost: unitCost },
      });
      expect(refused).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    }
    expect(await costRows(sku, warehouse)).toEqual([]);
    const order = await call('POST', '/v1/purchase-orders', {
      body: { supplier: from, warehouse, lines: [{ sku, qty: 1, unit_cost: 100 }] },
    });
    const id = order.body['id'] as number;
    expect((await call('POST', `/v1/purchase-orders/${id}/cancel`)).status).toBe(200);
    expect(
      await call('POST', `/v1/purchase-orders/${id}/costs`, { body: { lines: [{ sku, unit_cost: 200 }] } }),
    ).toMatchObject({
      status: 409,
      body: { code: 'invalid_transition', from: 'CANCELLED' },
    });
    const open = await call('POST', '/v1/purchase-orders', {
      body: { supplier: from, warehouse, lines: [{ sku, qty: 1, unit_cost: 100 }] },
    });
    const openId = open.body['id'] as number;
    expect(
      await call('POST', `/v1/purchase-orders/${openId}/costs`, {
        body: {
          lines: [
            { sku, unit_cost: 300 },
            { sku: 'NOT-ON-IT', unit_cost: 200 },
          ],
        },
      }),
    ).toMatchObject({ status: 400, body: { code: 'validation_failed', errors: [{ path: '/lines/1/sku' }] } });
    expect((await call('GET', `/v1/purchase-orders/${openId}`)).body).toMatchObject({ lines: [{ unit_cost: 100 }] });
  });
});
