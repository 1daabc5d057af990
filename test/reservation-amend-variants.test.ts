import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import type { Reservation } from '../src/index.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { apiCall } from './support/served.js';

const VARIANT_WIDE = 'variant-wide limit over all warehouses';

describe.each(drivers())('changing reservations of untracked and variant-wide variants, over HTTP on %s', (driver) => {
  const h = useStockroom(driver, { max: 12 });
  /** on PostgreSQL two servers, each with its own pool and group commits, so their transactions really interleave */
  const servers: { app: FastifyInstance; url: string; stockroom: Stockroom }[] = [];
  let key = '';

  beforeAll(async () => {
    key = (await h.s.keys.create({ name: uniq('amend'), scopes: ['admin'] })).key;
    const dbs =
      driver === 'postgres' ? await Promise.all([1, 2].map(() => openPostgres(h.test.url!, { max: 6 }))) : [h.test.db];
    for (const db of dbs) {
      const stockroom = new Stockroom({ db, clock: h.clock.now });
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

  const call = (method: string, path: string, body?: unknown, server = 0) =>
    apiCall(servers[server % servers.length]!, method, path, { key, body });
  const ok = async (method: string, path: string, body?: unknown) => {
    const reply = await call(method, path, body);
    expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(300);
    return reply.body as unknown as Reservation;
  };
  const reserve = (lines: { sku: string; qty: number }[], extra: Record<string, unknown> = {}) =>
    ok('POST', '/v1/reservations', { order_ref: uniq('order'), lines, ...extra });
  /** the reservation's ledger rows, oldest first: type, delta_on_hand, delta_reserved, warehouse */
  const ledger = async (id: string) =>
    (await h.s.stock.movements({ reservation_id: id, limit: 500 })).items
      .map((row) => [row.type, row.delta_on_hand, row.delta_reserved, row.warehouse] as const)
      .reverse();
  /** each line as [sku, warehouse, qty, fulfilled, released] */
  const lines = (r: Reservation) =>
    r.lines.map((line) => [line.sku, line.warehouse, line.qty, line.fulfilled, line.released]);
  /** the lines' holds_stock flags as stored, by line number */
  const holdsStock = async (id: string) =>
    (
      await h.s.db.query<{ holds_stock: boolean }>(
        'SELECT holds_stock FROM reservation_lines WHERE reservation_id = $1 ORDER BY line_no',
        [id],
      )
    ).rows.map((row) => row.holds_stock);
  /** everything a refused call must leave as it was */
  const snapshot = async (id: string, sku: string, wh: string[]) => ({
    reservation: await h.s.reservations.get(id),
    levels: await levels(h.s, sku, wh),
    ledger: await ledger(id),
  });
  const setSafetyStock = async (sku: string, safety_stock: number) => {
    expect((await call('PUT', `/v1/variants/${sku}`, { safety_stock })).status).toBe(200);
  };

  describe('untracked variants (track_inventory: false)', () => {
    it('amend raises, lowers, adds and removes their lines with nothing in stock: no ledger row, nothing held', async () => {
      const u = await world(h.s, [0, 0], { track_inventory: false });
      const v = await world(h.s, [0], { track_inventory: false });
      const t = await world(h.s, [5]);
      const r = await reserve([
        { sku: u.sku, qty: 2 },
        { sku: t.sku, qty: 1 },
      ]);
      // routed as reserve routes it: to the first warehouse by priority, which every warehouse is for an untracked SKU
      const at = r.lines[0]!.warehouse;
      const raised = await ok('PATCH', `/v1/reservations/${r.id}`, {
        lines: [
          { sku: u.sku, qty: 40 },
          { sku: v.sku, qty: 7, warehouse: v.wh[0] },
        ],
      });
      expect(lines(raised)).toEqual([
        [u.sku, at, 40, 0, 0],
        [t.sku, t.wh[0], 1, 0, 0],
        [v.sku, v.wh[0], 7, 0, 0],
      ]);
      // the line added for an untracked variant holds nothing, as reserve records it
      expect(await holdsStock(r.id)).toEqual([false, true, false]);
      const lowered = await ok('PATCH', `/v1/reservations/${r.id}`, {
        lines: [
          { sku: u.sku, qty: 5 },
          { sku: v.sku, qty: 0 },
        ],
      });
      expect(lines(lowered)).toEqual([
        [u.sku, at, 40, 0, 35],
        [t.sku, t.wh[0], 1, 0, 0],
        [v.sku, v.wh[0], 7, 0, 7],
      ]);
      expect(await levels(h.s, u.sku, [at, ...u.wh])).toEqual({
        [at]: [0, 0, 0],
        [u.wh[0]!]: [0, 0, 0],
        [u.wh[1]!]: [0, 0, 0],
      });
      expect(await levels(h.s, v.sku, v.wh)).toEqual({ [v.wh[0]!]: [0, 0, 0] });
      // only the tracked line's hold is in the ledger
      expect(await ledger(r.id)).toEqual([['reserve', 0, 1, t.wh[0]]]);
    });

    it('partial cancel, move, ship_from and unfulfil record their progress and warehouse, and touch no stock', async () => {
      const u = await world(h.s, [0, 0, 0], { track_inventory: false });
      const r = await reserve([{ sku: u.sku, qty: 10 }]);
      const cancelled = await ok('POST', `/v1/reservations/${r.id}/cancel`, { lines: [{ sku: u.sku, qty: 2 }] });
      expect(cancelled.status).toBe('pending');
      expect(lines(cancelled)).toEqual([[u.sku, u.wh[0], 10, 0, 2]]);
      const moved = await ok('POST', `/v1/reservations/${r.id}/move`, { sku: u.sku, qty: 3, to: u.wh[1] });
      expect(lines(moved)).toEqual([
        [u.sku, u.wh[0], 10, 0, 5],
        [u.sku, u.wh[1], 3, 0, 0],
      ]);
      expect(await holdsStock(r.id)).toEqual([false, false]);
      await ok('POST', `/v1/reservations/${r.id}/commit`);
      const shipped = await ok('POST', `/v1/reservations/${r.id}/fulfil`, {
        lines: [{ sku: u.sku, qty: 4, warehouse: u.wh[0], ship_from: u.wh[2] }],
      });
      expect(shipped.status).toBe('partially_fulfilled');
      expect(lines(shipped)).toEqual([
        [u.sku, u.wh[0], 10, 0, 9],
        [u.sku, u.wh[1], 3, 0, 0],
        [u.sku, u.wh[2], 4, 4, 0],
      ]);
      const undone = await ok('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku: u.sku, qty: 3 }] });
      expect(undone.status).toBe('partially_fulfilled');
      expect(lines(undone)).toEqual([
        [u.sku, u.wh[0], 10, 0, 9],
        [u.sku, u.wh[1], 3, 0, 0],
        [u.sku, u.wh[2], 4, 1, 0],
      ]);
      expect(await levels(h.s, u.sku, u.wh)).toEqual(Object.fromEntries(u.wh.map((code) => [code, [0, 0, 0]])));
      expect(await ledger(r.id)).toEqual([]);
    });
  });

  describe('variant-wide variants (limit_scope: variant)', () => {
    it('a raise past the variant-wide cap is 409 insufficient_stock naming the SKU and changes nothing', async () => {
      // 10 in stock, 4 held back for the variant: 6 can be promised over both warehouses together
      const { sku, wh } = await world(h.s, [5, 5], { safety_stock: 4, limit_scope: 'variant' });
      const r = await reserve([{ sku, qty: 3 }], { warehouse: wh[0] });
      await reserve([{ sku, qty: 2 }], { warehouse: wh[1] });
      const before = await snapshot(r.id, sku, wh);
      // the first warehouse alone could promise 2 more (it holds no safety stock of its own); the variant 1
      const refused = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 5 }] });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'insufficient_stock',
        lines: [{ sku, requested: 2, available: 1, reason: VARIANT_WIDE }],
      });
      const added = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 2, warehouse: wh[1] }] });
      expect(added.status).toBe(409);
      expect(added.body).toMatchObject({ code: 'insufficient_stock', lines: [{ sku, reason: VARIANT_WIDE }] });
      expect(await snapshot(r.id, sku, wh)).toEqual(before);
      const raised = await ok('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 4 }] });
      expect(lines(raised)).toEqual([[sku, wh[0], 4, 0, 0]]);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 4, 1], [wh[1]!]: [5, 2, 3] });
    });

    it('move and ship_from hold at the new warehouse only within the cap; past it 409 and nothing moves', async () => {
      const { sku, wh } = await world(h.s, [5, 5], { limit_scope: 'variant' });
      const r = await reserve([{ sku, qty: 4 }], { warehouse: wh[0] });
      await ok('POST', `/v1/reservations/${r.id}/commit`);
      // within the cap a move leaves the variant's sum as it was
      const moved = await ok('POST', `/v1/reservations/${r.id}/move`, { sku, qty: 1, to: wh[1] });
      expect(lines(moved)).toEqual([
        [sku, wh[0], 4, 0, 1],
        [sku, wh[1], 1, 0, 0],
      ]);
      // a higher safety stock takes the variant past its cap: nothing more may be held, wherever it moves to
      await setSafetyStock(sku, 8);
      const before = await snapshot(r.id, sku, wh);
      const move = await call('POST', `/v1/reservations/${r.id}/move`, { sku, qty: 2, from: wh[0], to: wh[1] });
      expect(move.status).toBe(409);
      expect(move.body).toMatchObject({ code: 'insufficient_stock', lines: [{ sku, reason: VARIANT_WIDE }] });
      const ship = await call('POST', `/v1/reservations/${r.id}/fulfil`, {
        lines: [{ sku, qty: 2, warehouse: wh[0], ship_from: wh[1] }],
      });
      expect(ship.status).toBe(409);
      expect(ship.body).toMatchObject({ code: 'insufficient_stock', lines: [{ sku, reason: VARIANT_WIDE }] });
      expect(await snapshot(r.id, sku, wh)).toEqual(before);
      // shipping where the units are held needs no new hold
      await setSafetyStock(sku, 0);
      const shipped = await ok('POST', `/v1/reservations/${r.id}/fulfil`, {
        lines: [{ sku, qty: 2, warehouse: wh[0], ship_from: wh[1] }],
      });
      expect(lines(shipped)).toEqual([
        [sku, wh[0], 4, 0, 3],
        [sku, wh[1], 3, 2, 0],
      ]);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 1, 4], [wh[1]!]: [3, 1, 2] });
    });

    it('unfulfil of a variant past its limits is 409 insufficient_stock, not a failed group; within them it holds again', async () => {
      const { sku, wh } = await world(h.s, [4], { limit_scope: 'variant' });
      const r = await reserve([{ sku, qty: 3 }]);
      await ok('POST', `/v1/reservations/${r.id}/commit`);
      await ok('POST', `/v1/reservations/${r.id}/fulfil`);
      await setSafetyStock(sku, 3);
      const before = await snapshot(r.id, sku, wh);
      const refused = await call('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 1 }] });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'insufficient_stock', lines: [{ sku, requested: 1, available: 0 }] });
      expect(await snapshot(r.id, sku, wh)).toEqual(before);
      await setSafetyStock(sku, 1);
      const undone = await ok('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 1 }] });
      expect(lines(undone)).toEqual([[sku, wh[0], 3, 2, 0]]);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [2, 1, 1] });
    });

    it('concurrent amends raising and lowering lines, with new orders, never promise past the cap; none fails', async () => {
      // 10 in stock, safety stock 2, pre-order limit 4: 12 units can be promised over both warehouses together
      const { sku, wh } = await world(h.s, [5, 5], {
        safety_stock: 2,
        backorder: { policy: 'preorder', limit: 4 },
        limit_scope: 'variant',
      });
      const held = await Promise.all(
        Array.from({ length: 8 }, (_, i) => reserve([{ sku, qty: 1 }], { warehouse: wh[i % 2] })),
      );
      // every reservation is first raised to 3 (24 asked for, 12 allowed), then raised and lowered at random
      const amends = Array.from({ length: 80 }, (_, i) => {
        const target = held[i % held.length]!;
        const qty = i < held.length ? 3 : i % 5 === 4 ? 1 : 2 + (i % 3);
        return call('PATCH', `/v1/reservations/${target.id}`, { lines: [{ sku, qty }] }, i);
      });
      const orders = Array.from({ length: 16 }, (_, i) =>
        call('POST', '/v1/reservations', { order_ref: uniq('order'), lines: [{ sku, qty: 1 }] }, i),
      );
      const replies = await Promise.all([...amends, ...orders]);
      for (const reply of replies) {
        expect([200, 201, 409], JSON.stringify(reply.body)).toContain(reply.status);
        if (reply.status === 409) expect(reply.body.code).toBe('insufficient_stock');
      }
      expect(
        replies.some((reply) => (reply.body.lines as { reason?: string }[] | undefined)?.[0]?.reason === VARIANT_WIDE),
      ).toBe(true);
      const stock = await levels(h.s, sku, wh);
      const reserved = Object.values(stock).reduce((sum, [, r]) => sum + r, 0);
      expect(reserved).toBeLessThanOrEqual(12);
      // what the levels hold is exactly what the reservations say they hold
      const open = (
        await Promise.all(
          [
            ...held,
            ...replies.filter((reply) => reply.status === 201).map((reply) => reply.body as unknown as Reservation),
          ].map((r) => h.s.reservations.get(r.id)),
        )
      ).flatMap((r) => r.lines.map((line) => line.qty - line.fulfilled - line.released));
      expect(open.reduce((sum, qty) => sum + qty, 0)).toBe(reserved);
    });
  });

  describe('levels holding more than they have (a count or a removal took on hand under reserved)', () => {
    it('unfulfil at a level counted under what it holds is 409 insufficient_stock naming it, not a 500; restocked it holds again', async () => {
      const { sku, wh } = await world(h.s, [5]);
      const r = await reserve([{ sku, qty: 3 }]);
      await ok('POST', `/v1/reservations/${r.id}/fulfil`, { lines: [{ sku, qty: 1 }] });
      // on hand 4, reserved 2; counted 0: reserved 2 of nothing, available -2 (a shortfall, allowed)
      expect((await call('POST', '/v1/stock/count', { sku, warehouse: wh[0], counted: 0 })).status).toBe(200);
      const before = await snapshot(r.id, sku, wh);
      const refused = await call('POST', `/v1/reservations/${r.id}/unfulfil`, {});
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'insufficient_stock',
        lines: [{ sku, warehouse: wh[0], requested: 1, available: -2 }],
      });
      expect(await snapshot(r.id, sku, wh)).toEqual(before);
      expect((await call('POST', '/v1/stock/receive', { sku, warehouse: wh[0], qty: 2 })).status).toBe(200);
      const undone = await ok('POST', `/v1/reservations/${r.id}/unfulfil`, {});
      expect(lines(undone)).toEqual([[sku, wh[0], 3, 0, 0]]);
      expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [3, 3, 0] });
    });
  });
});
