import { beforeAll, describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('purchasing from the command line (embedded database)', () => {
  const { env } = useEmbeddedCli('stockroom-purchasing-cli-');

  /** The orders there are, newest first, as --json lists them. */
  const orders = async (): Promise<{ id: number; lines: { sku: string; unit_cost: number | null }[] }[]> =>
    (JSON.parse((await cli(env, '--json', 'po', 'list')).out) as { items: [] }).items;

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'WH1', '--name', 'One')).code).toBe(0);
    expect((await cli(env, 'suppliers', 'add', 'S1', 'Supplier One', '--warehouse', 'WH1')).code).toBe(0);
    for (const sku of ['T-A', 'T-B'])
      expect(
        (await cli(env, 'variant', 'add', sku, '--title', sku, '--reorder-point', '2', '--supplier', 'S1')).code,
      ).toBe(0);
  });

  it('refuses --sku on a replenishment run, which would draft every due variant, and drafts nothing', async () => {
    const refused = await cli(env, 'replenish', '--sku', 'T-A');
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toContain('/sku: --sku only applies with --dry-run');
    expect(await orders()).toEqual([]);
    // with --dry-run it shows those SKUs, due or not
    const shown = await cli(env, 'replenish', '--dry-run', '--sku', 'T-A');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/T-A\s+S1/);
    expect(shown.out).not.toContain('T-B');
  });

  it('refuses the demand model (--window-days, --service-level) on a run, which drafts from reorder points, and drafts nothing', async () => {
    for (const [option, value, field] of [
      ['--window-days', '7', '/window_days'],
      ['--service-level', '0.99', '/service_level'],
    ] as const) {
      const refused = await cli(env, 'replenish', option, value);
      expect(refused).toMatchObject({ code: 2, out: '' });
      expect(refused.err).toContain(`${field}: ${option} only applies with --dry-run`);
    }
    expect(await orders()).toEqual([]);
    // with --dry-run they shape the suggestions, and the answer says which were used
    const shown = JSON.parse(
      (await cli(env, '--json', 'replenish', '--dry-run', '--window-days', '7', '--service-level', '0.99')).out,
    ) as { window_days: number; service_level: number };
    expect(shown).toMatchObject({ window_days: 7, service_level: 0.99 });
    const defaults = JSON.parse((await cli(env, '--json', 'replenish', '--dry-run')).out) as typeof shown;
    expect(defaults).toMatchObject({ window_days: 28, service_level: 0.95 });
  });

  it('refuses a --cost for a SKU not on the order, or one SKU given two costs, and creates nothing', async () => {
    const before = await orders();
    const stray = await cli(env, 'po', 'create', 'S1', 'WH1', 'T-A:5', '--cost', 'T-B=1');
    expect(stray).toMatchObject({ code: 2, out: '' });
    expect(stray.err).toContain('/costs/0: T-B is not on the order (its lines: T-A)');
    const twice = await cli(env, 'po', 'create', 'S1', 'WH1', 'T-A:5', '--cost', 'T-A=1', '--cost', 'T-A=2');
    expect(twice).toMatchObject({ code: 2, out: '' });
    expect(twice.err).toContain('/costs/1: T-A is given a cost twice ("T-A=1" and "T-A=2")');
    expect(await orders()).toEqual(before);
    // one cost per line of the order is taken
    const made = await cli(env, '--json', 'po', 'create', 'S1', 'WH1', 'T-A:5', 'T-B:1', '--cost', 'T-B=1.25');
    expect(made.code).toBe(0);
    expect((JSON.parse(made.out) as { lines: unknown[] }).lines).toMatchObject([
      { sku: 'T-A', unit_cost: null },
      { sku: 'T-B', unit_cost: 125 },
    ]);
  });

  it('refuses re-pricing one SKU twice in one command, leaving its cost as it was', async () => {
    const made = await cli(env, '--json', 'po', 'create', 'S1', 'WH1', 'T-A:2', '--cost', 'T-A=1');
    const id = String((JSON.parse(made.out) as { id: number }).id);
    const twice = await cli(env, 'po', 'costs', id, 'T-A=1', 'T-A=3');
    expect(twice).toMatchObject({ code: 2, out: '' });
    expect(twice.err).toContain('/costs/1: T-A is given a cost twice ("T-A=1" and "T-A=3")');
    expect((await orders()).find((order) => String(order.id) === id)?.lines).toMatchObject([
      { sku: 'T-A', unit_cost: 100 },
    ]);
  });

  it('refuses a kit on an order, naming it (a refusal: exit 1)', async () => {
    expect((await cli(env, 'variant', 'add', 'KIT-1', '--title', 'Kit')).code).toBe(0);
    expect((await cli(env, 'kits', 'define', 'KIT-1', '--component', 'T-A:1')).code).toBe(0);
    const before = await orders();
    const refused = await cli(env, 'po', 'create', 'S1', 'WH1', 'KIT-1:5');
    expect(refused).toMatchObject({ code: 1, out: '' });
    expect(refused.err).toContain('KIT-1 is a kit and holds no stock of its own');
    expect(refused.err).toContain('[kit_holds_no_stock]');
    expect(await orders()).toEqual(before);
  });
});
