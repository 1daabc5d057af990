import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsufficientStockError } from '../src/domain/errors.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { createTestDb, drivers } from './support/databases.js';
import type { TestDb } from './support/databases.js';
import { expectReconciled, levels, uniq, world } from './support/harness.js';

/** Runs every attempt at once and sorts the outcomes; anything but a refusal for stock fails the test. */
async function race<T>(attempts: (() => Promise<T>)[]): Promise<{ won: T[]; refused: number }> {
  const settled = await Promise.allSettled(attempts.map((a) => a()));
  const won: T[] = [];
  let refused = 0;
  for (const s of settled) {
    if (s.status === 'fulfilled') won.push(s.value);
    else if (s.reason instanceof InsufficientStockError) refused++;
    else throw s.reason;
  }
  return { won, refused };
}

describe.each(drivers())('concurrent reservations on %s', (driver) => {
  let test: TestDb;
  let s: Stockroom;
  /** one Stockroom per client; on PostgreSQL each with a connection of its own */
  let clients: Stockroom[] = [];

  beforeAll(async () => {
    test = await createTestDb(driver);
    s = new Stockroom({ db: test.db });
    clients =
      driver === 'postgres'
        ? await Promise.all(
            Array.from({ length: 200 }, async () => new Stockroom({ db: await openPostgres(test.url!, { max: 1 }) })),
          )
        : Array.from({ length: 200 }, () => s);
  });
  afterAll(async () => {
    if (driver === 'postgres') await Promise.all(clients.map((c) => c.close()));
    await test.drop();
  });

  it('200 clients racing for the last 50 units: exactly 50 win, the rest are refused, nothing is oversold', async () => {
    const { sku, wh } = await world(s, [50]);
    const { won, refused } = await race(
      clients.map((c, i) => () => c.reservations.reserve({ order_ref: `race-${i}`, lines: [{ sku, qty: 1 }] })),
    );
    expect(won.length).toBe(50);
    expect(refused).toBe(150);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [50, 50, 0] });
    await expectReconciled(s);
  });

  it('multi-line orders over two SKUs in opposite order, split across warehouses, never oversell or deadlock', async () => {
    const a = await world(s, [30, 20]);
    const b = await world(s, [25, 25]);
    const { won } = await race(
      clients.map(
        (c, i) => () =>
          c.reservations.reserve({
            order_ref: uniq('mix'),
            lines:
              i % 2 === 0
                ? [
                    { sku: a.sku, qty: 1 + (i % 3) },
                    { sku: b.sku, qty: 1 },
                  ]
                : [
                    { sku: b.sku, qty: 1 + (i % 2) },
                    { sku: a.sku, qty: 1 },
                  ],
          }),
      ),
    );
    const held = (sku: string) =>
      won
        .flatMap((r) => r.lines)
        .filter((l) => l.sku === sku)
        .reduce((n, l) => n + l.qty, 0);
    const totalA = await s.stock.get(a.sku);
    const totalB = await s.stock.get(b.sku);
    expect(totalA.total.reserved).toBe(held(a.sku));
    expect(totalB.total.reserved).toBe(held(b.sku));
    expect(
      Math.min(...totalA.warehouses.map((w) => w.available), ...totalB.warehouses.map((w) => w.available)),
    ).toBeGreaterThanOrEqual(0);
    // the stock ran out: orders were refused only because it did
    expect(totalA.total.available === 0 || totalB.total.available <= 1).toBe(true);
    await expectReconciled(s);
  });

  it('sweepers in several clients at once expire each reservation exactly once', async () => {
    const { sku, wh } = await world(s, [40]);
    const past = new Date(Date.now() + 3_600_000);
    for (let i = 0; i < 40; i++)
      await s.reservations.reserve({ order_ref: uniq('ttl'), lines: [{ sku, qty: 1 }], ttl_seconds: 60 });
    const pending = await s.db.query<{ n: number }>(`SELECT count(*) AS n FROM reservations WHERE status = 'pending'`);
    const sweepers = clients.slice(0, 8).map((c) => new Stockroom({ db: c.db, clock: () => past }));
    const expired = await Promise.all(sweepers.map((sw) => sw.reservations.expireDue()));
    // earlier tests left pending reservations too: all are due an hour from now, and each counts once
    expect(expired.reduce((n, e) => n + e, 0)).toBe(pending.rows[0]!.n);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [40, 0, 40] });
    await expectReconciled(s);
  });

  it('late commits racing the sweeper: every reservation is refused and released exactly once', async () => {
    const { sku, wh } = await world(s, [30]);
    const clock = { now: new Date() };
    const ids: string[] = [];
    for (let i = 0; i < 30; i++)
      ids.push((await s.reservations.reserve({ order_ref: uniq('cr'), lines: [{ sku, qty: 1 }], ttl_seconds: 60 })).id);
    clock.now = new Date(Date.now() + 3_600_000);
    const late = clients.slice(0, 31).map((c) => new Stockroom({ db: c.db, clock: () => clock.now }));
    const outcomes = await Promise.allSettled([
      late[30]!.reservations.expireDue(),
      ...ids.map((id, i) => late[i]!.reservations.commit(id)),
    ]);
    for (const o of outcomes.slice(1))
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'invalid_transition' });
    const committed = outcomes.slice(1).filter((o) => o.status === 'fulfilled').length;
    // past its deadline a reservation cannot be committed, whoever gets there first
    expect(committed).toBe(0);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [30, 0, 30] });
    await expectReconciled(s);
  });

  it('new orders racing sweepers over holds past their deadline: each hold is released once and its units sold again', async () => {
    const { sku, wh } = await world(s, [30]);
    const old: string[] = [];
    for (let i = 0; i < 30; i++)
      old.push(
        (await s.reservations.reserve({ order_ref: uniq('due'), lines: [{ sku, qty: 1 }], ttl_seconds: 60 })).id,
      );
    const later = new Date(Date.now() + 3_600_000);
    const late = clients.slice(0, 40).map((c) => new Stockroom({ db: c.db, clock: () => later }));
    const sweeps = late.slice(30, 34).map((c) => () => c.reservations.expireDue().then(() => undefined));
    const orders = late
      .slice(0, 30)
      .map((c) => () => c.reservations.reserve({ order_ref: uniq('new'), lines: [{ sku, qty: 1 }] }));
    const { won } = await race([...sweeps, ...orders]);
    const sold = won.filter((r) => r !== undefined);
    // whoever released a hold, its units were there for the new orders: none is refused
    expect(sold).toHaveLength(30);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [30, 30, 0] });
    for (const id of old) {
      const moves = (await s.stock.movements({ reservation_id: id, limit: 10 })).items.map((m) => m.type);
      expect(moves.sort()).toEqual(['expire', 'reserve']);
    }
    await expectReconciled(s);
  });
});
