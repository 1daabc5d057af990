import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import { APPLICATION_NAME, openPostgres } from '../src/store/postgres.js';
import { startCommitCutter } from './support/commit-cutter.js';
import type { CommitCutter } from './support/commit-cutter.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { expectReconciled, uniq } from './support/harness.js';
import { havePostgresBinaries, startPostgresCluster } from './support/postgres-cluster.js';
import type { Cluster } from './support/postgres-cluster.js';
import { ADMIN_KEY } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';
import { startSynchronousStandby } from './support/synchronous-standby.js';
import type { Standby } from './support/synchronous-standby.js';

/** Concurrent checkout clients through the drill. */
const CLIENTS = 32;
/** The longest a client may wait for any one answer: past it the server hung, which the drill must not see. */
const ANSWER_BOUND_MS = 15_000;
/** Acknowledged reservations to see before the primary is killed, and again after the standby is promoted. */
const ACKS_PER_PHASE = 150;
/** Units of the scarce SKU: some clients are refused (409) while others hold them all. */
const SCARCE_UNITS = 40;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(25);
  }
}

async function untilAsync(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(100);
  }
}

/** The server's LISTEN connections on a database server, as it sees them. */
async function listenersOn(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'drill-watch' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
      [APPLICATION_NAME],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string | undefined;
  id: string | undefined;
  replayed: boolean;
}

/** One POST /v1/reservations with an Idempotency-Key; a transport failure or a hang past the bound is status 0. */
async function reserve(
  url: string,
  key: string,
  apiKey: string,
  order: { order_ref: string; lines: { sku: string; qty: number }[] },
): Promise<Answer> {
  try {
    const res = await fetch(`${url}/v1/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(order),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    const body = (await res.json()) as { code?: string; id?: string };
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      code: body.code,
      id: body.id,
      replayed: res.headers.get('idempotent-replayed') === 'true',
    };
  } catch (error) {
    return { status: 0, retryAfter: null, code: String(error), id: undefined, replayed: false };
  }
}

/** The HTTP API over a Stockroom of this process, listening on loopback. */
async function serveInProcess(stockroom: Stockroom): Promise<{ url: string; app: FastifyInstance }> {
  const app = await buildServer({ stockroom, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, app };
}

/** Where the drill is when a reservation is acknowledged. */
type Phase = 'before' | 'gap' | 'after';

interface Acknowledged {
  orderRef: string;
  id: string;
  phase: Phase;
}

/**
 * Checkout clients, each placing one order after another with an Idempotency-Key of its own per order and,
 * on a 503, sending the same order with the same key again (after a short wait) until it is answered 201 or
 * 409: a client that does so cannot lose an order to a failover, nor place one twice.
 */
function checkoutClients(url: string, skus: { plenty: string; scarce: string }) {
  const answers: Answer[] = [];
  const acknowledged: Acknowledged[] = [];
  const state: { running: boolean; phase: Phase } = { running: true, phase: 'before' };
  const loops = Array.from({ length: CLIENTS }, async (_, client) => {
    for (let n = 0; state.running; n++) {
      const orderRef = uniq(`drill-${client}`);
      const sku = n % 4 === 3 ? skus.scarce : skus.plenty;
      const order = { order_ref: orderRef, lines: [{ sku, qty: 1 }] };
      for (;;) {
        const answer = await reserve(url, `key-${orderRef}`, ADMIN_KEY, order);
        answers.push(answer);
        if (answer.status === 201 && answer.id !== undefined)
          acknowledged.push({ orderRef, id: answer.id, phase: state.phase });
        if (answer.status !== 503) break;
        await pause(50);
      }
    }
  });
  return {
    answers,
    acknowledged,
    state,
    stop: async () => {
      state.running = false;
      await Promise.all(loops);
    },
  };
}

// under CI it runs, and fails without the server binaries (pg_basebackup, pg_ctl) rather than skipping
describe.skipIf(!process.env.CI && (!postgresUrl() || !havePostgresBinaries()))(
  'failover between a primary and its synchronous standby (clusters of its own, the standby promoted by pg_ctl promote)',
  () => {
    let primary: Cluster;
    let standby: Standby | undefined;
    let server: ServerProcess | undefined;
    let addresses = { primary: '', standby: '' };
    const skus = { plenty: uniq('PLENTY'), scarce: uniq('SCARCE') };
    const database = (cluster: { url: string }): string => {
      const url = new URL(cluster.url);
      url.pathname = '/drill';
      return url.toString();
    };

    beforeAll(async () => {
      // clusters of this file's own: the run's shared one is not killed. full_page_writes stays on, which a
      // base backup of a running primary needs; synchronous_commit is on (the default) as in production.
      primary = await startPostgresCluster({ fsync: 'off' });
      const admin = new pg.Client(primary.url);
      await admin.connect();
      await admin.query('CREATE DATABASE drill');
      await admin.end();
      const s = new Stockroom({ db: await openPostgres(database(primary)) });
      await migrate(s.db);
      await s.catalog.addWarehouse({ code: 'AMS', name: 'Amsterdam' });
      await s.catalog.addVariant({ sku: skus.plenty, product: { title: 'plenty' } });
      await s.catalog.addVariant({ sku: skus.scarce, product: { title: 'scarce' } });
      await s.stock.receive({ sku: skus.plenty, warehouse: 'AMS', qty: 1_000_000 });
      await s.stock.receive({ sku: skus.scarce, warehouse: 'AMS', qty: SCARCE_UNITS });
      await s.close();
      standby = await startSynchronousStandby(primary);
      addresses = { primary: new URL(primary.url).host, standby: new URL(standby.url).host };
      server = await startServer({
        // both servers, as libpq takes them: stockroom writes to whichever is the primary
        DATABASE_URL: `postgres://postgres@${addresses.primary},${addresses.standby}/drill?target_session_attrs=read-write`,
        STOCKROOM_ADMIN_KEY: ADMIN_KEY,
        STOCKROOM_PG_POOL_MAX: '8',
        STOCKROOM_PG_CONNECT_TIMEOUT_MS: '1000',
        STOCKROOM_PG_PRIMARY_RETRY_MS: '500',
      });
    });

    afterAll(async () => {
      try {
        if (server) expect(await server.stop()).toBe(0);
      } finally {
        standby?.stop();
        primary.stop();
      }
    });

    it('finds the primary whichever host is listed first, and opens nothing while no host is one', async () => {
      const hosts = `${addresses.standby},${addresses.primary}`;
      for (const target of ['read-write', 'primary']) {
        const db = await openPostgres(`postgres://postgres@${hosts}/drill?target_session_attrs=${target}`);
        try {
          expect((await db.query('SELECT pg_is_in_recovery() AS in_recovery')).rows).toEqual([{ in_recovery: false }]);
        } finally {
          await db.close();
        }
      }
      await expect(
        openPostgres(`postgres://postgres@${addresses.standby}/drill?target_session_attrs=read-write`),
      ).rejects.toMatchObject({ code: 'unavailable' });
    });

    it('a write that reaches a standby is answered 503 with Retry-After, never 500', async () => {
      const onPrimary = new Stockroom({ db: await openPostgres(database(primary)) });
      // made on the primary, on the standby once committed (the standby is synchronous)
      const apiKey = (await onPrimary.keys.create({ name: 'checkout on the standby', scopes: ['checkout'] })).key;
      await onPrimary.close();
      // one host, no target: a plain pool on the standby, as a misconfigured URL or libpq's `any` would give
      const onStandby = new Stockroom({
        db: await openPostgres(database({ url: `postgres://postgres@${addresses.standby}` })),
      });
      const { url, app } = await serveInProcess(onStandby);
      try {
        const order = { order_ref: uniq('on-standby'), lines: [{ sku: skus.plenty, qty: 1 }] };
        const answer = await reserve(url, `key-${order.order_ref}`, apiKey, order);
        expect([answer.status, answer.code, answer.retryAfter]).toEqual([503, 'unavailable', '1']);
      } finally {
        await app.close();
        await onStandby.close();
      }
    });

    it('every acknowledged reservation is on the new primary exactly once; clients saw only 201, 409 and 503', async () => {
      if (!server || !standby) throw new Error('not set up');
      const newPrimary = database(standby);
      const clients = checkoutClients(server.url, skus);
      try {
        await until('acknowledged before the kill', () => clients.acknowledged.length >= ACKS_PER_PHASE, 30_000);
        await primary.halt(); // pg_ctl stop -m immediate: the primary dies where it stands
        clients.state.phase = 'gap';
        const answeredBefore = clients.answers.length;
        // the gap is seen: callers are told to come back (503 with Retry-After) while there is no primary, as many
        // times as there are clients (the search for a primary goes round more than once meanwhile)
        await until(
          '503s in the gap',
          () => clients.answers.slice(answeredBefore).filter((a) => a.status === 503).length >= CLIENTS,
          10_000,
        );
        await standby.promote(); // the operator's pg_ctl promote
        clients.state.phase = 'after';
        await until(
          'acknowledged after the promotion',
          () => clients.acknowledged.filter((ack) => ack.phase === 'after').length >= ACKS_PER_PHASE,
          30_000,
        );
      } finally {
        // every client finishes its order in hand: a 503 is retried with its key until answered
        await clients.stop();
      }

      expect(clients.answers.filter((a) => ![201, 409, 503].includes(a.status))).toEqual([]);
      const unavailable = clients.answers.filter((a) => a.status === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(unavailable.filter((a) => a.code !== 'unavailable' || a.retryAfter === null)).toEqual([]);
      expect(clients.answers.some((a) => a.status === 409)).toBe(true);

      // on the new primary: each acknowledged order once, with the reservation its client was given
      const promoted = new pg.Client(newPrimary);
      await promoted.connect();
      try {
        const { rows } = await promoted.query<{ order_ref: string; id: string; n: number }>(
          `SELECT order_ref, min(id::text) AS id, count(*)::int AS n FROM reservations
            WHERE order_ref LIKE 'drill-%' GROUP BY order_ref`,
        );
        const stored = new Map(rows.map((row) => [row.order_ref, row]));
        const missing = clients.acknowledged.filter((ack) => stored.get(ack.orderRef)?.id !== ack.id);
        expect(missing).toEqual([]);
        expect(rows.filter((row) => row.n !== 1)).toEqual([]);
        const acknowledgedRefs = new Set(clients.acknowledged.map((ack) => ack.orderRef));
        expect(acknowledgedRefs.size).toBe(clients.acknowledged.length);
        // nothing beyond what was acknowledged: every order was retried until answered
        expect(rows.length).toBe(acknowledgedRefs.size);
        const { rows: scarce } = await promoted.query<{ reserved: number; on_hand: number }>(
          `SELECT l.reserved, l.on_hand FROM stock_levels l JOIN variants v ON v.id = l.variant_id WHERE v.sku = $1`,
          [skus.scarce],
        );
        expect(scarce).toEqual([{ reserved: SCARCE_UNITS, on_hand: SCARCE_UNITS }]);
      } finally {
        await promoted.end();
      }
      // the listening connections (stock changes, outbox) follow to the new primary by themselves
      await untilAsync('the listeners on the new primary', async () => (await listenersOn(newPrimary)) === 2, 15_000);
      expect(server.output()).not.toMatch(/Unhandled 'error' event|uncaught|internal_error/i);
      // the operator reads the gap and the new primary in the log, each once
      const said = (pattern: RegExp): number =>
        server
          ?.output()
          .split('\n')
          .filter((line) => pattern.test(line)).length ?? 0;
      expect(said(/no database server is a read-write one now/)).toBe(1);
      expect(said(new RegExp(`"server":"${addresses.standby}".*database primary is now ${addresses.standby}`))).toBe(1);
      const s = new Stockroom({ db: await openPostgres(newPrimary) });
      try {
        await expectReconciled(s);
      } finally {
        await s.close();
      }
    }, 120_000);
  },
);

describe.skipIf(!process.env.CI && !postgresUrl())('a reservation whose COMMIT was never answered', () => {
  let cutter: CommitCutter;
  let s: Stockroom;
  let app: FastifyInstance;
  let url: string;
  let apiKey: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    drop = created.drop;
    const setup = await openPostgres(created.url);
    await migrate(setup);
    await setup.close();
    cutter = await startCommitCutter(created.url);
    // unprepared statements: every query's text passes the proxy, which finds the keyed transaction by it
    s = new Stockroom({ db: await openPostgres(cutter.url, { prepare: false }) });
    apiKey = (await s.keys.create({ name: 'checkout', scopes: ['checkout'] })).key;
    ({ app, url } = await serveInProcess(s));
  });

  afterAll(async () => {
    await app.close();
    await expectReconciled(s);
    await s.close();
    await cutter.close();
    await drop();
  });

  /** A SKU of its own with 100 units, and eight orders of one unit for it, each with an Idempotency-Key. */
  const eightOrders = async (): Promise<{
    sku: string;
    orders: { order_ref: string; lines: { sku: string; qty: number }[] }[];
  }> => {
    await s.catalog.addWarehouse({ code: 'CUT', name: 'Cut' }).catch(() => undefined);
    const sku = uniq('CUT');
    await s.catalog.addVariant({ sku, product: { title: sku } });
    await s.stock.receive({ sku, warehouse: 'CUT', qty: 100 });
    return { sku, orders: Array.from({ length: 8 }, () => ({ order_ref: uniq('cut'), lines: [{ sku, qty: 1 }] })) };
  };
  /** The orders' reservations as stored (order_ref -> id), and the SKU's reserved units. */
  const stored = async (sku: string, orders: { order_ref: string }[]) => {
    const { rows } = await s.db.query<{ order_ref: string; id: string }>(
      'SELECT order_ref, id::text AS id FROM reservations WHERE order_ref = ANY($1::text[])',
      [orders.map((order) => order.order_ref)],
    );
    const level = await s.db.query<{ reserved: number }>(
      'SELECT l.reserved FROM stock_levels l JOIN variants v ON v.id = l.variant_id WHERE v.sku = $1',
      [sku],
    );
    return { ids: new Map(rows.map((row) => [row.order_ref, row.id])), rows: rows.length, level: level.rows };
  };

  /**
   * Every order is in once, as it was answered (`first`): its stored reservation is the one answered, the SKU holds
   * one unit an order, and a retry with its key replays that answer.
   */
  const expectEachMadeOnce = async (
    sku: string,
    orders: { order_ref: string; lines: { sku: string; qty: number }[] }[],
    first: Answer[],
  ): Promise<void> => {
    const after = await stored(sku, orders);
    expect(after.ids).toEqual(new Map(orders.map((order, i) => [order.order_ref, first[i]?.id])));
    expect(after.rows).toBe(orders.length);
    expect(after.level).toEqual([{ reserved: orders.length }]);
    const retried = await Promise.all(orders.map((order) => reserve(url, `key-${order.order_ref}`, apiKey, order)));
    expect(retried.map((a) => [a.status, a.replayed, a.id])).toEqual(first.map((a) => [201, true, a.id]));
  };

  it('is found committed on another connection: every order is answered 201, and a retry replays it', async () => {
    const { sku, orders } = await eightOrders();
    const cut = cutter.cutNextKeyedCommit();
    // arriving together, the orders are reserved in one group or a few: one group's COMMIT answer is lost on its way
    const first = await Promise.all(orders.map((order) => reserve(url, `key-${order.order_ref}`, apiKey, order)));
    await cut;
    expect(first.map((a) => [a.status, a.replayed])).toEqual(orders.map(() => [201, false]));

    // the answers were the reservations made: a retry with its key is answered with the same, marked as a replay
    await expectEachMadeOnce(sku, orders, first);
  });

  it('is asked about on a connection of its own, so a pool of one answers at once', async () => {
    // the cutter cuts a transaction that named idempotency_keys; a table of the test's own holds what it writes
    const table = `cut_marks_${uniq('t').replace(/[^a-z0-9]/gi, '_')}`;
    await s.db.exec(`CREATE TABLE ${table} (mark text PRIMARY KEY)`);
    const one = await openPostgres(cutter.url, { prepare: false, max: 1, connectTimeoutMs: 60_000 });
    try {
      const mark = uniq('mark');
      const cut = cutter.cutNextKeyedCommit();
      const started = Date.now();
      const answer = await one.transaction(
        async (tx) => {
          await tx.query('SELECT 1 FROM idempotency_keys LIMIT 0');
          await tx.query(`INSERT INTO ${table} VALUES ($1)`, [mark]);
          return 'made';
        },
        {
          committed: async (db) => (await db.query(`SELECT 1 FROM ${table} WHERE mark = $1`, [mark])).rows.length === 1,
        },
      );
      await cut;
      expect(answer).toBe('made');
      // the question did not wait for a connection the pool had no room for (its wait is a minute here)
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await one.close();
      await s.db.exec(`DROP TABLE ${table}`);
    }
  });

  it('whose COMMIT never reached the server is known rolled back by its id and run again: all 201', async () => {
    const { sku, orders } = await eightOrders();
    const dropped = cutter.dropNextKeyedCommit();
    const first = await Promise.all(orders.map((order) => reserve(url, `key-${order.order_ref}`, apiKey, order)));
    await dropped;
    expect(first.map((a) => [a.status, a.replayed])).toEqual(orders.map(() => [201, false]));

    // each order is in once, as answered: the lost run left nothing, and a retry with its key replays the answer
    await expectEachMadeOnce(sku, orders, first);
  });

  it('whose COMMIT the server never heard of: its backend is ended, its locks freed, every order 201', async () => {
    const { sku, orders } = await eightOrders();
    const stalled = cutter.stallNextKeyedCommit();
    const answers = Promise.all(orders.map((order) => reserve(url, `key-${order.order_ref}`, apiKey, order)));
    (await stalled)();
    const first = await answers;
    // the stalled backend held the SKU's level locked, and was ended; the group ran again
    expect(first.map((a) => [a.status, a.replayed])).toEqual(orders.map(() => [201, false]));
    const { rows: left } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(left).toEqual([{ n: 0 }]);
    await expectEachMadeOnce(sku, orders, first);
  });

  it('is asked about on a connection of its own while the pool waits behind the stalled locks', async () => {
    const { sku, orders } = await eightOrders();
    const order = orders[0]!;
    const small = new Stockroom({ db: await openPostgres(cutter.url, { prepare: false, max: 2 }) });
    try {
      const stalled = cutter.stallNextKeyedCommit();
      const reserved = small.reservations.reserve(order, { idempotencyKey: `key-${order.order_ref}` });
      const cut = await stalled;
      // three changes of the same level wait for the stalled transaction's lock: two hold the pool's connections
      // (the second once the lost one is given back), the third waits for one
      const adjusted = Promise.all(
        [1, 2, 3].map(() => small.stock.adjust({ sku, warehouse: 'CUT', delta: 1, reason: 'correction' })),
      );
      await expect
        .poll(async () => {
          const { rows } = await s.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return rows[0]?.n;
        })
        .toBe(1);
      cut();
      expect((await reserved).status).toBe('pending');
      await adjusted;
      const after = await stored(sku, [order]);
      expect(after.rows).toBe(1);
      expect(after.level).toEqual([{ reserved: 1 }]);
    } finally {
      await small.close();
    }
  });
});
