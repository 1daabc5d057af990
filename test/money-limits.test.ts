import { describe, expect, it } from 'vitest';
import { CURRENT_COST_TRIGGER, costTrigger } from './support/cost-trigger.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

/** 2^53 - 1: the most minor units an amount may hold, the most a JavaScript number holds every integer up to. */
const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
/** Units at the most a unit may cost (1,000,000,000) that bring a level's value closest to the limit from below. */
const UNITS_NEAR_LIMIT = 9_007_199;
const NEAR_LIMIT = UNITS_NEAR_LIMIT * 1_000_000_000;

/** A ledger row's numbers, as GET /v1/movements shows them. */
interface Row {
  type: string;
  delta_on_hand: number;
  on_hand_after: number;
  value_delta: number | null;
  value_after: number | null;
}

// Every test leaves its levels without value: a valuation totals the whole store, and two levels near the limit
// would pass it together.
describe.each(drivers())('money past 2^53 - 1 minor units over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const { call, fetchRaw } = useHttpServer(h);

  const receive = (body: Record<string, unknown>) => call('POST', '/v1/stock/receive', { scope: 'warehouse', body });
  const count = (sku: string, warehouse: string, counted: number) =>
    call('POST', '/v1/stock/count', { scope: 'warehouse', body: { sku, warehouse, counted } });
  const rows = async (sku: string): Promise<Row[]> => {
    const page = await call('GET', `/v1/movements?sku=${sku}&limit=100`);
    expect(page.status).toBe(200);
    return (page.body.items as (Row & Record<string, unknown>)[]).map(
      ({ type, delta_on_hand, on_hand_after, value_delta, value_after }) => ({
        type,
        delta_on_hand,
        on_hand_after,
        value_delta,
        value_after,
      }),
    );
  };
  const onHand = async (sku: string, warehouse: string): Promise<number | undefined> =>
    (await h.s.stock.get(sku)).warehouses.find((level) => level.warehouse === warehouse)?.on_hand;
  const expectOverflow = (answer: { status: number; body: Record<string, unknown> }): void => {
    expect(answer).toMatchObject({ status: 422, body: { code: 'money_overflow', limit: MAX_AMOUNT } });
  };

  it('refuses a receipt that would value a level past 2^53 - 1 minor units, changing nothing; up to it every amount is exact', async () => {
    const { sku, wh } = await world(h.s, [0]);
    const [warehouse] = wh as [string];
    expect((await receive({ sku, warehouse, qty: UNITS_NEAR_LIMIT, unit_cost: 1_000_000_000 })).status).toBe(200);

    const refused = await receive({ sku, warehouse, qty: 1, unit_cost: 1_000_000_000 });
    expectOverflow(refused);
    expect(refused.body['detail']).toMatch(/nothing was changed/);
    expect(await onHand(sku, warehouse)).toBe(UNITS_NEAR_LIMIT);
    expect(await rows(sku)).toEqual([
      {
        type: 'receive',
        delta_on_hand: UNITS_NEAR_LIMIT,
        on_hand_after: UNITS_NEAR_LIMIT,
        value_delta: NEAR_LIMIT,
        value_after: NEAR_LIMIT,
      },
    ]);

    // the last minor units up to the limit are taken, and read back to the unit
    const room = MAX_AMOUNT - NEAR_LIMIT;
    expect((await receive({ sku, warehouse, qty: 1, unit_cost: room })).status).toBe(200);
    expect((await rows(sku))[0]).toMatchObject({ value_delta: room, value_after: MAX_AMOUNT });
    const valuation = await call('GET', '/v1/valuation?group_by=sku');
    expect(valuation.status).toBe(200);
    expect(
      (valuation.body['groups'] as { key: string; value: number }[]).find((group) => group.key === sku),
    ).toMatchObject({
      value: MAX_AMOUNT,
    });
    expect((await count(sku, warehouse, 0)).status).toBe(200);
  });

  it('refuses a transfer in, an adjustment, a count and a return that would pass the limit, changing neither warehouse', async () => {
    const { sku, wh } = await world(h.s, [0, 0]);
    const [full, other] = wh as [string, string];
    expect((await receive({ sku, warehouse: full, qty: UNITS_NEAR_LIMIT, unit_cost: 1_000_000_000 })).status).toBe(200);
    expect((await receive({ sku, warehouse: other, qty: 1, unit_cost: 1_000_000_000 })).status).toBe(200);
    const before = await rows(sku);

    expectOverflow(
      await call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from: other, to: full, qty: 1 } }),
    );
    expectOverflow(
      await call('POST', '/v1/stock/adjust', {
        scope: 'warehouse',
        body: { sku, warehouse: full, delta: 1, reason: 'correction' },
      }),
    );
    expectOverflow(await count(sku, full, UNITS_NEAR_LIMIT + 1));
    expectOverflow(
      await call('POST', '/v1/returns', {
        scope: 'warehouse',
        body: { sku, warehouse: full, qty: 1, condition: 'resellable', reference: uniq('rma') },
      }),
    );

    expect(await rows(sku)).toEqual(before);
    expect([await onHand(sku, full), await onHand(sku, other)]).toEqual([UNITS_NEAR_LIMIT, 1]);
    expect((await count(sku, full, 0)).status).toBe(200);
    expect((await count(sku, other, 0)).status).toBe(200);
  });

  it('refuses a transfer whose cost, the first a never-costed level is given, would value the units already there past the limit', async () => {
    const { sku, wh } = await world(h.s, [0, UNITS_NEAR_LIMIT]); // received without a cost
    const [from, to] = wh as [string, string];
    const transfer = () => call('POST', '/v1/stock/transfer', { scope: 'warehouse', body: { sku, from, to, qty: 1 } });
    expect((await receive({ sku, warehouse: from, qty: 1, unit_cost: 1_000_000_000 })).status).toBe(200);
    const before = await rows(sku);

    // the one unit carries 1,000,000,000, and the units waiting take as much each: (UNITS_NEAR_LIMIT + 1) x 10^9
    expectOverflow(await transfer());
    expect(await rows(sku)).toEqual(before);
    expect([await onHand(sku, from), await onHand(sku, to)]).toEqual([1, UNITS_NEAR_LIMIT]);

    // at the most a unit may cost to stay within it, the same transfer is taken, exact to the unit
    const fits = Math.floor(MAX_AMOUNT / (UNITS_NEAR_LIMIT + 1));
    expect((await count(sku, from, 0)).status).toBe(200);
    expect((await receive({ sku, warehouse: from, qty: 1, unit_cost: fits })).status).toBe(200);
    expect((await transfer()).status).toBe(200);
    expect((await rows(sku))[0]).toEqual({
      type: 'transfer_in',
      delta_on_hand: 1,
      on_hand_after: UNITS_NEAR_LIMIT + 1,
      value_delta: (UNITS_NEAR_LIMIT + 1) * fits,
      value_after: (UNITS_NEAR_LIMIT + 1) * fits,
    });
    expect((await count(sku, to, 0)).status).toBe(200);
  });

  it('refuses a count plan whose value moved passes the limit, rather than round it', async () => {
    const warehouse = uniq('CP').replace(/[^A-Za-z0-9-]/g, '');
    expect((await call('POST', '/v1/warehouses', { body: { code: warehouse, name: warehouse } })).status).toBe(201);
    expect((await call('POST', `/v1/warehouses/${warehouse}/locations`, { body: { code: 'A-01-01' } })).status).toBe(
      201,
    );
    const sku = uniq('SKU');
    expect((await call('POST', '/v1/variants', { body: { sku, product: { title: sku } } })).status).toBe(201);
    const plan = () => call('GET', `/v1/warehouses/${warehouse}/count-plan`, { scope: 'warehouse' });

    expect(
      (await receive({ sku, warehouse, qty: UNITS_NEAR_LIMIT, unit_cost: 1_000_000_000, bin: 'A-01-01' })).status,
    ).toBe(200);
    expect((await plan()).body['items']).toMatchObject([{ sku, moved: UNITS_NEAR_LIMIT, moved_value: NEAR_LIMIT }]);
    // every row stays within the limit; what moved in and out in all does not: 2 x NEAR_LIMIT + 1, an odd number
    // no JavaScript number holds
    expect((await count(sku, warehouse, 0)).status).toBe(200);
    expect((await receive({ sku, warehouse, qty: 1, unit_cost: 1, bin: 'A-01-01' })).status).toBe(200);
    expectOverflow(await plan());
    expect((await count(sku, warehouse, 0)).status).toBe(200);
  });

  it('refuses to read a value an older version stored past the limit, and the exports say so before they answer', async () => {
    // a level with units before it in key order: an export that met the value halfway would have begun answering
    await world(h.s, [1]);
    const { sku, wh } = await world(h.s, [0]);
    const [warehouse] = wh as [string];
    // what an older version (migration 0029's cost trigger) wrote for the tester's receipts: exact in the database
    await h.test.db.exec(costTrigger('0029_unit_cost'));
    try {
      expect((await receive({ sku, warehouse, qty: 10_000_000, unit_cost: 1_000_000_000 })).status).toBe(200);
      expect((await receive({ sku, warehouse, qty: 1, unit_cost: 1 })).status).toBe(200);
    } finally {
      await h.test.db.exec(costTrigger(CURRENT_COST_TRIGGER));
    }

    expectOverflow(await call('GET', `/v1/movements?sku=${sku}`));
    expectOverflow(await call('GET', '/v1/valuation'));
    for (const extension of ['csv', 'xlsx']) {
      const exported = await fetchRaw(`/v1/valuation/export.${extension}`);
      expect(exported.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(exported.status).toBe(422);
      const refusal = (await exported.json()) as { code: string; detail: string };
      expect(refusal.code).toBe('money_overflow');
      expect(refusal.detail).toContain(`${sku} in ${warehouse} (10000000000000001`);
    }
    // a change that leaves the value past the limit is refused; one that brings it back under is not
    expectOverflow(
      await call('POST', '/v1/stock/adjust', {
        scope: 'warehouse',
        body: { sku, warehouse, delta: 1, reason: 'correction' },
      }),
    );
    expect(
      (
        await call('POST', '/v1/stock/adjust', {
          scope: 'warehouse',
          body: { sku, warehouse, delta: -5_000_000, reason: 'correction' },
        })
      ).status,
    ).toBe(200);
    expect((await count(sku, warehouse, 0)).status).toBe(200);
    expect((await call('GET', '/v1/valuation')).status).toBe(200);
    // past twice the limit, no change small enough to check leaves the level under it: it is counted to 0 at once
    const { sku: huge } = await world(h.s, [0]);
    await h.test.db.exec(costTrigger('0029_unit_cost'));
    try {
      for (let i = 0; i < 2; i++)
        expect((await receive({ sku: huge, warehouse, qty: 10_000_000, unit_cost: 1_000_000_000 })).status).toBe(200);
    } finally {
      await h.test.db.exec(costTrigger(CURRENT_COST_TRIGGER));
    }
    expectOverflow(await receive({ sku: huge, warehouse, qty: 1, unit_cost: 1 }));
    expect((await count(huge, warehouse, 0)).status).toBe(200);
    expect((await call('GET', '/v1/valuation')).status).toBe(200);
    const exported = await fetchRaw('/v1/valuation/export.csv');
    expect(exported.status).toBe(200);
    expect(await exported.text()).not.toContain(sku);
  });
});
