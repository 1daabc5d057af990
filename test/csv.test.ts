import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { Level } from '../src/services/dto.js';
import { EXPORT_COLUMNS } from '../src/services/stock-csv.js';
import { ValidationError } from '../src/domain/errors.js';
import { drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';

describe.each(drivers())('stock CSV import and export on %s', (driver) => {
  const h = useStockroom(driver);

  it('import sets on hand for every row, recorded as counts with the difference', async () => {
    const a = await world(h.s, [5, 0]);
    const odd = uniq('A,"QUOTED"');
    await h.s.catalog.addVariant({ sku: odd, product: { title: 'odd' } });
    const csv = `sku,warehouse,on_hand\n${a.sku},${a.wh[0]},8\n${a.sku},${a.wh[1]},3\n"${odd.replace(/"/g, '""')}",${a.wh[0]},1\n`;
    expect(await h.s.stock.importOnHand(csv, { reference: 'take-2026' })).toEqual({
      rows: 3,
      changed: 3,
      shortfalls: [],
    });
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [a.wh[0]!]: [8, 0, 8], [a.wh[1]!]: [3, 0, 3] });
    expect((await h.s.stock.movements({ sku: a.sku, warehouse: a.wh[0] })).items[0]).toMatchObject({
      type: 'count',
      delta_on_hand: 3,
      reference: 'take-2026',
    });
    expect((await levels(h.s, odd, [a.wh[0]!]))[a.wh[0]!]).toEqual([1, 0, 1]);
  });

  it('refuses a file with any bad row, naming each line, and changes nothing', async () => {
    const a = await world(h.s, [5]);
    const w = a.wh[0]!;
    const csv = [
      'sku,warehouse,on_hand',
      `${a.sku},${w},7`,
      `${a.sku},${w},-1`,
      `NOPE-1,${w},2`,
      `${a.sku},NOWHERE,2`,
      `${a.sku},${w},two`,
      `${a.sku},${w},4`,
    ].join('\n');
    const attempt = h.s.stock.importOnHand(csv);
    await expect(attempt).rejects.toThrow(ValidationError);
    const errors = await attempt.catch((e: unknown) => (e as ValidationError).errors);
    expect(errors).toEqual([
      { path: '/line/3/on_hand', message: 'must be >= 0' },
      { path: '/line/6/on_hand', message: 'must be integer' },
      { path: '/line/7', message: `${a.sku} at ${w} is already on line 2` },
    ]);
    const unknown = await h.s.stock
      .importOnHand(['sku,warehouse,on_hand', `${a.sku},${w},7`, `NOPE-1,${w},2`, `${a.sku},NOWHERE,2`].join('\n'))
      .catch((e: unknown) => (e as ValidationError).errors);
    expect(unknown).toEqual([
      { path: '/line/3/sku', message: 'unknown SKU NOPE-1' },
      { path: '/line/4/warehouse', message: 'unknown warehouse NOWHERE' },
    ]);
    await expect(h.s.stock.importOnHand('sku,qty\nA,1')).rejects.toThrow(/missing columns warehouse, on_hand/);
    // a column the import does not read is refused, not passed over: a misspelt one beside the real one, or one twice
    await expect(h.s.stock.importOnHand(`sku,warehouse,on_hand,onhand\n${a.sku},${w},9,9`)).rejects.toThrow(
      '/csv/header: unknown column onhand',
    );
    await expect(h.s.stock.importOnHand(`sku,warehouse,on_hand,on_hand\n${a.sku},${w},9,8`)).rejects.toThrow(
      '/csv/header: column on_hand is named twice',
    );
    // a spreadsheet's trailing comma is an empty column; a header of 200,000 columns is told in a line, not listed
    await expect(h.s.stock.importOnHand(`sku,warehouse,on_hand,\n${a.sku},${w},9,`)).rejects.toThrow(
      '/csv/header: unknown column (empty)',
    );
    const wide = Array.from({ length: 200_000 }, (_, i) => `c${i}`).join(',');
    await expect(h.s.stock.importOnHand(`sku,warehouse,on_hand,${wide}\n`)).rejects.toThrow(
      /unknown columns c0, c1, c2, c3, c4 and 199995 more: /,
    );
    await expect(h.s.stock.importOnHand('')).rejects.toThrow(/empty/);
    await expect(h.s.stock.importOnHand('sku,warehouse,on_hand\n"unterminated,x,1')).rejects.toThrow(ValidationError);
    expect(await levels(h.s, a.sku, a.wh)).toEqual({ [w]: [5, 0, 5] });
  });

  it('exports every level and the export imports back unchanged', async () => {
    const a = await world(h.s, [4, 2]);
    await h.s.reservations.reserve({ order_ref: uniq('o'), lines: [{ sku: a.sku, qty: 1 }], warehouse: a.wh[1]! });
    const rows: Level[] = [];
    for await (const level of h.s.stock.exportLevels(3)) rows.push(level);
    expect(rows).toEqual(
      expect.arrayContaining([
        { sku: a.sku, warehouse: a.wh[0], on_hand: 4, reserved: 0, available: 4 },
        { sku: a.sku, warehouse: a.wh[1], on_hand: 2, reserved: 1, available: 1 },
      ]),
    );
    const total = await h.s.db.query<{ n: number }>('SELECT count(*) AS n FROM stock_levels');
    expect(rows.length).toBe(total.rows[0]!.n);
    const back = await h.s.stock.importOnHand(stringify(rows, { header: true, columns: [...EXPORT_COLUMNS] }));
    expect(back).toMatchObject({ rows: rows.length, changed: 0 });
  });
});
