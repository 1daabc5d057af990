import { describe, expect, it } from 'vitest';
import {
  IdempotencyConflictError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
  UnknownSkuError,
  ValidationError,
} from '../src/domain/errors.js';
import type { ReserveInput } from '../src/index.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';

describe.each(drivers())('reservations on %s', (driver) => {
  const h = useStockroom(driver);
  const reserveMovements = async (id: string) => (await h.s.stock.movements({ reservation_id: id, limit: 100 })).items;

  it('reserve holds stock: reserved rises, available falls, on hand stays, one ledger row per level', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await h.s.reservations.reserve({ order_ref: 'A-1', lines: [{ sku, qty: 3 }] });
    expect(r).toMatchObject({
      order_ref: 'A-1',
      status: 'pending',
      backordered: false,
      lines: [{ sku, warehouse: wh[0], qty: 3, backordered: 0 }],
    });
    expect(new Date(r.expires_at!).getTime() - h.clock.now().getTime()).toBe(900_000);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 3, 7] });
    expect(await reserveMovements(r.id)).toMatchObject([
      { type: 'reserve', delta_on_hand: 0, delta_reserved: 3, reference: 'A-1' },
    ]);
  });

  it('gives reservations time-ordered ids (UUIDv7): a later group sorts after an earlier one, in the same group apart', async () => {
    const { sku } = await world(h.s, [10]);
    const first = await h.s.reservations.reserve({ order_ref: uniq('v7'), lines: [{ sku, qty: 1 }] });
    const together = await Promise.all(
      [1, 2, 3].map(() => h.s.reservations.reserve({ order_ref: uniq('v7'), lines: [{ sku, qty: 1 }] })),
    );
    const version7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const reservation of [first, ...together]) expect(reservation.id).toMatch(version7);
    for (const later of together) expect(later.id > first.id).toBe(true);
    expect(new Set(together.map((reservation) => reservation.id)).size).toBe(3);
  });

  it('is all or nothing across lines: one short line reserves nothing and names every short line', async () => {
    const a = await world(h.s, [5]);
    const b = await world(h.s, [1]);
    const attempt = h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [
        { sku: a.sku, qty: 2 },
        { sku: b.sku, qty: 3 },
      ],
    });
    await expect(attempt).rejects.toThrow(InsufficientStockError);
    await expect(attempt).rejects.toMatchObject({ lines: [{ sku: b.sku, requested: 3, available: 1 }] });
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [5, 0, 5] });
    expect(await levels(h.s, b.sku, b.wh)).toEqual({ [b.wh[0]!]: [1, 0, 1] });
  });

  it('sums two lines of one SKU before checking (no double-counting of the same stock)', async () => {
    const { sku, wh } = await world(h.s, [5]);
    await expect(
      h.s.reservations.reserve({
        order_ref: uniq('o'),
        lines: [
          { sku, qty: 3 },
          { sku, qty: 3 },
        ],
      }),
    ).rejects.toMatchObject({
      lines: [{ sku, requested: 6, available: 5 }],
    });
    const r = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [
        { sku, qty: 3 },
        { sku, qty: 2 },
      ],
    });
    expect(r.lines).toEqual([expect.objectContaining({ sku, qty: 5 })]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 5, 0] });
  });

  it('respects safety stock', async () => {
    const { sku } = await world(h.s, [10], { safety_stock: 4 });
    await expect(h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 7 }] })).rejects.toThrow(
      InsufficientStockError,
    );
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 6 }] });
  });

  it('routes to the requested warehouse, else by priority, and splits a line only when it must', async () => {
    const { sku, wh } = await world(h.s, [4, 10]);
    const [first, second] = [wh[0]!, wh[1]!];
    const one = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }] });
    expect(one.lines.map((l) => [l.warehouse, l.qty])).toEqual([[first, 3]]);
    const pinned = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 2 }],
      warehouse: second,
    });
    expect(pinned.lines.map((l) => [l.warehouse, l.qty])).toEqual([[second, 2]]);
    const elsewhere = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 5 }] });
    expect(elsewhere.lines.map((l) => [l.warehouse, l.qty])).toEqual([[second, 5]]);
    const split = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }] });
    expect(split.lines.map((l) => [l.warehouse, l.qty])).toEqual([
      [first, 1],
      [second, 3],
    ]);
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], warehouse: first }),
    ).rejects.toThrow(InsufficientStockError);
    expect(await levels(h.s, sku, wh)).toEqual({ [first]: [4, 4, 0], [second]: [10, 10, 0] });
  });

  it('routes to the nearest warehouse among equals when ship_to is given', async () => {
    const sku = uniq('GEO');
    const [ams, ber] = [uniq('AMS'), uniq('BER')];
    await h.s.catalog.addWarehouse({ code: ams, name: 'Amsterdam', lat: 52.37, lon: 4.9, priority: -999 });
    await h.s.catalog.addWarehouse({ code: ber, name: 'Berlin', lat: 52.52, lon: 13.4, priority: -999 });
    await h.s.catalog.addVariant({ sku, product: { title: sku } });
    await h.s.stock.receive({ sku, warehouse: ams, qty: 5 });
    await h.s.stock.receive({ sku, warehouse: ber, qty: 9 });
    const toPotsdam = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 1 }],
      ship_to: { lat: 52.39, lon: 13.06 },
    });
    const toRotterdam = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 1 }],
      ship_to: { lat: 51.92, lon: 4.48 },
    });
    expect([toPotsdam.lines[0]!.warehouse, toRotterdam.lines[0]!.warehouse]).toEqual([ber, ams]);
  });

  it('routes only to warehouses that serve the ship-to point or region, exactly as availability counts them', async () => {
    const sku = uniq('AREA');
    const [ber, nwk] = [uniq('BER'), uniq('NWK')];
    await h.s.catalog.addWarehouse({
      code: ber,
      name: 'Berlin shop',
      lat: 52.52,
      lon: 13.4,
      serves_within_km: 50,
      priority: -999,
    });
    await h.s.catalog.addVariant({ sku, product: { title: sku } });
    await h.s.stock.receive({ sku, warehouse: ber, qty: 5 });
    const newYork = { lat: 40.71, lon: -74.01 };
    const storefront = async (query: Record<string, string>) =>
      (await h.s.availability.get({ sku: [sku], ...query })).items[0]?.available;

    // stocked only in a Berlin shop that delivers within 50 km: New York is refused, saying why, and nothing is held
    expect(await storefront({ ship_to: '40.71,-74.01' })).toBe(0);
    const toNewYork = h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], ship_to: newYork });
    await expect(toNewYork).rejects.toThrow(InsufficientStockError);
    await expect(toNewYork).rejects.toMatchObject({
      status: 409,
      lines: [{ sku, requested: 1, available: 0, reason: '5 more in warehouses that do not serve the destination' }],
    });
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], ship_to: newYork, warehouse: ber }),
    ).rejects.toMatchObject({
      lines: [{ sku, available: 0, reason: `${ber} does not serve the destination` }],
    });
    expect(await levels(h.s, sku, [ber])).toEqual({ [ber]: [5, 0, 5] });

    // a warehouse that serves New York is chosen once there is one; Potsdam is still Berlin's
    await h.s.catalog.addWarehouse({
      code: nwk,
      name: 'Newark',
      lat: 40.73,
      lon: -74.17,
      regions: ['US'],
      priority: -999,
    });
    await h.s.stock.receive({ sku, warehouse: nwk, qty: 2 });
    expect(await storefront({ ship_to: '40.71,-74.01' })).toBe(2);
    const ny = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], ship_to: newYork });
    expect(ny.lines.map((l) => [l.warehouse, l.qty])).toEqual([[nwk, 1]]);
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }], ship_to: newYork }),
    ).rejects.toMatchObject({
      lines: [{ sku, requested: 2, available: 1 }],
    });
    const potsdam = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 1 }],
      ship_to: { lat: 52.39, lon: 13.06 },
    });
    expect(potsdam.lines.map((l) => l.warehouse)).toEqual([ber]);

    // by region: Newark ships to the US only, the shop names no region (so serves any, within its radius)
    expect(await storefront({ region: 'EU' })).toBe(4);
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 5 }], region: 'EU' }),
    ).rejects.toMatchObject({
      lines: [{ sku, requested: 5, available: 4, reason: '1 more in warehouses that do not serve the destination' }],
    });
    const us = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [{ sku, qty: 1 }],
      region: 'us',
      ship_to: newYork,
    });
    expect(us.lines.map((l) => l.warehouse)).toEqual([nwk]);
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], region: 'US', ship_to: newYork }),
    ).rejects.toMatchObject({
      lines: [{ sku, available: 0 }],
    });
    expect(await levels(h.s, sku, [ber, nwk])).toEqual({ [ber]: [5, 1, 4], [nwk]: [2, 2, 0] });
  });

  it('pre-order and backorder variants sell below zero down to their limit per warehouse, and the reservation says so', async () => {
    const { sku, wh } = await world(h.s, [2], { backorder: { policy: 'preorder', limit: 5, lead_days: 14 } });
    const here = { warehouse: wh[0]! };
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }], ...here });
    expect(r).toMatchObject({ backordered: true, lines: [{ qty: 4, backordered: 2 }] });
    const r2 = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }], ...here });
    expect(r2.lines[0]!.backordered).toBe(3);
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], ...here }),
    ).rejects.toMatchObject({
      lines: [{ available: 0 }],
    });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [2, 7, -5] });
  });

  it('uses stock anywhere before selling short, then sells short in routing order', async () => {
    const { sku, wh } = await world(h.s, [1, 2], { backorder: { policy: 'backorder', limit: 3 } });
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 5 }] });
    expect(r.lines.map((l) => [l.warehouse, l.qty, l.backordered])).toEqual([
      [wh[0], 3, 2],
      [wh[1], 2, 0],
    ]);
  });

  it('a deny variant never sells short', async () => {
    const { sku, wh } = await world(h.s, [1]);
    await expect(h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }] })).rejects.toThrow(
      InsufficientStockError,
    );
    await h.s.catalog.updateVariant(sku, { backorder: { policy: 'backorder', limit: 2 } });
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }], warehouse: wh[0]! });
    await h.s.catalog.updateVariant(sku, { backorder: { policy: 'deny' } });
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }], warehouse: wh[0]! }),
    ).rejects.toThrow(InsufficientStockError);
  });

  it('commit removes the deadline; a committed reservation never expires', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 2 }], ttl_seconds: 60 });
    const c = await h.s.reservations.commit(r.id);
    expect(c).toMatchObject({ status: 'committed', expires_at: null });
    expect((await h.s.reservations.commit(r.id)).status).toBe('committed');
    h.clock.advance(365 * 24 * 3600);
    await h.s.reservations.expireDue();
    expect((await h.s.reservations.get(r.id)).status).toBe('committed');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 2, 3] });
  });

  it('the sweeper releases pending reservations past their TTL and only those', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const short = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }], ttl_seconds: 30 });
    const long = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }], ttl_seconds: 120 });
    h.clock.advance(29);
    await h.s.reservations.expireDue();
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 7, 3] });
    h.clock.advance(1);
    expect(await h.s.reservations.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 4, 6] });
    expect(await h.s.reservations.get(short.id)).toMatchObject({ status: 'expired', lines: [{ released: 3 }] });
    expect((await h.s.reservations.get(long.id)).status).toBe('pending');
    expect((await reserveMovements(short.id)).map((m) => [m.type, m.delta_reserved, m.actor])).toEqual([
      ['expire', -3, 'sweeper'],
      ['reserve', 3, null],
    ]);
  });

  it('an expired reservation reads as expired and holds nothing, even before the sweeper runs', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }], ttl_seconds: 10 });
    h.clock.advance(11);
    expect((await h.s.reservations.get(r.id)).status).toBe('expired');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 0, 10] });
  });

  it('committing or fulfilling a reservation past its deadline is refused, and it is expired', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }], ttl_seconds: 10 });
    h.clock.advance(10);
    await expect(h.s.reservations.commit(r.id)).rejects.toMatchObject({ code: 'invalid_transition', from: 'expired' });
    await expect(h.s.reservations.fulfil(r.id)).rejects.toThrow(InvalidTransitionError);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 0, 10] });
  });

  it('fulfil ships everything: on hand and reserved drop at the warehouses reserved from', async () => {
    const { sku, wh } = await world(h.s, [2, 3]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }] });
    await h.s.reservations.commit(r.id);
    const f = await h.s.reservations.fulfil(r.id);
    expect(f).toMatchObject({ status: 'fulfilled', lines: [{ fulfilled: 2 }, { fulfilled: 2 }] });
    expect(f.closed_at).not.toBeNull();
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [0, 0, 0], [wh[1]!]: [1, 0, 1] });
    expect(
      (await reserveMovements(r.id))
        .filter((m) => m.type === 'fulfil')
        .map((m) => [m.warehouse, m.delta_on_hand, m.delta_reserved]),
    ).toEqual(
      expect.arrayContaining([
        [wh[0], -2, -2],
        [wh[1], -2, -2],
      ]),
    );
  });

  it('partial fulfilment ships some, keeps the rest reserved, and cancel releases only the rest', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const other = await world(h.s, [3]);
    const r = await h.s.reservations.reserve({
      order_ref: uniq('o'),
      lines: [
        { sku, qty: 5 },
        { sku: other.sku, qty: 2 },
      ],
    });
    const p = await h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 2 }] });
    expect(p.status).toBe('partially_fulfilled');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [8, 3, 5] });
    await expect(h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 4 }] })).rejects.toThrow(/4 exceeds the 3 units/);
    const c = await h.s.reservations.release(r.id);
    expect(c).toMatchObject({
      status: 'released',
      lines: [
        { fulfilled: 2, released: 3 },
        { fulfilled: 0, released: 2 },
      ],
    });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [8, 0, 8] });
    expect(await levels(h.s, other.sku, other.wh)).toEqual({ [other.wh[0]!]: [3, 0, 3] });
  });

  it('fulfilling the rest of a partially fulfilled reservation completes it', async () => {
    const { sku } = await world(h.s, [10]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 5 }] });
    await h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 2 }] });
    expect((await h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 3 }] })).status).toBe('fulfilled');
  });

  it('cannot ship units that a count found missing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 4 }] });
    await h.s.stock.count({ sku, warehouse: wh[0]!, counted: 1 });
    await expect(h.s.reservations.fulfil(r.id)).rejects.toMatchObject({
      code: 'insufficient_stock',
      lines: [{ sku, requested: 4, available: 1 }],
    });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [1, 4, -3] });
  });

  it('refuses every transition out of a final state', async () => {
    const { sku } = await world(h.s, [10]);
    const released = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }] });
    await h.s.reservations.release(released.id);
    const fulfilled = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }] });
    await h.s.reservations.fulfil(fulfilled.id);
    for (const id of [released.id, fulfilled.id]) {
      await expect(h.s.reservations.commit(id)).rejects.toThrow(InvalidTransitionError);
      await expect(h.s.reservations.fulfil(id)).rejects.toThrow(InvalidTransitionError);
      await expect(h.s.reservations.release(id)).rejects.toThrow(InvalidTransitionError);
    }
    await expect(h.s.reservations.fulfil(released.id)).rejects.toThrow('cannot fulfil a reservation that is released');
  });

  it('idempotent replays of reserve, commit and fulfil return the first answer and change nothing', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const body = { order_ref: uniq('o'), lines: [{ sku, qty: 2 }] };
    const key = uniq('key');
    const first = await h.s.reservations.reserve(body, { idempotencyKey: key });
    expect(
      await h.s.reservations.reserve({ lines: [{ qty: 2, sku }], order_ref: body.order_ref }, { idempotencyKey: key }),
    ).toEqual(first);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 2, 8] });
    const committed = await h.s.reservations.commit(first.id, { idempotencyKey: `${key}-c` });
    expect(await h.s.reservations.commit(first.id, { idempotencyKey: `${key}-c` })).toEqual(committed);
    const partial = await h.s.reservations.fulfil(
      first.id,
      { lines: [{ sku, qty: 1 }] },
      { idempotencyKey: `${key}-f` },
    );
    expect(
      await h.s.reservations.fulfil(first.id, { lines: [{ sku, qty: 1 }] }, { idempotencyKey: `${key}-f` }),
    ).toEqual(partial);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [9, 1, 8] });
    expect((await reserveMovements(first.id)).length).toBe(2);
  });

  it('an idempotency key that is empty, blank or over 200 characters is refused as the header is, and refuses only its own call of a group', async () => {
    const { sku, wh } = await world(h.s, [10]);
    for (const [key, message] of [
      ['', 'must not be empty'],
      ['  ', 'must not be empty'],
      ['k'.repeat(201), 'must be at most 200 characters'],
    ] as const) {
      // reserved together: the one with the bad key is refused, the other is held
      const [bad, good] = await Promise.allSettled([
        h.s.reservations.reserve({ order_ref: uniq('bad-key'), lines: [{ sku, qty: 1 }] }, { idempotencyKey: key }),
        h.s.reservations.reserve({ order_ref: uniq('ok'), lines: [{ sku, qty: 1 }] }, { idempotencyKey: uniq('k') }),
      ]);
      expect(bad).toMatchObject({
        status: 'rejected',
        reason: { code: 'validation_failed', errors: [{ path: '/idempotency_key', message }] },
      });
      expect(good.status).toBe('fulfilled');
      const held = good.status === 'fulfilled' ? good.value.id : '';
      await expect(h.s.reservations.commit(held, { idempotencyKey: key })).rejects.toThrow(ValidationError);
    }
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 3, 7] });
    const longest = 'k'.repeat(200);
    const taken = await h.s.reservations.reserve(
      { order_ref: uniq('long'), lines: [{ sku, qty: 1 }] },
      { idempotencyKey: longest },
    );
    expect(await h.s.reservations.commit(taken.id, { idempotencyKey: longest })).toMatchObject({ status: 'committed' });
  });

  it('the same idempotency key with another body is refused and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const key = uniq('key');
    const r = await h.s.reservations.reserve(
      { order_ref: uniq('o'), lines: [{ sku, qty: 2 }] },
      { idempotencyKey: key },
    );
    await expect(
      h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 3 }] }, { idempotencyKey: key }),
    ).rejects.toThrow(IdempotencyConflictError);
    await h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 1 }] }, { idempotencyKey: `${key}-f` });
    await expect(
      h.s.reservations.fulfil(r.id, { lines: [{ sku, qty: 2 }] }, { idempotencyKey: `${key}-f` }),
    ).rejects.toMatchObject({ code: 'idempotency_conflict' });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [9, 1, 8] });
  });

  it('a refused attempt does not use up its idempotency key', async () => {
    const { sku, wh } = await world(h.s, [1]);
    const key = uniq('key');
    const body = { order_ref: uniq('o'), lines: [{ sku, qty: 2 }] };
    await expect(h.s.reservations.reserve(body, { idempotencyKey: key })).rejects.toThrow(InsufficientStockError);
    await h.s.stock.receive({ sku, warehouse: wh[0]!, qty: 1 });
    expect((await h.s.reservations.reserve(body, { idempotencyKey: key })).status).toBe('pending');
  });

  it('bad input is refused with a clear error and changes nothing', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const attempts: [() => Promise<unknown>, unknown][] = [
      [() => h.s.reservations.reserve({ order_ref: 'x', lines: [{ sku, qty: 0 }] }), /\/lines\/0\/qty: must be >= 1/],
      [() => h.s.reservations.reserve({ order_ref: 'x', lines: [{ sku, qty: -1 }] }), ValidationError],
      [() => h.s.reservations.reserve({ order_ref: 'x', lines: [] }), ValidationError],
      [() => h.s.reservations.reserve({ order_ref: 'x', lines: [{ sku, qty: 1 }], ttl_seconds: 0 }), /ttl_seconds/],
      [() => h.s.reservations.reserve({ lines: [{ sku, qty: 1 }] } as unknown as ReserveInput), /order_ref/],
      [
        () =>
          h.s.reservations.reserve({
            order_ref: 'x',
            lines: [
              { sku: 'NOPE-9', qty: 1 },
              { sku, qty: 1 },
            ],
          }),
        UnknownSkuError,
      ],
      [
        () => h.s.reservations.reserve({ order_ref: 'x', lines: [{ sku, qty: 1 }], warehouse: 'NOWHERE' }),
        NotFoundError,
      ],
      [() => h.s.reservations.commit('00000000-0000-4000-8000-000000000000'), NotFoundError],
      [() => h.s.reservations.commit('not-a-uuid'), /not a reservation id/],
      [
        () => h.s.reservations.fulfil('00000000-0000-4000-8000-000000000000', { lines: [{ sku, qty: 0 }] }),
        ValidationError,
      ],
    ];
    for (const [attempt, expected] of attempts) await expect(attempt()).rejects.toThrow(expected);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 0, 5] });
  });

  it('fulfilling a SKU that is not on the reservation is refused', async () => {
    const { sku } = await world(h.s, [5]);
    const r = await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku, qty: 1 }] });
    await expect(h.s.reservations.fulfil(r.id, { lines: [{ sku: 'OTHER-1', qty: 1 }] })).rejects.toThrow(
      /OTHER-1 is not on this reservation/,
    );
  });
});
