import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/domain/signature.js';
import { buildServer } from '../src/http/server.js';
import type { CopyReport } from '../src/services/copy.js';
import { Stockroom } from '../src/services/stockroom.js';
import type { Db } from '../src/store/db.js';
import { claimDeliveries, dispatchOutbox, recordAttempts } from '../src/store/deliveries.js';
import { openPglite } from '../src/store/pglite.js';
import { openPostgres } from '../src/store/postgres.js';
import { cli, useEmbeddedCli } from './support/cli.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { expectReconciled } from './support/harness.js';

/** Channel secrets are sealed with this: the copy must carry them sealed, and a server on it must open them. */
const SECRET_KEY = 'db-copy-test-secret-key';
const SYNC_SECRET = 'sync-source-secret-0123456789';
/**
 * Tables the fixture leaves empty, each for a reason: every other table of the schema must hold rows before the
 * copy, so a table a new migration adds fails this suite until the fixture fills it (and the copy is seen to
 * carry it).
 */
const EMPTY_BY_NATURE = new Set([
  // a row lives only inside the transaction that writes it (migration 0018)
  'reservation_changes',
]);

/** Every table of the schema a database is in, from its catalog (not from the copy's own list). */
async function catalogTables(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class
      WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') ORDER BY relname`,
  );
  return rows.map((row) => row.name);
}

/** What the embedded store keeps of its secrets (API key hashes, sealed channel secrets, sync secrets). */
async function secretsOf(env: NodeJS.ProcessEnv): Promise<string[]> {
  const db = await openPglite(String(env.STOCKROOM_DATA));
  try {
    const { rows } = await db.query<{ secret: string }>(
      `SELECT secret_hash AS secret FROM api_keys UNION ALL SELECT secrets::text FROM channels
       UNION ALL SELECT coalesce(secret, secret_sealed) FROM sync_sources WHERE coalesce(secret, secret_sealed) IS NOT NULL`,
    );
    return rows.map((row) => row.secret);
  } finally {
    await db.close();
  }
}

/** Triggers switched off on a database's tables (the copy switches them off while it writes). */
async function disabledTriggers(db: Db): Promise<unknown[]> {
  return (await db.query("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'")).rows;
}

/** Rows of a few tables the copy must carry exactly (costs and events derived by triggers must not be redone). */
async function derivedRows(db: Db): Promise<Record<string, unknown>> {
  const read = async (sql: string) => (await db.query(sql)).rows;
  return {
    costs: await read('SELECT variant_id, warehouse_id, stock_value, average_cost FROM stock_costs ORDER BY 1, 2'),
    ledger: await read('SELECT id, unit_cost, value_delta, value_after FROM stock_movements ORDER BY id'),
    alerts: await read('SELECT id, type, variant_id, warehouse_id, available FROM alerts ORDER BY id'),
    outbox: await read('SELECT id, topic, event, payload::text, delivered_at FROM outbox ORDER BY id'),
    order: await read('SELECT variant_id, warehouse_id, on_hand, reserved FROM stock_list_order ORDER BY 1, 2'),
    replay: await read('SELECT scope, key, response::text FROM idempotency_keys ORDER BY 1, 2'),
    channels: await read('SELECT id, config, secrets FROM channels ORDER BY id'),
  };
}

/** One of everything the demo does not make, through the use cases; returns an admin key for the copy's server. */
async function fillEveryTable(s: Stockroom): Promise<string> {
  const call = { actor: 'copy-test' };
  const { key } = await s.keys.create({ name: 'copy admin', scopes: ['admin'] });
  // costs: a receipt at a unit cost (stock_costs, the ledger's value columns)
  await s.stock.receive({ sku: 'CREW-TEE-BLACK-M', warehouse: 'AMS', qty: 10, unit_cost: 450 }, call);
  // a webhook with a sealed secret, subscribed to everything, so the changes below write events and alerts
  await s.channels.addWebhook(
    {
      url: 'http://127.0.0.1:9/hook',
      events: ['stock.*', 'reservation.*', 'out_of_stock', 'low_stock'],
      secret: 'w'.repeat(20),
    },
    call,
  );
  // a reservation with an idempotency key, committed and fulfilled, and one left pending
  const held = await s.reservations.reserve(
    { order_ref: 'copy-1', lines: [{ sku: 'CREW-TEE-BLACK-M', qty: 2 }] },
    { ...call, idempotencyKey: 'copy-key-1', idempotencyScope: 'test' },
  );
  await s.reservations.commit(held.id, call);
  await s.reservations.fulfil(held.id, {}, call);
  await s.reservations.reserve({ order_ref: 'copy-2', lines: [{ sku: 'HOODIE-NAVY-M', qty: 1 }] }, call);
  // sell a level out: an out_of_stock alert
  const level = (await s.stock.get('CREW-TEE-NAVY-S')).warehouses.find((row) => row.warehouse === 'BER');
  if (level && level.available > 0)
    await s.reservations.reserve(
      { order_ref: 'copy-3', warehouse: 'BER', lines: [{ sku: 'CREW-TEE-NAVY-S', qty: level.available }] },
      call,
    );
  await s.stock.return(
    { sku: 'CREW-TEE-BLACK-M', warehouse: 'AMS', qty: 1, condition: 'resellable', reference: 'RMA-COPY' },
    call,
  );
  await s.locations.count('AMS', 'A-01-01', { sku: 'CREW-TEE-BLACK-M', counted: 0 }, call).catch(async () => {
    // the bin may hold none of it: count a SKU that is there
    await s.locations.count('AMS', 'A-01-01', { sku: 'LINEN-SHIRT-BLACK-S', counted: 0 }, call);
  });
  await s.catalog.addVariant({ sku: 'COPY-KIT', product: { title: 'Copy kit' } }, call);
  await s.kits.define(
    'COPY-KIT',
    {
      components: [
        { sku: 'CREW-TEE-BLACK-L', qty: 1 },
        { sku: 'BELT-BLACK-M', qty: 1 },
      ],
    },
    call,
  );
  await s.purchasing.create({ supplier: 'NORDTEX', warehouse: 'AMS', lines: [{ sku: 'SCARF-SAND-S', qty: 5 }] }, call);
  // a signed sync push: a sync source and the signature it used
  await s.sync.configureSource('copy-wms', SYNC_SECRET);
  const batch = { source: 'copy-wms', items: [{ sku: 'SCARF-SAND-S', warehouse: 'BER', on_hand: 7 }] };
  const body = JSON.stringify(batch);
  await s.sync.push(batch, body, signWebhook(SYNC_SECRET, body, Math.floor(Date.now() / 1000)), call);
  // the outbox dispatched to the webhook, one delivery tried once
  await s.db.transaction((tx) => dispatchOutbox(tx, 500));
  const claimed = await s.db.transaction((tx) => claimDeliveries(tx, 1, 60_000));
  await s.db.transaction((tx) =>
    recordAttempts(
      tx,
      claimed.map((delivery) => ({
        deliveryId: delivery.id,
        attempt: delivery.attempt,
        startedAt: new Date(),
        durationMs: 3,
        ok: false,
        statusCode: 500,
        error: 'receiver answered 500',
        retryInMs: 60_000,
        sent: [],
      })),
    ),
  );
  return key;
}

/** A real HTTP server on a Stockroom, on loopback; stopped by the function it returns. */
async function serve(s: Stockroom): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = await buildServer({ stockroom: s });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop: () => app.close() };
}

/** Through a server on the copy: the copied key works, a reservation is taken, new rows get ids of their own. */
async function reserveOnCopy(s: Stockroom, key: string, orderRef: string): Promise<void> {
  const server = await serve(s);
  try {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const before = await s.db.query<{ id: number }>('SELECT max(id) AS id FROM stock_movements');
    const reserved = await fetch(`${server.url}/v1/reservations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ order_ref: orderRef, lines: [{ sku: 'CREW-TEE-BLACK-M', qty: 1 }] }),
    });
    expect(reserved.status).toBe(201);
    const reservation = (await reserved.json()) as { id: string; status: string };
    expect(reservation.status).toBe('pending');
    const committed = await fetch(`${server.url}/v1/reservations/${reservation.id}/commit`, {
      method: 'POST',
      headers,
    });
    expect(committed.status).toBe(200);
    // the sequences go on from the copied rows: new rows collide with none
    const after = await s.db.query<{ id: number }>('SELECT max(id) AS id FROM stock_movements');
    expect(after.rows[0]?.id).toBeGreaterThan(before.rows[0]?.id ?? 0);
    const warehouse = await fetch(`${server.url}/v1/warehouses`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ code: `C${orderRef.length}${Date.now() % 1000}`, name: 'After the copy' }),
    });
    expect(warehouse.status).toBe(201);
    // the idempotent answer stored before the copy is replayed byte for byte
    const replay = await s.reservations.reserve(
      { order_ref: 'copy-1', lines: [{ sku: 'CREW-TEE-BLACK-M', qty: 2 }] },
      { idempotencyKey: 'copy-key-1', idempotencyScope: 'test' },
    );
    expect(replay.order_ref).toBe('copy-1');
  } finally {
    await server.stop();
  }
  await expectReconciled(s);
}

/** The copy's own report: every table of the catalog, equal on both sides, reconcile clean. */
function expectCopied(report: CopyReport, tables: string[]): void {
  expect(report.committed).toBe(true);
  expect(report.tables.map((count) => count.table)).toEqual(tables);
  for (const count of report.tables)
    expect(count, count.table).toEqual({ ...count, target: count.source, identical: true });
  expect(report.reconcile.clean).toBe(true);
  expect(report.disabledTriggers).toEqual([]);
  for (const sequence of report.sequences) expect(sequence.ahead, sequence.sequence).toBe(true);
}

describe.skipIf(!postgresUrl())('db copy of the demo store, both ways', () => {
  // the embedded store the copies go through (reconciled after the suite by useEmbeddedCli)
  const { env } = useEmbeddedCli('stockroom-db-copy-', { STOCKROOM_SECRET_KEY: SECRET_KEY });
  let adminKey = '';
  let tables: string[] = [];
  let demoRows: Record<string, unknown> = {};
  // the demo is seeded on PostgreSQL (through the same use cases, several times quicker than embedded), copied
  // into the embedded store, and that copied into `target`
  let demo: { url: string; drop: () => Promise<void> };
  let target: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    demo = await createPostgresDatabase();
    target = await createPostgresDatabase();
    const server = { DATABASE_URL: demo.url, STOCKROOM_SECRET_KEY: SECRET_KEY };
    expect((await cli(server, 'migrate')).code).toBe(0);
    expect((await cli(server, 'demo', '--no-serve')).code).toBe(0);
    const s = new Stockroom({ db: await openPostgres(demo.url), secretKey: SECRET_KEY });
    try {
      adminKey = await fillEveryTable(s);
      tables = await catalogTables(s.db);
      for (const table of tables) {
        const { rows } = await s.db.query<{ count: number }>(`SELECT count(*) AS count FROM "${table}"`);
        if (!EMPTY_BY_NATURE.has(table)) expect(rows[0]?.count, `the fixture leaves ${table} empty`).toBeGreaterThan(0);
      }
      demoRows = await derivedRows(s.db);
    } finally {
      await s.close();
    }
  }, 180_000);
  afterAll(async () => {
    await demo.drop();
    await target.drop();
  });

  it('copies the demo store into an empty embedded data directory: every table the same, reconcile clean', async () => {
    // small pages, so every table of more than a few rows (composite and uuid keys too) is read in several
    const copied = await cli({ ...env, STOCKROOM_COPY_CHUNK_ROWS: '97' }, '--json', 'db', 'copy', '--from', demo.url);
    expect(copied.code, copied.out + copied.err).toBe(0);
    expect(copied.err).toContain('copying stock_movements');
    expectCopied(JSON.parse(copied.out) as CopyReport, tables);
    const s = new Stockroom({ db: await openPglite(String(env.STOCKROOM_DATA)), secretKey: SECRET_KEY });
    try {
      expect(await catalogTables(s.db)).toEqual(tables);
      expect(await derivedRows(s.db)).toEqual(demoRows);
      expect(await disabledTriggers(s.db)).toEqual([]);
    } finally {
      await s.close();
    }
    const again = await cli(env, '--json', 'db', 'copy', '--from', demo.url);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ code: 'not_empty' });
  }, 120_000);

  it('copies the embedded store into an empty PostgreSQL database, printed as a table; then refuses it as not empty', async () => {
    const embedded = await openPglite(String(env.STOCKROOM_DATA));
    const rows = await derivedRows(embedded);
    await embedded.close();
    // a URL with a password (the test server trusts loopback, so one is made up if it has none): never printed
    const url = new URL(target.url);
    if (!url.password) url.password = 'copy-test-password';
    const copied = await cli({ ...env, STOCKROOM_COPY_CHUNK_ROWS: '97' }, 'db', 'copy', '--to', url.toString());
    expect(copied.code, copied.out + copied.err).toBe(0);
    expect(copied.out).toContain(':***@');
    const secrets = [url.password, ...(await secretsOf(env))];
    for (const secret of secrets) expect(copied.out + copied.err).not.toContain(secret);
    expect(copied.err).toContain('copying stock_movements');
    expect(copied.out).toMatch(/^TABLE\s+SOURCE\s+COPY\s+CHECK$/m);
    for (const table of tables) expect(copied.out).toMatch(new RegExp(`^${table}\\s+(\\d+)\\s+\\1\\s+ok$`, 'm'));
    expect(copied.out).toContain('reconcile on the copy: clean');
    expect(copied.out).toContain('every check passed');
    const db = await openPostgres(target.url);
    try {
      expect(await catalogTables(db)).toEqual(tables);
      // no alert, event, cost or stock-list row made again by the copy's inserts
      expect(await derivedRows(db)).toEqual(rows);
      expect(await disabledTriggers(db)).toEqual([]);
    } finally {
      await db.close();
    }
    const again = await cli(env, '--json', 'db', 'copy', '--to', target.url);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ code: 'not_empty' });
  }, 120_000);

  it('a reservation works on each copy, through a real server, with a key made before the copies', async () => {
    const onServer = new Stockroom({ db: await openPostgres(target.url), secretKey: SECRET_KEY });
    try {
      // the sealed webhook secret opens with the same key on the copy
      expect((await onServer.channels.list()).items[0]).toMatchObject({ kind: 'webhook' });
      await reserveOnCopy(onServer, adminKey, 'after-copy-pg');
    } finally {
      await onServer.close();
    }
    const embedded = new Stockroom({ db: await openPglite(String(env.STOCKROOM_DATA)), secretKey: SECRET_KEY });
    try {
      await reserveOnCopy(embedded, adminKey, 'after-copy-embedded');
    } finally {
      await embedded.close();
    }
  }, 120_000);
});

describe('db copy: refusals', () => {
  const { dir, env } = useEmbeddedCli('stockroom-db-copy-refusals-');

  beforeAll(async () => {
    expect((await cli(env, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
  }, 60_000);

  it('a URL that is not a postgres:// URL is refused with a readable message and exit 2, not echoed', async () => {
    const run = await cli(env, 'db', 'copy', '--to', 'mysql://root:hunter2@db/store');
    expect(run.code).toBe(2);
    expect(run.err).toContain('--to: must be a postgres:// or postgresql:// URL');
    expect(run.err).not.toContain('hunter2');
  });

  it('a database that cannot be reached: a readable message and a non-zero exit', async () => {
    const run = await cli(env, 'db', 'copy', '--to', 'postgres://nobody:hunter2@127.0.0.1:1/store');
    expect(run.code).toBe(4);
    expect(run.err).toMatch(/cannot be reached/);
    expect(run.err).not.toContain('hunter2');
  });

  it('neither or both of --to and --from: a usage error', async () => {
    expect((await cli(env, 'db', 'copy')).code).toBe(2);
    expect((await cli(env, 'db', 'copy', '--to', 'postgres://a/b', '--from', 'postgres://a/b')).code).toBe(2);
  });

  it('a missing embedded store is not created by copying from it', async () => {
    const missing = join(dir, 'nothing-here');
    const run = await cli({ STOCKROOM_DATA: missing }, 'db', 'copy', '--to', 'postgres://127.0.0.1:1/x');
    expect(run.code).toBe(1);
    expect(run.err).toContain('embedded store not found');
    expect(existsSync(missing)).toBe(false);
  });

  it.skipIf(!postgresUrl())('refuses an embedded directory that holds a store or other files', async () => {
    const elsewhere = join(dir, 'files');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'notes.txt'), 'mine');
    const target = await createPostgresDatabase();
    try {
      const files = await cli({ STOCKROOM_DATA: elsewhere }, 'db', 'copy', '--from', target.url);
      expect(files.code).toBe(1);
      expect(files.err).toContain('is not empty');
    } finally {
      await target.drop();
    }
    // the embedded store of this suite holds tables: refused as a target, and left as it was
    const into = await cli({ ...env }, '--json', 'db', 'copy', '--from', postgresUrl());
    expect(into.code).toBe(1);
    expect(JSON.parse(into.out)).toMatchObject({ code: 'not_empty' });
  });

  it.skipIf(!postgresUrl())(
    'a PostgreSQL store never migrated is not copied from: schema_behind, exit 3, and no data folder is left behind',
    async () => {
      const source = await createPostgresDatabase();
      // one folder the copy would make, one under folders it would make too, and an empty one that is there
      const made = join(dir, 'from-unmigrated');
      const nested = join(dir, 'not-there-yet', 'below', 'data');
      const empty = join(dir, 'empty-and-there');
      mkdirSync(empty);
      try {
        for (const data of [made, nested, empty]) {
          const run = await cli({ STOCKROOM_DATA: data }, 'db', 'copy', '--from', source.url);
          expect(run.code, data).toBe(3);
          expect(run.err).toContain('the database needs migrations 0001_core');
          const viaFlag = await cli(env, 'db', 'copy', '--from', source.url, '--data', data);
          expect(viaFlag.code, data).toBe(3);
        }
        expect(existsSync(made)).toBe(false);
        expect(existsSync(join(dir, 'not-there-yet'))).toBe(false);
        // the folder that was there stays, as empty as it was
        expect(readdirSync(empty)).toEqual([]);
        for (const data of [made, nested, empty]) expect(existsSync(`${data}.lock`), data).toBe(false);
      } finally {
        await source.drop();
      }
    },
  );

  it.skipIf(!postgresUrl())('a copy whose check fails is not committed: the target stays empty, exit 1', async () => {
    // a store of its own with drift (a level changed without its ledger row): reconcile on the copy finds it
    const drifted = { STOCKROOM_DATA: join(dir, 'drifted') };
    expect((await cli(drifted, 'warehouse', 'add', 'AMS', '--name', 'Amsterdam')).code).toBe(0);
    expect((await cli(drifted, 'variant', 'add', 'MUG', '--title', 'Mug')).code).toBe(0);
    expect((await cli(drifted, 'receive', 'MUG', 'AMS', '4')).code).toBe(0);
    const db = await openPglite(drifted.STOCKROOM_DATA);
    await db.query('UPDATE stock_levels SET on_hand = on_hand + 1');
    await db.close();
    const target = await createPostgresDatabase();
    try {
      const run = await cli(drifted, 'db', 'copy', '--to', target.url);
      expect(run.out).toContain('reconcile on the copy: DRIFT');
      expect(run.out).toContain('nothing was committed');
      expect(run.code).toBe(1);
      const copy = await openPostgres(target.url);
      const { rows } = await copy.query(
        "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace",
      );
      await copy.close();
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await target.drop();
    }
  });
});
