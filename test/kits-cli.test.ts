import { describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('kits from the command line (embedded database)', () => {
  const { env } = useEmbeddedCli('stockroom-kits-cli-');

  it('defines a kit, lists it, refuses receiving into it, reserves it and makes it plain again', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    for (const sku of ['MUG', 'COFFEE', 'BOX'])
      expect((await cli(env, 'variant', 'add', sku, '--title', sku)).code).toBe(0);
    expect((await cli(env, 'receive', 'MUG', 'AMS', '5')).code).toBe(0);
    expect((await cli(env, 'receive', 'COFFEE', 'AMS', '5')).code).toBe(0);
    const defined = await cli(env, 'kits', 'define', 'BOX', '--component', 'MUG:2', '--component', 'COFFEE:1');
    expect(defined).toMatchObject({ code: 0, out: 'kit BOX: 1 x COFFEE, 2 x MUG\n' });
    expect((await cli(env, 'kits', 'list')).out).toContain('2 x MUG');
    const bad = await cli(env, 'kits', 'define', 'BOX', '--component', 'MUG');
    expect(bad.code).not.toBe(0);
    const receipt = await cli(env, 'receive', 'BOX', 'AMS', '1');
    expect(receipt.code).not.toBe(0);
    expect(receipt.err).toContain('kit');
    const stock = await cli(env, '--json', 'stock', 'BOX');
    expect((JSON.parse(stock.out) as { total: { available: number } }).total.available).toBe(2);
    const reserved = await cli(env, '--json', 'reserve', 'order-1', 'BOX:2');
    expect(reserved.code).toBe(0);
    const mug = await cli(env, '--json', 'stock', 'MUG');
    expect((JSON.parse(mug.out) as { total: { reserved: number } }).total.reserved).toBe(4);
    const id = (JSON.parse(reserved.out) as { id: string }).id;
    expect((await cli(env, 'cancel', id)).code).toBe(0);
    expect((await cli(env, 'kits', 'remove', 'BOX')).code).toBe(0);
    expect(JSON.parse((await cli(env, '--json', 'kits', 'list')).out)).toEqual([]);
  });
});
