import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { STOCK_LIST_COLUMNS } from '../src/services/stock-list.js';
import type { StockListItem } from '../src/services/stock-list.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom } from './support/harness.js';
import { useListening } from './support/listening.js';
import { apiCall } from './support/served.js';

/** An item as an export writes it: tags joined by |, null an empty cell, every value as text. */
const asCells = (item: StockListItem): string[] =>
  STOCK_LIST_COLUMNS.map((column) =>
    column === 'tags' ? item.tags.join('|') : item[column] === null ? '' : String(item[column]),
  );

describe.each(drivers())('exports of the stock list on %s', (driver) => {
  const h = useStockroom(driver);
  const served = useListening(h, ['warehouse', 'checkout']);

  /** Two warehouses of this test's own and seven variants under a category of its own, some low, one tagged. */
  async function shop() {
    const u = uniq('x').toLowerCase();
    const [near, far] = [uniq('NEAR'), uniq('FAR')];
    for (const code of [near, far]) await h.s.catalog.addWarehouse({ code, name: code });
    for (let i = 1; i <= 7; i++) {
      const sku = `${u}-${i}`.toUpperCase();
      await h.s.catalog.addVariant({
        sku,
        product: { title: `Thing, "quoted", ${i}`, category: `${u}/things`, tags: i === 3 ? ['gift', 'new'] : [] },
      });
      if (i % 2 === 1) await h.s.stock.receive({ sku, warehouse: near, qty: i * 10 });
      await h.s.stock.receive({ sku, warehouse: far, qty: i });
    }
    return { u, near, far };
  }

  const download = async (path: string, key = served.keys['warehouse']) => {
    const res = await fetch(`${served.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { res, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  const listed = async (query: string): Promise<StockListItem[]> => {
    const page = await apiCall(served, 'GET', `/v1/stock?${query}&limit=500`, { key: served.keys['warehouse'] });
    expect(page.status).toBe(200);
    return (page.body as unknown as { items: StockListItem[] }).items;
  };

  it('writes CSV of exactly the rows the list shows for the filter, in its order', async () => {
    const { u, far } = await shop();
    const query = `category=${u}&warehouse=${far}&status=low&sort=available&order=desc`;
    const { res, bytes } = await download(`/v1/stock/export.csv?${query}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="stock-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows: string[][] = parse(bytes.toString('utf8'));
    expect(rows[0]).toEqual([...STOCK_LIST_COLUMNS]);
    const items = await listed(query);
    // far holds 1..7 of each: at or below the threshold of 5 are 1..5, highest available first
    expect(items.map((item) => item.available)).toEqual([5, 4, 3, 2, 1]);
    expect(rows.slice(1)).toEqual(items.map(asCells));
  });

  it('exports what is low or out now, as the low-stock list shows it, as CSV and as a workbook', async () => {
    const { u, far } = await shop();
    const query = `category=${u}&warehouse=${far}`;
    const low = await apiCall(served, 'GET', `/v1/stock/low?${query}&limit=500`, { key: served.keys['warehouse'] });
    const items = (low.body as unknown as { items: StockListItem[] }).items;
    // far holds 1..7 of each: at or below the threshold of 5 are 1..5, lowest available first
    expect(items.map((item) => item.available)).toEqual([1, 2, 3, 4, 5]);
    const csv = await download(`/v1/stock/low/export.csv?${query}`);
    expect(csv.res.status).toBe(200);
    const rows: string[][] = parse(csv.bytes.toString('utf8'));
    expect(rows.slice(1)).toEqual(items.map(asCells));
    const xlsx = await download(`/v1/stock/low/export.xlsx?${query}&sort=sku&order=desc`);
    expect(xlsx.res.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
    const skus: unknown[] = [];
    workbook.getWorksheet('stock')?.eachRow({ includeEmpty: false }, (row) => skus.push(row.getCell(1).value));
    expect(skus.slice(1)).toEqual(
      items
        .map((item) => item.sku)
        .sort()
        .reverse(),
    );
    // the list has its own statuses
    const refused = await download(`/v1/stock/low/export.csv?${query}&status=low`);
    expect(refused.res.status).toBe(400);
  });

  it('writes a text cell that would run as a formula in a spreadsheet with a leading quote, and numbers as they are', async () => {
    const { u, near } = await shop();
    const sku = `${u}-F`.toUpperCase();
    await h.s.catalog.addVariant({
      sku,
      product: { title: '=HYPERLINK("http://evil.example","click")', category: `${u}/things` },
    });
    await h.s.stock.receive({ sku, warehouse: near, qty: 3 });
    await h.s.stock.adjust({ sku, warehouse: near, delta: -3, reason: 'correction' });
    const { bytes } = await download(`/v1/stock/export.csv?q=${sku}&warehouse=${near}`);
    const rows: string[][] = parse(bytes.toString('utf8'));
    const at = (name: string) => STOCK_LIST_COLUMNS.indexOf(name as (typeof STOCK_LIST_COLUMNS)[number]);
    expect(rows[1]?.[at('title')]).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(rows[1]?.[at('on_hand')]).toBe('0');
    expect(rows[1]?.[at('sku')]).toBe(sku);
  });

  it('writes an Excel workbook of the same rows, numbers as numbers, read back with exceljs', async () => {
    const { u, near } = await shop();
    const query = `category=${u}&warehouse=${near}`;
    const { res, bytes } = await download(`/v1/stock/export.xlsx?${query}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('stock');
    expect(sheet).toBeDefined();
    const rows: unknown[][] = [];
    sheet?.eachRow({ includeEmpty: false }, (row) => {
      rows.push(STOCK_LIST_COLUMNS.map((_, i) => row.getCell(i + 1).value));
    });
    expect(rows[0]).toEqual([...STOCK_LIST_COLUMNS]);
    const items = await listed(query);
    expect(items).toHaveLength(7);
    expect(rows.slice(1)).toEqual(
      items.map((item) =>
        STOCK_LIST_COLUMNS.map((column) => (column === 'tags' ? item.tags.join('|') || null : item[column])),
      ),
    );
    expect(rows.slice(1).map((row) => typeof row[STOCK_LIST_COLUMNS.indexOf('on_hand')])).toEqual(
      Array(7).fill('number'),
    );
  });

  it("writes a title with characters a workbook's XML cannot hold as OOXML's _xHHHH_ escapes, in a workbook that opens", async () => {
    const { u, near } = await shop();
    const sku = `${u}-C`.toUpperCase();
    await h.s.catalog.addVariant({
      sku,
      product: { title: 'a\u0001b\u000bc\u007fd\ufffee\uffff f_x0041_', category: `${u}/things` },
    });
    await h.s.stock.receive({ sku, warehouse: near, qty: 1 });
    const { res, bytes } = await download(`/v1/stock/export.xlsx?q=${sku}&warehouse=${near}`);
    expect(res.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    const row = workbook.getWorksheet('stock')?.getRow(2);
    expect(row?.getCell(STOCK_LIST_COLUMNS.indexOf('sku') + 1).value).toBe(sku);
    // exceljs reads the escapes as written; Excel and LibreOffice show the characters
    expect(row?.getCell(STOCK_LIST_COLUMNS.indexOf('title') + 1).value).toBe(
      'a_x0001_b_x000B_c_x007F_d_xFFFE_e_xFFFF_ f_x005F_x0041_',
    );
  });

  it('reads the rows in chunks by keyset, whatever the chunk, each row once', async () => {
    const { u } = await shop();
    for (const sort of ['sku', 'available', 'committed'] as const) {
      const everything = await listed(`category=${u}&sort=${sort}&order=desc`);
      // 7 variants in every warehouse there is (other tests' too)
      expect(everything.length % 7).toBe(0);
      for (const chunk of [1, 2, 3, everything.length, everything.length + 1]) {
        const read: StockListItem[] = [];
        for await (const item of h.s.stockList.rows({ category: u, sort, order: 'desc' }, chunk)) read.push(item);
        expect(read).toEqual(everything);
      }
    }
  });

  it('refuses a bad filter with a problem document before any of the file, and takes no paging', async () => {
    await shop();
    for (const [path, status, code] of [
      ['/v1/stock/export.csv?warehouse=NOPE', 404, 'not_found'],
      ['/v1/stock/export.xlsx?warehouse=NOPE', 404, 'not_found'],
      ['/v1/stock/export.csv?limit=10', 400, 'validation_failed'],
      ['/v1/stock/export.xlsx?cursor=abc', 400, 'validation_failed'],
      ['/v1/stock/export.csv?sort=title', 400, 'validation_failed'],
      ['/v1/stock/export.xlsx?q=%00', 400, 'validation_failed'],
    ] as const) {
      const { res, bytes } = await download(path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ code });
    }
    // exports are the warehouse's
    expect((await download('/v1/stock/export.csv', served.keys['checkout'])).res.status).toBe(403);
  });
});
