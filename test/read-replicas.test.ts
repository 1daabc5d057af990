import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import { Stockroom } from '../src/services/stockroom.js';
import { readAvailability } from '../src/store/availability.js';
import { openPostgres } from '../src/store/postgres.js';
import type { Db } from '../src/store/db.js';
import { ReplicaSet, lsnBytes, lsnReached, replicaName } from '../src/store/replicas.js';
import type { ReplicaLog } from '../src/store/replicas.js';
import { cli } from './support/cli.js';
import { createTestDb, postgresUrl } from './support/databases.js';
import { TestClock, expectReconciled, world } from './support/harness.js';
import type { Harness } from './support/harness.js';
import { useHttpServer } from './support/in-process.js';
import { freePort } from './support/postgres-cluster.js';
import { haveBaseBackup, startReplica } from './support/replica-cluster.js';
import { ADMIN_KEY } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { Replica } from './support/replica-cluster.js';

/**
 * Statements the replica itself ran in this database (pg_stat_statements, loaded on the replica only), leaving
 * out the lag checks and these counting queries: what stockroom read there.
 */
async function replicaReads(replicaSql: pg.Client): Promise<number> {
  const { rows } = await replicaSql.query<{ calls: string }>(
    `SELECT coalesce(sum(calls), 0)::text AS calls FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pg_last_wal_replay_lsn%'`,
  );
  return Number(rows[0]?.calls ?? 0);
}

/** A log that keeps what it is told: [level, fields, message]. */
function keptLog(): { log: ReplicaLog; lines: [string, Record<string, unknown>, string][] } {
  const lines: [string, Record<string, unknown>, string][] = [];
  return {
    lines,
    log: {
      warn: (fields, message) => lines.push(['warn', fields, message]),
      info: (fields, message) => lines.push(['info', fields, message]),
    },
  };
}

describe.skipIf(!postgresUrl())('read replicas (a streaming replica made with pg_basebackup -R)', () => {
  const h = { clock: new TestClock() } as Harness;
  let replica: Replica | undefined;
  let replicas: ReplicaSet;
  let replicaSql: pg.Client;
  /** the replica read directly, not through stockroom: what it holds now */
  let replicaDb: Db;

  beforeAll(async () => {
    // pg_basebackup ships with the server binaries the suite's cluster runs from: CI installs both
    expect(haveBaseBackup()).toBe(true);
    h.test = await createTestDb('postgres');
    // the view is read on the replica, which loads the module; creating the extension here replicates it there
    await h.test.db.exec('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    replica = await startReplica(postgresUrl(), new URL(h.test.url ?? '').pathname.slice(1));
    replicas = await ReplicaSet.open(h.test.db, [replica.url], { maxLagMs: 1000, checkEveryMs: 100 });
    h.s = new Stockroom({ db: h.test.db, replicas });
    replicaSql = new pg.Client(replica.url);
    await replicaSql.connect();
    replicaDb = await openPostgres(replica.url, { max: 1 });
  }, 60_000);

  afterAll(async () => {
    await replicaSql.end().catch(() => undefined);
    await replicaDb.close().catch(() => undefined);
    await replicas.close();
    replica?.stop();
    await h.test.drop();
  });

  const { call, fetchRaw } = useHttpServer(h);

  afterEach(async () => {
    await expectReconciled(h.s);
  });

  /**
   * Resolves once the replica has replayed everything the primary has inserted so far (with synchronous_commit
   * off, a commit is seen before its WAL is written) and the check agrees.
   */
  async function caughtUp(): Promise<void> {
    const { rows } = await h.test.db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const inserted = lsnBytes(rows[0]?.lsn ?? '');
    await vi.waitFor(
      async () => {
        const replayed = await replicaSql.query<{ lsn: string }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
        expect(lsnReached(lsnBytes(replayed.rows[0]?.lsn ?? ''), inserted)).toBe(true);
        expect((await replicas.check())[0]?.condition).toBe('healthy');
      },
      { timeout: 10_000, interval: 20 },
    );
  }

  const storefront = async (sku: string) =>
    (await call('GET', `/v1/availability?sku=${sku}`, { scope: 'storefront' })).body.items;

  it('answers a storefront availability read from the replica, as the replica counts it', async () => {
    const { sku } = await world(h.s, [8]);
    await caughtUp();
    const name = replicaName(replica?.url ?? '');
    const before = { replica: await replicaReads(replicaSql), served: replicas.stats.reads[name] ?? 0 };
    expect(await storefront(sku)).toEqual([{ sku, available: 8, status: 'in_stock', label: 'In stock' }]);
    expect(await replicaReads(replicaSql)).toBeGreaterThan(before.replica);
    expect(replicas.stats.reads[name]).toBeGreaterThan(before.served);
  });

  it('answers the admin lists and exports from the replica: stock list, low stock, CSV export, ledger, reservations', async () => {
    const { sku, wh } = await world(h.s, [3], { low_stock_threshold: 5 });
    const held = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: `admin-${sku}`, lines: [{ sku, qty: 1 }] },
    });
    expect(held.status).toBe(201);
    await caughtUp();
    const at = `warehouse=${wh[0] ?? ''}`;
    const item = (body: string): unknown =>
      (JSON.parse(body) as { items: { sku: string }[] }).items.find((listed) => listed.sku === sku);
    const reads: [string, (body: string) => void][] = [
      [
        `/v1/stock?${at}`,
        (body) => {
          expect(item(body)).toMatchObject({ available: 2, reserved: 1 });
        },
      ],
      [
        `/v1/stock/low?${at}`,
        (body) => {
          expect(item(body)).toMatchObject({ status: 'low' });
        },
      ],
      [
        `/v1/stock/export.csv?${at}`,
        (body) => {
          expect(body).toContain(sku);
        },
      ],
      [
        `/v1/movements?sku=${sku}`,
        (body) => {
          expect((JSON.parse(body) as { items: { type: string }[] }).items.map((row) => row.type)).toContain('receive');
        },
      ],
      [
        `/v1/reservations?sku=${sku}`,
        (body) => {
          expect(JSON.parse(body)).toMatchObject({ items: [{ id: held.body.id, status: 'pending' }] });
        },
      ],
    ];
    for (const [path, check] of reads) {
      const before = await replicaReads(replicaSql);
      const res = await fetchRaw(path);
      expect(res.status, path).toBe(200);
      check(await res.text());
      expect(await replicaReads(replicaSql), path).toBeGreaterThan(before);
    }
    expect((await call('POST', `/v1/reservations/${String(held.body.id)}/cancel`, { scope: 'checkout' })).status).toBe(
      200,
    );
  });

  it('runs checkout (reserve, stock read, commit, cancel) on the primary only: the replica runs none of it', async () => {
    const { sku, wh } = await world(h.s, [5]);
    await caughtUp();
    const before = await replicaReads(replicaSql);
    const held = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: `replica-${sku}`, lines: [{ sku, qty: 3 }] },
    });
    expect(held.status).toBe(201);
    const stock = (await call('GET', `/v1/stock/${sku}`, { scope: 'warehouse' })).body.warehouses as {
      warehouse: string;
    }[];
    expect(stock.find((level) => level.warehouse === wh[0])).toMatchObject({ on_hand: 5, reserved: 3, available: 2 });
    const id = String(held.body.id);
    expect((await call('POST', `/v1/reservations/${id}/commit`, { scope: 'checkout' })).status).toBe(200);
    const second = await call('POST', '/v1/reservations', {
      scope: 'checkout',
      body: { order_ref: `replica-${sku}-2`, lines: [{ sku, qty: 2 }] },
    });
    expect(second.status).toBe(201);
    expect(
      (await call('POST', `/v1/reservations/${String(second.body.id)}/cancel`, { scope: 'checkout' })).status,
    ).toBe(200);
    expect(await replicaReads(replicaSql)).toBe(before);
  });

  it('skips a paused replica: reads come back right from the primary, and from the replica again once it resumes', async () => {
    const { sku, wh } = await world(h.s, [4]);
    await caughtUp();
    const name = replicaName(replica?.url ?? '');
    const kept = keptLog();
    replicas.logTo(kept.log);
    await replicaSql.query('SELECT pg_wal_replay_pause()');
    // a pause is asked for, then taken at the next record: what is written before it takes effect is still replayed
    await vi.waitFor(
      async () => {
        const { rows } = await replicaSql.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
        expect(rows[0]?.state).toBe('paused');
      },
      { timeout: 10_000, interval: 20 },
    );
    try {
      await h.s.stock.adjust({ sku, warehouse: wh[0] ?? '', delta: -4, reason: 'shrinkage' });
      // the replica still says what it said before the write
      const [held] = await readAvailability(replicaDb, [sku], new Date(), null);
      expect(
        held?.levels.find((level) => level.on_hand > 0),
        JSON.stringify(held),
      ).toMatchObject({ on_hand: 4 });
      await vi.waitFor(
        async () => {
          expect((await replicas.check())[0]?.condition).toBe('lagging');
        },
        { timeout: 10_000, interval: 50 },
      );
      // a server starting now, with one sample of the primary so far, does not take it for caught up either
      const fresh = await ReplicaSet.open(h.test.db, [replica?.url ?? '']);
      try {
        expect(fresh.states).toMatchObject([{ condition: 'lagging' }]);
      } finally {
        await fresh.close();
      }
      const before = { replica: await replicaReads(replicaSql), primary: replicas.stats.reads.primary ?? 0 };
      expect(await storefront(sku)).toMatchObject([{ sku, available: 0, status: 'out_of_stock' }]);
      expect(replicas.stats.reads.primary).toBeGreaterThan(before.primary);
      expect(await replicaReads(replicaSql)).toBe(before.replica);
    } finally {
      await replicaSql.query('SELECT pg_wal_replay_resume()');
    }
    await caughtUp();
    const before = { replica: await replicaReads(replicaSql), served: replicas.stats.reads[name] ?? 0 };
    expect(await storefront(sku)).toMatchObject([{ sku, available: 0, status: 'out_of_stock' }]);
    expect(await replicaReads(replicaSql)).toBeGreaterThan(before.replica);
    expect(replicas.stats.reads[name]).toBeGreaterThan(before.served);
    // the operator reads it in the log: a line when it fell behind, one when it caught up, and no line that repeats
    // the state before it. A replica catching up on a loaded machine may fall behind again for a check or two after
    // the resume: that is told the same way, so the lines are one or more such pairs
    const said = kept.lines.map(([level, fields]) => [level, fields.replica, fields.condition]);
    expect(said.length % 2, JSON.stringify(said)).toBe(0);
    expect(said.length).toBeGreaterThan(0);
    for (let i = 0; i < said.length; i += 2)
      expect(said.slice(i, i + 2), JSON.stringify(said)).toEqual([
        ['warn', name, 'lagging'],
        ['info', name, 'healthy'],
      ]);
  });

  it('skips a replica whose user may not read the tables (a role without grants): the primary answers, no error', async () => {
    const role = `no_grants_${process.pid}`;
    await h.test.db.exec(`CREATE ROLE ${role} LOGIN`);
    try {
      await caughtUp(); // the role is on the replica too
      const url = new URL(replica?.url ?? '');
      url.username = role;
      const ungranted = await ReplicaSet.open(h.test.db, [url.toString()], { checkEveryMs: 100 });
      const kept = keptLog();
      ungranted.logTo(kept.log);
      try {
        expect(ungranted.states).toMatchObject([{ condition: 'unreadable' }]);
        const { rows } = await ungranted.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        expect(rows[0]?.n).toBeGreaterThan(0);
        expect(ungranted.stats.reads).toMatchObject({ primary: 1, [replicaName(url.toString())]: 0 });
        await ungranted.check();
        expect(kept.lines).toEqual([
          ['warn', expect.objectContaining({ condition: 'unreadable' }), expect.stringContaining('skipped')],
        ]);
      } finally {
        await ungranted.close();
      }
      // as an operator meets it: stockroom serve given that URL answers the storefront and says why in its log
      const { sku } = await world(h.s, [2]);
      const server = await startServer({
        DATABASE_URL: h.test.url ?? '',
        DATABASE_REPLICA_URL: url.toString(),
        STOCKROOM_REPLICA_CHECK_MS: '100',
        STOCKROOM_WORKERS: '1',
      });
      try {
        const skipped = /read replica skipped \(unreadable\)/;
        // said at the first check after the server listened: perhaps before this line runs
        if (!skipped.test(server.output())) await server.waitFor(skipped);
        const res = await fetch(`${server.url}/v1/availability?sku=${sku}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ items: [{ sku, available: 2 }] });
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await h.test.db.exec(`DROP ROLE ${role}`);
    }
  });

  it('starts a live stream from the primary, not from a replica within the bound that lacks a write it heard of', async () => {
    const { sku, wh } = await world(h.s, [4]);
    await caughtUp();
    // a bound no test run reaches: the paused replica stays in use, as any replica may be up to the bound behind
    const lenient = await ReplicaSet.open(h.test.db, [replica?.url ?? ''], { maxLagMs: 600_000, checkEveryMs: 100 });
    const s = new Stockroom({ db: h.test.db, replicas: lenient });
    await replicaSql.query('SELECT pg_wal_replay_pause()');
    try {
      await vi.waitFor(
        async () => {
          const { rows } = await replicaSql.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
          expect(rows[0]?.state).toBe('paused');
        },
        { timeout: 10_000, interval: 20 },
      );
      await h.s.stock.adjust({ sku, warehouse: wh[0] ?? '', delta: -4, reason: 'shrinkage' });
      expect((await lenient.check())[0]?.condition).toBe('healthy');
      // a plain storefront read may be that far behind: the replica answers what it has
      expect((await s.availability.get({ sku: [sku] })).items).toMatchObject([{ sku, available: 4 }]);
      // a stream is told only of changes after it starts: it starts from the primary
      const feed = new AvailabilityFeed(s.availability);
      const { first, stop } = await feed.watch([sku], () => undefined);
      stop();
      expect(first.map((event) => event.item)).toMatchObject([{ sku, available: 0, status: 'out_of_stock' }]);
    } finally {
      await replicaSql.query('SELECT pg_wal_replay_resume()');
      await lenient.close();
    }
    await caughtUp();
  });

  it('shows each replica lag, whether it is used, and which pool served the reads on /metrics', async () => {
    await caughtUp();
    const { sku } = await world(h.s, [1]);
    await storefront(sku);
    const text = await (await fetchRaw('/metrics', 'metrics')).text();
    const name = replicaName(replica?.url ?? '');
    expect(text).toContain(`stockroom_replica_healthy{replica="${name}"} 1`);
    expect(text).toMatch(/stockroom_replica_lag_seconds\{replica="[^"]+"\} \d/);
    expect(text).toMatch(new RegExp(`stockroom_stale_reads_total\\{pool="${name.replace(/[.]/g, '\\.')}"\\} [1-9]`));
    expect(text).toMatch(/stockroom_stale_reads_total\{pool="primary"\} \d/);
  });

  it('stockroom serve --workers 2 reads the storefront from DATABASE_REPLICA_URL and says so on /metrics, once for the host', async () => {
    const { sku } = await world(h.s, [6]);
    await caughtUp();
    const server = await startServer({
      DATABASE_URL: h.test.url ?? '',
      DATABASE_REPLICA_URL: replica?.url ?? '',
      STOCKROOM_REPLICA_CHECK_MS: '100',
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      // each worker checks the replica: the host's scrape says healthy 1, not the workers' sum
      STOCKROOM_WORKERS: '2',
    });
    try {
      const name = replicaName(replica?.url ?? '');
      const scrape = async (): Promise<string> =>
        (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
      // the server checked the replica before it listened; a check may still find it behind for a moment
      await vi.waitFor(
        async () => {
          expect(await scrape()).toContain(`stockroom_replica_healthy{replica="${name}"} 1\n`);
        },
        { timeout: 10_000, interval: 50 },
      );
      const before = await replicaReads(replicaSql);
      const res = await fetch(`${server.url}/v1/availability?sku=${sku}`);
      expect(await res.json()).toMatchObject({ items: [{ sku, available: 6 }] });
      expect(await replicaReads(replicaSql)).toBeGreaterThan(before);
      expect(await scrape()).toMatch(
        new RegExp(`stockroom_stale_reads_total\\{pool="${name.replace(/[.]/g, '\\.')}"\\} 1\n`),
      );
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('skips a replica nobody answers at: the reads go to the primary', async () => {
    const away = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const unreachable = await ReplicaSet.open(h.test.db, [away], { connectTimeoutMs: 500 });
    try {
      expect(unreachable.states).toEqual([{ name: replicaName(away), condition: 'unreachable', lagMs: null }]);
      expect((await unreachable.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(unreachable.stats.reads).toEqual({ primary: 1, [replicaName(away)]: 0 });
    } finally {
      await unreachable.close();
    }
  });
});

describe.skipIf(!postgresUrl())('read replicas under serve --workers', () => {
  it('shows an unreachable replica with lag NaN and healthy 0 on the host scrape, not 0 from the workers', async () => {
    const test = await createTestDb('postgres');
    const away = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const server = await startServer({
      DATABASE_URL: test.url ?? '',
      DATABASE_REPLICA_URL: away,
      STOCKROOM_REPLICA_CONNECT_TIMEOUT_MS: '200',
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_WORKERS: '2',
    });
    try {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const text = await res.text();
      // the lag crosses from each worker to the primary, which sums the scrape: NaN must survive the trip
      // prom-client writes NaN as "Nan" (Prometheus reads either)
      expect(text).toContain(`stockroom_replica_lag_seconds{replica="${replicaName(away)}"} Nan\n`);
      expect(text).toContain(`stockroom_replica_healthy{replica="${replicaName(away)}"} 0\n`);
    } finally {
      expect(await server.stop()).toBe(0);
      await test.drop();
    }
  });
});

describe('read replica settings', () => {
  it('refuses DATABASE_REPLICA_URL with the embedded database, before opening anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-replica-env-'));
    try {
      const refused = await cli(
        { STOCKROOM_DATA: join(dir, 'data'), DATABASE_URL: '', DATABASE_REPLICA_URL: 'postgres://127.0.0.1:1/x' },
        'serve',
        '--port',
        '0',
      );
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/DATABASE_REPLICA_URL.*needs DATABASE_URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a replica URL that is not postgres://, without repeating it (it may hold a password)', async () => {
    const refused = await cli(
      {
        DATABASE_URL: 'postgres://stockroom@127.0.0.1:1/x',
        DATABASE_REPLICA_URL: 'postgres://r1@127.0.0.1:1/x, mysql://user:s3cret@host/db',
      },
      'serve',
      '--port',
      '0',
    );
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/replica 2 of 2 must be a postgres:\/\//);
    expect(refused.err).not.toContain('s3cret');
  });
});
