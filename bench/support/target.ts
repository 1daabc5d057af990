import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stockroom } from '../../src/services/stockroom.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { startPostgresCluster } from '../../test/support/postgres-cluster.js';
import { startServer } from '../../test/support/server-process.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import { seedCatalog } from '../seed.js';
import type { SeedResult } from '../seed.js';

export const MODES = ['postgres', 'embedded'] as const;
export type Mode = (typeof MODES)[number];

const ADMIN_KEY = 'sr_bench_admin_0123456789abcdef';

/**
 * The server under test: the storefront scenario opens 10,000 streams from this one address, past the default
 * caps (20 per address, 2,000 in all, 10,000 connections) that keep a real shopper from doing so.
 */
const SERVER_ENV = {
  STOCKROOM_ADMIN_KEY: ADMIN_KEY,
  STOCKROOM_SWEEP_MS: '1000',
  STOCKROOM_SSE_MAX_STREAMS: '20000',
  STOCKROOM_SSE_MAX_STREAMS_PER_CLIENT: '20000',
  // the load comes from one address: no rate limit on the public routes
  STOCKROOM_PUBLIC_RATE_LIMIT: '0',
  STOCKROOM_MAX_CONNECTIONS: '30000',
};

/**
 * node's flags for a server on PostgreSQL, as the systemd unit runs it (deploy/stockroom@.service;
 * docs/operations.md, Node's memory): a young generation of 32 MB a semi-space, twice V8's default. The embedded
 * server keeps the default: memory is what it is short of (RSS 409 MB with the flag, 342-371 without, 2026-11-28).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** Connections a baseline uses straight against PostgreSQL: as many as the HTTP load has. */
export const BASELINE_CONNECTIONS = 64;

/**
 * One way of running stockroom under test: a `stockroom serve` process on a seeded database, and the database
 * itself for baselines and reconcile. The embedded database serves one process at a time, so there the server
 * is stopped while the bench works on the database, and started again after.
 */
export interface Target {
  mode: Mode;
  quick: boolean;
  adminKey: string;
  variants: number;
  levels: number;
  seeded: SeedResult;
  /** PostgreSQL: the cluster's superuser URL (for the yardsticks' own processes); undefined embedded */
  databaseUrl?: string;
  server: () => ServerProcess;
  /**
   * Where the servers the bench starts write their log: at the default level, as a deployed server logs, to a file
   * in the bench's temp dir (removed at close), not to a pipe the load generator would pay to read
   */
  logFile: string;
  /** runs fn on the database as the bench opened it (embedded: with the server stopped meanwhile) */
  withDb: <T>(fn: (s: Stockroom) => Promise<T>) => Promise<T>;
  /**
   * runs fn on a database handle for work straight against the database (PostgreSQL: a pool of
   * BASELINE_CONNECTIONS); `announce: false` switches the stock change announcements off for it, and
   * `alerts: false` the alert trigger (migration 0007) of the whole database while fn runs
   */
  straight: <T>(options: { announce: boolean; alerts: boolean }, fn: (db: Db) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
}

/** A hand-written checkout raises no alerts: the baseline runs with the alert trigger off, and only the baseline. */
const ALERTS_OFF = 'ALTER TABLE stock_levels DISABLE TRIGGER stock_levels_alerts';
const ALERTS_ON = 'ALTER TABLE stock_levels ENABLE TRIGGER stock_levels_alerts';

export interface TargetOptions {
  quick: boolean;
  variants: number;
  /** node flags for the server process (--profile) */
  nodeArgs: readonly string[];
  /** extra PostgreSQL settings (--profile) */
  postgresSettings: Record<string, string>;
}

/** A PostgreSQL 15 cluster with production durability (fsync and synchronous commit on), seeded, and a server on it. */
export async function postgresTarget(options: TargetOptions): Promise<Target & { db: Db }> {
  const cluster = await startPostgresCluster({
    max_connections: 300,
    shared_buffers: '1GB',
    max_wal_size: '4GB',
    ...options.postgresSettings,
  });
  const url = cluster.url;
  const db = await openPostgres(url, { max: 8 });
  await migrate(db);
  const stockroom = new Stockroom({ db });
  const seeded = await seedCatalog(stockroom, db, options.variants, 1000);
  const logDir = mkdtempSync(join(tmpdir(), 'stockroom-bench-log-'));
  const logFile = join(logDir, 'server.log');
  const server = await startServer(
    { DATABASE_URL: url, ...SERVER_ENV },
    [...SERVER_NODE_FLAGS, ...options.nodeArgs],
    0,
    'serve',
    { logFile },
  );
  return {
    mode: 'postgres',
    quick: options.quick,
    adminKey: ADMIN_KEY,
    variants: seeded.variants,
    levels: seeded.levels,
    seeded,
    databaseUrl: url,
    db,
    server: () => server,
    logFile,
    withDb: (fn) => fn(stockroom),
    straight: async ({ announce, alerts }, fn) => {
      const settings = new URL(url);
      if (!announce) settings.searchParams.set('options', '-c stockroom.announce=off');
      const pool = await openPostgres(settings.toString(), { max: BASELINE_CONNECTIONS });
      if (!alerts) await db.exec(ALERTS_OFF);
      try {
        return await fn(pool);
      } finally {
        if (!alerts) await db.exec(ALERTS_ON);
        await pool.close();
      }
    },
    close: async () => {
      await server.stop();
      await db.close();
      cluster.stop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** The embedded database (PGlite) in a temp dir, seeded, and a server on it, as `npm run demo` runs. */
export async function embeddedTarget(options: TargetOptions): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-bench-'));
  const dataDir = join(dir, 'data');
  const env = { STOCKROOM_DATA: dataDir, ...SERVER_ENV };
  const open = async <T>(fn: (s: Stockroom) => Promise<T>): Promise<T> => {
    const stockroom = new Stockroom({ db: await openPglite(dataDir) });
    try {
      return await fn(stockroom);
    } finally {
      await stockroom.close();
    }
  };
  const seeded = await open(async (s) => {
    await s.migrate();
    return seedCatalog(s, s.db, options.variants, 1000);
  });
  const logFile = join(dir, 'server.log');
  const start = (): Promise<ServerProcess> => startServer(env, options.nodeArgs, 0, 'serve', { logFile });
  let server: ServerProcess | undefined = await start();
  const withDb = async <T>(fn: (s: Stockroom) => Promise<T>): Promise<T> => {
    await server?.stop();
    server = undefined;
    try {
      return await open(fn);
    } finally {
      server = await start();
    }
  };
  return {
    mode: 'embedded',
    quick: options.quick,
    adminKey: ADMIN_KEY,
    variants: seeded.variants,
    levels: seeded.levels,
    seeded,
    server: () => {
      if (!server) throw new Error('the embedded server is stopped while the bench uses the database');
      return server;
    },
    logFile,
    withDb,
    straight: ({ announce, alerts }, fn) =>
      withDb(async (s) => {
        // one connection: the setting holds for everything fn runs, and goes with the connection
        if (!announce) await s.db.exec('SET stockroom.announce = off');
        if (!alerts) await s.db.exec(ALERTS_OFF);
        try {
          return await fn(s.db);
        } finally {
          if (!alerts) await s.db.exec(ALERTS_ON);
        }
      }),
    close: async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
