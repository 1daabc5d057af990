import { beforeAll, describe, expect, it } from 'vitest';
import type { StockListItem } from '../src/services/stock-list.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';
import { useStockOrder } from './support/stock-order.js';
import { apiCall } from './support/served.js';

interface ListReply {
  status: number;
  type: string;
  body: {
    items: StockListItem[];
    next_cursor: string | null;
    total: number;
    total_exact: boolean;
    code?: string;
    errors?: { path: string; message: string }[];
  };
}

describe.each(drivers())('the stock list over HTTP on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['warehouse', 'checkout', 'storefront']);
  const call = async (path: string, key: string | undefined = served.keys['warehouse']): Promise<ListReply> =>
    (await apiCall(served, 'GET', path, { key })) as unknown as ListReply;

  // the order of number sorts follows the announced changes, as a server's does
  useStockOrder(h);

  /**
   * A warehouse of this test's own with six variants, one of each status, under a category of its own: shirts
   * (in stock, tagged, from a supplier, 2 committed, 4 incoming), polo (below shirts, low), a sibling category
   * whose name only starts the same (out), a pre-order and a backorder variant sold past zero, an untracked one.
   * Every variant has a level in every warehouse, other tests' too: `scope` is this test's warehouse and category.
   */
  async function shop() {
    const u = uniq('c').toLowerCase();
    const warehouse = uniq('W');
    await h.s.catalog.addWarehouse({ code: warehouse, name: warehouse });
    const supplier = uniq('SUP');
    await h.s.purchasing.addSupplier({ code: supplier, name: supplier });
    const sku = (name: string) => `${u}-${name}`.toUpperCase();
    const add = (name: string, product: Record<string, unknown>, settings: Record<string, unknown> = {}) =>
      h.s.catalog.addVariant({ sku: sku(name), product: { title: `${name} ${u}`, ...product }, ...settings });
    await add('shirt', { category: `${u}/shirts`, tags: ['summer', 'cotton'] }, { supplier, reorder_point: 30 });
    await add('polo', { category: `${u}/shirts/polo`, tags: ['summer'] });
    await add('other', { category: `${u}/shirtsx` });
    await add('pre', { category: `${u}/misc` }, { backorder: { policy: 'preorder', limit: 5 } });
    await add('back', { category: `${u}/misc` }, { backorder: { policy: 'backorder', limit: 5 } });
    await add('service', { category: u }, { track_inventory: false });
    await h.s.stock.receive({ sku: sku('shirt'), warehouse, qty: 20 });
    await h.s.stock.receive({ sku: sku('polo'), warehouse, qty: 3 });
    const held = await h.s.reservations.reserve({
      order_ref: uniq('order'),
      lines: [{ sku: sku('shirt'), qty: 2 }],
      warehouse,
    });
    await h.s.reservations.commit(held.id);
    await h.s.reservations.reserve({
      order_ref: uniq('order'),
      lines: [{ sku: sku('shirt'), qty: 1 }],
      warehouse,
    });
    await h.s.reservations.reserve({
      order_ref: uniq('order'),
      lines: [{ sku: sku('pre'), qty: 1 }],
      warehouse,
    });
    await h.s.reservations.reserve({
      order_ref: uniq('order'),
      lines: [{ sku: sku('back'), qty: 2 }],
      warehouse,
    });
    const order = await h.s.purchasing.create({ supplier, warehouse, lines: [{ sku: sku('shirt'), qty: 4 }] });
    await h.s.purchasing.send(order.id);
    return { u, warehouse, supplier, sku, scope: `warehouse=${warehouse}&category=${u}` };
  }

  it('lists each level with its product, numbers, settings and status', async () => {
    const { u, warehouse, supplier, sku, scope } = await shop();
    const page = await call(`/v1/stock?${scope}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 6, total_exact: true, next_cursor: null });
    const bySku = new Map(page.body.items.map((item) => [item.sku, item]));
    expect(bySku.get(sku('shirt'))).toEqual({
      sku: sku('shirt'),
      title: `shirt ${u}`,
      product: expect.any(Number) as number,
      category: `${u}/shirts`,
      tags: ['summer', 'cotton'],
      warehouse,
      on_hand: 20,
      reserved: 3,
      committed: 2,
      available: 17,
      incoming: 4,
      safety_stock: 0,
      low_stock_threshold: 5,
      reorder_point: 30,
      status: 'in_stock',
      supplier,
    });
    expect(Object.fromEntries(page.body.items.map((item) => [item.sku, [item.status, item.available]]))).toEqual({
      [sku('shirt')]: ['in_stock', 17],
      [sku('polo')]: ['low', 3],
      [sku('other')]: ['out', 0],
      [sku('pre')]: ['preorder', -1],
      [sku('back')]: ['backorder', -2],
      [sku('service')]: ['in_stock', 0],
    });
    // by SKU unless asked otherwise
    expect(page.body.items.map((item) => item.sku)).toEqual([...bySku.keys()].sort());
  });

  it('filters by status, category with what is below it, tag, supplier, reorder point and text', async () => {
    const { u, warehouse, supplier, sku, scope } = await shop();
    const skus = async (query: string) => {
      const page = await call(`/v1/stock?${scope}&${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.total).toBe(page.body.items.length);
      return page.body.items.map((item) => item.sku.slice(u.length + 1));
    };
    expect(await skus('status=low')).toEqual(['POLO']);
    expect(await skus('status=out')).toEqual(['OTHER']);
    expect(await skus('status=preorder')).toEqual(['PRE']);
    expect(await skus('status=backorder')).toEqual(['BACK']);
    expect(await skus('status=in_stock')).toEqual(['SERVICE', 'SHIRT']);
    // a category takes the categories below it, not one whose name merely starts the same
    const inCategory = async (category: string) =>
      (await call(`/v1/stock?warehouse=${warehouse}&category=${category}`)).body.items.map((item) =>
        item.sku.slice(u.length + 1),
      );
    expect(await inCategory(u)).toEqual(['BACK', 'OTHER', 'POLO', 'PRE', 'SERVICE', 'SHIRT']);
    expect(await inCategory(`${u}/shirts`)).toEqual(['POLO', 'SHIRT']);
    expect(await inCategory(`${u}/shirts/polo`)).toEqual(['POLO']);
    expect(await inCategory(`${u}/shirt`)).toEqual([]);
    expect(await inCategory(`${u}/misc`)).toEqual(['BACK', 'PRE']);
    expect(await skus('tag=summer')).toEqual(['POLO', 'SHIRT']);
    expect(await skus('tag=cotton&status=in_stock')).toEqual(['SHIRT']);
    expect(await skus(`supplier=${supplier}`)).toEqual(['SHIRT']);
    // shirt: 20 on hand - 3 reserved + 4 incoming = 21, at or below its reorder point of 30
    expect(await skus('below_reorder_point=true')).toEqual(['SHIRT']);
    expect(await skus('below_reorder_point=false')).toHaveLength(6);
    // text: a part of the SKU or of the title, whatever the case; pattern characters are taken literally
    expect(await skus(`q=${sku('po').toLowerCase()}`)).toEqual(['POLO']);
    expect(await skus('q=SERVI')).toEqual(['SERVICE']);
    expect(await skus(`q=${encodeURIComponent('%')}`)).toEqual([]);
    expect(await skus(`q=${encodeURIComponent('_')}`)).toEqual([]);
    // across warehouses: a filter without one lists the level in every warehouse
    const everywhere = await call(`/v1/stock?category=${u}/shirts/polo`);
    expect(everywhere.body.items.map((item) => item.warehouse)).toContain(warehouse);
    expect(everywhere.body.total).toBe(everywhere.body.items.length);
  });

  it('pages by keyset in every sort and order, without gaps or repeats, with the total on every page', async () => {
    const { scope } = await shop();
    for (const sort of ['sku', 'on_hand', 'reserved', 'committed', 'available', 'incoming'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const all = await call(`/v1/stock?${scope}&sort=${sort}&order=${order}`);
        const seen: StockListItem[] = [];
        let cursor: string | null = null;
        do {
          const page: ListReply = await call(
            `/v1/stock?${scope}&sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          );
          expect(page.status, JSON.stringify(page.body)).toBe(200);
          expect(page.body.total).toBe(6);
          seen.push(...page.body.items);
          cursor = page.body.next_cursor;
        } while (cursor !== null);
        expect(seen).toEqual(all.body.items);
        const values = seen.map((item) => item[sort]);
        const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(values).toEqual(order === 'asc' ? sorted : sorted.reverse());
      }
    }
  });

  it('pages by SKU through every level exactly once while other clients change the stock', async () => {
    const { sku, warehouse, scope } = await shop();
    const writer = (await h.s.keys.create({ name: uniq('writer'), scopes: ['warehouse'] })).key;
    let writing = true;
    const writes = ['shirt', 'polo', 'other'].map(async (name) => {
      let count = 0;
      while (writing) {
        const reply = await apiCall(served, 'POST', '/v1/stock/receive', {
          key: writer,
          body: { sku: sku(name), warehouse, qty: 1 },
        });
        expect(reply.status).toBe(200);
        count++;
      }
      return count;
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ListReply = await call(`/v1/stock?${scope}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item) => item.sku));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    writing = false;
    expect((await Promise.all(writes)).every((count) => count > 0)).toBe(true);
    expect(seen).toEqual(['back', 'other', 'polo', 'pre', 'service', 'shirt'].map(sku));
  });

  it('lists what is low or out right now, lowest available first, and follows settings as they change', async () => {
    const { warehouse, sku, scope } = await shop();
    const low = async () => (await call(`/v1/stock/low?${scope}`)).body;
    expect((await low()).items.map((item) => [item.sku, item.status])).toEqual([
      [sku('back'), 'backorder'],
      [sku('pre'), 'preorder'],
      [sku('other'), 'out'],
      [sku('polo'), 'low'],
    ]);
    // a higher threshold makes the shirt low at once, with no stock moving; a receipt makes the polo in stock
    await h.s.catalog.updateVariant(sku('shirt'), { low_stock_threshold: 17 });
    await h.s.stock.receive({ sku: sku('polo'), warehouse, qty: 10 });
    const after = await low();
    expect(after.items.map((item) => item.sku)).toEqual([sku('back'), sku('pre'), sku('other'), sku('shirt')]);
    expect(after.total).toBe(4);
    // the same answer through the list's status filter, with the other filters
    const out = await call(`/v1/stock/low?${scope}&sort=sku&limit=1`);
    expect(out.body).toMatchObject({ total: 4, items: [{ sku: sku('back') }] });
  });

  it('leaves out the levels of archived warehouses and variants', async () => {
    const { sku, scope } = await shop();
    await h.s.catalog.archiveVariant(sku('other'));
    const page = await call(`/v1/stock?${scope}`);
    expect(page.body.items.map((item) => item.sku)).not.toContain(sku('other'));
    expect(page.body.total).toBe(5);
  });

  it('refuses unknown parameters and bad values with a problem document', async () => {
    const { scope } = await shop();
    const refused = async (path: string, code = 'validation_failed', status = 400) => {
      const reply = await call(path);
      expect(reply.status, path).toBe(status);
      expect(reply.type).toContain('application/problem+json');
      expect(reply.body.code).toBe(code);
      return reply.body.errors?.[0]?.path;
    };
    expect(await refused('/v1/stock?colour=red')).toBe('/query/colour');
    expect(await refused('/v1/stock?sort=title')).toBe('/query/sort');
    expect(await refused('/v1/stock?order=up')).toBe('/query/order');
    expect(await refused('/v1/stock?status=lowish')).toBe('/query/status');
    expect(await refused('/v1/stock?limit=0')).toBe('/query/limit');
    expect(await refused('/v1/stock?limit=501')).toBe('/query/limit');
    expect(await refused('/v1/stock?below_reorder_point=yes')).toBe('/query/below_reorder_point');
    expect(await refused('/v1/stock?category=Apparel')).toBe('/query/category');
    expect(await refused('/v1/stock?category=a//b')).toBe('/query/category');
    expect(await refused('/v1/stock?q=%00')).toBe('/query/q');
    expect(await refused('/v1/stock?q=')).toBe('/query/q');
    expect(await refused('/v1/stock?sort=sku&sort=on_hand')).toBe('/query/sort');
    expect(await refused('/v1/stock?cursor=not-a-cursor')).toBe('/query/cursor');
    expect(await refused(`/v1/stock?cursor=${Buffer.from('[1,2,3]').toString('base64url')}`)).toBe('/query/cursor');
    // a cursor is good only for the sort and order it came from
    const first = await call(`/v1/stock?${scope}&sort=on_hand&limit=1`);
    expect(first.body.next_cursor).not.toBeNull();
    expect(await refused(`/v1/stock?${scope}&sort=available&cursor=${first.body.next_cursor}`)).toBe('/query/cursor');
    expect(await refused(`/v1/stock?${scope}&sort=on_hand&order=desc&cursor=${first.body.next_cursor}`)).toBe(
      '/query/cursor',
    );
    // a forged cursor past any quantity is not a cursor (the database would refuse to compare it)
    const forged = Buffer.from(JSON.stringify(['available', 'asc', 2 ** 31, 1, 1])).toString('base64url');
    expect(await refused(`/v1/stock?sort=available&cursor=${forged}`)).toBe('/query/cursor');
    expect(await refused(`/v1/stock/low?cursor=${forged}`)).toBe('/query/cursor');
    expect(await refused('/v1/stock/low?status=low')).toBe('/query/status');
    await refused('/v1/stock?warehouse=NOPE', 'not_found', 404);
    await refused('/v1/stock?supplier=NOPE', 'not_found', 404);
  });

  it('says once, in words, what a value that misses its pattern must be', async () => {
    const { sku } = await shop();
    const limit = await call('/v1/stock?limit=-1');
    expect(limit.body.errors).toEqual([{ path: '/query/limit', message: 'must be a whole number from 1 to 500' }]);
    // a category may also be null: the union's own errors do not repeat the one that matters
    const category = await apiCall(served, 'PUT', `/v1/variants/${sku('shirts')}`, {
      key: (await h.s.keys.create({ name: 'stock list admin', scopes: ['admin'] })).key,
      body: { product: { category: 'Apparel/Tees' } },
    });
    expect(category.status).toBe(400);
    expect((category.body as ListReply['body']).errors).toEqual([
      {
        path: '/product/category',
        message: 'must be a path of lower-case segments (letters, digits, - and _) joined by /, as apparel/shirts',
      },
    ]);
  });

  it('is read with a key that reads stock: warehouse or checkout, not storefront', async () => {
    await shop();
    expect((await call('/v1/stock?limit=1', served.keys['checkout'])).status).toBe(200);
    expect((await call('/v1/stock?limit=1', served.keys['storefront'])).body.code).toBe('forbidden');
    expect((await call('/v1/stock/low?limit=1', undefined)).status).toBe(200);
  });
});

describe.each(drivers())('categories and tags on the catalog on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['storefront']);
  let admin = '';
  beforeAll(async () => {
    admin = (await h.s.keys.create({ name: uniq('admin'), scopes: ['admin'] })).key;
  });

  it('are set with the product, changed by an update, and filter the variants list', async () => {
    const u = uniq('t').toLowerCase();
    const sku = uniq('CAT');
    const created = await apiCall(served, 'POST', '/v1/variants', {
      key: admin,
      body: { sku, product: { title: 'Tee', category: `${u}/tees`, tags: ['summer'] } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ product: { title: 'Tee', category: `${u}/tees`, tags: ['summer'] } });
    const plain = uniq('CAT');
    expect(
      (await apiCall(served, 'POST', '/v1/variants', { key: admin, body: { sku: plain, product: { title: 'Mug' } } }))
        .body,
    ).toMatchObject({
      product: { title: 'Mug', category: null, tags: [] },
    });
    const listed = async (query: string) =>
      (
        (await apiCall(served, 'GET', `/v1/variants?${query}`, { key: served.keys['storefront'] })).body as {
          items: { sku: string }[];
        }
      ).items.map((variant) => variant.sku);
    expect(await listed(`category=${u}`)).toEqual([sku]);
    expect(await listed(`category=${u}/tees&tag=summer`)).toEqual([sku]);
    expect(await listed(`category=${u}&tag=winter`)).toEqual([]);
    // the title stays when only the category changes; null takes the category away
    const moved = await apiCall(served, 'PUT', `/v1/variants/${sku}`, {
      key: admin,
      body: { product: { category: `${u}/sale`, tags: ['winter', 'sale'] } },
    });
    expect(moved.body).toMatchObject({ product: { title: 'Tee', category: `${u}/sale`, tags: ['winter', 'sale'] } });
    expect(await listed(`category=${u}/tees`)).toEqual([]);
    expect(await listed(`category=${u}&tag=winter`)).toEqual([sku]);
    const cleared = await apiCall(served, 'PUT', `/v1/variants/${sku}`, {
      key: admin,
      body: { product: { category: null } },
    });
    expect(cleared.body).toMatchObject({ product: { title: 'Tee', category: null, tags: ['winter', 'sale'] } });
  });

  it('refuses a malformed category or tag, and changes nothing', async () => {
    const sku = uniq('CAT');
    for (const product of [
      { title: 'x', category: 'Apparel' },
      { title: 'x', category: 'a/' },
      { title: 'x', category: '/a' },
      { title: 'x', tags: ['Summer'] },
      { title: 'x', tags: ['a', 'a'] },
      { title: 'x', tags: 'summer' },
    ]) {
      const reply = await apiCall(served, 'POST', '/v1/variants', { key: admin, body: { sku, product } });
      expect(reply.status, JSON.stringify(product)).toBe(400);
      expect(reply.body).toMatchObject({ code: 'validation_failed' });
    }
    expect((await apiCall(served, 'GET', `/v1/variants/${sku}`, { key: admin })).status).toBe(404);
  });
});
