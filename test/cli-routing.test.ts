import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { copyTemplateDataDir } from './support/pglite-template.js';

describe('routing from the command line (embedded database)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-cli-routing-'));
    copyTemplateDataDir(join(dir, 'data'));
    env = { STOCKROOM_DATA: join(dir, 'data') };
    expect((await cli(env, 'warehouse', 'add', 'HIGH', '--name', 'High', '--priority', '5')).code).toBe(0);
    expect((await cli(env, 'warehouse', 'add', 'FULL', '--name', 'Full')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'MUG', '--title', 'Mug', '--limit-scope', 'variant')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'GIFT', '--title', 'Gift card', '--no-track-inventory')).code).toBe(0);
    expect((await cli(env, 'receive', 'MUG', 'HIGH', '4')).code).toBe(0);
    expect((await cli(env, 'receive', 'MUG', 'FULL', '9')).code).toBe(0);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const warehousesOf = (out: string): string[] =>
    (JSON.parse(out) as { lines: { warehouse: string }[] }).lines.map((line) => line.warehouse);

  it('reserves by the strategy asked for, the store setting otherwise, and refuses to split with --no-split', async () => {
    expect(warehousesOf((await cli(env, '--json', 'reserve', 'o-1', 'MUG:1')).out)).toEqual(['HIGH']);
    const fullest = await cli(env, '--json', 'reserve', 'o-2', 'MUG:1', '--allocation', 'most_available');
    expect(warehousesOf(fullest.out)).toEqual(['FULL']);
    const setting = await cli({ ...env, STOCKROOM_ALLOCATION: 'most_available' }, '--json', 'reserve', 'o-3', 'MUG:1');
    expect(warehousesOf(setting.out)).toEqual(['FULL']);
    const unsplit = await cli(env, 'reserve', 'o-4', 'MUG:9', '--no-split');
    expect(unsplit.code).not.toBe(0);
    expect(unsplit.err).toMatch(/no single warehouse has all 9 and split is false/);
    const near = await cli(
      env,
      '--json',
      'reserve',
      'o-7',
      'MUG:1',
      '--allocation',
      'nearest',
      '--ship-to',
      '52.5,13.4',
    );
    expect(near.code, near.err).toBe(0);
    const nowhere = await cli(env, 'reserve', 'o-8', 'MUG:1', '--ship-to', 'Berlin');
    expect(nowhere.code).toBe(2);
    expect(nowhere.err).toMatch(/LAT,LON/);
    const offMap = await cli(env, 'reserve', 'o-9', 'MUG:1', '--ship-to', '95,13.4');
    expect(offMap.code).toBe(2);
    expect(offMap.err).toMatch(/ship_to\/lat/);
  });

  it('reserves an untracked variant with nothing in stock, and refuses a store setting that is no strategy', async () => {
    expect((await cli(env, 'reserve', 'o-5', 'GIFT:3')).code).toBe(0);
    const bad = await cli({ ...env, STOCKROOM_ALLOCATION: 'closest' }, 'reserve', 'o-6', 'MUG:1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/STOCKROOM_ALLOCATION/);
    const variant = JSON.parse((await cli(env, '--json', 'variant', 'show', 'MUG')).out) as Record<string, unknown>;
    expect(variant).toMatchObject({ limit_scope: 'variant', track_inventory: true });
    expect((await cli(env, 'reconcile')).code).toBe(0);
  });
});
