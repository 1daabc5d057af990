import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { StockListItem } from '../src/services/stock-list.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';
import { apiCall } from './support/served.js';

describe.each(drivers())('the attribute filter of the stock list on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['warehouse']);
  const get = (path: string) => apiCall(served, 'GET', path, { key: served.keys['warehouse'] });

  /** A warehouse of this test's own and four variants with attributes stored as text, numbers and booleans. */
  async function shelf() {
    const warehouse = uniq('W');
    const category = uniq('c').toLowerCase();
    await h.s.catalog.addWarehouse({ code: warehouse, name: warehouse });
    const skus = {
      red42: { color: 'red', size: 42, organic: true },
      blue42: { color: 'blue', size: '42' },
      red40: { color: 'red', size: 40, organic: false },
      plain: {},
    };
    const named: Record<string, string> = {};
    for (const [name, attributes] of Object.entries(skus)) {
      const sku = uniq(name.toUpperCase());
      named[sku] = name;
      await h.s.catalog.addVariant({ sku, product: { title: sku, category }, attributes });
      await h.s.stock.receive({ sku, warehouse, qty: 1 });
    }
    const names = async (query: string): Promise<string[]> => {
      const reply = await get(`/v1/stock?warehouse=${warehouse}&category=${category}&${query}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const page = reply.body as unknown as { items: StockListItem[]; total: number };
      expect(page.total).toBe(page.items.length);
      return page.items.map((item) => named[item.sku] ?? item.sku).sort();
    };
    return { warehouse, category, names };
  }

  it('lists the levels of variants with every attribute given, by its text or the number or boolean it spells', async () => {
    const { names } = await shelf();
    expect(await names('attribute=color:red')).toEqual(['red40', 'red42']);
    expect(await names('attribute=color:red&attribute=size:42')).toEqual(['red42']);
    expect(await names('attribute=size:42')).toEqual(['blue42', 'red42']);
    expect(await names('attribute=organic:true')).toEqual(['red42']);
    expect(await names('attribute=organic:false')).toEqual(['red40']);
    expect(await names('attribute=color:green')).toEqual([]);
    expect(await names('attribute=color:RED')).toEqual([]);
    // a value with a colon in it: the name ends at the first one
    expect(await names(`attribute=${encodeURIComponent('color:red:dark')}`)).toEqual([]);
    expect(await names('attribute=size:42&sort=available')).toEqual(['blue42', 'red42']);
  });

  it('exports the rows the filter lists, as CSV', async () => {
    const { warehouse, category, names } = await shelf();
    const res = await fetch(
      `${served.url}/v1/stock/export.csv?warehouse=${warehouse}&category=${category}&attribute=color:red`,
      {
        headers: { authorization: `Bearer ${served.keys['warehouse']}` },
      },
    );
    expect(res.status).toBe(200);
    const rows: string[][] = parse(await res.text());
    expect(rows.length).toBe(3);
    const listed = await get(`/v1/stock?warehouse=${warehouse}&category=${category}&attribute=color:red`);
    expect(rows.slice(1).map((row) => row[0])).toEqual(
      (listed.body as unknown as { items: StockListItem[] }).items.map((item) => item.sku),
    );
    expect(await names('attribute=color:red')).toHaveLength(2);
  });

  it('refuses a malformed attribute filter with a problem document', async () => {
    const refused = async (query: string) => {
      const reply = await get(`/v1/stock?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
      return (reply.body as { errors?: { path: string }[] }).errors?.[0]?.path;
    };
    expect(await refused('attribute=color')).toMatch(/^\/query\/attribute/);
    expect(await refused('attribute=:red')).toMatch(/^\/query\/attribute/);
    expect(await refused(`attribute=${'n'.repeat(65)}:x`)).toMatch(/^\/query\/attribute/);
    expect(await refused(Array.from({ length: 11 }, (_, i) => `attribute=a${i}:x`).join('&'))).toMatch(
      /^\/query\/attribute/,
    );
  });
});
