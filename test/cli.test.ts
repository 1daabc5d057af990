import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { Stockroom, openDbFromEnv } from '../src/index.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { freePort } from './support/postgres-cluster.js';
import { useUpstream } from './support/upstream.js';
import { copyTemplateDataDir } from './support/pglite-template.js';

const exec = promisify(execFile);

describe('the stockroom CLI on the embedded database', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    // the run's migrated embedded database, copied: a first start's initdb is test/embedded.test.ts's
    dir = mkdtempSync(join(tmpdir(), 'stockroom-cli-'));
    copyTemplateDataDir(join(dir, 'data'));
    env = { STOCKROOM_DATA: join(dir, 'data') };
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks an order through its life from the command line', async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam', '--priority', '5')).out).toMatch(
      /warehouse AMS added/,
    );
    expect((await cli(env, 'warehouse', 'add', 'BER', '--name', 'Berlin')).code).toBe(0);
    expect(
      (await cli(env, 'variant', 'add', 'TEE-M', '--title', 'Tee', '--threshold', '3', '--attr', 'size=M')).out,
    ).toMatch(/variant TEE-M added/);
    expect((await cli(env, 'bin', 'add', 'AMS', 'A-01-01')).code).toBe(0);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', '10', '--bin', 'A-01-01')).out).toMatch(
      /on hand 10, reserved 0, available 10/,
    );
    expect((await cli(env, 'adjust', 'TEE-M', 'AMS', '-2', '--reason', 'damaged')).out).toMatch(/on hand 8/);
    expect((await cli(env, 'count', 'TEE-M', 'BER', '4')).out).toMatch(/difference \+4/);
    expect((await cli(env, 'transfer', 'TEE-M', 'BER', 'AMS', '1')).code).toBe(0);

    const reserved = await cli(
      env,
      '--json',
      'reserve',
      'order-1',
      'TEE-M:2',
      'TEE-M:1',
      '--key',
      'k-1',
      '--ttl',
      '600',
    );
    expect(reserved.code).toBe(0);
    const r = JSON.parse(reserved.out) as { id: string; status: string; lines: { qty: number }[] };
    expect(r).toMatchObject({ status: 'pending', lines: [{ qty: 3 }] });
    const replay = JSON.parse(
      (await cli(env, '--json', 'reserve', 'order-1', 'TEE-M:2', 'TEE-M:1', '--key', 'k-1', '--ttl', '600')).out,
    ) as { id: string };
    expect(replay.id).toBe(r.id);

    expect((await cli(env, 'commit', r.id)).out).toMatch(/status +committed/);
    expect((await cli(env, 'fulfil', r.id, 'TEE-M:1')).out).toMatch(/partially_fulfilled/);
    expect((await cli(env, 'cancel', r.id)).out).toMatch(/status +released/);

    const stock = await cli(env, 'stock', 'TEE-M');
    // incoming 0; the shipped unit was picked from the bin (its pick list), the one transferred in is in no bin
    expect(stock.out).toMatch(/AMS +8 +0 +8 +0 +A-01-01:7/);
    expect(stock.out).toMatch(/TOTAL +11 +0 +11/);
    const movements = JSON.parse((await cli(env, '--json', 'movements', 'TEE-M')).out) as { items: { type: string }[] };
    expect(movements.items.map((m) => m.type).sort()).toEqual([
      'adjust',
      'count',
      'fulfil',
      'receive',
      'release',
      'reserve',
      'transfer_in',
      'transfer_out',
    ]);
    expect((await cli(env, 'expire')).out).toMatch(/expired 0 reservations/);
    expect((await cli(env, 'reconcile')).out).toMatch(/^clean: 2 levels match 8 ledger rows/);
  });

  it('imports a stock take from a file, within the import settings the server reads', async () => {
    expect((await cli(env, 'warehouse', 'add', 'CSV', '--name', 'Imports')).code).toBe(0);
    expect((await cli(env, 'variant', 'add', 'CSV-1', '--title', 'imported')).code).toBe(0);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'sku,warehouse,on_hand\nCSV-1,CSV,x\nCSV-1,CSV,-1\nCSV-1,CSV,y\n');
    const refused = await cli({ ...env, STOCKROOM_IMPORT_MAX_ERRORS: '2' }, 'import', 'stock', bad);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('/line/2/on_hand');
    expect(refused.err).toContain('stopped at 2 problems');
    expect(refused.err).not.toContain('/line/4/on_hand');
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'sku,warehouse,on_hand\nCSV-1,CSV,6\n');
    expect((await cli({ ...env, STOCKROOM_IMPORT_MAX_BYTES: '10' }, 'import', 'stock', good)).err).toContain(
      'larger than 10 bytes [payload_too_large]',
    );
    // a dry run names every bad row, past the import's limit, and applies nothing
    const checked = await cli({ ...env, STOCKROOM_IMPORT_MAX_ERRORS: '2' }, 'import', 'stock', bad, '--dry-run');
    expect(checked.code).toBe(2);
    for (const line of [2, 3, 4]) expect(checked.err).toContain(`/line/${line}/on_hand`);
    const previewed = await cli(env, 'import', 'stock', good, '--dry-run');
    expect(previewed.out).toMatch(/dry run: 1 rows, no problems; 1 levels would change; nothing was applied/);
    expect((await cli(env, 'import', 'stock', good)).out).toMatch(/imported 1 rows: 1 levels changed/);
  });

  it('buys stock from the command line: a supplier, replenishment, a purchase order received into a bin, channels', async () => {
    expect((await cli(env, 'warehouse', 'add', 'DOCK', '--name', 'Dock')).code).toBe(0);
    expect(
      (await cli(env, 'suppliers', 'add', 'ACME', 'Acme Textiles', '--lead-time', '5', '--warehouse', 'DOCK')).out,
    ).toMatch(/supplier ACME/);
    expect(
      (
        await cli(
          env,
          'variant',
          'add',
          'HAT-1',
          '--title',
          'Hat',
          '--reorder-point',
          '4',
          '--reorder-qty',
          '10',
          '--supplier',
          'ACME',
        )
      ).code,
    ).toBe(0);
    expect((await cli(env, 'replenish', '--dry-run')).out).toMatch(/HAT-1\s+ACME\s+0\s+4\s+14/);
    const drafted = JSON.parse((await cli(env, '--json', 'replenish')).out) as {
      orders: { id: number; lines: { sku: string; qty: number }[] }[];
    };
    expect(drafted.orders).toMatchObject([{ lines: [{ sku: 'HAT-1', qty: 14 }] }]);
    const id = String(drafted.orders[0]!.id);
    expect((await cli(env, 'po', 'receive', id, 'HAT-1:1')).err).toMatch(
      /cannot receive a purchase order that is draft \[invalid_transition\]/,
    );
    expect((await cli(env, 'po', 'send', id)).out).toMatch(/status {5}SENT/);
    expect((await cli(env, 'po', 'confirm', id, '--expected', '2030-05-01')).out).toMatch(/expected {3}2030-05-01/);
    expect((await cli(env, 'bin', 'add', 'DOCK', 'B-02-01')).code).toBe(0);
    const receipt = await cli(env, 'po', 'receive', id, 'HAT-1:6@B-02-01');
    expect(receipt.out).toMatch(/status {5}PARTIAL/);
    expect(receipt.out).toMatch(/6 x HAT-1 -> B-02-01/);
    expect((await cli(env, 'stock', 'HAT-1')).out).toMatch(/DOCK\s+6\s+0\s+6\s+8\s+B-02-01:6/);
    expect((await cli(env, 'po', 'receive', id, 'HAT-1:9')).code).toBe(2);
    expect(
      (
        await cli(
          env,
          'channels',
          'add',
          'webhook',
          '--events',
          'low_stock',
          '--url',
          'http://127.0.0.1:9/in',
          '--secret',
          'whsec-0123456789abcdef',
        )
      ).out,
    ).toMatch(/channel \d+: webhook/);
    const bad = await cli(env, 'channels', 'add', 'slack', '--events', 'sold_out', '--url', 'http://127.0.0.1:9/in');
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('/events/0') as unknown });
    expect((await cli(env, 'alerts', '--sku', 'HAT-1')).code).toBe(0);
  });

  it('says what is wrong and exits non-zero: 2 for bad input, 1 for a refusal', async () => {
    const bad = await cli(env, 'receive', 'TEE-M', 'AMS', '0');
    expect(bad).toMatchObject({ code: 2, out: '' });
    expect(bad.err).toMatch(/\/qty: must be >= 1/);
    expect((await cli(env, 'receive', 'TEE-M', 'AMS', 'lots')).err).toMatch(/\/qty: must be integer/);
    expect(await cli(env, 'reserve', 'order-2', 'NOPE:1')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/unknown SKU: NOPE \[unknown_sku\]/) as string,
    });
    expect((await cli(env, 'reserve', 'order-2', 'TEE-M:500')).err).toMatch(
      /TEE-M requested 500, available 11 \[insufficient_stock\]/,
    );
    expect((await cli(env, 'reserve', 'order-2', 'TEE-M')).err).toMatch(/"TEE-M" is not SKU:QTY/);
    expect((await cli(env, 'adjust', 'TEE-M', 'AMS', '1')).err).toMatch(/required option '--reason <reason>'/);
    expect((await cli(env, 'transfer', 'TEE-M', 'AMS', 'AMS', '1')).code).toBe(2);
    expect((await cli(env, 'frobnicate')).code).toBe(2);
    const json = await cli(env, '--json', 'commit', '00000000-0000-4000-8000-000000000000');
    expect(JSON.parse(json.out)).toMatchObject({ code: 'not_found', resource: 'reservation' });
    // settings from the environment are checked too, before anything is opened or served
    expect(await cli({ ...env, STOCKROOM_SWEEP_MS: 'soon' }, 'serve', '--port', '0')).toMatchObject({
      code: 2,
      err: expect.stringMatching(
        /\/env\/STOCKROOM_SWEEP_MS: must be a whole number from 1 to 2147483647 \(not "soon"\)/,
      ) as string,
    });
    // a number past what a timer waits is refused by name, not fired at once (src/store/open.test.ts: every form)
    const huge = await cli({ ...env, STOCKROOM_SWEEP_MS: '1e300' }, 'serve', '--port', '0');
    expect(huge.code).toBe(2);
    expect(huge.err).toContain('/env/STOCKROOM_SWEEP_MS: must be a whole number from 1 to 2147483647 (not "1e300")');
    // and only by a command that uses them: the demo that only seeds does not serve
    expect((await cli({ ...env, STOCKROOM_SWEEP_MS: 'soon' }, 'demo', '--no-serve')).code).toBe(0);
    expect((await cli({ ...env, STOCKROOM_SWEEP_MS: 'soon' }, 'demo', '--port', '0')).code).toBe(2);
    expect((await cli(env, 'reconcile')).code).toBe(0);
  });

  it('refuses a page size outside 1..500 on every list, as the API does, instead of clamping it', async () => {
    expect((await cli(env, 'variant', 'add', 'PAGE-1', '--title', 'Paged')).code).toBe(0);
    const lists = [['movements', 'PAGE-1'], ['variant', 'list'], ['alerts'], ['deliveries', 'list'], ['po', 'list']];
    for (const list of lists) {
      for (const limit of ['0', '501', '-1', 'ten']) {
        const refused = await cli(env, ...list, '--limit', limit);
        expect([list, limit, refused.code, refused.out]).toEqual([list, limit, 2, '']);
        expect(refused.err).toMatch(/--limit.*must be a whole number from 1 to 500/);
      }
      expect((await cli(env, ...list, '--limit', '500')).code).toBe(0);
    }
    expect((await cli(env, 'movements', 'PAGE-1', '--limit', '1')).code).toBe(0);
  });

  it('lists each key with its origin: operator for STOCKROOM_ADMIN_KEY, generated for the others', async () => {
    const operatorKey = 'sr_cli_operator_0123456789abcdef';
    // what serve does at start with STOCKROOM_ADMIN_KEY
    const stockroom = new Stockroom({ db: await openDbFromEnv(env) });
    try {
      await stockroom.migrate();
      await stockroom.keys.ensure(operatorKey, 'STOCKROOM_ADMIN_KEY', ['admin']);
    } finally {
      await stockroom.close();
    }
    const made = JSON.parse(
      (await cli(env, '--json', 'keys', 'create', '--name', 'origin', '--scopes', 'checkout')).out,
    ) as {
      prefix: string;
    };
    const list = await cli(env, 'keys', 'list');
    expect(list.out).toMatch(/^ID +PREFIX +NAME +SCOPES +ORIGIN +CREATED +REVOKED/);
    expect(list.out).toMatch(/ STOCKROOM_ADMIN_KEY +admin +operator /);
    expect(list.out).toMatch(new RegExp(`${made.prefix} +origin +checkout +generated `));
    expect(list.out).not.toContain(operatorKey);
  });

  it('creates API keys shown once, lists them without secrets, and revokes them', async () => {
    const created = await cli(env, '--json', 'keys', 'create', '--name', 'till 3', '--scopes', 'checkout,storefront');
    const key = JSON.parse(created.out) as { id: number; key: string; prefix: string; scopes: string[] };
    expect(key).toMatchObject({ scopes: ['checkout', 'storefront'] });
    expect(key.key).toMatch(/^sr_[0-9a-f]{12}_/);
    expect(key.key.startsWith(`${key.prefix}_`)).toBe(true);
    const list = await cli(env, 'keys', 'list');
    expect(list.out).toMatch(new RegExp(`${key.prefix} +till 3 +checkout,storefront`));
    expect(list.out).not.toContain(key.key);
    expect((await cli(env, 'keys', 'revoke', key.prefix)).err).toMatch(/api key not found/); // by id only
    expect((await cli(env, 'keys', 'revoke', String(key.id))).out).toMatch(/revoked/);
    expect((await cli(env, 'keys', 'create', '--name', 'x', '--scopes', 'root')).err).toMatch(
      /scopes must be one or more of storefront, checkout, warehouse, metrics, admin \(not root\)/,
    );
  });
});

describe('the stockroom CLI without its database', () => {
  it('exits 4, unavailable, when the database cannot be reached, naming what the driver said', async () => {
    const port = await freePort(); // nothing listens there
    const refused = await cli(
      { DATABASE_URL: `postgres://stockroom@127.0.0.1:${port}/stockroom` },
      'warehouse',
      'list',
    );
    expect(refused).toMatchObject({ code: 4, out: '' });
    expect(refused.err).toMatch(/the database cannot be reached; try again \(.*ECONNREFUSED.*\) \[unavailable\]/);
  });

  it('exits 2, a bad setting, for a DATABASE_URL that is not a postgres:// URL, without repeating it', async () => {
    for (const url of ['notaurl', 'localhost:5432/stockroom', 'mysql://me:hunter2@127.0.0.1/stockroom']) {
      const refused = await cli({ DATABASE_URL: url }, 'stock', 'X');
      expect(refused).toMatchObject({ code: 2, out: '' });
      expect(refused.err).toMatch(/\/env\/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      expect(refused.err).not.toContain('hunter2');
    }
    // postgresql:// is the same thing to node-postgres: read, then found unreachable
    const port = await freePort();
    expect(
      await cli({ DATABASE_URL: `postgresql://stockroom@127.0.0.1:${port}/stockroom` }, 'stock', 'X'),
    ).toMatchObject({ code: 4 });
  });
});

describe('the stockroom bin', () => {
  it('runs as a program: prints, and exits with the status of the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-bin-'));
    copyTemplateDataDir(join(dir, 'data'));
    const env = { ...process.env, STOCKROOM_DATA: join(dir, 'data'), DATABASE_URL: '' };
    try {
      const help = await exec('node', ['bin/stockroom.js', '--help'], { env });
      expect(help.stdout).toMatch(/reconcile/);
      const failed = await exec('node', ['bin/stockroom.js', 'stock', 'NOPE'], { env }).catch(
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/unknown SKU: NOPE/) as string });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stockroom sync pull --every', () => {
  const upstream = useUpstream();

  it('keeps pulling at the interval, survives a failed round without moving its cursor, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-pull-'));
    copyTemplateDataDir(join(dir, 'data'));
    const env = { STOCKROOM_DATA: join(dir, 'data') };
    try {
      expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
      expect((await cli(env, 'variant', 'add', 'PULLED-1', '--title', 'Pulled')).code).toBe(0);
      expect((await cli(env, 'sync', 'source', 'wms')).code).toBe(0);
      const rounds = [
        {
          status: 200,
          body: { items: [{ sku: 'PULLED-1', warehouse: 'AMS', on_hand: 9 }], as_of: '2026-05-01T10:00:00.000Z' },
        },
        { status: 503, body: { error: 'maintenance' } },
        {
          status: 200,
          body: { items: [{ sku: 'PULLED-1', warehouse: 'AMS', on_hand: 4 }], as_of: '2026-05-01T10:00:02.000Z' },
        },
      ];
      upstream.answer = () =>
        rounds[Math.min(upstream.asked.length, rounds.length) - 1] ?? { status: 200, body: { items: [] } };
      const child = spawn(
        process.execPath,
        ['bin/stockroom.js', 'sync', 'pull', '--url', upstream.url, '--source', 'wms', '--every', '1s'],
        {
          env: { ...process.env, DATABASE_URL: '', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

      await upstream.answered(rounds.length);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(upstream.asked.slice(-3).map((u) => u.searchParams.get('changedSince'))).toEqual([
        null,
        '2026-05-01T10:00:00.000Z',
        '2026-05-01T10:00:00.000Z',
      ]);
      expect(out.match(/wms: 1 levels synced/g)).toHaveLength(2);
      expect(err).toMatch(/error: .*503/);
      expect((await cli(env, '--json', 'stock', 'PULLED-1')).out).toMatch(/"on_hand": ?4/);
      expect((await cli(env, 'reconcile')).out).toMatch(/^clean/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresUrl())('the stockroom CLI on PostgreSQL', () => {
  it('refuses to work on an unmigrated server until `stockroom migrate` is run', async () => {
    const { url, drop } = await createPostgresDatabase();
    try {
      const env = { DATABASE_URL: url };
      expect(await cli(env, 'warehouse', 'list')).toMatchObject({
        code: 3,
        err: expect.stringMatching(/run `stockroom migrate` first/) as string,
      });
      expect((await cli(env, 'migrate')).out).toMatch(/applied 0001_core/);
      expect((await cli(env, 'migrate')).out).toMatch(/schema is up to date/);
      expect((await cli(env, 'warehouse', 'add', 'PG1', '--name', 'Server')).code).toBe(0);
      expect((await cli(env, 'variant', 'add', 'PG-SKU', '--title', 'On a server')).code).toBe(0);
      expect((await cli(env, 'receive', 'PG-SKU', 'PG1', '3')).code).toBe(0);
      expect((await cli(env, 'reconcile')).out).toMatch(/^clean/);
    } finally {
      await drop();
    }
  });
});
