import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../src/index.js';
import { cli, useEmbeddedCli } from './support/cli.js';
import { CURRENT_COST_TRIGGER, costTrigger } from './support/cost-trigger.js';

describe('unit cost and valuation from the command line (embedded database)', () => {
  const { dir, env } = useEmbeddedCli('stockroom-valuation-cli-', { STOCKROOM_CURRENCY: 'EUR' });

  it('takes costs in major units of the store currency, re-prices an order and reports the valuation', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'MUG', '--title', 'Mug', '--category', 'kitchen')).code).toBe(0);
    const received = await cli(env, 'receive', 'MUG', 'AMS', '4', '--unit-cost', '2.50');
    expect(received.code, received.err).toBe(0);

    const refused = await cli(env, 'suppliers', 'add', 'ACME', 'Acme', '--currency', 'USD');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/USD.*EUR/);
    expect((await cli(env, 'suppliers', 'add', 'ACME', 'Acme', '--currency', 'EUR')).code).toBe(0);
    const drafted = await cli(env, '--json', 'po', 'create', 'ACME', 'AMS', 'MUG:6', '--cost', 'MUG=3.1');
    expect(drafted.code, drafted.err).toBe(0);
    const order = JSON.parse(drafted.out) as { id: number; currency: string; lines: { unit_cost: number }[] };
    expect(order).toMatchObject({ currency: 'EUR', lines: [{ unit_cost: 310 }] });
    expect((await cli(env, 'po', 'costs', String(order.id), 'MUG=3.5')).out).toMatch(/MUG +6 +0 +6 +3\.50/);
    expect((await cli(env, 'po', 'costs', String(order.id), 'MUG=3.505')).err).toMatch(/EUR has 2 decimals/);
    for (const step of [['send'], ['confirm'], ['receive', 'MUG:6']])
      expect((await cli(env, 'po', step[0]!, String(order.id), ...step.slice(1))).code).toBe(0);

    // 4 x 2.50 + 6 x 3.50 = 31.00 for 10: 3.10 each
    const report = await cli(env, 'valuation', '--group-by', 'category');
    expect(report.code, report.err).toBe(0);
    expect(report.out).toMatch(/by category/);
    expect(report.out).toMatch(/kitchen +1 +10 +0 +3\.10 +31\.00/);
    expect(report.out).toMatch(/TOTAL +1 +10 +0 +3\.10 +31\.00/);
    const json = JSON.parse((await cli(env, '--json', 'valuation', '--as-of', '2000-01-01')).out) as object;
    expect(json).toMatchObject({ currency: 'EUR', groups: [], total: { on_hand: 0, value: 0 } });

    const csvFile = join(dir, 'valuation.csv');
    expect((await cli(env, 'valuation', '--csv', '--output', csvFile)).code).toBe(0);
    expect(readFileSync(csvFile, 'utf8')).toBe(
      'sku,warehouse,category,supplier,on_hand,uncosted_units,currency,average_cost,value\nMUG,AMS,kitchen,,10,0,EUR,310,3100\n',
    );
    const xlsxFile = join(dir, 'valuation.xlsx');
    expect((await cli(env, 'valuation', '--xlsx', '--output', xlsxFile)).code).toBe(0);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(xlsxFile);
    expect(workbook.getWorksheet('valuation')?.getRow(2).values).toEqual([
      undefined,
      'MUG',
      'AMS',
      'kitchen',
      undefined, // no supplier: an empty cell
      10,
      0,
      'EUR',
      310,
      3100,
    ]);
    expect((await cli(env, 'valuation', '--group-by', 'colour')).code).not.toBe(0);
  });

  it('refuses a receipt past 2^53 - 1 minor units, and an export of a value an older version stored past it before writing a line', async () => {
    expect((await cli(env, 'warehouse', 'add', 'RTM', '--name', 'Rotterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'GOLD', '--title', 'Gold bar')).code).toBe(0);
    expect((await cli(env, 'receive', 'GOLD', 'RTM', '9007199', '--unit-cost', '10000000.00')).code).toBe(0);
    const refused = await cli(env, 'receive', 'GOLD', 'RTM', '1', '--unit-cost', '10000000.00');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/money_overflow|9007199254740991/);
    expect((await cli(env, 'count', 'GOLD', 'RTM', '0')).code).toBe(0);

    // what an older version (migration 0029's cost trigger) wrote: a value past the limit, exact in the database
    const swapTrigger = async (migration: string): Promise<void> => {
      const db = await openPglite(env['STOCKROOM_DATA']);
      try {
        await db.exec(costTrigger(migration));
      } finally {
        await db.close();
      }
    };
    await swapTrigger('0029_unit_cost');
    try {
      expect((await cli(env, 'receive', 'GOLD', 'RTM', '10000000', '--unit-cost', '10000000.00')).code).toBe(0);
      expect((await cli(env, 'receive', 'GOLD', 'RTM', '1', '--unit-cost', '0.01')).code).toBe(0);
    } finally {
      await swapTrigger(CURRENT_COST_TRIGGER);
    }
    const csvFile = join(dir, 'too-large.csv');
    const exported = await cli(env, 'valuation', '--csv', '--output', csvFile);
    expect(exported.code).not.toBe(0);
    expect(exported.err).toMatch(/GOLD in RTM \(10000000000000001/);
    expect(existsSync(csvFile)).toBe(false);
    const movements = await cli(env, '--json', 'movements', 'GOLD');
    expect(movements.code).not.toBe(0);
    expect(JSON.parse(movements.out)).toMatchObject({ code: 'money_overflow' });
    // a change that would raise the value further is refused; one that lowers it is taken
    expect((await cli(env, 'receive', 'GOLD', 'RTM', '1', '--unit-cost', '0.01')).code).not.toBe(0);
    expect((await cli(env, 'adjust', 'GOLD', 'RTM', '-5000000', '--reason', 'correction')).code).toBe(0);
    expect((await cli(env, 'count', 'GOLD', 'RTM', '0')).code).toBe(0);
  });

  it('refuses to start with a currency that is not ISO 4217', async () => {
    const refused = await cli({ ...env, STOCKROOM_CURRENCY: 'EURO' }, 'valuation');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/STOCKROOM_CURRENCY/);
  });
});
