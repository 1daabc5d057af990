import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import type { Reservation } from '../src/index.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { apiCall } from './support/served.js';

describe.each(drivers())('changing a reservation after checkout, over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  let app: FastifyInstance;
  const server = { url: '' };
  let key = '';

  beforeAll(async () => {
    key = (await h.s.keys.create({ name: uniq('checkout'), scopes: ['checkout'] })).key;
    app = await buildServer({ stockroom: h.s });
    server.url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    apiCall(server, method, path, { key, body, headers });
  const ok = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const reply = await call(method, path, body, headers);
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
  /** everything a refused call must leave as it was */
  const snapshot = async (id: string, sku: string, wh: string[]) => ({
    reservation: await h.s.reservations.get(id),
    levels: await levels(h.s, sku, wh),
    ledger: await ledger(id),
  });
  const open = (r: Reservation) => r.lines.map((line) => [line.sku, line.warehouse, line.qty - line.released]);

  it('PATCH raises one line and lowers another, with a ledger row for each difference, and bumps updated_at', async () => {
    const a = await world(h.s, [10]);
    const b = await world(h.s, [10]);
    const r = await reserve([
      { sku: a.sku, qty: 3 },
      { sku: b.sku, qty: 2 },
    ]);
    h.clock.advance(5);
    const amended = await ok('PATCH', `/v1/reservations/${r.id}`, {
      lines: [
        { sku: a.sku, qty: 5 },
        { sku: b.sku, qty: 1 },
      ],
    });
    expect(amended.status).toBe('pending');
    expect(amended.lines).toMatchObject([
      { sku: a.sku, qty: 5, released: 0 },
      { sku: b.sku, qty: 2, released: 1 },
    ]);
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [10, 5, 5] });
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [10, 1, 9] });
    expect((await ledger(r.id)).slice(2)).toEqual([
      ['reserve', 0, 2, a.wh[0]],
      ['release', 0, -1, b.wh[0]],
    ]);
    const stored = await h.s.db.query<{ updated_at: Date }>('SELECT updated_at FROM reservations WHERE id = $1', [
      r.id,
    ]);
    expect(new Date(stored.rows[0]!.updated_at).getTime()).toBe(h.clock.now().getTime());
  });

  it('raising past what the level can promise is 409 insufficient_stock and changes nothing', async () => {
    const a = await world(h.s, [4]);
    const b = await world(h.s, [10]);
    const r = await reserve([
      { sku: a.sku, qty: 3 },
      { sku: b.sku, qty: 2 },
    ]);
    const before = await snapshot(r.id, a.sku, a.wh);
    const refused = await call('PATCH', `/v1/reservations/${r.id}`, {
      lines: [
        { sku: b.sku, qty: 1 },
        { sku: a.sku, qty: 5 },
      ],
    });
    expect(refused.status).toBe(409);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body).toMatchObject({
      code: 'insufficient_stock',
      lines: [{ sku: a.sku, warehouse: a.wh[0], requested: 2, available: 1 }],
    });
    expect(await snapshot(r.id, a.sku, a.wh)).toEqual(before);
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [10, 2, 8] });
  });

  it('a raise may take units of holds past their deadline: they are expired first, through the ledger', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const due = await reserve([{ sku, qty: 4 }], { ttl_seconds: 10 });
    const r = await reserve([{ sku, qty: 1 }]);
    h.clock.advance(11);
    // the sweeper has not been by: the amendment expires the due hold in its own transaction
    const amended = await ok('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 5 }] });
    expect(open(amended)).toEqual([[sku, wh[0], 5]]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 5, 0] });
    expect((await h.s.reservations.get(due.id)).status).toBe('expired');
    expect(await ledger(due.id)).toEqual([
      ['reserve', 0, 4, wh[0]],
      ['expire', 0, -4, wh[0]],
    ]);
  });

  it('adds lines routed as reserve routes them (to the warehouse named, if one is) and removes lines with qty 0', async () => {
    const a = await world(h.s, [10]);
    const b = await world(h.s, [1, 6]);
    const c = await world(h.s, [5, 5]);
    const r = await reserve([{ sku: a.sku, qty: 2 }]);
    const amended = await ok('PATCH', `/v1/reservations/${r.id}`, {
      lines: [
        { sku: a.sku, qty: 0 },
        { sku: b.sku, qty: 4 },
        { sku: c.sku, qty: 2, warehouse: c.wh[1] },
      ],
    });
    // b: the first warehouse has 1, the second has all 4, so it is served whole from there
    expect(open(amended)).toEqual([
      [a.sku, a.wh[0], 0],
      [b.sku, b.wh[1], 4],
      [c.sku, c.wh[1], 2],
    ]);
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [10, 0, 10] });
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [1, 0, 1], [b.wh[1]!]: [6, 4, 2] });
    expect(await levels(h.s, c.sku, c.wh)).toEqual({ [c.wh[0]!]: [5, 0, 5], [c.wh[1]!]: [5, 2, 3] });
    // a line held in two warehouses is named with its warehouse
    const split = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku: c.sku, qty: 1 }] });
    expect(split.status).toBe(200);
    const again = await ok('PATCH', `/v1/reservations/${r.id}`, {
      lines: [{ sku: c.sku, qty: 1, warehouse: c.wh[0] }],
    });
    expect(open(again).filter(([sku]) => sku === c.sku)).toEqual([
      [c.sku, c.wh[1], 1],
      [c.sku, c.wh[0], 1],
    ]);
    const ambiguous = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku: c.sku, qty: 3 }] });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body).toMatchObject({ code: 'validation_failed', errors: [{ path: '/lines/0/warehouse' }] });
  });

  it('extends or shortens the deadline of a pending reservation; a committed one has none to change', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await reserve([{ sku, qty: 2 }], { ttl_seconds: 60 });
    const longer = await ok('PATCH', `/v1/reservations/${r.id}`, { ttl_seconds: 600 });
    expect(Date.parse(longer.expires_at!)).toBe(h.clock.now().getTime() + 600_000);
    h.clock.advance(120);
    expect(await h.s.reservations.expireDue()).toBeGreaterThanOrEqual(0);
    expect((await h.s.reservations.get(r.id)).status).toBe('pending');
    const at = new Date(h.clock.now().getTime() + 30_000).toISOString();
    const shorter = await ok('PATCH', `/v1/reservations/${r.id}`, { expires_at: at });
    expect(shorter.expires_at).toBe(at);
    for (const [body, path] of [
      [{ expires_at: new Date(h.clock.now().getTime() - 1000).toISOString() }, '/expires_at'],
      [{ ttl_seconds: 60, expires_at: at }, '/expires_at'],
      [{}, ''],
    ] as const) {
      const refused = await call('PATCH', `/v1/reservations/${r.id}`, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'validation_failed', errors: [{ path }] });
    }
    h.clock.advance(31);
    // past its new deadline it holds nothing, and changing it is refused
    const late = await call('PATCH', `/v1/reservations/${r.id}`, { ttl_seconds: 600 });
    expect(late.body).toMatchObject({ code: 'invalid_transition', from: 'expired' });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 0, 10] });
    const committed = await reserve([{ sku, qty: 1 }]);
    await ok('POST', `/v1/reservations/${committed.id}/commit`);
    const refused = await call('PATCH', `/v1/reservations/${committed.id}`, { ttl_seconds: 60 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'invalid_transition', from: 'committed' });
  });

  it('amends committed and partially fulfilled reservations, never below what shipped, and refuses closed ones', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await reserve([{ sku, qty: 4 }]);
    await ok('POST', `/v1/reservations/${r.id}/commit`);
    expect((await ok('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 6 }] })).status).toBe('committed');
    await ok('POST', `/v1/reservations/${r.id}/fulfil`, { lines: [{ sku, qty: 3 }] });
    const below = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 2 }] });
    expect(below.status).toBe(400);
    expect(below.body).toMatchObject({ errors: [{ path: '/lines/0/qty' }] });
    // down to what shipped: nothing is left to ship, so it is fulfilled
    const done = await ok('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 3 }] });
    expect(done).toMatchObject({ status: 'fulfilled', lines: [{ qty: 6, fulfilled: 3, released: 3 }] });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [7, 0, 7] });
    const closed = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 4 }] });
    expect(closed.status).toBe(409);
    expect(closed.body).toMatchObject({ code: 'invalid_transition', from: 'fulfilled' });
    const released = await reserve([{ sku, qty: 1 }]);
    await ok('POST', `/v1/reservations/${released.id}/cancel`);
    expect((await call('PATCH', `/v1/reservations/${released.id}`, { lines: [{ sku, qty: 2 }] })).body).toMatchObject({
      code: 'invalid_transition',
      from: 'released',
    });
  });

  it('an Idempotency-Key replays the amendment instead of applying it twice', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await reserve([{ sku, qty: 1 }]);
    const headers = { 'idempotency-key': uniq('amend') };
    const first = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 4 }] }, headers);
    const again = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 4 }] }, headers);
    expect(again).toEqual(first);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 4, 6] });
    const other = await call('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 5 }] }, headers);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_conflict');
  });

  it('a new line keeps to the warehouses that serve the region the amendment names', async () => {
    const a = await world(h.s, [5]);
    const sku = uniq('REGION');
    const us = uniq('US');
    const de = uniq('DE');
    await h.s.catalog.addWarehouse({ code: us, name: us, priority: 1000, regions: ['US'] });
    await h.s.catalog.addWarehouse({ code: de, name: de, priority: -1000, regions: ['DE'] });
    await h.s.catalog.addVariant({ sku, product: { title: sku } });
    for (const warehouse of [us, de]) await h.s.stock.receive({ sku, warehouse, qty: 5 });
    const r = await reserve([{ sku: a.sku, qty: 1 }]);
    const amended = await ok('PATCH', `/v1/reservations/${r.id}`, { lines: [{ sku, qty: 2 }], region: 'DE' });
    expect(open(amended)).toEqual([
      [a.sku, a.wh[0], 1],
      [sku, de, 2],
    ]);
    // without a region the warehouse of highest priority is first
    const other = await reserve([{ sku: a.sku, qty: 1 }]);
    expect(open(await ok('PATCH', `/v1/reservations/${other.id}`, { lines: [{ sku, qty: 1 }] }))[1]).toEqual([
      sku,
      us,
      1,
    ]);
  });

  it('partial cancel, move and unfulfil replay under their Idempotency-Key and refuse it for another request', async () => {
    const { sku, wh } = await world(h.s, [10, 10]);
    const r = await reserve([{ sku, qty: 4 }]);
    for (const [path, body, other] of [
      ['/cancel', { lines: [{ sku, qty: 1 }] }, { lines: [{ sku, qty: 2 }] }],
      ['/move', { sku, qty: 1, to: wh[1] }, { sku, qty: 2, to: wh[1] }],
    ] as const) {
      const headers = { 'idempotency-key': uniq('k') };
      const first = await call('POST', `/v1/reservations/${r.id}${path}`, body, headers);
      expect(first.status).toBe(200);
      expect(await call('POST', `/v1/reservations/${r.id}${path}`, body, headers)).toEqual(first);
      expect((await call('POST', `/v1/reservations/${r.id}${path}`, other, headers)).status).toBe(422);
    }
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 2, 8], [wh[1]!]: [10, 1, 9] });
    await ok('POST', `/v1/reservations/${r.id}/fulfil`);
    const headers = { 'idempotency-key': uniq('k') };
    const undone = await call('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 1 }] }, headers);
    expect(await call('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 1 }] }, headers)).toEqual(
      undone,
    );
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [9, 1, 8], [wh[1]!]: [9, 0, 9] });
  });

  it('cancel with lines releases only those units; the last of them releases the reservation', async () => {
    const a = await world(h.s, [10]);
    const b = await world(h.s, [10]);
    const r = await reserve([
      { sku: a.sku, qty: 3 },
      { sku: b.sku, qty: 2 },
    ]);
    const part = await ok('POST', `/v1/reservations/${r.id}/cancel`, { lines: [{ sku: a.sku, qty: 2 }] });
    expect(part).toMatchObject({ status: 'pending', lines: [{ released: 2 }, { released: 0 }] });
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [10, 1, 9] });
    const rest = await ok('POST', `/v1/reservations/${r.id}/cancel`, {
      lines: [
        { sku: a.sku, qty: 1 },
        { sku: b.sku, qty: 2 },
      ],
    });
    expect(rest.status).toBe('released');
    expect(await ledger(r.id)).toEqual([
      ['reserve', 0, 3, a.wh[0]],
      ['reserve', 0, 2, b.wh[0]],
      ['release', 0, -2, a.wh[0]],
      ['release', 0, -1, a.wh[0]],
      ['release', 0, -2, b.wh[0]],
    ]);
    // without a body (or with an empty one) everything goes, as before
    for (const body of [undefined, {}]) {
      const whole = await reserve([{ sku: a.sku, qty: 2 }]);
      expect((await ok('POST', `/v1/reservations/${whole.id}/cancel`, body)).status).toBe('released');
    }
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [10, 0, 10] });
  });

  it('moves held units to another warehouse: released at the old level, held at the new one, in one change', async () => {
    const { sku, wh } = await world(h.s, [5, 5]);
    const r = await reserve([{ sku, qty: 4 }]);
    expect(open(r)).toEqual([[sku, wh[0], 4]]);
    const moved = await ok('POST', `/v1/reservations/${r.id}/move`, { sku, qty: 3, to: wh[1] });
    expect(open(moved)).toEqual([
      [sku, wh[0], 1],
      [sku, wh[1], 3],
    ]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 1, 4], [wh[1]!]: [5, 3, 2] });
    expect((await ledger(r.id)).slice(1)).toEqual([
      ['release', 0, -3, wh[0]],
      ['reserve', 0, 3, wh[1]],
    ]);
    const back = await call('POST', `/v1/reservations/${r.id}/move`, { sku, to: wh[0], from: wh[1] });
    expect(back.status).toBe(200);
    const tooMany = await call('POST', `/v1/reservations/${r.id}/move`, { sku, qty: 5, to: wh[1] });
    expect(tooMany.status).toBe(400);
    const other = await reserve([{ sku, qty: 5 }]);
    const noRoom = await call('POST', `/v1/reservations/${r.id}/move`, { sku, to: wh[1] });
    expect(noRoom.body).toMatchObject({ code: 'insufficient_stock', lines: [{ sku, warehouse: wh[1] }] });
    await ok('POST', `/v1/reservations/${other.id}/cancel`);
    const unknown = await call('POST', `/v1/reservations/${r.id}/move`, { sku, to: uniq('NOWHERE') });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 4, 1], [wh[1]!]: [5, 0, 5] });
  });

  it('fulfil lines with ship_from move the hold there first, then ship from there; short on the shelf ships nothing', async () => {
    const { sku, wh } = await world(h.s, [5, 2]);
    const r = await reserve([{ sku, qty: 4 }]);
    await ok('POST', `/v1/reservations/${r.id}/commit`);
    const before = await snapshot(r.id, sku, wh);
    const short = await call('POST', `/v1/reservations/${r.id}/fulfil`, { lines: [{ sku, qty: 3, ship_from: wh[1] }] });
    expect(short.status).toBe(409);
    expect(short.body.code).toBe('insufficient_stock');
    expect(await snapshot(r.id, sku, wh)).toEqual(before);
    const shipped = await ok('POST', `/v1/reservations/${r.id}/fulfil`, {
      lines: [{ sku, qty: 2, warehouse: wh[0], ship_from: wh[1] }],
    });
    expect(shipped.status).toBe('partially_fulfilled');
    expect(shipped.lines).toMatchObject([
      { warehouse: wh[0], qty: 4, released: 2, fulfilled: 0 },
      { warehouse: wh[1], qty: 2, released: 0, fulfilled: 2 },
    ]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 2, 3], [wh[1]!]: [0, 0, 0] });
    expect((await ledger(r.id)).slice(1)).toEqual([
      ['release', 0, -2, wh[0]],
      ['reserve', 0, 2, wh[1]],
      ['fulfil', -2, -2, wh[1]],
    ]);
  });

  it('unfulfil brings shipped units back on hand where they shipped from, held again, and reopens the reservation', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await reserve([{ sku, qty: 4 }]);
    await ok('POST', `/v1/reservations/${r.id}/fulfil`);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [6, 0, 6] });
    const tooMany = await call('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 5 }] });
    expect(tooMany.status).toBe(400);
    const some = await ok('POST', `/v1/reservations/${r.id}/unfulfil`, { lines: [{ sku, qty: 1 }] });
    expect(some).toMatchObject({ status: 'partially_fulfilled', closed_at: null, lines: [{ fulfilled: 3 }] });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [7, 1, 6] });
    const all = await ok('POST', `/v1/reservations/${r.id}/unfulfil`);
    expect(all).toMatchObject({ status: 'committed', lines: [{ qty: 4, fulfilled: 0, released: 0 }] });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 4, 6] });
    const movements = (await h.s.stock.movements({ reservation_id: r.id, limit: 10 })).items;
    expect(movements.filter((row) => row.type === 'unfulfil')).toMatchObject([
      { delta_on_hand: 3, delta_reserved: 3, reservation_id: r.id },
      { delta_on_hand: 1, delta_reserved: 1, reservation_id: r.id },
    ]);
    const nothingShipped = await call('POST', `/v1/reservations/${r.id}/unfulfil`);
    expect(nothingShipped.body).toMatchObject({ code: 'invalid_transition', from: 'committed' });
    // shipped again and released: a closed reservation's shipments stay shipped
    await ok('POST', `/v1/reservations/${r.id}/fulfil`, { lines: [{ sku, qty: 1 }] });
    await ok('POST', `/v1/reservations/${r.id}/cancel`);
    expect((await call('POST', `/v1/reservations/${r.id}/unfulfil`)).body).toMatchObject({
      code: 'invalid_transition',
      from: 'released',
    });
  });

  it('unfulfil refuses to reopen a fulfilled order whose order_ref another open reservation holds now', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const orderRef = uniq('order');
    const first = await ok('POST', '/v1/reservations', { order_ref: orderRef, lines: [{ sku, qty: 2 }] });
    await ok('POST', `/v1/reservations/${first.id}/fulfil`);
    const second = await ok('POST', '/v1/reservations', { order_ref: orderRef, lines: [{ sku, qty: 1 }] });
    const before = await snapshot(first.id, sku, wh);
    const refused = await call('POST', `/v1/reservations/${first.id}/unfulfil`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'already_exists', reservation_id: second.id });
    expect(await snapshot(first.id, sku, wh)).toEqual(before);
    // once the other one is closed, the order is free to reopen
    await ok('POST', `/v1/reservations/${second.id}/cancel`);
    expect(await ok('POST', `/v1/reservations/${first.id}/unfulfil`)).toMatchObject({ status: 'committed' });
  });

  it('cancel and unfulfil take an empty body, whatever its Content-Type says, as none; a JSON null is refused', async () => {
    const { sku } = await world(h.s, [10]);
    const send = (path: string, body?: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
    const shipped = await reserve([{ sku, qty: 2 }]);
    await ok('POST', `/v1/reservations/${shipped.id}/fulfil`);
    expect((await send(`/v1/reservations/${shipped.id}/unfulfil`, 'null')).status).toBe(400);
    const undone = await send(`/v1/reservations/${shipped.id}/unfulfil`, '');
    expect(((await undone.json()) as Reservation).status).toBe('committed');
    const held = await reserve([{ sku, qty: 1 }]);
    expect((await send(`/v1/reservations/${held.id}/cancel`, 'null')).status).toBe(400);
    const cancelled = await send(`/v1/reservations/${held.id}/cancel`);
    expect(((await cancelled.json()) as Reservation).status).toBe('released');
    await ok('POST', `/v1/reservations/${shipped.id}/cancel`);
  });

  it('bad input is a problem document and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await reserve([{ sku, qty: 2 }]);
    const before = await snapshot(r.id, sku, wh);
    const cases: [string, string, unknown, number, string][] = [
      ['PATCH', '', { lines: [{ sku: uniq('NOPE'), qty: 1 }] }, 404, 'unknown_sku'],
      ['PATCH', '', { lines: [{ sku, qty: -1 }] }, 400, 'validation_failed'],
      ['PATCH', '', { lines: [{ sku, qty: 10_000_001 }] }, 400, 'validation_failed'],
      ['PATCH', '', { lines: [{ sku, qty: 1000 }] }, 409, 'insufficient_stock'],
      ['PATCH', '', { lines: [{ sku, qty: 1, colour: 'red' }] }, 400, 'validation_failed'],
      ['PATCH', '', { lines: [{ sku, qty: 1 }], extra: true }, 400, 'validation_failed'],
      ['PATCH', '', { lines: [] }, 400, 'validation_failed'],
      ['PATCH', '', { lines: [{ sku: uniq('NOPE'), qty: 0 }] }, 400, 'validation_failed'],
      ['POST', '/cancel', { lines: [{ sku, qty: 0 }] }, 400, 'validation_failed'],
      ['POST', '/cancel', { lines: [{ sku, qty: 3 }] }, 400, 'validation_failed'],
      ['POST', '/cancel', { lines: [{ sku: uniq('NOPE'), qty: 1 }] }, 400, 'validation_failed'],
      ['POST', '/move', { sku, to: wh[0] }, 400, 'validation_failed'],
      ['POST', '/move', { sku, qty: 0, to: wh[0] }, 400, 'validation_failed'],
      ['POST', '/move', { to: wh[0] }, 400, 'validation_failed'],
      ['POST', '/unfulfil', { lines: [{ sku, qty: 1 }] }, 409, 'invalid_transition'],
      ['POST', '/unfulfil', { lines: [{ sku, qty: 1 }], why: 'x' }, 400, 'validation_failed'],
      ['POST', '/fulfil', { lines: [{ sku, qty: 1, ship_from: uniq('NOWHERE') }] }, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const reply = await call(method, `/v1/reservations/${r.id}${path}`, body);
      expect([reply.status, reply.body.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(reply.type).toContain('application/problem+json');
    }
    const missing = await call('PATCH', `/v1/reservations/${crypto.randomUUID()}`, { lines: [{ sku, qty: 1 }] });
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
    const notAnId = await call('PATCH', '/v1/reservations/123', { lines: [{ sku, qty: 1 }] });
    expect(notAnId.status).toBe(400);
    expect(await snapshot(r.id, sku, wh)).toEqual(before);
  });
});
