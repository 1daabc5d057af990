import { describe, expect, it } from 'vitest';
import type { Reservation } from '../src/services/dto.js';
import { Stockroom } from '../src/services/stockroom.js';
import { reservationCountStatement, reservationPageStatement } from '../src/store/reservation-search.js';
import type { ReservationFilter } from '../src/store/reservation-search.js';
import { drivers, postgresUrl } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { listen, useListening } from './support/listening.js';
import { apiCall } from './support/served.js';

interface ListReply {
  status: number;
  body: {
    items: Reservation[];
    next_cursor: string | null;
    total: number;
    total_exact: boolean;
    code?: string;
    errors?: unknown;
  };
}

describe.each(drivers())('listing reservations over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['checkout', 'storefront']);
  const call = async (path: string, key = served.keys['checkout']): Promise<ListReply> =>
    (await apiCall(served, 'GET', path, { key })) as unknown as ListReply;
  const reserve = (body: Record<string, unknown>) => h.s.reservations.reserve(body as never);

  it('pages through every match newest first, without duplicates or gaps, with the total on every page', async () => {
    const { sku } = await world(h.s, [100]);
    const made: string[] = [];
    for (let i = 0; i < 11; i++) {
      // two at each instant: the id breaks the tie, and paging must not lose either
      if (i % 2 === 0) h.clock.advance(1);
      made.push((await reserve({ order_ref: uniq('page'), lines: [{ sku, qty: 1 }] })).id);
    }
    const seen: string[] = [];
    let path = `/v1/reservations?sku=${sku}&limit=3`;
    let pages = 0;
    for (;;) {
      const page = await call(path);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ total: 11, total_exact: true });
      seen.push(...page.body.items.map((reservation) => reservation.id));
      pages++;
      if (page.body.next_cursor === null) break;
      path = `/v1/reservations?sku=${sku}&limit=3&cursor=${encodeURIComponent(page.body.next_cursor)}`;
    }
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(11);
    expect(seen.sort()).toEqual([...made].sort());
    // newest first: by creation time, then id
    const all = await call(`/v1/reservations?sku=${sku}&limit=500`);
    const order = all.body.items.map((reservation) => [reservation.created_at, reservation.id].join(' '));
    expect(order).toEqual([...order].sort().reverse());
    expect(all.body.items[0]).toMatchObject({ lines: [{ sku, qty: 1 }], status: 'pending' });
  });

  it('counts at most its total limit: past it the total is the limit and says it is not exact, on every page', async () => {
    const { sku } = await world(h.s, [20]);
    for (let i = 0; i < 7; i++) await reserve({ order_ref: uniq('cap'), lines: [{ sku, qty: 1 }] });
    const capped = new Stockroom({ db: h.s.db, clock: h.clock.now, listTotalMax: 5 });
    const { app, url } = await listen(capped);
    try {
      const first = (await apiCall({ url }, 'GET', `/v1/reservations?sku=${sku}&limit=4`, {
        key: served.keys['checkout'],
      })) as unknown as ListReply;
      expect(first.body).toMatchObject({ total: 5, total_exact: false });
      const second = (await apiCall(
        { url },
        'GET',
        `/v1/reservations?sku=${sku}&limit=4&cursor=${first.body.next_cursor}`,
        { key: served.keys['checkout'] },
      )) as unknown as ListReply;
      expect(second.body).toMatchObject({ total: 5, total_exact: false, next_cursor: null });
      expect(first.body.items.length + second.body.items.length).toBe(7);
      expect((await call(`/v1/reservations?sku=${sku}`)).body).toMatchObject({ total: 7, total_exact: true });
    } finally {
      await app.close();
    }
    const page = await h.s.reservations.list({ sku });
    for (const reservation of page.items) await h.s.reservations.release(reservation.id);
  });

  it('counts the total of the filters asked for on every page: a cursor carries no total to forge or carry over', async () => {
    const a = await world(h.s, [20]);
    const b = await world(h.s, [20]);
    for (let i = 0; i < 3; i++) await reserve({ order_ref: uniq('a'), lines: [{ sku: a.sku, qty: 1 }] });
    await reserve({ order_ref: uniq('b'), lines: [{ sku: b.sku, qty: 1 }] });
    const first = await call(`/v1/reservations?sku=${a.sku}&limit=1`);
    expect(first.body).toMatchObject({ total: 3, total_exact: true });
    const cursor = first.body.next_cursor ?? '';
    // the same cursor under other filters answers those filters' total
    expect((await call(`/v1/reservations?sku=${b.sku}&limit=1&cursor=${cursor}`)).body).toMatchObject({ total: 1 });
    expect((await call(`/v1/reservations?sku=${a.sku}&limit=1&cursor=${cursor}.999999999`)).status).toBe(400);
    for (const sku of [a.sku, b.sku])
      for (const reservation of (await h.s.reservations.list({ sku })).items)
        await h.s.reservations.release(reservation.id);
  });

  it('filters by status, order_ref, sku, warehouse, created_after and expires_before, alone and together', async () => {
    const a = await world(h.s, [20, 20]);
    const b = await world(h.s, [20]);
    const start = h.clock.now().toISOString();
    h.clock.advance(1);
    const short = await reserve({ order_ref: uniq('f'), lines: [{ sku: a.sku, qty: 1 }], ttl_seconds: 60 });
    const long = await reserve({
      order_ref: uniq('f'),
      lines: [{ sku: a.sku, qty: 1 }],
      ttl_seconds: 3600,
      warehouse: a.wh[1],
    });
    const mixed = await reserve({
      order_ref: uniq('f'),
      lines: [
        { sku: a.sku, qty: 1 },
        { sku: b.sku, qty: 2 },
      ],
    });
    const committed = await reserve({ order_ref: uniq('f'), lines: [{ sku: b.sku, qty: 1 }] });
    await h.s.reservations.commit(committed.id);
    const released = await reserve({ order_ref: uniq('f'), lines: [{ sku: b.sku, qty: 1 }] });
    await h.s.reservations.release(released.id);
    h.clock.advance(1);
    const middle = h.clock.now().toISOString();
    h.clock.advance(1);
    const late = await reserve({ order_ref: uniq('f'), lines: [{ sku: b.sku, qty: 1 }] });

    const ids = async (query: string): Promise<string[]> => {
      const page = await call(`/v1/reservations?${query}&limit=500`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(page.body.items.length);
      return page.body.items.map((reservation) => reservation.id).sort();
    };
    const sorted = (...list: { id: string }[]) => list.map((reservation) => reservation.id).sort();
    expect(await ids(`sku=${a.sku}`)).toEqual(sorted(short, long, mixed));
    expect(await ids(`sku=${b.sku}`)).toEqual(sorted(mixed, committed, released, late));
    expect(await ids(`sku=${b.sku}&status=committed`)).toEqual(sorted(committed));
    expect(await ids(`sku=${b.sku}&status=released`)).toEqual(sorted(released));
    expect(await ids(`order_ref=${mixed.order_ref}`)).toEqual(sorted(mixed));
    expect(await ids(`warehouse=${a.wh[1]}`)).toEqual(sorted(long));
    expect(await ids(`sku=${a.sku}&warehouse=${a.wh[0]}`)).toEqual(sorted(short, mixed));
    expect(await ids(`sku=${b.sku}&created_after=${encodeURIComponent(middle)}`)).toEqual(sorted(late));
    expect(await ids(`sku=${a.sku}&created_after=${encodeURIComponent(start)}`)).toEqual(sorted(short, long, mixed));
    const soon = new Date(h.clock.now().getTime() + 600_000).toISOString();
    expect(await ids(`sku=${a.sku}&expires_before=${encodeURIComponent(soon)}`)).toEqual(sorted(short));
    expect(await ids(`sku=${a.sku}&expires_before=${encodeURIComponent(soon)}&status=committed`)).toEqual([]);
    // past its deadline a hold is expired before the list is read: it lists as expired, not pending
    h.clock.advance(61);
    expect(await ids(`sku=${a.sku}&status=expired`)).toEqual(sorted(short));
    expect(await ids(`sku=${a.sku}&status=pending`)).toEqual(sorted(long, mixed));
    for (const reservation of [long, mixed, committed, late]) await h.s.reservations.release(reservation.id);
  });

  it('refuses what it does not understand with a problem document, and keys without the checkout scope', async () => {
    const { sku } = await world(h.s, [5]);
    const someone = await reserve({ order_ref: uniq('bad'), lines: [{ sku, qty: 1 }] });
    const refused = async (query: string, code = 'validation_failed', status = 400) => {
      const reply = await call(`/v1/reservations?${query}`);
      expect(reply.status, query).toBe(status);
      expect(reply.body.code, query).toBe(code);
      return reply.body;
    };
    expect(await refused('colour=red')).toMatchObject({ errors: [{ path: '/query/colour' }] });
    await refused('status=lost');
    await refused('status=pending&status=committed');
    await refused('limit=0');
    await refused('limit=501');
    await refused('limit=ten');
    await refused('created_after=yesterday');
    await refused('expires_before=2026-02-30');
    await refused('cursor=7');
    expect(await refused('status=pending&status=committed')).toMatchObject({
      errors: [{ path: '/query/status', message: 'must be given once' }],
    });
    await refused(`cursor=${someone.id}.999999`);
    await refused('cursor=00000000-0000-4000-8000-000000000000.3');
    await refused('order_ref=');
    await refused(`sku=${uniq('NOPE')}`, 'unknown_sku', 404);
    await refused('warehouse=NOWHERE-1', 'not_found', 404);
    const storefront = await call('/v1/reservations', served.keys['storefront']);
    expect(storefront).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    await h.s.reservations.release(someone.id);
  });
});

describe.skipIf(!postgresUrl())('listing reservations at scale on PostgreSQL', () => {
  const h = useStockroom('postgres');

  it('every filter, its page and its count, is read through an index at 300k reservations (EXPLAIN)', async () => {
    const { sku, wh } = await world(h.s, [10, 10, 10]);
    const db = h.s.db;
    const variant = (await db.query<{ id: number }>('SELECT id FROM variants WHERE sku = $1', [sku])).rows[0]!.id;
    const warehouses = (
      await db.query<{ id: number }>('SELECT id FROM warehouses WHERE code = ANY($1) ORDER BY id', [wh])
    ).rows.map((row) => row.id);
    // 300k closed reservations (they hold nothing, so the ledger stays reconciled), a line each, over the three levels
    await db.query(
      `INSERT INTO reservations (id, order_ref, status, created_at, updated_at, closed_at)
       SELECT md5(i::text)::uuid, 'bulk-' || i, CASE WHEN i % 3 = 0 THEN 'expired' ELSE 'released' END,
              timestamptz '2025-01-01' + i * interval '1 minute', timestamptz '2025-01-01' + i * interval '1 minute',
              timestamptz '2025-01-01' + i * interval '1 minute'
         FROM generate_series(1, 300000) AS i`,
    );
    await db.query(
      `INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty, released_qty)
       SELECT md5(i::text)::uuid, 1, $1, ($2::bigint[])[1 + i % 3], 1, 1 FROM generate_series(1, 300000) AS i`,
      [variant, warehouses],
    );
    await db.query('ANALYZE reservations');
    await db.query('ANALYZE reservation_lines');
    const someone = (await db.query<{ id: string }>(`SELECT md5('150000')::uuid AS id`)).rows[0]!.id;

    const filters: Record<string, ReservationFilter> = {
      none: {},
      status: { status: 'pending' },
      order_ref: { orderRef: 'bulk-77' },
      sku: { variantId: variant },
      warehouse: { warehouseId: warehouses[1] },
      sku_and_warehouse: { variantId: variant, warehouseId: warehouses[2] },
      created_after: { createdAfter: new Date('2025-06-01T00:00:00Z') },
      expires_before: { expiresBefore: new Date('2026-01-01T00:00:00Z') },
      status_and_created_after: { status: 'released', createdAfter: new Date('2025-06-01T00:00:00Z') },
    };
    const plans: Record<string, string> = {};
    for (const [name, filter] of Object.entries(filters)) {
      for (const [kind, statement] of [
        ['first page', reservationPageStatement(filter, { limit: 51 })],
        ['later page', reservationPageStatement(filter, { after: someone, limit: 51 })],
        ['count', reservationCountStatement(filter, 10_000)],
      ] as const) {
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.text}`, statement.values);
        plans[`${name}, ${kind}`] = rows.map((row) => row['QUERY PLAN']).join('\n');
      }
    }
    for (const [name, plan] of Object.entries(plans)) {
      expect(plan, `${name}:\n${plan}`).not.toMatch(/Seq Scan on (reservations|reservation_lines)/);
      expect(plan, `${name}:\n${plan}`).toMatch(/Index/);
    }
  });
});
