import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import type { Reservation } from '../src/index.js';
import { copyTemplateDataDir } from './support/pglite-template.js';

describe('changing a reservation from the command line', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-amend-cli-'));
    copyTemplateDataDir(join(dir, 'data'));
    env = { STOCKROOM_DATA: join(dir, 'data') };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('amends, moves, ships from another warehouse, undoes a shipment and cancels part of an order', async () => {
    const json = async (...argv: string[]) => {
      const result = await cli(env, '--json', ...argv);
      expect(result.code, result.err).toBe(0);
      return JSON.parse(result.out) as Reservation;
    };
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam', '--priority', '5')).code).toBe(0);
    expect((await cli(env, 'warehouse', 'add', 'BER', '--name', 'Berlin')).code).toBe(0);
    for (const sku of ['TEE-M', 'CAP']) expect((await cli(env, 'variant', 'add', sku, '--title', sku)).code).toBe(0);
    for (const where of ['AMS', 'BER']) {
      expect((await cli(env, 'receive', 'TEE-M', where, '10')).code).toBe(0);
      expect((await cli(env, 'receive', 'CAP', where, '3')).code).toBe(0);
    }
    const r = await json('reserve', 'order-1', 'TEE-M:2');
    const amended = await json('reservations', 'amend', r.id, 'TEE-M:4', 'CAP:1', '--ttl', '1200');
    expect(amended.lines.map((line) => [line.sku, line.warehouse, line.qty])).toEqual([
      ['TEE-M', 'AMS', 4],
      ['CAP', 'AMS', 1],
    ]);
    const moved = await json('reservations', 'move', r.id, 'TEE-M', 'BER', '--qty', '1');
    expect(moved.lines.map((line) => [line.sku, line.warehouse, line.qty - line.released])).toEqual([
      ['TEE-M', 'AMS', 3],
      ['CAP', 'AMS', 1],
      ['TEE-M', 'BER', 1],
    ]);
    const shipped = await json('fulfil', r.id, 'CAP:1', '--ship-from', 'BER');
    expect(shipped.status).toBe('partially_fulfilled');
    const undone = await json('reservations', 'unfulfil', r.id);
    expect(undone.status).toBe('committed');
    const part = await json('cancel', r.id, 'TEE-M:2', '--warehouse', 'AMS');
    // one was moved away before, two more given back now
    expect(part.lines[0]).toMatchObject({ sku: 'TEE-M', warehouse: 'AMS', qty: 4, released: 3 });
    const refused = await cli(env, 'reservations', 'amend', r.id, 'TEE-M:500', '--warehouse', 'AMS');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/insufficient stock/);
  });
});
