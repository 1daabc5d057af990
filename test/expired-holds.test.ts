import { describe, expect, it, vi } from 'vitest';
import { InsufficientStockError } from '../src/domain/errors.js';
import { buildServer } from '../src/http/server.js';
import { MemoryCache } from '../src/infra/memory-cache.js';
import type { AvailabilityItem } from '../src/services/availability.js';
import { listOutbox } from '../src/store/outbox.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';

/** Holds past their deadline hold nothing, at once: for checkout, the storefront and stock reads, sweeper or not. */
describe.each(drivers())('expired holds on %s', (driver) => {
  const h = useStockroom(driver);
  const movementsOf = async (id: string) =>
    (await h.s.stock.movements({ reservation_id: id, limit: 100 })).items.map((m) => [
      m.type,
      m.warehouse,
      m.delta_reserved,
      m.actor,
    ]);
  const reserve = (sku: string, qty: number, more: Record<string, unknown> = {}) =>
    h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty }], ...more });
  const sellable = async (sku: string) => (await h.s.availability.get({ sku: [sku] })).items[0]?.available;
  const shortfallsFlagged = async (sku: string) =>
    (await listOutbox(h.s.db, 'stock.shortfall', 10_000)).filter((r) => (r.payload as { sku?: string }).sku === sku);
  /** two SKUs with stock in a warehouse each, and one reservation holding every unit of both for `ttlSeconds` */
  const holdAllOfTwoSkus = async (onHandA: number, onHandB: number, ttlSeconds: number) => {
    const a = await world(h.s, [onHandA]);
    const b = await world(h.s, [onHandB]);
    const both = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [
        { sku: a.sku, qty: onHandA },
        { sku: b.sku, qty: onHandB },
      ],
      ttl_seconds: ttlSeconds,
    });
    return { a, b, both };
  };
  /** the hold expired through the ledger by whatever touched its level, and a later sweep releases nothing twice */
  const expectExpiredOnce = async (id: string, wh: string, qty: number) => {
    expect(await h.s.reservations.get(id)).toMatchObject({ status: 'expired', lines: [{ qty, released: qty }] });
    const expected = [
      ['expire', wh, -qty, 'sweeper'],
      ['reserve', wh, qty, null],
    ];
    expect(await movementsOf(id)).toEqual(expected);
    await h.s.reservations.expireDue();
    expect(await movementsOf(id)).toEqual(expected);
  };

  it('reserving the same units 60 ms past the deadline succeeds at once, and the old hold is expired through the ledger', async () => {
    const { sku, wh } = await world(h.s, [3]);
    const first = await reserve(sku, 3, { ttl_seconds: 10 });
    await expect(reserve(sku, 3)).rejects.toThrow(InsufficientStockError);
    h.clock.advance(10.06);

    const second = await reserve(sku, 3);
    expect(second.lines).toEqual([expect.objectContaining({ warehouse: wh[0], qty: 3 })]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [3, 3, 0] });
    expect(await movementsOf(first.id)).toEqual([
      ['expire', wh[0], -3, 'sweeper'],
      ['reserve', wh[0], 3, null],
    ]);
    expect(await h.s.reservations.get(first.id)).toMatchObject({ status: 'expired', lines: [{ qty: 3, released: 3 }] });

    // the sweeper comes by later: nothing is released twice
    await h.s.reservations.expireDue();
    expect(await movementsOf(first.id)).toHaveLength(2);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [3, 3, 0] });
    // and an expired reservation still cannot be committed
    await expect(h.s.reservations.commit(first.id)).rejects.toMatchObject({
      code: 'invalid_transition',
      from: 'expired',
    });
    expect((await h.s.reservations.get(second.id)).status).toBe('pending');
  });

  it('a due reservation holding other SKUs too is expired whole, every line given back', async () => {
    const { a, b, both } = await holdAllOfTwoSkus(2, 4, 5);
    h.clock.advance(6);
    await reserve(a.sku, 2);
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [2, 2, 0] });
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [4, 0, 4] });
    expect(await h.s.reservations.get(both.id)).toMatchObject({
      status: 'expired',
      lines: [{ released: 2 }, { released: 4 }],
    });
    expect((await movementsOf(both.id)).filter(([type]) => type === 'expire')).toHaveLength(2);
  });

  it('a hold not yet due still holds, to the millisecond', async () => {
    const { sku } = await world(h.s, [3]);
    await reserve(sku, 3, { ttl_seconds: 10 });
    h.clock.advance(9.999);
    await expect(reserve(sku, 1)).rejects.toThrow(InsufficientStockError);
    expect(await sellable(sku)).toBe(0);
  });

  it('availability and stock reads leave a hold past its deadline out at once, before anything releases it', async () => {
    const { sku, wh } = await world(h.s, [5], { low_stock_threshold: 0 });
    const r = await reserve(sku, 3, { ttl_seconds: 10 });
    expect(await sellable(sku)).toBe(2);
    expect((await h.s.stock.get(sku)).total).toMatchObject({ reserved: 3, available: 2 });

    h.clock.advance(10.06);
    expect(await sellable(sku)).toBe(5);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
    expect((await h.s.stock.get(sku)).total).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
    // reading wrote nothing: the ledger still shows the hold until something releases it
    expect(await movementsOf(r.id)).toEqual([['reserve', wh[0], 3, null]]);

    await h.s.reservations.expireDue();
    expect(await movementsOf(r.id)).toEqual([
      ['expire', wh[0], -3, 'sweeper'],
      ['reserve', wh[0], 3, null],
    ]);
    expect(await sellable(sku)).toBe(5);
  });

  it('the stock list, the low list and the exports release holds past their deadline before they read: none is counted', async () => {
    const { sku, wh } = await world(h.s, [5], { low_stock_threshold: 1 });
    const listed = async () =>
      (await h.s.stockList.list({ warehouse: wh[0]! })).items
        .filter((item) => item.sku === sku)
        .map((item) => [item.reserved, item.available, item.status]);
    const lowListed = async () =>
      (await h.s.stockList.low({ warehouse: wh[0]! })).items.filter((item) => item.sku === sku).length;
    const exported = async () => {
      const rows = [];
      for await (const row of h.s.stock.exportLevels())
        if (row.sku === sku && row.warehouse === wh[0]) rows.push([row.reserved, row.available]);
      return rows;
    };
    const first = await reserve(sku, 5, { ttl_seconds: 10 });
    expect([await listed(), await lowListed()]).toEqual([[[5, 0, 'out']], 1]);
    h.clock.advance(10.06);
    expect(await listed()).toEqual([[0, 5, 'in_stock']]);
    await expectExpiredOnce(first.id, wh[0]!, 5);

    const second = await reserve(sku, 5, { ttl_seconds: 10 });
    h.clock.advance(10.06);
    expect(await lowListed()).toBe(0);
    await expectExpiredOnce(second.id, wh[0]!, 5);

    const third = await reserve(sku, 5, { ttl_seconds: 10 });
    expect(await exported()).toEqual([[5, 0]]);
    h.clock.advance(10.06);
    expect(await exported()).toEqual([[0, 5]]);
    await expectExpiredOnce(third.id, wh[0]!, 5);
  });

  it.runIf(driver === 'postgres')(
    'the lists wait for a due hold another transaction has locked: never shown pending or counted as reserved',
    async () => {
      const { sku, wh } = await world(h.s, [5]);
      const r = await reserve(sku, 2, { ttl_seconds: 10 });
      h.clock.advance(10.1);
      // another transaction has the due reservation locked (a sweeper in another process, a group expiring it)
      let finish = (): void => undefined;
      const done = new Promise<void>((resolve) => (finish = resolve));
      let locked = (): void => undefined;
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const other = h.test.db.transaction(async (tx) => {
        await tx.query('SELECT id FROM reservations WHERE id = $1 FOR UPDATE', [r.id]);
        locked();
        await done;
      });
      await holding;
      const listed = h.s.reservations.list({ sku });
      const stockListed = h.s.stockList.list({ warehouse: wh[0]! });
      try {
        // both wait for the lock rather than skip the hold and read it as it is stored
        await vi.waitFor(
          async () => {
            const { rows } = await h.test.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%expires_at <= $1 ORDER BY id%'`,
            );
            expect(rows[0]?.n).toBe(2);
          },
          { timeout: 5000, interval: 10 },
        );
      } finally {
        finish();
        await other;
      }
      expect((await listed).items.map((item) => [item.id, item.status])).toEqual([[r.id, 'expired']]);
      expect(
        (await stockListed).items.filter((item) => item.sku === sku).map((item) => [item.reserved, item.available]),
      ).toEqual([[0, 5]]);
      await expectExpiredOnce(r.id, wh[0]!, 2);
    },
  );

  it('the server cache keeps an answer no longer than the next deadline of a hold on its SKU', async () => {
    const { sku } = await world(h.s, [5], { low_stock_threshold: 0 });
    await reserve(sku, 3, { ttl_seconds: 10 });
    // an hour-long cache on the same clock as the deadlines; a deadline passing is announced by nobody
    const cache = new MemoryCache<AvailabilityItem>(3_600_000, () => h.clock.now().getTime());
    h.s.availability.useCache(cache);
    const app = await buildServer({ stockroom: h.s });
    const ask = async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/availability?sku=${sku}` });
      expect(res.statusCode).toBe(200);
      return res.json<{ items: AvailabilityItem[] }>().items[0]?.available;
    };
    try {
      expect(await ask()).toBe(2);
      h.clock.advance(9);
      expect(await ask()).toBe(2);
      expect(cache.stats.hits).toBe(1);
      h.clock.advance(1.06);
      expect(await ask()).toBe(5);
      expect(cache.stats.hits).toBe(1);
      // with no hold left to run out, the answer is kept for the cache's own time
      h.clock.advance(600);
      expect(await ask()).toBe(5);
      expect(cache.stats.hits).toBe(2);
    } finally {
      h.s.availability.useCache(undefined);
      await app.close();
      await h.s.reservations.expireDue();
    }
  });

  describe('stock changes after the deadline see only what is really held', () => {
    it('a transfer of units a due hold took succeeds at once', async () => {
      const { sku, wh } = await world(h.s, [3, 0]);
      const r = await reserve(sku, 3, { ttl_seconds: 10, warehouse: wh[0] });
      await expect(h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 3 })).rejects.toThrow(
        InsufficientStockError,
      );
      h.clock.advance(10.1);

      const t = await h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 3 });
      expect(t.from).toMatchObject({ on_hand: 0, reserved: 0, available: 0 });
      expect(t.to).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [0, 0, 0], [wh[1]!]: [3, 0, 3] });
      await expectExpiredOnce(r.id, wh[0]!, 3);
    });

    it('a hold not yet due still keeps its units from a transfer, and a count below it is a shortfall', async () => {
      const { sku, wh } = await world(h.s, [3, 0]);
      const r = await reserve(sku, 3, { ttl_seconds: 10, warehouse: wh[0] });
      h.clock.advance(9.9);
      await expect(h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 1 })).rejects.toThrow(
        InsufficientStockError,
      );
      expect(await h.s.stock.count({ sku, warehouse: wh[0]!, counted: 0 })).toMatchObject({
        on_hand: 0,
        reserved: 3,
        shortfall: 3,
      });
      expect(await shortfallsFlagged(sku)).toHaveLength(1);
      await h.s.reservations.release(r.id);
    });

    it('a count to zero after the deadline leaves no shortfall and flags none', async () => {
      const { sku, wh } = await world(h.s, [3]);
      const r = await reserve(sku, 3, { ttl_seconds: 10 });
      h.clock.advance(10.1);
      expect(await h.s.stock.count({ sku, warehouse: wh[0]!, counted: 0 })).toMatchObject({
        on_hand: 0,
        reserved: 0,
        available: 0,
        shortfall: 0,
        difference: -3,
      });
      expect(await shortfallsFlagged(sku)).toEqual([]);
      await expectExpiredOnce(r.id, wh[0]!, 3);
    });

    it('an adjustment down after the deadline leaves no shortfall and flags none', async () => {
      const { sku, wh } = await world(h.s, [3]);
      const r = await reserve(sku, 3, { ttl_seconds: 10 });
      h.clock.advance(10.1);
      expect(await h.s.stock.adjust({ sku, warehouse: wh[0]!, delta: -3, reason: 'damaged' })).toMatchObject({
        on_hand: 0,
        reserved: 0,
        available: 0,
        shortfall: 0,
      });
      expect(await shortfallsFlagged(sku)).toEqual([]);
      await expectExpiredOnce(r.id, wh[0]!, 3);
    });

    it('a sync batch after the deadline expires a due reservation whole, even its lines of SKUs not in the batch', async () => {
      const { a, b, both } = await holdAllOfTwoSkus(3, 2, 10);
      h.clock.advance(10.1);
      const result = await h.s.stock.sync({
        source: uniq('wms'),
        items: [{ sku: a.sku, warehouse: a.wh[0]!, on_hand: 1 }],
      });
      expect(result.shortfalls).toEqual([]);
      expect(result.levels).toEqual([
        expect.objectContaining({ on_hand: 1, reserved: 0, available: 1, shortfall: 0, difference: -2 }),
      ]);
      expect(await shortfallsFlagged(a.sku)).toEqual([]);
      expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [2, 0, 2] });
      expect(await h.s.reservations.get(both.id)).toMatchObject({
        status: 'expired',
        lines: [{ released: 3 }, { released: 2 }],
      });
      expect((await movementsOf(both.id)).filter(([type]) => type === 'expire')).toHaveLength(2);
      expect(await h.s.reservations.expireDue()).toBe(0);
      expect(await movementsOf(both.id)).toHaveLength(4);
    });

    it('a stock CSV import after the deadline leaves no shortfall and flags none', async () => {
      const { sku, wh } = await world(h.s, [3]);
      const r = await reserve(sku, 3, { ttl_seconds: 10 });
      h.clock.advance(10.1);
      expect(await h.s.stock.importOnHand(['sku,warehouse,on_hand', `${sku},${wh[0]},0`].join('\n'))).toEqual({
        rows: 1,
        changed: 1,
        shortfalls: [],
      });
      expect(await shortfallsFlagged(sku)).toEqual([]);
      await expectExpiredOnce(r.id, wh[0]!, 3);
    });

    it.runIf(driver === 'postgres')(
      'a transfer refused for a due hold another transaction is releasing waits for it and is made',
      async () => {
        const { sku, wh } = await world(h.s, [3, 0]);
        const r = await reserve(sku, 3, { ttl_seconds: 10, warehouse: wh[0] });
        h.clock.advance(10.1);
        // a sweeper that has claimed the hold (its row locked) and not yet committed
        let finish = (): void => undefined;
        const claimed = new Promise<void>((resolve) => (finish = resolve));
        let locked = (): void => undefined;
        const holding = new Promise<void>((resolve) => (locked = resolve));
        const sweeper = h.test.db.transaction(async (tx) => {
          await tx.query('SELECT id FROM reservations WHERE id = $1 FOR UPDATE', [r.id]);
          locked();
          await claimed;
        });
        await holding;
        const transfer = h.s.stock.transfer({ sku, from: wh[0]!, to: wh[1]!, qty: 3 }).catch((error: unknown) => error);
        try {
          // the first attempt cannot take the hold (SKIP LOCKED), is refused, and then waits for the sweeper's lock
          await vi.waitFor(
            async () => {
              const { rows } = await h.test.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM reservations WHERE id = ANY%'`,
              );
              expect(rows[0]?.n).toBe(1);
            },
            { timeout: 5000, interval: 10 },
          );
        } finally {
          finish();
          await sweeper;
        }
        expect(await transfer).toMatchObject({ qty: 3, from: { on_hand: 0, reserved: 0 }, to: { on_hand: 3 } });
        await expectExpiredOnce(r.id, wh[0]!, 3);
      },
    );

    it('over HTTP: the transfer the stock read says is possible is made', async () => {
      const { sku, wh } = await world(h.s, [3, 0]);
      await reserve(sku, 3, { ttl_seconds: 10, warehouse: wh[0] });
      h.clock.advance(10.1);
      const { key } = await h.s.keys.create({ name: uniq('warehouse'), scopes: ['warehouse'] });
      const headers = { authorization: `Bearer ${key}` };
      const app = await buildServer({ stockroom: h.s });
      try {
        const read = await app.inject({ method: 'GET', url: `/v1/stock/${sku}`, headers });
        expect(
          read
            .json<{ warehouses: { warehouse: string; available: number }[] }>()
            .warehouses.find((w) => w.warehouse === wh[0])?.available,
        ).toBe(3);
        const res = await app.inject({
          method: 'POST',
          url: '/v1/stock/transfer',
          headers,
          payload: { sku, from: wh[0], to: wh[1], qty: 3 },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ qty: 3, from: { on_hand: 0, reserved: 0 }, to: { on_hand: 3 } });
      } finally {
        await app.close();
      }
    });
  });
});
