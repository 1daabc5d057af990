import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { apiCall, useServer } from './support/served.js';
import { itemOf, openStream } from './support/sse.js';

/**
 * Kits and their components sold at once, through a real server process (its group commit, its change feed and
 * streams), on both drivers; the ledger is reconciled when the server has stopped.
 */
describe.each(drivers())('kit buyers and component buyers racing for shared components, on %s', (driver) => {
  const ctx = useServer(driver, { STOCKROOM_SSE_HEARTBEAT_MS: '1000' });
  const api = (method: string, path: string, body?: unknown) =>
    apiCall(ctx.server, method, path, body === undefined ? {} : { body });
  let n = 0;

  /** a warehouse, two components (MUG 30, COFFEE 20) and a kit of 2 mugs and 1 coffee */
  async function shop(): Promise<{ wh: string; mug: string; coffee: string; kit: string }> {
    const id = ++n;
    const [wh, mug, coffee, kit] = [`RACE${id}`, `MUG-${id}`, `COFFEE-${id}`, `BOX-${id}`];
    expect((await api('POST', '/v1/warehouses', { code: wh, name: wh, priority: 900 + id })).status).toBe(201);
    for (const sku of [mug, coffee, kit])
      expect((await api('POST', '/v1/variants', { sku, product: { title: sku }, low_stock_threshold: 3 })).status).toBe(
        201,
      );
    expect((await api('POST', '/v1/stock/receive', { sku: mug, warehouse: wh, qty: 30 })).status).toBe(200);
    expect((await api('POST', '/v1/stock/receive', { sku: coffee, warehouse: wh, qty: 20 })).status).toBe(200);
    const defined = await api('PUT', `/v1/kits/${kit}`, {
      components: [
        { sku: mug, qty: 2 },
        { sku: coffee, qty: 1 },
      ],
    });
    expect(defined.status).toBe(200);
    return { wh, mug, coffee, kit };
  }

  const level = async (sku: string, wh: string) => {
    const stock = await api('GET', `/v1/stock/${sku}`);
    const found = (
      stock.body.warehouses as { warehouse: string; on_hand: number; reserved: number; available: number }[]
    )
      .filter((row) => row.warehouse === wh)
      .map(({ on_hand, reserved, available }) => ({ on_hand, reserved, available }));
    return found[0];
  };

  it("tells a kit's stream of a component sale, and of its return", async () => {
    const { wh, coffee, kit } = await shop();
    const stream = await openStream(`${ctx.server.url}/v1/availability/stream?sku=${kit}`);
    try {
      expect(itemOf(await stream.next())).toEqual({ sku: kit, available: 15, status: 'in_stock', label: 'In stock' });
      // coffee alone is sold: 20 - 18 leaves coffee for 2 kits
      const sale = await api('POST', '/v1/reservations', {
        order_ref: `coffee-${kit}`,
        lines: [{ sku: coffee, qty: 18 }],
        warehouse: wh,
      });
      expect(sale.status).toBe(201);
      expect(itemOf(await stream.next())).toEqual({
        sku: kit,
        available: 2,
        status: 'low_stock',
        label: 'Only 2 left',
      });
      expect((await api('POST', `/v1/reservations/${String(sale.body.id)}/cancel`)).status).toBe(200);
      expect(itemOf(await stream.next())).toEqual({ sku: kit, available: 15, status: 'in_stock', label: 'In stock' });
    } finally {
      await stream.close();
    }
  });

  it('never oversells a component to 100 concurrent kit and component buyers, and the stream ends where the stock does', async () => {
    const { wh, mug, coffee, kit } = await shop();
    const stream = await openStream(`${ctx.server.url}/v1/availability/stream?sku=${kit}`);
    try {
      expect(itemOf(await stream.next()).available).toBe(15);
      // 50 kits want 100 mugs and 50 coffees; 25 mug buyers and 25 coffee buyers want 2 each: far more than there is
      const buyers = Array.from({ length: 100 }, (_, i) => {
        const sku = i % 2 === 0 ? kit : i % 4 === 1 ? mug : coffee;
        return { sku, qty: sku === kit ? 1 : 2 };
      });
      const answers = await Promise.all(
        buyers.map((line, i) =>
          api('POST', '/v1/reservations', { order_ref: `race-${kit}-${i}`, lines: [line], warehouse: wh }),
        ),
      );
      expect(answers.every((answer) => answer.status === 201 || answer.body.code === 'insufficient_stock')).toBe(true);
      const sold = (sku: string) =>
        buyers.reduce((sum, line, i) => sum + (line.sku === sku && answers[i]?.status === 201 ? line.qty : 0), 0);
      const refused = (sku: string) => buyers.some((line, i) => line.sku === sku && answers[i]?.status !== 201);
      const kits = sold(kit);
      expect(kits).toBeGreaterThan(0);
      // never a component oversold: what is held is exactly what the accepted orders took, within what there is
      const mugs = await level(mug, wh);
      const coffees = await level(coffee, wh);
      expect(mugs).toEqual({ on_hand: 30, reserved: 2 * kits + sold(mug), available: 30 - 2 * kits - sold(mug) });
      expect(coffees).toEqual({ on_hand: 20, reserved: kits + sold(coffee), available: 20 - kits - sold(coffee) });
      expect(mugs?.available).toBeGreaterThanOrEqual(0);
      expect(coffees?.available).toBeGreaterThanOrEqual(0);
      // a buyer was refused only when what it asked for was not there (stock only went down meanwhile)
      const kitsLeft = Math.min(Math.floor((mugs?.available ?? 0) / 2), coffees?.available ?? 0);
      if (refused(kit)) expect(kitsLeft).toBe(0);
      if (refused(mug)) expect(mugs?.available).toBeLessThan(2);
      if (refused(coffee)) expect(coffees?.available).toBeLessThan(2);
      // every accepted kit holds its components at the kit's warehouse
      for (const [i, answer] of answers.entries()) {
        if (buyers[i]?.sku !== kit || answer.status !== 201) continue;
        expect(answer.body.lines).toEqual([
          expect.objectContaining({
            sku: kit,
            qty: 1,
            components: expect.arrayContaining([
              { sku: mug, warehouse: wh, qty: 2, fulfilled: 0, released: 0 },
              { sku: coffee, warehouse: wh, qty: 1, fulfilled: 0, released: 0 },
            ]) as unknown,
          }),
        ]);
      }
      // the kit's stream follows: its last event says what the components left make
      await stream.next((m) => m.event === 'availability' && itemOf(m).available === kitsLeft);

      // kits shipped and component orders cancelled, all at once: the components leave, the rest comes back
      const shipped = await Promise.all(
        answers.map((answer, i) =>
          answer.status !== 201
            ? Promise.resolve(undefined)
            : buyers[i]?.sku === kit
              ? api('POST', `/v1/reservations/${String(answer.body.id)}/fulfil`)
              : api('POST', `/v1/reservations/${String(answer.body.id)}/cancel`),
        ),
      );
      expect(shipped.every((answer) => answer === undefined || answer.status === 200)).toBe(true);
      expect(await level(mug, wh)).toEqual({ on_hand: 30 - 2 * kits, reserved: 0, available: 30 - 2 * kits });
      expect(await level(coffee, wh)).toEqual({ on_hand: 20 - kits, reserved: 0, available: 20 - kits });
      const ledger = await api('GET', `/v1/movements?sku=${coffee}&type=fulfil&limit=200`);
      const rows = ledger.body.items as { kit: string | null; delta_on_hand: number }[];
      expect(rows.map((row) => [row.kit, row.delta_on_hand])).toEqual(Array.from({ length: kits }, () => [kit, -1]));
    } finally {
      await stream.close();
    }
  });
});
