import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import { Stockroom } from '../src/services/stockroom.js';
import { openPostgres } from '../src/store/postgres.js';
import { drivers, postgresUrl } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import type { Harness } from './support/harness.js';
import { listen, useListening } from './support/listening.js';
import { ADMIN_KEY, apiCall, expectServerDatabaseReconciled, serverDatabase } from './support/served.js';
import type { ApiReply, ServerDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

/** The reservations of an order_ref as the database holds them, in the order they were made (by their first ledger row). */
async function reservationsOf(h: Harness, orderRef: string): Promise<{ id: string; status: string }[]> {
  const { rows } = await h.s.db.query<{ id: string; status: string }>(
    `SELECT r.id, r.status FROM reservations r WHERE r.order_ref = $1
      ORDER BY (SELECT min(m.id) FROM stock_movements m WHERE m.reservation_id = r.id)`,
    [orderRef],
  );
  return rows;
}

const OPEN = ['pending', 'committed', 'partially_fulfilled'];

describe.each(drivers())('one reservation per order_ref, over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h);
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply> =>
    apiCall(served, method, path, { key: served.keys['checkout'], body, ...(headers ? { headers } : {}) });
  const reserve = (body: Record<string, unknown>, headers?: Record<string, string>) =>
    call('POST', '/v1/reservations', body, headers);

  it('refuses a second open reservation for an order_ref with 409 already_exists naming the open one', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const order = uniq('web');
    const first = await reserve({ order_ref: order, lines: [{ sku, qty: 3 }] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ order_ref: order, unique_order_ref: true, status: 'pending' });
    const again = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] });
    expect(again).toMatchObject({
      status: 409,
      type: expect.stringContaining('application/problem+json') as unknown,
      body: {
        code: 'already_exists',
        status: 409,
        resource: 'reservation',
        key: order,
        reservation_id: first.body['id'],
        reservation_status: 'pending',
      },
    });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 3, 7] });
    // committed is still open: still refused, still named
    expect((await call('POST', `/v1/reservations/${String(first.body['id'])}/commit`)).status).toBe(200);
    expect((await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] })).body).toMatchObject({
      code: 'already_exists',
      reservation_id: first.body['id'],
      reservation_status: 'committed',
    });
    expect(await reservationsOf(h, order)).toEqual([{ id: first.body['id'], status: 'committed' }]);
  });

  it('replaces the open pending reservation in one step, the new one using the units the old one held', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const other = await world(h.s, [4]);
    const order = uniq('cart');
    const old = await reserve({
      order_ref: order,
      lines: [
        { sku, qty: 3 },
        { sku: other.sku, qty: 4 },
      ],
    });
    expect(old.status).toBe(201);
    // all 5 units: 2 free and the 3 the old cart holds
    const replaced = await reserve({ order_ref: order, lines: [{ sku, qty: 5 }], replace: true });
    expect(replaced).toMatchObject({ status: 201, body: { status: 'pending', lines: [{ sku, qty: 5 }] } });
    expect(replaced.body['id']).not.toBe(old.body['id']);
    expect((await call('GET', `/v1/reservations/${String(old.body['id'])}`)).body).toMatchObject({
      status: 'released',
      lines: [
        { sku, qty: 3, released: 3 },
        { sku: other.sku, qty: 4, released: 4 },
      ],
    });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 5, 0] });
    expect(await levels(h.s, other.sku, other.wh)).toEqual({ [other.wh[0]!]: [4, 0, 4] });
    // the ledger tells the same story: the old hold given back, then the new one taken
    const { rows } = await h.s.db.query<{ type: string; delta_reserved: number; reservation_id: string }>(
      `SELECT m.type, m.delta_reserved, m.reservation_id FROM stock_movements m JOIN variants v ON v.id = m.variant_id
        WHERE v.sku = $1 AND m.type IN ('reserve', 'release') ORDER BY m.id`,
      [sku],
    );
    expect(rows).toEqual([
      { type: 'reserve', delta_reserved: 3, reservation_id: old.body['id'] },
      { type: 'release', delta_reserved: -3, reservation_id: old.body['id'] },
      { type: 'reserve', delta_reserved: 5, reservation_id: replaced.body['id'] },
    ]);
    // with no open reservation to replace, replace simply reserves
    const fresh = await reserve({ order_ref: uniq('cart'), lines: [{ sku: other.sku, qty: 1 }], replace: true });
    expect(fresh.status).toBe(201);
  });

  it('a replacement that cannot be held changes nothing: the old reservation keeps every unit', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const order = uniq('cart');
    const old = await reserve({ order_ref: order, lines: [{ sku, qty: 3 }] });
    const short = await reserve({ order_ref: order, lines: [{ sku, qty: 6 }], replace: true });
    expect(short).toMatchObject({
      status: 409,
      body: { code: 'insufficient_stock', lines: [{ sku, requested: 6, available: 5 }] },
    });
    const unknown = await reserve({ order_ref: order, lines: [{ sku: uniq('NOPE'), qty: 1 }], replace: true });
    expect(unknown.body).toMatchObject({ code: 'unknown_sku' });
    expect((await call('GET', `/v1/reservations/${String(old.body['id'])}`)).body).toEqual(old.body);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [5, 3, 2] });
    expect(await reservationsOf(h, order)).toEqual([{ id: old.body['id'], status: 'pending' }]);
  });

  it('refuses to replace a committed or partly shipped reservation, naming it', async () => {
    const { sku, wh } = await world(h.s, [5]);
    const order = uniq('paid');
    const old = await reserve({ order_ref: order, lines: [{ sku, qty: 2 }] });
    const id = String(old.body['id']);
    await call('POST', `/v1/reservations/${id}/commit`);
    await call('POST', `/v1/reservations/${id}/fulfil`, { lines: [{ sku, qty: 1 }] });
    const refused = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }], replace: true });
    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'already_exists', reservation_id: id, reservation_status: 'partially_fulfilled' },
    });
    expect(String(refused.body['detail'])).toContain('only a pending reservation is replaced');
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [4, 1, 3] });
    await call('POST', `/v1/reservations/${id}/cancel`);
  });

  it('opted-out reservations neither block nor are blocked; replace with the opt-out is refused as invalid', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const order = uniq('split');
    const a = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }], unique_order_ref: false });
    const b = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }], unique_order_ref: false });
    const unique = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] });
    const c = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }], unique_order_ref: false });
    expect([a.status, b.status, unique.status, c.status]).toEqual([201, 201, 201, 201]);
    expect(a.body['unique_order_ref']).toBe(false);
    // the one unique reservation still holds the order_ref against other unique ones
    expect((await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] })).body).toMatchObject({
      code: 'already_exists',
      reservation_id: unique.body['id'],
    });
    // and replacing replaces it alone: the opted-out ones are not touched
    const replaced = await reserve({ order_ref: order, lines: [{ sku, qty: 2 }], replace: true });
    expect(replaced.status).toBe(201);
    expect((await reservationsOf(h, order)).map((r) => r.status).sort()).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'released',
    ]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 5, 5] });
    const both = await reserve({
      order_ref: order,
      lines: [{ sku, qty: 1 }],
      replace: true,
      unique_order_ref: false,
    });
    expect(both).toMatchObject({ status: 400, body: { code: 'validation_failed', errors: [{ path: '/replace' }] } });
    const typo = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }], replace: 'yes' });
    expect(typo).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 5, 5] });
  });

  it('an order_ref whose reservation was released, fulfilled or expired is free again', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const order = uniq('again');
    const released = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] });
    await call('POST', `/v1/reservations/${String(released.body['id'])}/cancel`);
    const fulfilled = await reserve({ order_ref: order, lines: [{ sku, qty: 1 }] });
    expect(fulfilled.status).toBe(201);
    await call('POST', `/v1/reservations/${String(fulfilled.body['id'])}/fulfil`);
    const expiring = await reserve({ order_ref: order, lines: [{ sku, qty: 2 }], ttl_seconds: 10 });
    expect(expiring.status).toBe(201);
    // past its deadline it holds nothing, swept or not: the order_ref is free, and the hold is expired on the way
    h.clock.advance(11);
    const last = await reserve({ order_ref: order, lines: [{ sku, qty: 3 }] });
    expect(last.status).toBe(201);
    expect((await reservationsOf(h, order)).map((r) => r.status)).toEqual([
      'released',
      'fulfilled',
      'expired',
      'pending',
    ]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [9, 3, 6] });
  });

  it('frees the order_ref of a reservation past its deadline on other SKUs than the new order names', async () => {
    const first = await world(h.s, [10]);
    const second = await world(h.s, [10]);
    const order = uniq('elsewhere');
    const expiring = await reserve({ order_ref: order, lines: [{ sku: first.sku, qty: 2 }], ttl_seconds: 10 });
    expect(expiring.status).toBe(201);
    h.clock.advance(11);
    // not a replace, and nothing of the first SKU asked for: the due one is still expired with its levels
    const next = await reserve({ order_ref: order, lines: [{ sku: second.sku, qty: 1 }] });
    expect(next.status).toBe(201);
    expect((await reservationsOf(h, order)).map((r) => r.status)).toEqual(['expired', 'pending']);
    expect(await levels(h.s, first.sku, first.wh)).toEqual({ [first.wh[0]!]: [10, 0, 10] });
  });

  it('an idempotent retry replays its answer instead of meeting its own reservation', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const order = uniq('retry');
    const key = { 'idempotency-key': uniq('key') };
    const first = await reserve({ order_ref: order, lines: [{ sku, qty: 2 }] }, key);
    const replay = await reserve({ order_ref: order, lines: [{ sku, qty: 2 }] }, key);
    expect(replay).toEqual(first);
    const replaceKey = { 'idempotency-key': uniq('key') };
    const replaced = await reserve({ order_ref: order, lines: [{ sku, qty: 4 }], replace: true }, replaceKey);
    expect(await reserve({ order_ref: order, lines: [{ sku, qty: 4 }], replace: true }, replaceKey)).toEqual(replaced);
    expect(await reservationsOf(h, order)).toEqual([
      { id: first.body['id'], status: 'released' },
      { id: replaced.body['id'], status: 'pending' },
    ]);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, 4, 6] });
  });

  it('two orders with one order_ref sent together: the second is decided after the first', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const order = uniq('twice');
    const [a, b] = await Promise.all([
      reserve({ order_ref: order, lines: [{ sku, qty: 1 }] }),
      reserve({ order_ref: order, lines: [{ sku, qty: 2 }] }),
    ]);
    const won = [a, b].filter((reply) => reply.status === 201);
    const refused = [a, b].filter((reply) => reply.status === 409);
    expect([won.length, refused.length]).toEqual([1, 1]);
    expect(refused[0]!.body).toMatchObject({ code: 'already_exists', reservation_id: won[0]!.body['id'] });
    const [c, d] = await Promise.all([
      reserve({ order_ref: order, lines: [{ sku, qty: 3 }], replace: true }),
      reserve({ order_ref: order, lines: [{ sku, qty: 4 }], replace: true }),
    ]);
    expect([c.status, d.status]).toEqual([201, 201]);
    const open = (await reservationsOf(h, order)).filter((r) => OPEN.includes(r.status));
    expect(open).toHaveLength(1);
    expect([c.body['id'], d.body['id']]).toContain(open[0]!.id);
    const held = open[0]!.id === c.body['id'] ? 3 : 4;
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [10, held, 10 - held] });
  });
});

describe.each(drivers())('one reservation per order_ref under concurrency on %s', (driver) => {
  const h = useStockroom(driver);
  /** servers as separate processes would be: on PostgreSQL each with its own Stockroom, pool and group commit */
  const servers: { url: string; close: () => Promise<void> }[] = [];
  let key = '';

  beforeAll(async () => {
    key = (await h.s.keys.create({ name: uniq('checkout'), scopes: ['checkout'] })).key;
    const stockrooms =
      driver === 'postgres'
        ? await Promise.all(
            Array.from(
              { length: 4 },
              async () => new Stockroom({ db: await openPostgres(h.test.url!, { max: 3 }), clock: h.clock.now }),
            ),
          )
        : [h.s];
    for (const stockroom of stockrooms) {
      const { app, url } = await listen(stockroom);
      servers.push({
        url,
        close: async () => {
          await app.close();
          if (stockroom !== h.s) await stockroom.close();
        },
      });
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('60 clients reserving one order_ref at once, some replacing: exactly one open reservation is left', async () => {
    const { sku, wh } = await world(h.s, [100]);
    const order = uniq('race');
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        apiCall(servers[i % servers.length]!, 'POST', '/v1/reservations', {
          key,
          body: { order_ref: order, lines: [{ sku, qty: 1 + (i % 3) }], ...(i % 2 === 0 ? { replace: true } : {}) },
        }),
      ),
    );
    // only answers the rule allows: held, or refused naming an open reservation of this order
    for (const reply of replies) {
      expect([201, 409]).toContain(reply.status);
      if (reply.status === 409) expect(reply.body).toMatchObject({ code: 'already_exists', key: order });
    }
    expect(replies.filter((reply) => reply.status === 201).length).toBeGreaterThanOrEqual(1);
    const open = (await reservationsOf(h, order)).filter((r) => OPEN.includes(r.status));
    expect(open).toHaveLength(1);
    const held = await h.s.reservations.get(open[0]!.id);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [100, held.lines[0]!.qty, 100 - held.lines[0]!.qty] });
  });

  it('60 clients on 20 order_refs, none replacing: one reservation per order_ref, the rest refused', async () => {
    const { sku, wh } = await world(h.s, [100]);
    const orders = Array.from({ length: 20 }, () => uniq('many'));
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        apiCall(servers[i % servers.length]!, 'POST', '/v1/reservations', {
          key,
          body: { order_ref: orders[i % 20], lines: [{ sku, qty: 1 }] },
        }),
      ),
    );
    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(20);
    expect(replies.filter((reply) => reply.status === 409 && reply.body.code === 'already_exists')).toHaveLength(40);
    for (const order of orders) expect(await reservationsOf(h, order)).toHaveLength(1);
    expect(await levels(h.s, sku, wh)).toEqual({ [wh[0]!]: [100, 20, 80] });
  });
});

describe('one reservation per order_ref, and finding reservations, from the command line', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-orders-cli-'));
    env = { STOCKROOM_DATA: join(dir, 'data') };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await run(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) }, env);
    return { code, out, err };
  };

  it('refuses a second reservation for an order, replaces with --replace, and lists them', async () => {
    expect((await cli('warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli('variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    expect((await cli('receive', 'TEE-M', 'AMS', '5')).code).toBe(0);
    const first = JSON.parse((await cli('reserve', 'web-1', 'TEE-M:2', '--json')).out) as { id: string };
    const again = await cli('reserve', 'web-1', 'TEE-M:1');
    expect(again.code).not.toBe(0);
    expect(again.err).toContain(`order web-1 has open reservation ${first.id} (pending)`);
    const replaced = JSON.parse((await cli('reserve', 'web-1', 'TEE-M:5', '--replace', '--json')).out) as {
      id: string;
    };
    expect((await cli('receive', 'TEE-M', 'AMS', '1')).code).toBe(0);
    const extra = JSON.parse((await cli('reserve', 'web-1', 'TEE-M:1', '--not-unique', '--json')).out) as {
      id: string;
      unique_order_ref: boolean;
    };
    expect(extra.unique_order_ref).toBe(false);
    const listed = JSON.parse((await cli('reservations', 'list', '--order-ref', 'web-1', '--json')).out) as {
      items: { id: string; status: string }[];
      total: number;
    };
    expect(listed.total).toBe(3);
    expect(listed.items.map((reservation) => [reservation.id, reservation.status]).sort()).toEqual(
      [
        [first.id, 'released'],
        [replaced.id, 'pending'],
        [extra.id, 'pending'],
      ].sort(),
    );
    const human = await cli('reservations', 'list', '--status', 'released');
    expect(human.out).toMatch(/^1 reservation\n/);
    expect(human.out).toContain(first.id);
    const bad = await cli('reservations', 'list', '--status', 'lost');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('status');
    expect((await cli('reconcile')).code).toBe(0);
  });
});

describe.skipIf(!postgresUrl())('one reservation per order_ref across server processes on PostgreSQL', () => {
  let database: ServerDatabase;
  const processes: ServerProcess[] = [];
  beforeAll(async () => {
    database = await serverDatabase('postgres');
    const env = { ...database.env, STOCKROOM_ADMIN_KEY: ADMIN_KEY };
    processes.push(...(await Promise.all([startServer(env), startServer(env), startServer(env)])));
  });
  afterAll(async () => {
    for (const server of processes) expect(await server.stop()).toBe(0);
    await expectServerDatabaseReconciled(database);
    await database.cleanup();
  });

  it('three processes, 60 clients on 10 order_refs replacing and reserving: one open reservation per order_ref', async () => {
    const [first] = processes;
    expect((await apiCall(first!, 'POST', '/v1/warehouses', { body: { code: 'AMS', name: 'Amsterdam' } })).status).toBe(
      201,
    );
    expect(
      (await apiCall(first!, 'POST', '/v1/variants', { body: { sku: 'TEE-M', product: { title: 'Tee' } } })).status,
    ).toBe(201);
    expect(
      (await apiCall(first!, 'POST', '/v1/stock/receive', { body: { sku: 'TEE-M', warehouse: 'AMS', qty: 500 } }))
        .status,
    ).toBe(200);
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        apiCall(processes[i % 3]!, 'POST', '/v1/reservations', {
          body: {
            order_ref: `proc-${i % 10}`,
            lines: [{ sku: 'TEE-M', qty: 1 + (i % 4) }],
            ...(i % 2 === 0 ? { replace: true } : {}),
          },
        }),
      ),
    );
    for (const reply of replies) expect([201, 409]).toContain(reply.status);
    const stockroom = await database.open();
    try {
      const { rows } = await stockroom.db.query<{ order_ref: string; open: number; held: number }>(
        `SELECT r.order_ref, count(*)::int AS open, sum(rl.qty)::int AS held
           FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
          WHERE r.status IN ('pending', 'committed', 'partially_fulfilled') GROUP BY r.order_ref ORDER BY r.order_ref`,
      );
      expect(rows.map((row) => [row.order_ref, row.open])).toEqual(
        Array.from({ length: 10 }, (_, i) => [`proc-${i}`, 1]).sort(),
      );
      const stock = await stockroom.stock.get('TEE-M');
      expect(stock.total.reserved).toBe(rows.reduce((sum, row) => sum + row.held, 0));
    } finally {
      await stockroom.close();
    }
  });
});
