import { describe, expect, it } from 'vitest';
import { InsufficientStockError, UnknownSkuError, ValidationError } from '../src/domain/errors.js';
import { MemoryCache } from '../src/infra/memory-cache.js';
import { StockChanges } from '../src/infra/stock-changes.js';
import type { AvailabilityItem } from '../src/services/availability.js';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db, Queryable } from '../src/store/db.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';

describe.each(drivers())('storefront availability on %s', (driver) => {
  const h = useStockroom(driver);

  it('tells each SKU as a status and a label, from what is sellable across warehouses', async () => {
    const plenty = await world(h.s, [6, 4], { low_stock_threshold: 5 });
    const few = await world(h.s, [2, 1], { low_stock_threshold: 5, safety_stock: 0 });
    const none = await world(h.s, [0]);
    const { items } = await h.s.availability.get({ sku: [plenty.sku, few.sku, none.sku] });
    expect(items).toEqual([
      { sku: plenty.sku, available: 10, status: 'in_stock', label: 'In stock' },
      { sku: few.sku, available: 3, status: 'low_stock', label: 'Only 3 left' },
      { sku: none.sku, available: 0, status: 'out_of_stock', label: 'Out of stock' },
    ]);
  });

  it('follows reservations, releases and safety stock at once (nothing is cached yet)', async () => {
    const { sku } = await world(h.s, [5], { low_stock_threshold: 2, safety_stock: 1 });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 4, status: 'in_stock' });
    const r = await h.s.reservations.reserve({ order_ref: 'shopper', lines: [{ sku, qty: 3 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({
      available: 1,
      status: 'low_stock',
      label: 'Only 1 left',
    });
    await h.s.reservations.reserve({ order_ref: 'last', lines: [{ sku, qty: 1 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({
      available: 0,
      status: 'out_of_stock',
    });
    await h.s.reservations.release(r.id);
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 3, status: 'in_stock' });
  });

  it('offers a pre-order past zero, each warehouse within its own limit', async () => {
    const { sku } = await world(h.s, [0], { backorder: { policy: 'preorder', limit: 5, lead_days: 14 } });
    const warehouses = (await h.s.catalog.listWarehouses()).length;
    await h.s.reservations.reserve({ order_ref: 'early bird', lines: [{ sku, qty: 2 }] });
    expect((await h.s.availability.get({ sku: [sku] })).items[0]).toEqual({
      sku,
      available: 5 * warehouses - 2,
      status: 'preorder',
      label: 'Pre-order, ships in 14-16 days',
    });
  });

  it('with a region or a ship-to point, counts only the warehouses that serve the shopper', async () => {
    const tag = uniq('A').replace(/[^A-Za-z0-9]/g, '');
    const [eu, us, local] = [`EU${tag}`, `US${tag}`, `LOC${tag}`];
    await h.s.catalog.addWarehouse({ code: eu, name: 'Rotterdam', regions: ['eu', 'uk'] });
    await h.s.catalog.addWarehouse({ code: us, name: 'Newark', regions: ['US'] });
    await h.s.catalog.addWarehouse({ code: local, name: 'Berlin shop', lat: 52.52, lon: 13.4, serves_within_km: 50 });
    const sku = uniq('SKU');
    await h.s.catalog.addVariant({ sku, product: { title: sku }, low_stock_threshold: 0 });
    await h.s.stock.receive({ sku, warehouse: eu, qty: 3 });
    await h.s.stock.receive({ sku, warehouse: us, qty: 5 });
    await h.s.stock.receive({ sku, warehouse: local, qty: 1 });
    const ask = async (more: Record<string, string>) =>
      (await h.s.availability.get({ sku: [sku], ...more })).items[0]?.available;
    expect(await ask({})).toBe(9);
    expect(await ask({ region: 'EU' })).toBe(4); // Rotterdam, and the shop that lists no region
    expect(await ask({ region: 'US' })).toBe(6);
    expect(await ask({ region: 'EU', ship_to: '52.37,4.90' })).toBe(3); // Amsterdam is too far for the shop
    expect(await ask({ ship_to: '52.50,13.30' })).toBe(9);
    await expect(h.s.availability.get({ sku: [sku], ship_to: '91,0' })).rejects.toThrow(ValidationError);
    await expect(h.s.catalog.addWarehouse({ code: `X${tag}`, name: 'x', serves_within_km: 5 })).rejects.toThrow(
      /a delivery radius needs lat and lon/,
    );
  });

  it('answers each SKU once, in the order asked, and refuses unknown SKUs and too many at once', async () => {
    const a = await world(h.s, [1]);
    const b = await world(h.s, [9]);
    expect((await h.s.availability.get({ sku: [b.sku, a.sku, b.sku] })).items.map((i) => i.sku)).toEqual([
      b.sku,
      a.sku,
    ]);
    await expect(h.s.availability.get({ sku: [a.sku, 'NO-SUCH-SKU'] })).rejects.toThrow(UnknownSkuError);
    await expect(h.s.availability.get({ sku: [] })).rejects.toThrow(ValidationError);
    await expect(h.s.availability.get({ sku: Array.from({ length: 101 }, (_, i) => `S-${i}`) })).rejects.toThrow(
      ValidationError,
    );
  });

  /** A Stockroom of its own whose storefront is cached and follows the announcements, counting its queries. */
  async function cached(db: Db) {
    let queries = 0;
    const query: Queryable['query'] = (sql, params) => {
      queries++;
      return db.query(sql, params);
    };
    // another client of the same database, on the same clock (deadlines are judged by it)
    const s = new Stockroom({ db: { ...db, query }, clock: h.clock.now });
    const changes = await StockChanges.follow(db);
    const cache = new MemoryCache<AvailabilityItem>(60_000);
    const waiting = new Set<{ sku: string; resolve: () => void }>();
    changes.subscribe((c) => {
      cache.invalidate(c);
      for (const w of waiting) if ('all' in c || c.skus.includes(w.sku)) w.resolve();
    });
    s.availability.useCache(cache);
    return {
      s,
      cache,
      queries: () => queries,
      /** resolves once the database has announced a change of sku (and the cache has dropped it) */
      announced: (sku: string) => new Promise<void>((resolve) => waiting.add({ sku, resolve })),
      /**
       * Waits until every change made so far has been announced: notices arrive in commit order, so once a
       * marker of its own, sent now, is heard, every earlier one has been.
       */
      settled: async () => {
        const marker = uniq('marker');
        const heard = new Promise<void>((resolve) => waiting.add({ sku: marker, resolve }));
        await db.query(`SELECT pg_notify('stockroom_stock', $1)`, [marker]);
        await heard;
      },
      close: () => changes.close(),
    };
  }

  it('answers repeated asks from the cache, and drops a SKU as soon as the database announces its change', async () => {
    const c = await cached(h.test.db);
    try {
      const { sku } = await world(h.s, [5], { low_stock_threshold: 2 });
      await c.settled();
      expect((await c.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 5, status: 'in_stock' });
      const before = c.queries();
      expect((await c.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({ available: 5 });
      expect(c.queries()).toBe(before);
      expect(c.cache.stats.hits).toBe(1);

      // another client (another Stockroom on the database) sells 4: the announcement empties the cache
      const announced = c.announced(sku);
      await h.s.reservations.reserve({ order_ref: 'elsewhere', lines: [{ sku, qty: 4 }] });
      await announced;
      expect((await c.s.availability.get({ sku: [sku] })).items[0]).toMatchObject({
        available: 1,
        status: 'low_stock',
        label: 'Only 1 left',
      });
      expect(c.queries()).toBe(before + 1);
    } finally {
      await c.close();
    }
  });

  it('never lets checkout or stock reads see the cache: they read the database even when the cache is behind', async () => {
    const c = await cached(h.test.db);
    try {
      const { sku, wh } = await world(h.s, [5]);
      await c.settled();
      const before = (await c.s.availability.get({ sku: [sku] })).items[0];
      expect(before).toMatchObject({ available: 5 });
      // a change the cache is not told about (announcements switched off for it): the cache is now behind
      await h.test.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL stockroom.announce = 'off'`);
        await tx.query(
          'UPDATE stock_levels SET safety_stock = 5 WHERE variant_id = (SELECT id FROM variants WHERE sku = $1)',
          [sku],
        );
      });
      expect((await c.s.availability.get({ sku: [sku] })).items[0]).toEqual(before);
      await expect(c.s.reservations.reserve({ order_ref: 'truth', lines: [{ sku, qty: 1 }] })).rejects.toThrow(
        InsufficientStockError,
      );
      expect((await c.s.stock.get(sku)).warehouses.find((w) => w.warehouse === wh[0])).toMatchObject({ available: 0 });
    } finally {
      await c.close();
    }
  });
});
