import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import type { Reservation } from '../src/index.js';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db } from '../src/store/db.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers } from './support/databases.js';
import { expectReconciled, levels, uniq, useStockroom, world } from './support/harness.js';
import { apiCall } from './support/served.js';

/**
 * The real driver with every transaction's runs counted: the driver runs a transaction again when it lost a
 * deadlock, so a transaction run twice is a deadlock (READ COMMITTED has no serialization failures).
 */
function countingReruns(db: Db): { db: Db; reruns: () => number } {
  let reruns = 0;
  const transaction: Db['transaction'] = (fn) => {
    let runs = 0;
    return db.transaction((tx) => {
      runs += 1;
      if (runs > 1) reruns += 1;
      return fn(tx);
    });
  };
  return { db: { ...db, transaction }, reruns: () => reruns };
}

describe.each(drivers())('amendments racing new reservations over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  /** two servers on PostgreSQL, each with its own pool and group commits, so their transactions really interleave */
  const servers: { app: FastifyInstance; url: string; stockroom: Stockroom }[] = [];
  const counted: { reruns: () => number }[] = [];
  let key = '';

  beforeAll(async () => {
    key = (await h.s.keys.create({ name: uniq('checkout'), scopes: ['checkout'] })).key;
    const dbs =
      driver === 'postgres' ? await Promise.all([1, 2].map(() => openPostgres(h.test.url!, { max: 10 }))) : [h.test.db];
    for (const db of dbs) {
      const counting = countingReruns(db);
      counted.push(counting);
      const stockroom = new Stockroom({ db: counting.db, clock: h.clock.now });
      const app = await buildServer({ stockroom });
      servers.push({ app, url: await app.listen({ host: '127.0.0.1', port: 0 }), stockroom });
    }
  });
  afterAll(async () => {
    for (const { app, stockroom } of servers) {
      await app.close();
      if (driver === 'postgres') await stockroom.close();
    }
  });
  const reruns = () => counted.reduce((sum, counting) => sum + counting.reruns(), 0);

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
    expect(reruns()).toBe(0);
    await expectReconciled(h.s);
  });

  it('amends, moves, partial cancels, commits, ships from elsewhere and unfulfils at once: no deadlock, nothing oversold', async () => {
    const a = await world(h.s, [30, 30]);
    const b = await world(h.s, [30, 30]);
    const skus = [a.sku, b.sku];
    let seed = 7;
    const pick = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const made: string[] = [];
    for (let i = 0; i < 30; i++) {
      const reply = await call(i, 'POST', '/v1/reservations', {
        order_ref: uniq('mix'),
        lines: [
          { sku: skus[i % 2]!, qty: 1 + (i % 3) },
          { sku: skus[(i + 1) % 2]!, qty: 1 },
        ],
      });
      expect(reply.status).toBe(201);
      made.push((reply.body as unknown as Reservation).id);
    }
    const before = reruns();
    const attempts = Array.from({ length: 240 }, (_, i) => {
      const id = made[pick(made.length)]!;
      const sku = skus[pick(2)]!;
      const other = skus[pick(2)]!;
      const to = (sku === a.sku ? a.wh : b.wh)[pick(2)]!;
      const path = `/v1/reservations/${id}`;
      switch (pick(8)) {
        case 0:
          return () =>
            call(i, 'PATCH', path, {
              lines: [
                { sku, qty: 1 + pick(5), warehouse: to },
                { sku: other, qty: pick(3), warehouse: (other === a.sku ? a.wh : b.wh)[pick(2)] },
              ].filter((line, n, all) => n === 0 || line.sku !== all[0]!.sku || line.warehouse !== all[0]!.warehouse),
            });
        case 1:
          return () => call(i, 'POST', `${path}/move`, { sku, qty: 1, to });
        case 2:
          return () => call(i, 'POST', `${path}/cancel`, { lines: [{ sku, qty: 1 }] });
        case 3:
          return () => call(i, 'POST', `${path}/commit`);
        case 4:
          return () => call(i, 'POST', `${path}/fulfil`, { lines: [{ sku, qty: 1, ship_from: to }] });
        case 5:
          return () => call(i, 'POST', `${path}/unfulfil`, { lines: [{ sku, qty: 1 }] });
        case 6:
          return () => call(i, 'POST', `${path}/fulfil`, { lines: [{ sku, qty: 1 }] });
        default:
          return () =>
            call(i, 'POST', '/v1/reservations', {
              order_ref: uniq('mix'),
              lines: [
                { sku, qty: 1 + pick(3) },
                { sku: other === sku ? skus.find((s) => s !== sku)! : other, qty: 1 },
              ],
            });
      }
    });
    const replies = await Promise.all(attempts.map((attempt) => attempt()));
    const outcomes = new Map<string, number>();
    for (const reply of replies) {
      const outcome = `${reply.status} ${reply.body.code ?? ''}`.trim();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const expected = ['200', '201', '400 validation_failed', '409 insufficient_stock', '409 invalid_transition'];
    expect([...outcomes.keys()].filter((outcome) => !expected.includes(outcome))).toEqual([]);
    // the mix did real work (many calls are refused by design: cancelling or unfulfilling what is not there)
    expect((outcomes.get('200') ?? 0) + (outcomes.get('201') ?? 0)).toBeGreaterThan(40);
    expect(reruns() - before).toBe(0);
    const over = await h.s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stock_movements m JOIN variants v ON v.id = m.variant_id
        WHERE v.sku = ANY($1::text[]) AND m.reserved_after > m.on_hand_after`,
      [skus],
    );
    expect(over.rows[0]!.n).toBe(0);
    await expectReconciled(h.s);
  });
});
