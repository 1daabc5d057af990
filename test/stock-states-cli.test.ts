import { describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('stock states and archiving from the command line (embedded database)', () => {
  const { env } = useEmbeddedCli('stockroom-states-cli-');

  it('moves units between states, shows them in `stock`, and archives a warehouse once it is empty', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'warehouse', 'add', 'OLD', '--name', 'Old depot')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '10')).code).toBe(0);
    const moved = await cli(
      env,
      'stock',
      'move-state',
      'TEE-M',
      'AMS',
      '3',
      '--from',
      'available',
      '--to',
      'damaged',
      '--reason',
      'damaged',
      '--note',
      'forklift',
    );
    expect(moved).toMatchObject({ code: 0 });
    expect(moved.out).toMatch(/available 7 \(damaged 3, quality control 0, safety stock 0\)/);
    const refused = await cli(
      env,
      'stock',
      'move-state',
      'TEE-M',
      'AMS',
      '4',
      '--from',
      'damaged',
      '--to',
      'available',
      '--reason',
      'correction',
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/insufficient/i);
    const stock = await cli(env, 'stock', 'TEE-M');
    expect(stock.out).toMatch(/AMS\s+10\s+0\s+7\s+0\s+-/);
    expect(stock.out).toMatch(/COMMITTED\s+PENDING\s+DAMAGED\s+QUALITY CONTROL\s+SAFETY STOCK/);
    expect(stock.out).toMatch(/AMS\s+0\s+0\s+3\s+0\s+0/);

    expect((await cli(env, 'warehouse', 'archive', 'AMS')).code).toBe(1);
    expect((await cli(env, 'variant', 'archive', 'TEE-M')).err).toMatch(/still holds stock/);
    expect((await cli(env, 'warehouse', 'archive', 'OLD')).out).toMatch(/warehouse OLD archived/);
    expect((await cli(env, 'warehouse', 'list')).out).not.toMatch(/OLD/);
    expect((await cli(env, 'warehouse', 'list', '--archived')).out).toMatch(/OLD/);
    expect((await cli(env, 'receive', 'TEE-M', 'OLD', '1')).code).toBe(1);
    expect((await cli(env, 'warehouse', 'unarchive', 'OLD')).code).toBe(0);
    expect((await cli(env, 'reconcile')).code).toBe(0);
  });
});
