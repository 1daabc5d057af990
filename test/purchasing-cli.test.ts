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
});
