import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';

interface Preview {
  rows: number;
  changed: number;
  changes: { sku: string; warehouse: string; on_hand_before: number; on_hand: number }[];
  shortfalls: { sku: string; warehouse: string; shortfall: number }[];
  errors: { line: number | null; path: string; message: string }[];
  error_count: number;
}

describe.each(drivers())('a dry run of a CSV stock import, through HTTP, on %s', (driver) => {
  const h = useStockroom(driver);
  const { call } = useHttpServer(h);

  const preview = async (csv: string, scope: 'admin' | 'warehouse' = 'warehouse') => {
    const reply = await call('POST', '/v1/import/stock/preview', { scope, csv });
    return { status: reply.status, body: reply.body as unknown as Preview & { code?: string } };
  };
  /** what the ledger holds for a SKU: a dry run must add nothing to it */
  const ledgerOf = async (sku: string) => (await h.s.stock.movements({ sku, limit: 500 })).items;

  it('reports every bad row by line, far past 500 rows and past the import error limit, and changes nothing', async () => {
    const a = await world(h.s, [5, 2]);
    const [w0, w1] = a.wh as [string, string];
    const gone = uniq('GONE');
    await h.s.catalog.addWarehouse({ code: gone, name: gone });
    expect((await call('POST', `/v1/warehouses/${gone}/archive`)).status).toBe(200);
    const lines = ['sku,warehouse,on_hand', `${a.sku},${w0},9`];
    // 1,200 rows of SKUs nobody has: more than the import reports (100) and than the old preview looked up (500)
    for (let i = 0; i < 1200; i++) lines.push(`${uniq('NOPE')},${w0},1`);
    lines.push(`${a.sku},${w1},lots`); // line 1203
    lines.push(`${a.sku},NOWHERE-${process.pid},1`); // line 1204
    lines.push(`${a.sku},${gone},3`); // line 1205: raises on hand in an archived warehouse
    lines.push(`${a.sku},${w0},4`); // line 1206: the same level as line 2
    const csv = `${lines.join('\n')}\n`;
    const before = { levels: await levels(h.s, a.sku, a.wh), ledger: await ledgerOf(a.sku) };

    const { status, body } = await preview(csv);
    expect(status).toBe(200);
    expect(body.rows).toBe(1205);
    expect(body.error_count).toBe(1204);
    expect(body.errors).toHaveLength(1204);
    expect(body.errors.map((error) => error.line)).toEqual([
      ...Array.from({ length: 1200 }, (_, i) => i + 3),
      1203,
      1204,
      1205,
      1206,
    ]);
    expect(body.errors[0]?.path).toBe('/line/3/sku');
    expect(body.errors[0]?.message).toMatch(/^unknown SKU NOPE-/);
    expect(body.errors.at(-4)?.message).toMatch(/integer|number/);
    expect(body.errors.slice(-4)).toEqual([
      { line: 1203, path: '/line/1203/on_hand', message: body.errors.at(-4)?.message },
      { line: 1204, path: '/line/1204/warehouse', message: `unknown warehouse NOWHERE-${process.pid}` },
      { line: 1205, path: '/line/1205', message: `warehouse ${gone} is archived: on hand may not rise (0 now)` },
      { line: 1206, path: '/line/1206', message: `${a.sku} at ${w0} is already on line 2` },
    ]);
    // the one good row, as the import would apply it
    expect(body.changed).toBe(1);
    expect(body.changes).toEqual([{ sku: a.sku, warehouse: w0, on_hand_before: 5, on_hand: 9 }]);

    expect(await levels(h.s, a.sku, a.wh)).toEqual(before.levels);
    expect(await ledgerOf(a.sku)).toEqual(before.ledger);
    // the import itself refuses the same file, and stops at its error limit
    const refused = await call('POST', '/v1/import/stock', { scope: 'warehouse', csv });
    expect(refused.status).toBe(400);
    expect(await levels(h.s, a.sku, a.wh)).toEqual(before.levels);
  });

  it('a clean file previews exactly what the import then does, shortfalls included, and the preview leaves holds alone', async () => {
    const a = await world(h.s, [5, 3]);
    const [w0, w1] = a.wh as [string, string];
    const held = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: uniq('order'), lines: [{ sku: a.sku, qty: 4 }], warehouse: w0 },
    });
    expect(held.status).toBe(201);
    const csv = `sku,warehouse,on_hand\n${a.sku},${w0},1\n${a.sku},${w1},3\n`;
    const ledger = await ledgerOf(a.sku);

    const { status, body } = await preview(csv);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      rows: 2,
      changed: 1,
      changes: [{ sku: a.sku, warehouse: w0, on_hand_before: 5, on_hand: 1 }],
      shortfalls: [{ sku: a.sku, warehouse: w0, on_hand: 1, reserved: 4, shortfall: 3 }],
      errors: [],
      error_count: 0,
    });
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [w0]: [5, 4, 1], [w1]: [3, 0, 3] });
    expect(await ledgerOf(a.sku)).toEqual(ledger);

    const applied = await call('POST', '/v1/import/stock', { scope: 'warehouse', csv });
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ rows: 2, changed: body.changed, shortfalls: body.shortfalls });
  });

  it('refuses what is not a stock CSV, and keys without the warehouse scope, as the import does', async () => {
    const missingColumn = await preview('sku,warehouse\nA,B\n');
    expect(missingColumn.status).toBe(400);
    expect(missingColumn.body.code).toBe('validation_failed');
    expect((await preview('sku,warehouse,on_hand\n', 'admin')).status).toBe(400);
    const storefront = await call('POST', '/v1/import/stock/preview', {
      scope: 'storefront',
      csv: 'sku,warehouse,on_hand\n',
    });
    expect(storefront.status).toBe(403);
    const json = await call('POST', '/v1/import/stock/preview', { scope: 'warehouse', body: { csv: 'x' } });
    expect(json.status).toBe(400);
  });
});
