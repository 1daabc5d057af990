import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import type { Reservation } from '../src/index.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers } from './support/databases.js';
import { expectReconciled, levels, uniq, useStockroom, world } from './support/harness.js';
import { apiCall } from './support/served.js';

describe.each(drivers())('amendments racing new reservations over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  /** two servers on PostgreSQL, each with its own pool and group commits, so their transactions really interleave */
  const servers: { app: FastifyInstance; url: string; stockroom: Stockroom }[] = [];
  let key = '';

  beforeAll(async () => {
    key = (await h.s.keys.create({ name: uniq('checkout'), scopes: ['checkout'] })).key;
    const stockrooms =
      driver === 'postgres'
        ? [h.s, new Stockroom({ db: await openPostgres(h.test.url!, { max: 10 }), clock: h.clock.now })]
        : [h.s];
    for (const stockroom of stockrooms) {
      const app = await buildServer({ stockroom });
      servers.push({ app, url: await app.listen({ host: '127.0.0.1', port: 0 }), stockroom });
    }
  });
  afterAll(async () => {
    for (const { app, stockroom } of servers) {
      await app.close();
      if (stockroom !== h.s) await stockroom.close();
    }
  });

  const call = (i: number, method: string, path: string, body?: unknown) =>
    apiCall(servers[i % servers.length]!, method, path, { key, body });

  it('200 amends raising and lowering lines, interleaved with new orders, never hold more than is on hand', async () => {
    const a = await world(h.s, [50]);
    const b = await world(h.s, [50]);
    const made: Reservation[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await call(i, 'POST', '/v1/reservations', {
        order_ref: uniq('race'),
        lines: [
          { sku: a.sku, qty: 1 },
          { sku: b.sku, qty: 1 },
        ],
      });
      expect(reply.status).toBe(201);
      made.push(reply.body as unknown as Reservation);
    }
    // amends name the two SKUs in either order, raising one and lowering the other: lock order must hold
    const amends = Array.from({ length: 200 }, (_, i) => () => {
      const up = { sku: i % 2 === 0 ? a.sku : b.sku, qty: 1 + ((i * 7) % 6) };
      const down = { sku: i % 2 === 0 ? b.sku : a.sku, qty: 1 + ((i * 3) % 2) };
      return call(i, 'PATCH', `/v1/reservations/${made[i % made.length]!.id}`, {
        lines: i % 3 === 0 ? [down, up] : [up, down],
      });
    });
    const orders = Array.from(
      { length: 60 },
      (_, i) => () =>
        call(i, 'POST', '/v1/reservations', {
          order_ref: uniq('new'),
          lines: [{ sku: i % 2 === 0 ? a.sku : b.sku, qty: 1 + (i % 3) }],
        }),
    );
    // three new orders among every ten amends, all sent at once
    const all = amends.flatMap((amend, i) =>
      i % 10 < 3 ? [amend, orders[Math.floor(i / 10) * 3 + (i % 10)] ?? amend] : [amend],
    );
    expect(all.length).toBe(260);
    const replies = await Promise.all(all.map((attempt) => attempt()));

    const outcomes = new Map<string, number>();
    for (const reply of replies) {
      const outcome = `${reply.status} ${reply.body.code ?? ''}`.trim();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // only answers and refusals for stock: no deadlock, no 500
    expect([...outcomes.keys()].filter((o) => !['200', '201', '409 insufficient_stock'].includes(o))).toEqual([]);
    // the race was real: some raises went through and some were refused
    expect(outcomes.get('200') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('409 insufficient_stock') ?? 0).toBeGreaterThan(0);

    for (const world of [a, b]) {
      const [onHand, reserved] = (await levels(h.s, world.sku, world.wh))[world.wh[0]!]!;
      expect(onHand).toBe(50);
      expect(reserved).toBeLessThanOrEqual(50);
    }
    // never, at any point of the ledger, more held than on hand
    const over = await h.s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stock_movements m JOIN variants v ON v.id = m.variant_id
        WHERE v.sku = ANY($1::text[]) AND m.reserved_after > m.on_hand_after`,
      [[a.sku, b.sku]],
    );
    expect(over.rows[0]!.n).toBe(0);
    await expectReconciled(h.s);
  });
});
