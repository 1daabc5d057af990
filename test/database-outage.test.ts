import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import { APPLICATION_NAME, openPostgres } from '../src/store/postgres.js';
import { postgresUrl } from './support/databases.js';
import { expectReconciled, uniq } from './support/harness.js';
import { havePostgresBinaries, startPostgresCluster } from './support/postgres-cluster.js';
import type { Cluster } from './support/postgres-cluster.js';
import { ADMIN_KEY } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

/** The server's pool, and its listening connections (stock changes, outbox): the most it may hold, plus 2. */
const POOL_MAX = 4;
const LISTENERS = 2;
const CONNECTION_BOUND = POOL_MAX + LISTENERS + 2;
/** How soon after the database is back the server must serve again. */
const RECOVERY_MS = 5000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; the time it took, or a failure naming what never held. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(25);
  }
}

/**
 * The server's connections as PostgreSQL sees them, counted every few milliseconds through the outage and the
 * recovery (while the database is down there is nothing to count). A connection of its own per look, under
 * another application name, so the watcher is not counted and needs no reconnecting.
 */
function watchConnections(adminUrl: string) {
  let most = 0;
  let listening = 0;
  let mostListening = 0;
  const state = { watching: true };
  const look = async (): Promise<void> => {
    const client = new pg.Client({
      connectionString: adminUrl,
      application_name: 'drill-watch',
      connectionTimeoutMillis: 500,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ n: number; listening: number }>(
        `SELECT count(*)::int AS n, (count(*) FILTER (WHERE query LIKE 'LISTEN %'))::int AS listening
           FROM pg_stat_activity WHERE application_name = $1`,
        [APPLICATION_NAME],
      );
      most = Math.max(most, rows[0]?.n ?? 0);
      listening = rows[0]?.listening ?? 0;
      mostListening = Math.max(mostListening, listening);
    } catch {
      // the database is down: nothing to count
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const loop = (async () => {
    while (state.watching) {
      await look();
      await pause(20);
    }
  })();
  return {
    /** the most connections seen at once */
    most: () => most,
    /** the listening connections at the last look */
    listening: () => listening,
    /** the most listening connections seen at once: more than one per channel would be a second reconnect loop */
    mostListening: () => mostListening,
    stop: async () => {
      state.watching = false;
      await loop;
    },
  };
}

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
}

async function reserve(server: ServerProcess, sku: string): Promise<Answer> {
  const res = await fetch(`${server.url}/v1/reservations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_ref: uniq('drill'), lines: [{ sku, qty: 1 }] }),
  });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.code };
}

/** Checkout clients reserving one unit at a time, each waiting briefly after a 503 as a polite client does. */
function reservationLoad(server: ServerProcess, sku: string, clients: number) {
  const answers: Answer[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const answer = await reserve(server, sku).catch((error: unknown) => ({
        status: 0,
        retryAfter: null,
        code: String(error),
      }));
      answers.push(answer);
      if (answer.status !== 201) await pause(50);
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const healthy = async (server: ServerProcess): Promise<boolean> =>
  (await fetch(`${server.url}/healthz`)).status === 200;

describe.skipIf(!postgresUrl() || !havePostgresBinaries())('a PostgreSQL outage under a real server process', () => {
  let cluster: Cluster;
  let databaseUrl: string;
  let server: ServerProcess;
  let sku: string;

  beforeAll(async () => {
    // a cluster of this file's own: stopping the run's shared one would take the other files down with it
    cluster = await startPostgresCluster({ fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
    const url = new URL(cluster.url);
    url.pathname = '/drill';
    databaseUrl = url.toString();
    const admin = new pg.Client(cluster.url);
    await admin.connect();
    await admin.query('CREATE DATABASE drill');
    await admin.end();
    const s = new Stockroom({ db: await openPostgres(databaseUrl) });
    await migrate(s.db);
    sku = uniq('DRILL');
    await s.catalog.addWarehouse({ code: 'AMS', name: 'Amsterdam' });
    await s.catalog.addVariant({ sku, product: { title: sku } });
    await s.stock.receive({ sku, warehouse: 'AMS', qty: 1_000_000 });
    await s.close();
    server = await startServer({
      DATABASE_URL: databaseUrl,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_SWEEP_MS: '100',
      STOCKROOM_PG_POOL_MAX: String(POOL_MAX),
      STOCKROOM_PG_CONNECT_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    try {
      expect(await server.stop()).toBe(0);
      expect(server.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
      const s = new Stockroom({ db: await openPostgres(databaseUrl) });
      try {
        await expectReconciled(s);
      } finally {
        await s.close();
      }
    } finally {
      cluster.stop();
    }
  });

  /**
   * One outage: the database stops at once for `seconds`, optionally under load. Throughout, the server's
   * connections stay within the bound and callers hear only 201, 409 or 503 with Retry-After; once the
   * database is back, the server answers /healthz and reserves within RECOVERY_MS, with one listening
   * connection per channel.
   */
  async function drill(seconds: number, clients: number): Promise<void> {
    const watch = watchConnections(cluster.url);
    const load = clients > 0 ? reservationLoad(server, sku, clients) : undefined;
    try {
      if (load) await until('load reserving', async () => load.answers.some((a) => a.status === 201), RECOVERY_MS);
      await cluster.halt();
      await pause(seconds * 1000);
      await cluster.resume();
      const healthyIn = await until('healthz 200 after the outage', () => healthy(server), RECOVERY_MS);
      const reservingIn = await until(
        'a reservation after the outage',
        async () => (await reserve(server, sku)).status === 201,
        RECOVERY_MS,
      );
      expect(Math.max(healthyIn, reservingIn)).toBeLessThanOrEqual(RECOVERY_MS);
      // the listeners come back by themselves (backoff capped at 5 s), one per channel, and stay one each
      await until('both listeners back', async () => watch.listening() === LISTENERS, 10_000);
      await pause(500);
      // still (or, had a fresh connection been lost again right after a crash recovery, once more) one per channel
      await until('both listeners there', async () => watch.listening() === LISTENERS, 10_000);
      expect(watch.mostListening()).toBe(LISTENERS);
    } finally {
      await load?.stop();
      await watch.stop();
    }
    expect(watch.most()).toBeLessThanOrEqual(CONNECTION_BOUND);
    if (load) {
      const unexpected = load.answers.filter((a) => ![201, 409, 503].includes(a.status));
      expect(unexpected).toEqual([]);
      const unavailable = load.answers.filter((a) => a.status === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(unavailable.filter((a) => a.code !== 'unavailable' || a.retryAfter === null)).toEqual([]);
    }
  }

  // the short outages: the behaviour shown, how long the database is down, how many clients reserve through it
  it.each([
    ['idle, stopped for 1 s: stays within its connections and serves again within 5 s', 1, 0],
    ['idle, stopped for 5 s: stays within its connections and serves again within 5 s', 5, 0],
    ['under load, stopped for 1 s: callers get 201 or 503 with Retry-After, never a crash', 1, 16],
    ['under load, stopped for 5 s: callers get 201 or 503 with Retry-After, never a crash', 5, 16],
  ] as const)('%s', (_behaviour, seconds, clients) => drill(seconds, clients), 30_000);

  it('under load, stopped for 30 s: callers get 201 or 503 with Retry-After, and it serves within 5 s of the database', async () => {
    await drill(30, 16);
  }, 60_000);

  it('under load, every connection of the server terminated: no crash, back at once, listeners back', async () => {
    const watch = watchConnections(cluster.url);
    const load = reservationLoad(server, sku, 16);
    try {
      await until('load reserving', async () => load.answers.some((a) => a.status === 201), RECOVERY_MS);
      const admin = new pg.Client(cluster.url);
      await admin.connect();
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [APPLICATION_NAME],
      );
      await admin.end();
      expect(rows[0]?.n).toBeGreaterThanOrEqual(LISTENERS);
      const served = load.answers.length;
      await until('reserving again', async () => load.answers.slice(served).some((a) => a.status === 201), RECOVERY_MS);
      await until('both listeners back', async () => watch.listening() === LISTENERS, 10_000);
    } finally {
      await load.stop();
      await watch.stop();
    }
    expect(await healthy(server)).toBe(true);
    expect(watch.most()).toBeLessThanOrEqual(CONNECTION_BOUND);
    expect(
      load.answers.filter((a) => ![201, 409, 503].includes(a.status) || (a.status === 503 && a.retryAfter === null)),
    ).toEqual([]);
  }, 30_000);
});
