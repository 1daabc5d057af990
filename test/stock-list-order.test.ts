import { describe, expect, it } from 'vitest';
import type { StockListItem } from '../src/services/stock-list.js';
import { StockChanges } from '../src/infra/stock-changes.js';
import { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';
import { apiCall, serverDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import { useStockOrder } from './support/stock-order.js';

type Page = { items: StockListItem[]; next_cursor: string | null };

describe.each(drivers())('number sorts of the stock list on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['warehouse', 'checkout']);
  const order = useStockOrder(h);
  const get = async (query: string): Promise<Page> => {
    const reply = await apiCall(served, 'GET', `/v1/stock?${query}`, { key: served.keys['warehouse'] });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body as unknown as Page;
  };
  const list = async (query: string): Promise<StockListItem[]> => {
    const items: StockListItem[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);
    return items;
  };
  const receive = async (sku: string, warehouse: string, qty: number) => {
    const reply = await apiCall(served, 'POST', '/v1/stock/receive', {
      key: served.keys['warehouse'],
      body: { sku, warehouse, qty },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  };
  const reserve = async (sku: string, warehouse: string, qty: number) => {
    const reply = await apiCall(served, 'POST', '/v1/reservations', {
      key: served.keys['checkout'],
      body: { order_ref: uniq('o'), lines: [{ sku, qty }], warehouse },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  };
  /** The order's rows of a warehouse, with the row version (xmin) that any write, even of the same numbers, changes. */
  const orderRows = async (warehouse: string) =>
    (
      await h.s.db.query<{ sku: string; version: string; on_hand: number; reserved: number; available: number }>(
        `SELECT v.sku, o.xmin::text AS version, o.on_hand, o.reserved, o.available FROM stock_list_order o
           JOIN variants v ON v.id = o.variant_id JOIN warehouses w ON w.id = o.warehouse_id
          WHERE w.code = $1 ORDER BY v.sku`,
        [warehouse],
      )
    ).rows;

  /**
   * A warehouse and a category of this test's own with five variants of 10, 20, ... 50 units (`scope` filters them:
   * every variant has a level in every warehouse, other tests' too).
   */
  async function shelf() {
    const warehouse = uniq('W');
    const category = uniq('c').toLowerCase();
    await h.s.catalog.addWarehouse({ code: warehouse, name: warehouse });
    const skus: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const sku = uniq(`ORD${i}`);
      await h.s.catalog.addVariant({ sku, product: { title: sku, category } });
      await h.s.stock.receive({ sku, warehouse, qty: i * 10 });
      skus.push(sku);
    }
    return { warehouse, skus, scope: `warehouse=${warehouse}&category=${category}` };
  }

  it('puts a level changed through the API in its new place on the very next sorted read', async () => {
    const { warehouse, skus, scope } = await shelf();
    const byOnHand = async () =>
      (await list(`${scope}&sort=on_hand&order=desc`)).map((item) => [item.sku, item.on_hand]);
    expect(await byOnHand()).toEqual(skus.map((sku, i) => [sku, (i + 1) * 10]).reverse());
    // the first variant now has the most, the last one the fewest available: no waiting between write and read
    await receive(skus[0]!, warehouse, 100);
    expect((await byOnHand())[0]).toEqual([skus[0], 110]);
    await reserve(skus[4]!, warehouse, 45);
    expect((await get(`${scope}&sort=available&limit=1`)).items[0]).toMatchObject({ sku: skus[4], available: 5 });
    const reserved = await get(`${scope}&sort=reserved&order=desc&limit=1`);
    expect(reserved.items[0]).toMatchObject({ sku: skus[4], reserved: 45 });
  });

  it('orders by each number with ties broken by level, the same in pages as at once', async () => {
    const { warehouse, skus, scope } = await shelf();
    // two levels with the same on hand, and reservations that set reserved and available apart
    await receive(skus[1]!, warehouse, 10);
    for (const [i, qty] of [
      [0, 3],
      [2, 1],
      [4, 3],
    ] as const)
      await reserve(skus[i]!, warehouse, qty);
    for (const sort of ['on_hand', 'reserved', 'available'] as const) {
      for (const direction of ['asc', 'desc'] as const) {
        const items = await list(`${scope}&sort=${sort}&order=${direction}`);
        expect(items).toEqual((await get(`${scope}&sort=${sort}&order=${direction}`)).items);
        const values = items.map((item) => item[sort]);
        const sorted = [...values].sort((a, b) => a - b);
        expect(values, `${sort} ${direction}`).toEqual(direction === 'asc' ? sorted : sorted.reverse());
        expect(new Set(items.map((item) => item.sku))).toEqual(new Set(skus));
      }
    }
  });

  it('writes nothing into the order while levels change and no sorted page is read, then the changed SKUs only', async () => {
    const { warehouse, skus, scope } = await shelf();
    await get(`${scope}&sort=available`);
    const before = await orderRows(warehouse);
    const refreshes = order.ctx.refreshes.length;
    // concurrent clients reserving, a page by SKU read meanwhile (it does not read the order)
    await Promise.all(skus.map((sku) => reserve(sku, warehouse, 2)));
    await Promise.all(skus.slice(0, 2).map((sku) => reserve(sku, warehouse, 1)));
    expect((await get(`${scope}&sort=sku`)).items.map((item) => item.reserved)).toEqual([3, 3, 2, 2, 2]);
    // the changes are heard (a marker announced after them is), and still nothing is written
    await heardAll();
    expect(await orderRows(warehouse)).toEqual(before);
    expect(order.ctx.refreshes.length).toBe(refreshes);
    // the next sorted read refreshes what changed, in one statement, and sorts by it
    const items = (await get(`${scope}&sort=reserved&order=desc`)).items;
    expect(items.map((item) => item.reserved)).toEqual([3, 3, 2, 2, 2]);
    // (the SKUs include the marker's)
    expect(order.ctx.refreshes.slice(refreshes)).toMatchObject([{ all: false, levels: 5 }]);
    const after = (await orderRows(warehouse)).filter((row) => skus.includes(row.sku));
    expect(after.map((row) => row.reserved)).toEqual([3, 3, 2, 2, 2]);
    expect(after.map((row) => row.version)).not.toEqual(
      before.filter((row) => skus.includes(row.sku)).map((row) => row.version),
    );
  });

  /** Every change committed so far heard by the upkeep: a marker of a SKU of no variant, announced after them. */
  async function heardAll(): Promise<void> {
    const marker = uniq('MARK');
    const heard = new Promise<void>((resolve) => {
      const stop = order.ctx.changes.subscribe((change) => {
        if ('skus' in change && change.skus.includes(marker)) {
          stop();
          resolve();
        }
      });
    });
    await h.s.db.query('SELECT stockroom_announce($1)', [marker]);
    await heard;
  }

  it('compares every level once more SKUs changed than it lists', async () => {
    const { warehouse, skus, scope } = await shelf();
    order.follow({ maxSkus: 2 });
    try {
      // the first sorted read after following compares every level: what changed before is not known
      await get(`${scope}&sort=on_hand`);
      expect(order.ctx.refreshes.at(-1)).toMatchObject({ all: true });
      // three SKUs changed: past the cap, every level is compared, and the order is right
      for (const [i, qty] of [
        [0, 100],
        [1, 80],
        [2, 60],
      ] as const)
        await receive(skus[i]!, warehouse, qty);
      const items = (await get(`${scope}&sort=on_hand&order=desc`)).items;
      expect(items.map((item) => item.sku)).toEqual([skus[0], skus[1], skus[2], skus[4], skus[3]]);
      expect(order.ctx.refreshes.at(-1)).toMatchObject({ all: true, levels: 3 });
      // one SKU changed: listed, refreshed alone
      await receive(skus[3]!, warehouse, 1000);
      expect((await get(`${scope}&sort=on_hand&order=desc&limit=1`)).items[0]?.sku).toBe(skus[3]);
      expect(order.ctx.refreshes.at(-1)).toEqual({ all: false, skus: 1, levels: 1 });
    } finally {
      order.follow();
    }
  });

  it('lets concurrent sorted reads share a refresh', async () => {
    const { warehouse, skus, scope } = await shelf();
    await get(`${scope}&sort=on_hand`);
    await receive(skus[0]!, warehouse, 100);
    // the upkeep hears nothing (its marker neither) until every read has asked for the order
    const release = order.hold();
    const readers = 10;
    const upkeep = order.ctx.upkeep;
    const refresh = upkeep.refresh.bind(upkeep);
    let asked = 0;
    const allAsked = new Promise<void>((resolve) => {
      upkeep.refresh = () => {
        if (++asked === readers) resolve();
        return refresh();
      };
    });
    const refreshes = order.ctx.refreshes.length;
    try {
      const reads = Array.from({ length: readers }, () => get(`${scope}&sort=on_hand&order=desc&limit=1`));
      // (a read that fails before it asks ends the wait too, and the test with its error)
      await Promise.race([allAsked, Promise.all(reads)]);
      release();
      for (const page of await Promise.all(reads)) expect(page.items[0]).toMatchObject({ sku: skus[0], on_hand: 110 });
    } finally {
      release();
      upkeep.refresh = refresh;
    }
    // the first read's refresh, and one for every read that came while it ran
    const ran = order.ctx.refreshes.slice(refreshes);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.length).toBeLessThanOrEqual(2);
    expect(ran.reduce((sum, refresh) => sum + refresh.levels, 0)).toBe(1);
  });

  it('follows levels changed by concurrent clients while another process refreshes the order too', async () => {
    const { warehouse, skus, scope } = await shelf();
    // a second process's stock list on the same database, following the changes and reading sorted pages too
    const other = new Stockroom({ db: h.s.db });
    const follower = await StockChanges.follow(h.s.db);
    const upkeep = other.stockList.follow();
    follower.subscribe((change) => {
      upkeep.onChange(change);
    });
    const otherReads = (async () => {
      for (let n = 0; n < 10; n++) await other.stockList.list({ warehouse, sort: 'available', limit: 1 });
    })();
    const writers = skus.map(async (sku, i) => {
      for (let n = 0; n < 15; n++) {
        if (n % 3 === 2) await reserve(sku, warehouse, 1);
        else await receive(sku, warehouse, ((i * 7 + n * 3) % 11) + 1);
        if (n % 5 === 4) await get(`${scope}&sort=on_hand&limit=1`);
      }
    });
    await Promise.all(writers);
    await otherReads;
    await other.stockList.unfollow();
    await follower.close();
    const { rows } = await h.s.db.query<{ sku: string; on_hand: number; reserved: number; available: number }>(
      `SELECT v.sku, l.on_hand, l.reserved, l.available FROM stock_levels l
         JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id WHERE w.code = $1`,
      [warehouse],
    );
    const live = new Map(rows.map((row) => [row.sku, row]));
    for (const sort of ['on_hand', 'reserved', 'available'] as const) {
      const items = await list(`${scope}&sort=${sort}`);
      expect(items.map((item) => item[sort])).toEqual(items.map((item) => live.get(item.sku)?.[sort]));
      const values = items.map((item) => item[sort]);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });
});

describe.each(drivers())('the stock list without a follower on %s', (driver) => {
  const h = useStockroom(driver);

  it('compares every level before a sorted read, so the library sorts by the numbers as of the read', async () => {
    const warehouse = uniq('W');
    const category = uniq('c').toLowerCase();
    await h.s.catalog.addWarehouse({ code: warehouse, name: warehouse });
    const skus = [uniq('A'), uniq('B')];
    for (const [i, sku] of skus.entries()) {
      await h.s.catalog.addVariant({ sku, product: { title: sku, category } });
      await h.s.stock.receive({ sku, warehouse, qty: (i + 1) * 10 });
    }
    const first = async () =>
      (await h.s.stockList.list({ warehouse, category, sort: 'on_hand', order: 'desc', limit: 1 })).items[0]?.sku;
    expect(await first()).toBe(skus[1]);
    await h.s.stock.receive({ sku: skus[0]!, warehouse, qty: 100 });
    expect(await first()).toBe(skus[0]);
  });
});

describe.each(drivers())('a served stock list on %s', (driver) => {
  it('compares every level at start, then puts a changed level in its new place on the next sorted page, from the changes the server hears', async () => {
    const db = await serverDatabase(driver);
    const key = 'sr_test_admin_stock_order_0123456789';
    const server = await startServer({
      ...db.env,
      STOCKROOM_ADMIN_KEY: key,
      LOG_LEVEL: 'debug',
    });
    try {
      // what changed before the server listened is compared at start, before any page asks for it
      const compared = /"all":true,"skus":0,"levels":0,"msg":"stock list order refreshed"/;
      if (!compared.test(server.output())) await server.waitFor(compared);
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        expect(res.status, path).toBeLessThan(300);
        return (await res.json()) as Page;
      };
      await call('POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
      for (const [sku, qty] of [
        ['LOW-1', 5],
        ['HIGH-1', 10],
      ] as const) {
        await call('POST', '/v1/variants', { sku, product: { title: sku } });
        await call('POST', '/v1/stock/receive', { sku, warehouse: 'AMS', qty });
      }
      const first = async () => (await call('GET', '/v1/stock?warehouse=AMS&sort=on_hand&order=desc')).items[0];
      expect(await first()).toMatchObject({ sku: 'HIGH-1' });
      // the change is heard by the server, which brings the order up to date before the next sorted page
      await call('POST', '/v1/stock/receive', { sku: 'LOW-1', warehouse: 'AMS', qty: 100 });
      const refreshed = server.waitFor(/"all":false,"skus":1,"levels":1,"msg":"stock list order refreshed"/);
      expect(await first()).toMatchObject({ sku: 'LOW-1', on_hand: 105 });
      await refreshed;
    } finally {
      expect(await server.stop()).toBe(0);
      await db.cleanup();
    }
  });
});
