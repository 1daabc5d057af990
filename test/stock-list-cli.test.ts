import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('the stock list from the command line (embedded database)', () => {
  const { dir, env } = useEmbeddedCli('stockroom-stock-list-cli-');

  it('sets categories and tags, lists and filters levels, pages them, and writes every match as CSV', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    for (const [sku, category, qty] of [
      ['TEE-S', 'apparel/tees', '2'],
      ['TEE-M', 'apparel/tees', '20'],
      ['MUG', 'kitchen', '1'],
    ] as const) {
      const added = await cli(env, 'variant', 'add', sku, '--title', sku, '--category', category, '--tag', 'summer');
      expect(added.code, added.err).toBe(0);
      expect((await cli(env, 'receive', sku, 'AMS', qty)).code).toBe(0);
    }
    const retagged = await cli(env, 'variant', 'update', 'MUG', '--tag', 'gift', '--tag', 'new', '--category', 'none');
    expect(retagged.code, retagged.err).toBe(0);
    const shown = JSON.parse((await cli(env, '--json', 'variant', 'show', 'MUG')).out) as { product: unknown };
    expect(shown.product).toEqual({ title: 'MUG', category: null, tags: ['gift', 'new'] });
    expect((await cli(env, 'variant', 'list', '--category', 'apparel')).out).toMatch(/TEE-M[\s\S]*TEE-S/);

    const listed = await cli(env, 'stock', 'list', '--category', 'apparel', '--sort', 'available');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toMatch(/^SKU +WAREHOUSE +STATUS/);
    expect(listed.out).toMatch(/TEE-S +AMS +low +2 +0 +0 +2 +0 +apparel\/tees\n.*TEE-M +AMS +in_stock/);
    expect(listed.out).toMatch(/2 matching/);
    const low = await cli(env, 'stock', 'list', '--low', '--limit', '1');
    expect(low.out).toMatch(/MUG +AMS +low[\s\S]*2 matching\n\(more: --cursor \S+\)/);
    const cursor = /--cursor (\S+)\)/.exec(low.out)?.[1] ?? '';
    expect((await cli(env, 'stock', 'list', '--low', '--limit', '1', '--cursor', cursor)).out).toMatch(/TEE-S/);

    const file = join(dir, 'stock.csv');
    const written = await cli(env, 'stock', 'list', '--tag', 'summer', '--csv', '--output', file);
    expect(written.code, written.err).toBe(0);
    const rows: string[][] = parse(readFileSync(file, 'utf8'));
    expect(rows.map((row) => row[0])).toEqual(['sku', 'TEE-M', 'TEE-S']);
    // what is low now, as CSV: the low-stock list's rows, lowest available first
    const lowFile = join(dir, 'low.csv');
    const lowCsv = await cli(env, 'stock', 'list', '--low', '--csv', '--output', lowFile);
    expect(lowCsv.code, lowCsv.err).toBe(0);
    const lowRows: string[][] = parse(readFileSync(lowFile, 'utf8'));
    expect(lowRows.map((row) => row[0])).toEqual(['sku', 'MUG', 'TEE-S']);

    // by attribute: the name and value as the query's attribute=name:value, repeatable
    expect((await cli(env, 'variant', 'update', 'TEE-M', '--attr', 'color=red', '--attr', 'fit=slim')).code).toBe(0);
    expect((await cli(env, 'variant', 'update', 'TEE-S', '--attr', 'color=red')).code).toBe(0);
    const red = await cli(env, 'stock', 'list', '--attribute', 'color:red', '--sort', 'on_hand', '--order', 'desc');
    expect(red.code, red.err).toBe(0);
    expect(red.out).toMatch(/TEE-M +AMS[^\n]*\nTEE-S +AMS[\s\S]*2 matching/);
    const slim = await cli(env, 'stock', 'list', '--attribute', 'color:red', '--attribute', 'fit:slim');
    expect(slim.out).toMatch(/TEE-M[\s\S]*1 matching/);
    const malformed = await cli(env, 'stock', 'list', '--attribute', 'color');
    expect(malformed.code).not.toBe(0);
    expect(malformed.err).toMatch(/attribute/);

    const refused = await cli(env, 'stock', 'list', '--status', 'lowish');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/status/);
  });
});
