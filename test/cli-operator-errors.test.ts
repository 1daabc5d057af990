import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, useEmbeddedCli } from './support/cli.js';

describe('stockroom --output', () => {
  const { dir, env } = useEmbeddedCli('stockroom-output-');
  const keep = join(dir, 'keep.csv');
  const leftovers = () => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee')).code).toBe(0);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '7')).code).toBe(0);
  });

  it('leaves the file as it was when the command is refused on its input', async () => {
    for (const argv of [
      ['stock', 'list', '--status', 'bogus', '--csv', '--output', keep],
      ['valuation', '--as-of', '2026-02-30', '--csv', '--output', keep],
      ['valuation', '--as-of', '2026-02-30', '--xlsx', '--output', keep],
    ]) {
      writeFileSync(keep, 'precious\n');
      const refused = await cli(env, ...argv);
      expect(refused.code, argv.join(' ')).toBe(2);
      expect(readFileSync(keep, 'utf8'), argv.join(' ')).toBe('precious\n');
      expect(leftovers()).toEqual([]);
    }
  });

  it('replaces the file whole once the command succeeds, keeping its mode', async () => {
    writeFileSync(keep, 'precious\n');
    chmodSync(keep, 0o600);
    for (const argv of [
      ['export', 'stock', '--output', keep],
      ['stock', 'list', '--csv', '--output', keep],
      ['valuation', '--csv', '--output', keep],
    ]) {
      expect(await cli(env, ...argv), argv.join(' ')).toMatchObject({ code: 0 });
      expect(readFileSync(keep, 'utf8')).toMatch(/^sku,.*\n.*TEE-M/s);
      expect(statSync(keep).mode & 0o777).toBe(0o600);
    }
    expect(leftovers()).toEqual([]);
  });

  it('refuses an --output it cannot write with exit 2, naming the path and why', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const missing = join(dir, 'no-such-folder', 'out.csv');
    for (const [path, why] of [
      [missing, /its folder does not exist/],
      [folder, /it is a folder/],
    ] as const) {
      const refused = await cli(env, 'export', 'stock', '--output', path);
      expect(refused.code, path).toBe(2);
      expect(refused.err).toContain(`/output: cannot write ${path}`);
      expect(refused.err).toMatch(why);
      const json = await cli(env, '--json', 'stock', 'list', '--csv', '--output', path);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.out)).toMatchObject({ code: 'validation_failed' });
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('names the file an import cannot find', async () => {
    const missing = join(dir, 'no-such-import.csv');
    const refused = await cli(env, 'import', 'stock', missing);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(missing);
  });
});
