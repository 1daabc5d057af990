import { describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('the warehouse floor from the command line (embedded database)', () => {
  const { env } = useEmbeddedCli('stockroom-locations-cli-');

  it('adds locations with limits, refuses a receipt without room (unless forced), lists the fill, moves units', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    const measured = await cli(env, 'measures', 'TEE-M', '--weight', '500', '--dimensions', '100x100x10');
    expect(measured.out).toBe('TEE-M: 500 g, 100 cm3 (100x100x10 mm)\n');
    const added = await cli(env, 'location', 'add', 'AMS', 'A-01-01', '--type', 'pick_face', '--max-weight', '2000');
    expect(added.out).toBe('location A-01-01 (pick_face) added to AMS\n');
    expect((await cli(env, 'location', 'add', 'AMS', 'B-01-01')).code).toBe(0);

    const refused = await cli(env, 'receive', 'TEE-M', 'AMS', '5', '--bin', 'A-01-01');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('room for 4 units by weight');
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '3', '--bin', 'A-01-01', '--unit-cost', '4.50')).code).toBe(0);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '10', '--bin', 'B-01-01', '--unit-cost', '4.50')).code).toBe(0);
    expect((await cli(env, 'location', 'minimum', 'AMS', 'A-01-01', 'TEE-M', '4')).code).toBe(0);

    const suggested = await cli(env, 'location', 'replenishments', 'AMS');
    expect(suggested.out).toMatch(/TEE-M +A-01-01 +3 +4 +1 +B-01-01 1/);
    expect((await cli(env, 'location', 'move', 'AMS', 'TEE-M', 'B-01-01', 'A-01-01', '1')).out).toBe(
      '1 of TEE-M moved B-01-01 -> A-01-01 in AMS\n',
    );
    const listed = await cli(env, 'location', 'list', 'AMS');
    expect(listed.out).toMatch(/A-01-01 +pick_face +yes +4 +2000 g +2000 g +400 cm3 +- +TEE-M 4 \(min 4\)/);
    expect(listed.out).toMatch(/B-01-01 +bulk +yes +9 /);

    const counted = await cli(env, 'location', 'count', 'AMS', 'B-01-01', 'TEE-M', '8');
    expect(counted.out).toBe('TEE-M in AMS/B-01-01: expected 9, counted 8, variance -1\n');
    expect((await cli(env, 'location', 'count-plan', 'AMS', '--method', 'oldest')).out).toMatch(
      // 13 units in at 4.50, 1 out at the count: 14 units, 63.00 of value
      /A-01-01 +TEE-M +4 +A +14 +63\.00 +never\n.*B-01-01 +TEE-M +8/,
    );
    expect((await cli(env, 'location', 'variance', 'AMS')).out).toMatch(/^1 counts since .*: net -1, absolute 1/);
    expect((await cli(env, 'location', 'count-plan', 'AMS', '--method', 'newest')).code).not.toBe(0);
  });

  it('refuses a count, minimum, move or capacity that is no whole number with exit 2, naming the argument', async () => {
    const cases: [string[], string][] = [
      [['location', 'count', 'AMS', 'B-01-01', 'TEE-M', '1.5'], '/counted'],
      [['location', 'minimum', 'AMS', 'A-01-01', 'TEE-M', 'abc'], '/min_qty'],
      [['location', 'move', 'AMS', 'TEE-M', 'A-01-01', 'B-01-01', '1.5'], '/qty'],
      [['location', 'capacity', 'AMS', 'lots'], '/capacity_cm3'],
    ];
    for (const [argv, path] of cases) {
      const human = await cli(env, ...argv);
      expect([human.code, human.out], argv.join(' ')).toEqual([2, '']);
      expect(human.err).toMatch(new RegExp(`^error: invalid input\n  ${path}: `));
      const json = await cli(env, '--json', ...argv);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed', errors: [{ path }] });
    }
  });

  it('refuses a count plan limit outside 1-500, as the API does, rather than cutting the plan by it', async () => {
    expect((await cli(env, 'warehouse', 'add', 'CPL', '--name', 'Count plans')).code).toBe(0);
    for (const limit of ['0', '-1', '501']) {
      const refused = await cli(env, 'location', 'count-plan', 'CPL', '--limit', limit);
      expect([refused.code, refused.out], limit).toEqual([2, '']);
      expect(refused.err).toContain(
        `option '--limit <n>' argument '${limit}' is invalid. must be a whole number from 1 to 500`,
      );
    }
    expect((await cli(env, 'location', 'count-plan', 'CPL', '--limit', '1')).code).toBe(0);
  });

  it('takes "none" for a limit, as its help says: no limit', async () => {
    expect((await cli(env, 'warehouse', 'add', 'NON', '--name', 'No limits')).code).toBe(0);
    const added = await cli(
      env,
      '--json',
      'location',
      'add',
      'NON',
      'G-01-03',
      '--max-weight',
      '500',
      '--max-volume',
      'none',
    );
    expect(added.code).toBe(0);
    expect(JSON.parse(added.out)).toMatchObject({ code: 'G-01-03', max_weight_g: 500, max_volume_cm3: null });
    const updated = await cli(
      env,
      '--json',
      'location',
      'update',
      'NON',
      'G-01-03',
      '--max-weight',
      'none',
      '--max-volume',
      '9000',
    );
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.out)).toMatchObject({ max_weight_g: null, max_volume_cm3: 9000 });
    const refused = await cli(env, 'location', 'update', 'NON', 'G-01-03', '--max-weight', 'nothing');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("option '--max-weight <grams>' argument 'nothing' is invalid");
  });
});
