import { describe, expect, it } from 'vitest';
import type { StockListItem } from '../src/services/stock-list.js';
import { StockChanges } from '../src/infra/stock-changes.js';
import { StockListOrderRefresher } from '../src/services/stock-list.js';
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
  const { settled } = useStockOrder(h);
  const list = async (query: string): Promise<StockListItem[]> => {
    const items: StockListItem[] = [];
    let cursor: string | null = null;
    do {
      const reply = await apiCall(served, 'GET', `/v1/stock?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        key: served.keys['warehouse'],
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const page = reply.body as unknown as Page;
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);
    return items;
  };

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

  it('shows live numbers at once and moves a level to its new place once the order is refreshed', async () => {
    const { warehouse, skus, scope } = await shelf();
    await settled();
    const byOnHand = async () =>
      (await list(`${scope}&sort=on_hand&order=desc`)).map((item) => [item.sku, item.on_hand]);
    expect(await byOnHand()).toEqual(skus.map((sku, i) => [sku, (i + 1) * 10]).reverse());
    // the first variant now has the most: its number is shown at once, its place follows the refresh
    await h.s.stock.receive({ sku: skus[0]!, warehouse, qty: 100 });
    const before = await byOnHand();
    expect(before.at(-1)).toEqual([skus[0], 110]);
    await settled();
    expect((await byOnHand())[0]).toEqual([skus[0], 110]);
  });

  it('orders by each number with ties broken by level, the same in pages as at once', async () => {
    const { warehouse, skus, scope } = await shelf();
    // two levels with the same on hand, and reservations that set reserved and available apart
    await h.s.stock.receive({ sku: skus[1]!, warehouse, qty: 10 });
    for (const [i, qty] of [
      [0, 3],
      [2, 1],
      [4, 3],
    ] as const)
      await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku: skus[i]!, qty }], warehouse });
    await settled();
    for (const sort of ['on_hand', 'reserved', 'available'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const items = await list(`${scope}&sort=${sort}&order=${order}`);
        const reply = await apiCall(served, 'GET', `/v1/stock?${scope}&sort=${sort}&order=${order}`, {
          key: served.keys['warehouse'],
        });
        expect(items).toEqual((reply.body as unknown as Page).items);
        const values = items.map((item) => item[sort]);
        const sorted = [...values].sort((a, b) => a - b);
        expect(values, `${sort} ${order}`).toEqual(order === 'asc' ? sorted : sorted.reverse());
        expect(new Set(items.map((item) => item.sku))).toEqual(new Set(skus));
      }
    }
  });

  it('follows levels changed by concurrent clients while another process refreshes the order too', async () => {
    const { warehouse, skus, scope } = await shelf();
    // a second server's refresher, refreshing every few milliseconds alongside this suite's
    const other = new StockListOrderRefresher(h.s.stockList, 5);
    const follower = await StockChanges.follow(h.s.db);
    follower.subscribe((change) => {
      other.onChange(change);
    });
    const writers = skus.map(async (sku, i) => {
      for (let n = 0; n < 15; n++) {
        const reply =
          n % 3 === 2
            ? await apiCall(served, 'POST', '/v1/reservations', {
                key: served.keys['checkout'],
                body: { order_ref: uniq('race'), lines: [{ sku, qty: 1 }], warehouse },
              })
            : await apiCall(served, 'POST', '/v1/stock/receive', {
                key: served.keys['warehouse'],
                body: { sku, warehouse, qty: ((i * 7 + n * 3) % 11) + 1 },
              });
        expect([200, 201]).toContain(reply.status);
      }
    });
    await Promise.all(writers);
    await follower.close();
    await other.close();
    await settled();
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

describe.each(drivers())('a served stock list on %s', (driver) => {
  it('moves a level to its new place in a number sort by itself, from the changes the server hears', async () => {
    const db = await serverDatabase(driver);
    const key = 'sr_test_admin_stock_order_0123456789';
    const server = await startServer({
      ...db.env,
      STOCKROOM_ADMIN_KEY: key,
      STOCKROOM_STOCK_ORDER_MS: '20',
      LOG_LEVEL: 'debug',
    });
    try {
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
      // each refresh says so in the log: wait for refreshes (never a fixed time) until the order has followed
      const followed = async (sku: string) => {
        for (let refreshes = 0; refreshes < 20; refreshes++) {
          const refreshed = server.waitFor(/stock list order refreshed/);
          // left waiting when the order is already there: the server's exit must not fail the test through it
          refreshed.catch(() => {});
          if ((await first())?.sku === sku) return true;
          await refreshed;
        }
        return false;
      };
      expect(await followed('HIGH-1')).toBe(true);
      await call('POST', '/v1/stock/receive', { sku: 'LOW-1', warehouse: 'AMS', qty: 100 });
      expect(await followed('LOW-1')).toBe(true);
      expect(await first()).toMatchObject({ sku: 'LOW-1', on_hand: 105 });
    } finally {
      expect(await server.stop()).toBe(0);
      await db.cleanup();
    }
  });
});
