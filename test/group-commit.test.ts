import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdempotencyConflictError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
  UnknownSkuError,
} from '../src/domain/errors.js';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db, Queryable } from '../src/store/db.js';
import { createTestDb, drivers } from './support/databases.js';
import type { TestDb } from './support/databases.js';
import { TestClock, expectReconciled, levels, uniq, world } from './support/harness.js';

/** The real database, counting the transactions run through it and those that have committed. */
function counted(db: Db): { db: Db; transactions: number; committed: number } {
  const c = {
    transactions: 0,
    committed: 0,
    db: {
      ...db,
      transaction: async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
        c.transactions++;
        const result = await db.transaction<T>(fn);
        c.committed++;
        return result;
      },
    },
  };
  return c;
}

describe.each(drivers())('group commit of reservations on %s', (driver) => {
  let test: TestDb;
  let s: Stockroom;
  let count: ReturnType<typeof counted>;

  beforeAll(async () => {
    test = await createTestDb(driver);
    count = counted(test.db);
    s = new Stockroom({ db: count.db });
  });
  afterAll(async () => {
    await test.drop();
  });

  it('orders that arrive together commit in one transaction, each all or nothing and answered on its own', async () => {
    const a = await world(s, [10]);
    const b = await world(s, [3, 4]);
    const key = uniq('key');
    const first = await s.reservations.reserve(
      { order_ref: 'earlier', lines: [{ sku: a.sku, qty: 1 }] },
      { idempotencyKey: key },
    );
    // a second key, used before on a SKU of its own, to be sent again with another body
    const c = await world(s, [1]);
    const key2 = uniq('key');
    await s.reservations.reserve({ order_ref: 'earlier 2', lines: [{ sku: c.sku, qty: 1 }] }, { idempotencyKey: key2 });
    const before = count.transactions;

    const outcomes = await Promise.allSettled([
      s.reservations.reserve({ order_ref: 'fine', lines: [{ sku: a.sku, qty: 2 }] }),
      s.reservations.reserve({
        order_ref: 'unknown',
        lines: [
          { sku: a.sku, qty: 1 },
          { sku: 'NO-SUCH-SKU', qty: 1 },
        ],
      }),
      // asks for more of b than there is: nothing of its a line may be held either
      s.reservations.reserve({
        order_ref: 'short',
        lines: [
          { sku: a.sku, qty: 1 },
          { sku: b.sku, qty: 8 },
        ],
      }),
      s.reservations.reserve({ order_ref: 'earlier', lines: [{ sku: a.sku, qty: 1 }] }, { idempotencyKey: key }),
      s.reservations.reserve({ order_ref: 'other body', lines: [{ sku: a.sku, qty: 1 }] }, { idempotencyKey: key2 }),
      s.reservations.reserve({
        order_ref: 'split',
        lines: [
          { sku: b.sku, qty: 5 },
          { sku: a.sku, qty: 3 },
        ],
      }),
      s.reservations.reserve({ order_ref: 'nowhere', warehouse: 'NO-SUCH-WH', lines: [{ sku: a.sku, qty: 1 }] }),
      // sees what the orders before it in the group took: 10 - 1 - 2 - 3 = 4 left of a
      s.reservations.reserve({ order_ref: 'too late', lines: [{ sku: a.sku, qty: 5 }] }),
    ]);
    expect(count.transactions - before).toBe(1);

    const [fine, unknown, short, replay, conflict, split, nowhere, late] = outcomes;
    expect(fine).toMatchObject({ status: 'fulfilled', value: { order_ref: 'fine', lines: [{ sku: a.sku, qty: 2 }] } });
    expect(unknown).toMatchObject({ status: 'rejected', reason: expect.any(UnknownSkuError) as unknown });
    expect(short).toMatchObject({ status: 'rejected', reason: expect.any(InsufficientStockError) as unknown });
    expect((short as PromiseRejectedResult).reason).toMatchObject({
      lines: [{ sku: b.sku, requested: 8, available: 7 }],
    });
    expect(replay).toEqual({ status: 'fulfilled', value: first });
    expect(conflict).toMatchObject({ status: 'rejected', reason: expect.any(IdempotencyConflictError) as unknown });
    expect(split).toMatchObject({ status: 'fulfilled', value: { order_ref: 'split' } });
    expect(
      (split as PromiseFulfilledResult<{ lines: { qty: number }[] }>).value.lines.map((l) => l.qty).sort(),
    ).toEqual([2, 3, 3]);
    expect(nowhere).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) as unknown });
    expect(late).toMatchObject({ status: 'rejected', reason: { lines: [{ sku: a.sku, requested: 5, available: 4 }] } });

    expect(await levels(s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [10, 6, 4] });
    expect(await levels(s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [3, 3, 0], [b.wh[1]!]: [4, 2, 2] });
    // one ledger row per hold, each with the numbers its level had right after it
    const ledger = (await s.stock.movements({ sku: a.sku, type: 'reserve' })).items.reverse();
    expect(ledger.map((m) => [m.delta_reserved, m.reserved_after])).toEqual([
      [1, 1],
      [2, 3],
      [3, 6],
    ]);
    await expectReconciled(s);
  });

  it('a key refused in a group is given back, so the same request can be retried once stock arrives', async () => {
    const { sku, wh } = await world(s, [1]);
    const key = uniq('key');
    const body = { order_ref: 'retry-me', lines: [{ sku, qty: 2 }] };
    await expect(s.reservations.reserve(body, { idempotencyKey: key })).rejects.toBeInstanceOf(InsufficientStockError);
    await s.stock.receive({ sku, warehouse: wh[0]!, qty: 1 });
    const held = await s.reservations.reserve(body, { idempotencyKey: key });
    expect(await s.reservations.reserve(body, { idempotencyKey: key })).toEqual(held);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [2, 2, 0] });
  });

  it('the same key twice in one group holds stock once and answers both with the same reservation', async () => {
    const { sku, wh } = await world(s, [5]);
    const key = uniq('key');
    const body = { order_ref: 'double-click', lines: [{ sku, qty: 2 }] };
    const [x, y] = await Promise.all([
      s.reservations.reserve(body, { idempotencyKey: key }),
      s.reservations.reserve(body, { idempotencyKey: key }),
    ]);
    expect(y).toEqual(x);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [5, 2, 3] });
  });

  it('answers a caller only after its group has committed', async () => {
    const { sku } = await world(s, [100]);
    const committedBefore = count.committed;
    const seen = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.reservations.reserve({ order_ref: `after-${i}`, lines: [{ sku, qty: 1 }] }).then(() => count.committed),
      ),
    );
    expect(Math.min(...seen)).toBeGreaterThan(committedBefore);
  });

  it('a flash sale of 1,000 concurrent orders for 100 units sells exactly 100, in groups of up to 250 orders', async () => {
    const { sku, wh } = await world(s, [100]);
    const before = count.transactions;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        s.reservations.reserve({ order_ref: `flash-${i}`, lines: [{ sku, qty: 1 }] }),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof InsufficientStockError,
    ).length;
    expect([won, refused]).toEqual([100, 900]);
    // groups of up to 250: four take every order (a cap of 100 would need ten); a few more leave room for timing
    expect(count.transactions - before).toBeLessThanOrEqual(6);
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [100, 100, 0] });
    await expectReconciled(s);
  });
  it('commits, releases and fulfilments arriving together commit in one transaction, each answered on its own', async () => {
    const clock = new TestClock();
    const c = counted(test.db);
    const t = new Stockroom({ db: c.db, clock: clock.now });
    const { sku, wh } = await world(t, [20]);
    const hold = (ref: string, qty: number, ttl = 900) =>
      t.reservations.reserve({ order_ref: ref, ttl_seconds: ttl, lines: [{ sku, qty }] });
    const due = await hold('due', 1, 60);
    clock.advance(120);
    const [toCommit, toRelease, toFulfil, toShipTwice, released] = await Promise.all([
      hold('commit', 2),
      hold('release', 3),
      hold('fulfil', 4),
      hold('twice', 1),
      hold('released', 1),
    ]);
    await t.reservations.release(released.id);
    const key = uniq('key');
    const before = c.transactions;

    const outcomes = await Promise.allSettled([
      t.reservations.commit(toCommit.id),
      t.reservations.release(toRelease.id, { idempotencyKey: key }),
      t.reservations.fulfil(toFulfil.id, { lines: [{ sku, qty: 3 }] }),
      t.reservations.fulfil(released.id),
      t.reservations.commit('00000000-0000-4000-8000-000000000000'),
      t.reservations.commit(due.id),
      // the same reservation twice: the second waits for the next group and sees the first
      t.reservations.commit(toShipTwice.id),
      t.reservations.fulfil(toShipTwice.id),
    ]);
    expect(c.transactions - before).toBe(2);
    const [committed, releasedNow, partly, notHeld, unknown, expired, twiceCommitted, twiceShipped] = outcomes;
    expect(committed).toMatchObject({
      status: 'fulfilled',
      value: { id: toCommit.id, status: 'committed', expires_at: null },
    });
    expect(releasedNow).toMatchObject({ status: 'fulfilled', value: { id: toRelease.id, status: 'released' } });
    expect(partly).toMatchObject({ status: 'fulfilled', value: { status: 'partially_fulfilled' } });
    expect(notHeld).toMatchObject({ status: 'rejected', reason: expect.any(InvalidTransitionError) as unknown });
    expect(unknown).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) as unknown });
    expect(expired).toMatchObject({ status: 'rejected', reason: { code: 'invalid_transition', from: 'expired' } });
    expect(twiceCommitted).toMatchObject({ status: 'fulfilled', value: { status: 'committed' } });
    expect(twiceShipped).toMatchObject({ status: 'fulfilled', value: { status: 'fulfilled' } });

    // the expired one gave its unit back, and stays expired
    expect(await t.reservations.get(due.id)).toMatchObject({ status: 'expired' });
    // the idempotent release replays its answer without a second release
    expect(await t.reservations.release(toRelease.id, { idempotencyKey: key })).toEqual(
      (releasedNow as PromiseFulfilledResult<unknown>).value,
    );
    // 20 on hand; shipped 3 + 1; still held: commit 2 + fulfil's other 1
    expect(await levels(t, sku, wh)).toEqual({ [wh[0]!]: [16, 3, 13] });
    await expectReconciled(t);
  });
  it('fulfilments in one group ship what the shelf has, in order; the one that finds it short ships nothing', async () => {
    const { sku, wh } = await world(s, [5]);
    const a = await s.reservations.reserve({ order_ref: 'a', lines: [{ sku, qty: 3 }] });
    const b = await s.reservations.reserve({ order_ref: 'b', lines: [{ sku, qty: 2 }] });
    // a count finds only 3 on the shelf: 5 are promised
    await s.stock.count({ sku, warehouse: wh[0]!, counted: 3 });
    const [shipA, shipB] = await Promise.allSettled([s.reservations.fulfil(a.id), s.reservations.fulfil(b.id)]);
    expect(shipA).toMatchObject({ status: 'fulfilled', value: { status: 'fulfilled' } });
    expect(shipB).toMatchObject({
      status: 'rejected',
      reason: { code: 'insufficient_stock', lines: [{ sku, requested: 2, available: 0 }] },
    });
    expect(await s.reservations.get(b.id)).toMatchObject({ status: 'pending' });
    expect(await levels(s, sku, wh)).toEqual({ [wh[0]!]: [0, 2, -2] });
    await expectReconciled(s);
  });
});
