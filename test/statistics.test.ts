import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stockroom } from '../src/services/stockroom.js';
import { openPglite } from '../src/store/pglite.js';
import { ADVISORY_LOCKS } from '../src/store/advisory-locks.js';
import { cli, useEmbeddedCli } from './support/cli.js';
import { createTestDb, drivers, postgresUrl } from './support/databases.js';
import type { TestDb } from './support/databases.js';
import { expectReconciled, uniq, world } from './support/harness.js';
import { startServer } from './support/server-process.js';

/** Pages of a table's main fork now, and as its statistics last counted them. */
async function pages(s: Stockroom, table: string): Promise<{ now: number; counted: number }> {
  const { rows } = await s.db.query<{ now: number; counted: number }>(
    `SELECT (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::int AS now, c.relpages AS counted
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [table],
  );
  return rows[0]!;
}

/** The plan a session's cached generic plan of `probe` is, as EXPLAIN prints it. */
async function probePlan(s: Stockroom): Promise<string> {
  const { rows } = await s.db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN EXECUTE probe('00000000-0000-7000-8000-000000000000')`,
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

const AUTOVACUUM_OFF = ['reservations', 'reservation_lines', 'idempotency_keys']
  .map((table) => `ALTER TABLE ${table} SET (autovacuum_enabled = false);`)
  .join('\n');

const reserveMany = async (s: Stockroom, sku: string, count: number): Promise<void> => {
  for (let i = 0; i < count; i += 200)
    await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, () =>
        s.reservations.reserve({ order_ref: uniq('stats'), lines: [{ sku, qty: 1 }] }),
      ),
    );
};

describe.each(drivers())('planner statistics that follow the tables as they grow, on %s', (driver) => {
  let test: TestDb;
  let s: Stockroom;
  beforeAll(async () => {
    // one connection: the prepared statement below and the engine's statements share its plan cache, as a
    // server's pooled connection does
    test = await createTestDb(driver, { max: 1 });
    s = new Stockroom({ db: test.db });
    // the test is what analyzes them, not autovacuum at its next nap
    await s.db.exec(AUTOVACUUM_OFF);
  });
  afterAll(async () => {
    await test.drop();
  });

  it('leaves a freshly migrated store alone: no table is big enough to be planned wrong', async () => {
    expect(await s.refreshStatistics()).toEqual([]);
  });

  it('has a plan made while reservations was small planned again once the table has doubled', async () => {
    const { sku } = await world(s, [5000]);
    await reserveMany(s, sku, 20);
    // as autovacuum does within a minute of the first rows on a server
    await s.db.exec('ANALYZE reservations');
    await s.db.exec('SET plan_cache_mode = force_generic_plan');
    await s.db.exec('PREPARE probe(uuid) AS SELECT id FROM reservations WHERE id = $1');
    expect(await probePlan(s)).toMatch(/Seq Scan on reservations/);

    await reserveMany(s, sku, 2400);
    const grown = await pages(s, 'reservations');
    expect(grown.now).toBeGreaterThanOrEqual(2 * Math.max(grown.counted, 16));
    // the cached plan still scans the whole table for one key
    expect(await probePlan(s)).toMatch(/Seq Scan on reservations/);

    const analyzed = await s.refreshStatistics();
    expect(analyzed).toContain('reservations');
    expect(analyzed).toContain('reservation_lines');
    expect(await pages(s, 'reservations')).toEqual({ now: grown.now, counted: grown.now });
    expect(await probePlan(s)).toMatch(/Index (Only )?Scan using reservations_pkey/);

    // measured now: not again until it doubles once more
    expect(await s.refreshStatistics()).toEqual([]);
    await s.db.exec('DEALLOCATE probe');
    await s.db.exec('RESET plan_cache_mode');
    await expectReconciled(s);
  });
});

describe.skipIf(!postgresUrl())('planner statistics on a PostgreSQL server', () => {
  let test: TestDb;
  let s: Stockroom;
  beforeAll(async () => {
    test = await createTestDb('postgres');
    s = new Stockroom({ db: test.db });
    await s.db.exec(AUTOVACUUM_OFF);
  });
  afterAll(async () => {
    await test.drop();
  });

  const fillKeys = (count: number) =>
    s.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash)
       SELECT 'statistics-test', $1 || '-' || i || repeat('k', 200), 'x' FROM generate_series(1, $2::int) AS i`,
      [uniq('grow'), count],
    );

  it('lets one process analyze at a time: another finds its turn taken and returns at once', async () => {
    await fillKeys(2000);
    const other = new pg.Client(test.url);
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.statistics]);
      expect(await s.refreshStatistics()).toEqual([]);
      await other.query('COMMIT');
      expect(await s.refreshStatistics()).toContain('idempotency_keys');
    } finally {
      await other.end();
    }
  });

  it('is run by serve every STOCKROOM_STATISTICS_EVERY_MS, which must be a count of milliseconds', async () => {
    // the turn is held while the table grows, so the server cannot measure it half filled
    const other = new pg.Client(test.url);
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.statistics]);
    const server = await startServer({
      DATABASE_URL: test.url!,
      STOCKROOM_STATISTICS_EVERY_MS: '50',
      LOG_LEVEL: 'info',
    });
    try {
      const before = await pages(s, 'idempotency_keys');
      await fillKeys(4 * 2000);
      const grown = await pages(s, 'idempotency_keys');
      expect(grown.now).toBeGreaterThanOrEqual(2 * Math.max(before.counted, 16));
      const analyzed = server.waitFor(/"tables":\["idempotency_keys"\],"msg":"analyzed tables grown to twice/);
      await other.query('COMMIT');
      await analyzed;
      expect((await pages(s, 'idempotency_keys')).counted).toBeGreaterThanOrEqual(grown.now);
    } finally {
      await other.end();
      expect(await server.stop()).toBe(0);
    }
    const refused = await cli(
      { DATABASE_URL: test.url!, STOCKROOM_STATISTICS_EVERY_MS: 'often' },
      'serve',
      '--port',
      '0',
    );
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/STOCKROOM_STATISTICS_EVERY_MS/);
  });
});

describe('stockroom analyze', () => {
  const { dir, env } = useEmbeddedCli('stockroom-analyze-');

  it('says which tables it analyzed, none on a new store', async () => {
    expect((await cli(env, 'migrate')).code).toBe(0);
    expect(await cli(env, 'analyze')).toMatchObject({
      code: 0,
      out: 'no table has grown to twice its measured size\n',
    });
    expect(JSON.parse((await cli(env, '--json', 'analyze')).out)).toEqual({ analyzed: [] });
    const extra = await cli(env, 'analyze', 'reservations');
    expect(extra.code).not.toBe(0);
  });

  it('analyzes a table that has doubled since it was last measured, and only once', async () => {
    const db = await openPglite(join(dir, 'data'));
    try {
      await db.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash)
         SELECT 'statistics-test', i || repeat('k', 200), 'x' FROM generate_series(1, 2000) AS i`,
      );
    } finally {
      await db.close();
    }
    expect(await cli(env, 'analyze')).toMatchObject({ code: 0, out: 'analyzed idempotency_keys\n' });
    expect(await cli(env, 'analyze')).toMatchObject({
      code: 0,
      out: 'no table has grown to twice its measured size\n',
    });
  });
});
