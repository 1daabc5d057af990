import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Client, Pool, request } from 'undici';
import { problem } from '../src/http/errors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { SHIPPED_CONFIG, haproxyBinary, startHaproxy } from './support/haproxy.js';
import type { Haproxy } from './support/haproxy.js';
import { world } from './support/harness.js';
import { freePort } from './support/postgres-cluster.js';
import { httpReceiver } from './support/receivers.js';
import { ADMIN_KEY, expectServerDatabaseReconciled, serverDatabase } from './support/served.js';
import type { ServerDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';
import { itemOf, openStream } from './support/sse.js';

const WORKERS = 2;
const JSON_ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

/** Which worker answered: the header every answer of `stockroom serve --workers N` carries (`<slot>; pid=<pid>`). */
function workerOf(headers: Record<string, string | string[] | undefined>): { slot: number; pid: number } {
  const value = headers['stockroom-worker'];
  const match = typeof value === 'string' ? /^(\d+); pid=(\d+)$/.exec(value) : null;
  if (!match) throw new Error(`no Stockroom-Worker header in the answer (${String(value)})`);
  return { slot: Number(match[1]), pid: Number(match[2]) };
}

/** A call through `dispatcher` (a connection held by one worker, or a pool); the status, JSON and worker. */
async function call(
  dispatcher: Client | Pool,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await dispatcher.request({
    method,
    path,
    headers: { ...JSON_ADMIN, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
    text,
    worker: workerOf(res.headers),
  };
}

/**
 * One keep-alive connection to each worker: the primary hands each new connection to the next worker, so new
 * connections are opened until every slot has answered on one (the rest are closed).
 */
async function connectionPerWorker(url: string): Promise<Map<number, Client>> {
  const found = new Map<number, Client>();
  for (let tries = 0; found.size < WORKERS; tries++) {
    if (tries > 50) throw new Error(`only workers ${[...found.keys()].join(', ')} answered 50 new connections`);
    const client = new Client(url, { pipelining: 1 });
    const { worker } = await call(client, 'GET', '/v1/warehouses');
    if (found.has(worker.slot)) await client.close();
    else found.set(worker.slot, client);
  }
  return found;
}

/** Whether a process is still there. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An answer one of reservationLoad's clients was given. */
interface LoadAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/**
 * 32 clients reserving a unit of `sku` each, order after order, each on a connection of its own (a new one every 25
 * orders, as clients come and go, so a restarted server is given connections again) until stopped. Each order has
 * an Idempotency-Key of its own, which every retry of it keeps: a 503 is sent again, and so is a connection error
 * when `retryConnectionErrors` (else it is counted and the client stops). `waitFor` resolves once a check, made
 * after every answer, holds (no polling).
 */
function reservationLoad(options: {
  url: string;
  sku: string;
  prefix: string;
  retryConnectionErrors: boolean;
  onAnswer?: (answer: LoadAnswer) => void;
}) {
  const statuses = new Map<number, number>();
  const connectionErrors = new Map<string, number>();
  const acknowledged = new Map<string, string>(); // order_ref -> reservation id
  const retryAfter = new Set<string>(); // Retry-After of every 503
  const waiting = new Set<{ check: () => boolean; resolve: () => void }>();
  const answered = (): void => {
    for (const wait of waiting)
      if (wait.check()) {
        waiting.delete(wait);
        wait.resolve();
      }
  };
  let stopping = false;
  let orders = 0;
  const connection = () => new Client(options.url, { pipelining: 1, headersTimeout: 10_000 });
  const client = async (): Promise<void> => {
    let held = connection();
    try {
      for (let made = 1; !stopping; made++) {
        if (made % 25 === 0) {
          await held.close();
          held = connection();
        }
        const orderRef = `${options.prefix}${++orders}`;
        const body = JSON.stringify({ order_ref: orderRef, lines: [{ sku: options.sku, qty: 1 }] });
        const headers = { ...JSON_ADMIN, 'idempotency-key': randomUUID() };
        for (let attempt = 1; ; attempt++) {
          let answer: LoadAnswer;
          try {
            const res = await held.request({ method: 'POST', path: '/v1/reservations', headers, body });
            const text = await res.body.text();
            const json = (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>;
            answer = { status: res.statusCode, headers: res.headers, json };
          } catch (error) {
            const code = (error as { code?: string }).code ?? String(error);
            connectionErrors.set(code, (connectionErrors.get(code) ?? 0) + 1);
            if (!options.retryConnectionErrors) return;
            if (attempt >= 20) throw error;
            await held.destroy().catch(() => undefined);
            held = connection();
            continue;
          }
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 201) acknowledged.set(orderRef, String(answer.json.id));
          if (answer.status === 503) retryAfter.add(String(answer.headers['retry-after']));
          options.onAnswer?.(answer);
          answered();
          if (answer.status !== 503) break;
        }
      }
    } finally {
      await held.close().catch(() => undefined);
    }
  };
  const load = Promise.all(Array.from({ length: 32 }, client));
  return {
    statuses,
    connectionErrors,
    acknowledged,
    retryAfter,
    waitFor: (check: () => boolean): Promise<void> =>
      check()
        ? Promise.resolve()
        : new Promise((resolve) => {
            waiting.add({ check, resolve });
          }),
    stop: async (): Promise<void> => {
      stopping = true;
      await load;
    },
  };
}

/**
 * Every acknowledged reservation of the orders named `<prefix>...` is in the database exactly once, with the id its
 * client was given (a retry got the first answer replayed), nothing is there that no client was told of, and the
 * ledger reconciles.
 */
async function expectExactlyAcknowledged(
  database: ServerDatabase,
  prefix: string,
  acknowledged: Map<string, string>,
): Promise<void> {
  const s = await database.open();
  try {
    const { rows } = await s.db.query<{ id: string; order_ref: string }>(
      'SELECT id, order_ref FROM reservations WHERE order_ref LIKE $1',
      [`${prefix}%`],
    );
    const stored = new Map(rows.map((row) => [row.order_ref, row.id]));
    expect(rows).toHaveLength(stored.size);
    expect(stored).toEqual(acknowledged);
    expect((await s.reconcile()).clean).toBe(true);
  } finally {
    await s.close();
  }
}

describe.skipIf(!postgresUrl())('stockroom serve --workers 2 on one port and one PostgreSQL', () => {
  let database: ServerDatabase;
  let server: ServerProcess;
  let workers: Map<number, Client>;
  let n = 0;
  const seenPids = new Set<number>();

  /** A SKU of this test with `qty` units in the one warehouse, made through worker 1. */
  const stocked = async (qty: number): Promise<string> => {
    const sku = `WRK-${++n}`;
    const one = workers.get(1) as Client;
    if (n === 1) await call(one, 'POST', '/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
    expect((await call(one, 'POST', '/v1/variants', { sku, product: { title: sku } })).status).toBe(201);
    if (qty > 0)
      expect((await call(one, 'POST', '/v1/stock/receive', { sku, warehouse: 'AMS', qty })).status).toBe(200);
    return sku;
  };

  beforeAll(async () => {
    database = await serverDatabase('postgres');
    server = await startServer({
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_WORKERS: String(WORKERS),
      // both workers sweep often, so their sweeps meet
      STOCKROOM_SWEEP_MS: '20',
      STOCKROOM_METRICS_PUBLIC: '1',
      STOCKROOM_WORKER_RESTART_MS: '50',
    });
    workers = await connectionPerWorker(server.url);
  });

  afterAll(async () => {
    for (const client of workers.values()) await client.close();
    // SIGTERM to the primary: it passes it on, each worker drains and exits, and the primary exits 0
    expect(await server.stop()).toBe(0);
    for (const pid of seenPids) expect(alive(pid), `worker pid ${pid} outlived the primary`).toBe(false);
    await expectServerDatabaseReconciled(database);
    await database.cleanup();
  });

  it('answers from two worker processes on one port, each naming itself in Stockroom-Worker', async () => {
    const one = await call(workers.get(1) as Client, 'GET', '/v1/warehouses');
    const two = await call(workers.get(2) as Client, 'GET', '/v1/nothing-here');
    expect(two.status).toBe(404);
    expect([one.worker.slot, two.worker.slot]).toEqual([1, 2]);
    expect(one.worker.pid).not.toBe(two.worker.pid);
    expect([one.worker.pid, two.worker.pid]).not.toContain(server.pid);
    for (const { worker } of [one, two]) seenPids.add(worker.pid);
    expect(server.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(2 workers\)/);
  });

  it('2,000 concurrent reservations for 500 units through both workers: exactly 500 are sold', async () => {
    const sku = await stocked(500);
    const pool = new Pool(server.url, { connections: 2000, pipelining: 1 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          call(pool, 'POST', '/v1/reservations', { order_ref: `rush-${i}`, lines: [{ sku, qty: 1 }] }),
        ),
      );
      const byStatus = (status: number) => answers.filter((answer) => answer.status === status);
      expect(byStatus(201)).toHaveLength(500);
      expect(byStatus(409)).toHaveLength(1500);
      expect(new Set(byStatus(409).map((answer) => answer.json.code))).toEqual(new Set(['insufficient_stock']));
      // both workers took part in the sale, each with its own group commit and pool
      const soldBy = new Set(byStatus(201).map((answer) => answer.worker.slot));
      expect(soldBy).toEqual(new Set([1, 2]));
    } finally {
      await pool.close();
    }
    for (const client of workers.values()) {
      const { json } = await call(client, 'GET', `/v1/stock/${sku}`);
      expect(json).toMatchObject({ total: { on_hand: 500, reserved: 500, available: 0 } });
    }
    const s = await database.open();
    try {
      const { rows } = await s.db.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM reservations WHERE order_ref LIKE 'rush-%' AND status = 'pending'",
      );
      expect(rows[0]?.count).toBe(500);
      expect((await s.reconcile()).clean).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('an availability stream on one worker hears a change made through the other', async () => {
    const sku = await stocked(7);
    const streams = new Map<number, Awaited<ReturnType<typeof openStream>>>();
    // a new stream is a new connection: the primary hands it to the next worker, until each holds one
    for (let tries = 0; streams.size < WORKERS && tries < 50; tries++) {
      const stream = await openStream(`${server.url}/v1/availability/stream?sku=${sku}`);
      const { slot } = workerOf(stream.headers);
      if (streams.has(slot)) await stream.close();
      else streams.set(slot, stream);
    }
    try {
      expect([...streams.keys()].sort()).toEqual([1, 2]);
      for (const stream of streams.values()) expect(itemOf(await stream.next())).toMatchObject({ available: 7 });
      const reserved = await call(workers.get(2) as Client, 'POST', '/v1/reservations', {
        order_ref: 'seen-elsewhere',
        lines: [{ sku, qty: 3 }],
      });
      expect([reserved.status, reserved.worker.slot]).toEqual([201, 2]);
      // worker 1 did not make the change: it heard it from PostgreSQL (LISTEN/NOTIFY), as worker 2 did
      for (const stream of streams.values()) expect(itemOf(await stream.next())).toMatchObject({ sku, available: 4 });
    } finally {
      for (const stream of streams.values()) await stream.close();
    }
  });

  it("the workers' sweepers expire each due hold exactly once", async () => {
    const sku = await stocked(300);
    const before = await expiredByWorker();
    const pool = new Pool(server.url, { connections: 32, pipelining: 1 });
    try {
      const made = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          call(pool, 'POST', '/v1/reservations', { order_ref: `due-${i}`, lines: [{ sku, qty: 1 }] }),
        ),
      );
      expect(made.map((answer) => answer.status)).toEqual(Array.from({ length: 300 }, () => 201));
    } finally {
      await pool.close();
    }
    const s = await database.open();
    try {
      // all 300 fall due at once (as if their deadline had passed): only the sweepers, both every 20 ms, release
      // them (no checkout on the SKU follows that would settle them itself)
      await s.db.query("UPDATE reservations SET expires_at = now() WHERE order_ref LIKE 'due-%'");
      const expired = async () =>
        (
          await s.db.query<{ count: number }>(
            "SELECT count(*)::int AS count FROM reservations WHERE order_ref LIKE 'due-%' AND status = 'expired'",
          )
        ).rows[0]?.count;
      await expect.poll(expired, { timeout: 15_000 }).toBe(300);
      const { rows } = await s.db.query<{ reservation_id: string; expiries: number }>(
        `SELECT m.reservation_id, count(*)::int AS expiries FROM stock_movements m
           JOIN reservations r ON r.id = m.reservation_id
          WHERE r.order_ref LIKE 'due-%' AND m.type = 'expire' GROUP BY m.reservation_id`,
      );
      expect(rows).toHaveLength(300);
      expect(rows.filter((row) => row.expiries !== 1)).toEqual([]);
      expect((await s.stock.get(sku)).total).toMatchObject({ on_hand: 300, reserved: 0 });
    } finally {
      await s.close();
    }
    // and the sweepers between them counted 300 expiries: none was expired twice, by one worker or both. A scrape
    // through either worker shows the host's figures (every worker's, summed by the primary)
    const after = await expiredByWorker();
    expect(after.get(1)).toBe(after.get(2));
    expect((after.get(1) ?? 0) - (before.get(1) ?? 0)).toBe(300);
  });

  /** stockroom_reservations_expired_total as each worker's /metrics answers it, by slot. */
  async function expiredByWorker(): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const [slot, client] of workers) {
      const { text, worker } = await call(client, 'GET', '/metrics');
      expect(worker.slot).toBe(slot);
      counts.set(slot, Number(/^stockroom_reservations_expired_total (\d+)/m.exec(text)?.[1] ?? NaN));
    }
    return counts;
  }

  it(
    'SIGKILL of a worker under load from 32 clients: every acknowledged reservation is there once, the worker is ' +
      'started again, and clients saw only 201, 409, 503, or a connection reset or left unanswered that they retried ' +
      'with the same key',
    async () => {
      const sku = await stocked(100_000);
      const victim = (await call(workers.get(2) as Client, 'GET', '/v1/warehouses')).worker;
      let replacement: number | undefined;
      let byReplacement = 0;
      // node:cluster's primary accepts each connection and hands it to a worker: one handed over just as that worker
      // dies stays open with no one reading it, so a client needs a timeout of its own (as any client does); 10 s
      // here, far above any answer's time on a loaded machine. A connection error is retried with the same key on a
      // new connection (the primary gives it to a live worker): the request may or may not have committed
      const load = reservationLoad({
        url: server.url,
        sku,
        prefix: 'kill-',
        retryConnectionErrors: true,
        onAnswer: ({ status, headers }) => {
          const worker = workerOf(headers);
          if (status === 201 && worker.slot === victim.slot && worker.pid !== victim.pid) {
            replacement ??= worker.pid;
            byReplacement++;
          }
        },
      });
      try {
        await load.waitFor(() => load.acknowledged.size >= 300);
        // the primary's two lines may arrive at once: both are waited for from before the kill
        const died = server.waitFor(new RegExp(`worker 2 \\(pid ${victim.pid}\\) exited with signal SIGKILL`));
        const back = server.waitFor(/worker 2 \(pid \d+\) serves again/);
        process.kill(victim.pid, 'SIGKILL');
        const killedAt = load.acknowledged.size;
        await died;
        // the slot is served again by a new process, and the load goes on through both
        await back;
        await load.waitFor(() => byReplacement >= 50 && load.acknowledged.size >= killedAt + 300);
      } finally {
        await load.stop();
      }
      seenPids.add(replacement ?? 0);
      workers
        .get(2)
        ?.destroy()
        .catch(() => undefined);
      workers = await connectionPerWorker(server.url);

      // what a client saw: answers of 201 (409 and 503 are allowed: none is expected with stock to spare), and
      // connections reset by the dying worker or left unanswered (the client's timeout), each retried with the same
      // key until it was answered
      expect([...load.statuses.keys()].filter((status) => ![201, 409, 503].includes(status))).toEqual([]);
      const connectionErrors = ['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'];
      expect([...load.connectionErrors.keys()].filter((code) => !connectionErrors.includes(code))).toEqual([]);
      expect([...load.connectionErrors.values()].reduce((sum, each) => sum + each, 0)).toBeGreaterThan(0);
      expect(alive(victim.pid)).toBe(false);
      await expectExactlyAcknowledged(database, 'kill-', load.acknowledged);
    },
    90_000,
  );
});

const HAPROXY = haproxyBinary();
/** STOCKROOM_SSE_HEARTBEAT_MS's default (docs/operations.md, Storefront), and the one these servers are given. */
const DEFAULT_HEARTBEAT_MS = 15_000;
const STREAM_HEARTBEAT_MS = 250;

describe.skipIf(!postgresUrl() || !HAPROXY)(
  'behind HAProxy (deploy/haproxy.cfg as shipped): two `serve` processes on ports of their own, one PostgreSQL',
  () => {
    let database: ServerDatabase;
    let proxy: Haproxy;
    const ports: number[] = [];
    const servers: ServerProcess[] = [];
    let n = 0;
    const serverEnv = () => ({
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_TRUST_PROXY: '127.0.0.1',
      // a stream's heartbeat well inside the 1 s `timeout server` the stream test gives a haproxy of its own
      STOCKROOM_SSE_HEARTBEAT_MS: String(STREAM_HEARTBEAT_MS),
    });

    /** A call through HAProxy (on a kept-alive connection, unless `dispatcher` says otherwise): status, headers, JSON. */
    const viaProxy = async (method: 'GET' | 'POST', path: string, body?: unknown, dispatcher?: Client) => {
      const res = await request(`${proxy.url}${path}`, {
        method,
        headers: JSON_ADMIN,
        ...(dispatcher ? { dispatcher } : {}),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        headers: res.headers,
        json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
      };
    };

    /** A SKU with `qty` units, made through HAProxy. */
    const stocked = async (qty: number): Promise<string> => {
      const sku = `LB-${++n}`;
      if (n === 1) expect((await viaProxy('POST', '/v1/warehouses', { code: 'LBW', name: 'LB' })).status).toBe(201);
      expect((await viaProxy('POST', '/v1/variants', { sku, product: { title: sku } })).status).toBe(201);
      expect((await viaProxy('POST', '/v1/stock/receive', { sku, warehouse: 'LBW', qty })).status).toBe(200);
      return sku;
    };

    /** serveN is started again on its port, as systemd's Restart=always does (deploy/stockroom@.service). */
    const startAgain = async (slot: 1 | 2): Promise<void> => {
      const up = proxy.waitFor(new RegExp(`Server stockroom/serve${slot} is UP`));
      servers[slot - 1] = await startServer(serverEnv(), [], ports[slot - 1]);
      // HAProxy's health check (GET /healthz) puts it back in rotation
      await up;
    };

    beforeAll(async () => {
      database = await serverDatabase('postgres');
      for (let i = 0; i < 2; i++) {
        ports.push(await freePort());
        servers.push(await startServer(serverEnv(), [], ports[i]));
      }
      proxy = await startHaproxy(HAPROXY as string, ports);
    });

    afterAll(async () => {
      await proxy.stop();
      for (const server of servers) expect(await server.stop()).toBe(0);
      await expectServerDatabaseReconciled(database);
      await database.cleanup();
    });

    it(
      'SIGKILL of one under load from 32 clients: clients see only 201, 409 and 503, no connection error; every ' +
        'acknowledged reservation is there once and nothing else; started again, it serves',
      async () => {
        const sku = await stocked(100_000);
        const load = reservationLoad({ url: proxy.url, sku, prefix: 'lb-kill-', retryConnectionErrors: false });
        let servedAgain = 0;
        try {
          await load.waitFor(() => load.acknowledged.size >= 300);
          const down = proxy.waitFor(/Server stockroom\/serve2 is DOWN/);
          await (servers[1] as ServerProcess).kill();
          const killedAt = load.acknowledged.size;
          // HAProxy takes it out (its refused connections, or the health check) and the other serves every order
          await down;
          await load.waitFor(() => load.acknowledged.size >= killedAt + 300);
          await startAgain(2);
          const before = (await proxy.server('serve2')).total;
          await expect
            .poll(async () => (servedAgain = (await proxy.server('serve2')).total - before), { timeout: 20_000 })
            .toBeGreaterThanOrEqual(100);
        } finally {
          await load.stop();
        }
        expect(load.connectionErrors).toEqual(new Map());
        expect([...load.statuses.keys()].filter((status) => ![201, 409, 503].includes(status))).toEqual([]);
        // a 503 HAProxy gave carried Retry-After: 1 (and was sent again with the same key)
        expect([...load.retryAfter].filter((value) => value !== '1')).toEqual([]);
        // the kill did cut requests: HAProxy sent some again elsewhere (`+` before the retries in its log) or
        // answered 503
        const redispatched = proxy.output().match(/ \S+\/\+\d+ \S+ "POST \/v1\/reservations /g)?.length ?? 0;
        expect(redispatched + (load.statuses.get(503) ?? 0)).toBeGreaterThan(0);
        expect(servedAgain).toBeGreaterThanOrEqual(100);
        await expectExactlyAcknowledged(database, 'lb-kill-', load.acknowledged);
      },
      90_000,
    );

    it("an availability stream is kept open by stockroom's heartbeat, which `timeout server` and `timeout client` outlast", async () => {
      // as shipped: both well above the default heartbeat
      const shipped = readFileSync(SHIPPED_CONFIG, 'utf8');
      for (const side of ['server', 'client']) {
        const seconds = Number(new RegExp(`^ *timeout ${side} (\\d+)s$`, 'm').exec(shipped)?.[1]);
        expect(seconds * 1000, `timeout ${side}`).toBeGreaterThan(DEFAULT_HEARTBEAT_MS);
      }
      // and what they are for: through a haproxy whose timeouts are 1 s, a stream quiet but for heartbeats every
      // 250 ms stays open past them (HAProxy treats it as a plain response, `timeout tunnel` does not apply)
      const sku = await stocked(5);
      const short = await startHaproxy(HAPROXY as string, ports, { server: '1s', client: '1s' });
      const stream = await openStream(`${short.url}/v1/availability/stream?sku=${sku}`);
      try {
        expect(stream.status).toBe(200);
        expect(itemOf(await stream.next())).toMatchObject({ available: 5 });
        // 8 heartbeats, 250 ms apart: 1.75 s at the least. HAProxy logs a stream it cut for a timeout ("sD", "cD")
        const cut = short.waitFor(/ [sc]D-- .*availability\/stream/).then(() => {
          throw new Error(`haproxy cut the stream:\n${short.output()}`);
        });
        cut.catch(() => undefined);
        for (let beat = 0; beat < 8; beat++) await Promise.race([stream.next((m) => m.comment !== undefined), cut]);
        const reserved = await viaProxy('POST', '/v1/reservations', {
          order_ref: 'lb-streamed',
          lines: [{ sku, qty: 2 }],
        });
        expect(reserved.status).toBe(201);
        expect(itemOf(await stream.next())).toMatchObject({ sku, available: 3 });
      } finally {
        await stream.close();
        await short.stop();
      }
    }, 30_000);

    it(
      'a request in flight on a server that dies, not safe to send again (no Idempotency-Key), is answered 503 with ' +
        'Retry-After: 1 and a problem document, as is any request while no server is up',
      async () => {
        const sku = await stocked(10);
        await proxy.command('set server stockroom/serve1 state maint');
        const victim = servers[1] as ServerProcess;
        // the first request of its connection: on a kept-alive one HAProxy 2.6 closes the connection instead of
        // answering 502 (so that a browser sends it again), which is why writes carry an Idempotency-Key
        const connection = new Client(proxy.url);
        let pending: ReturnType<typeof viaProxy> | undefined;
        try {
          // serve2 stopped: the kernel takes the connection and the request, the process reads neither
          process.kill(victim.pid, 'SIGSTOP');
          const order = { order_ref: 'lb-in-flight', lines: [{ sku, qty: 1 }] };
          pending = viaProxy('POST', '/v1/reservations', order, connection);
          await expect.poll(async () => (await proxy.server('serve2')).current, { timeout: 10_000 }).toBe(1);
          await victim.kill();
          const cut = await pending;
          // the problem document stockroom itself answers 503 with, but for its detail
          const unavailable = { ...problem('unavailable', ''), detail: expect.any(String) as string };
          expect(cut.status).toBe(503);
          expect(cut.headers['retry-after']).toBe('1');
          expect(cut.headers['content-type']).toBe('application/problem+json');
          expect(cut.json).toEqual(unavailable);
          // serve1 in maintenance, serve2 dead: HAProxy's own 503 has the same shape
          const none = await viaProxy('GET', '/v1/warehouses');
          expect([none.status, none.headers['retry-after'], none.json]).toEqual([503, '1', unavailable]);
        } finally {
          await pending?.catch(() => undefined);
          await connection.close();
          await startAgain(2);
          await proxy.command('set server stockroom/serve1 state ready');
        }
        const s = await database.open();
        try {
          const { rows } = await s.db.query("SELECT id FROM reservations WHERE order_ref = 'lb-in-flight'");
          expect(rows).toEqual([]);
        } finally {
          await s.close();
        }
      },
      30_000,
    );
  },
);

describe("HAProxy's own errors as shipped (deploy/haproxy-errors)", () => {
  it.each([502, 503, 504])(
    'its %i is a whole 503 answer: Retry-After: 1 and the problem document stockroom answers 503 with',
    (status) => {
      const raw = readFileSync(`deploy/haproxy-errors/${status}.http`, 'latin1');
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const [statusLine, ...fields] = head.split('\r\n');
      const headers = new Map(
        fields.map((field) => [field.split(':')[0]?.toLowerCase(), field.replace(/^[^:]*: */, '')]),
      );
      expect(statusLine).toBe('HTTP/1.1 503 Service Unavailable');
      expect(headers.get('retry-after')).toBe('1');
      expect(headers.get('content-type')).toBe('application/problem+json');
      expect(Number(headers.get('content-length'))).toBe(Buffer.byteLength(body, 'latin1'));
      expect(JSON.parse(body)).toEqual({ ...problem('unavailable', ''), detail: expect.any(String) as string });
    },
  );
});

describe.skipIf(!postgresUrl())('background jobs of two workers on one PostgreSQL', () => {
  it('replenishment drafts once, and each outbox event is delivered once, though both workers run both', async () => {
    const database = await serverDatabase('postgres');
    const receiver = await httpReceiver();
    receiver.answer = () => ({ status: 200 });
    let sku: string;
    const prepared = await database.open();
    try {
      // due for replenishment when the workers start: 10 on hand, reorder point 30
      await prepared.purchasing.addSupplier({ code: 'SUP-W', name: 'Supplier', lead_time_days: 2 });
      ({ sku } = await world(prepared, [10], { reorder_point: 30, reorder_qty: 50, supplier: 'SUP-W' }));
    } finally {
      await prepared.close();
    }
    const server = await startServer({
      ...database.env,
      STOCKROOM_ADMIN_KEY: ADMIN_KEY,
      STOCKROOM_WORKERS: '2',
      LOG_LEVEL: 'info',
      STOCKROOM_DELIVERY_GATHER_MS: '0',
    });
    try {
      // written by a worker once it listens: maybe before the primary's banner, which startServer waited for
      const drafted = /replenishment drafted purchase orders/;
      if (!drafted.test(server.output())) await server.waitFor(drafted);
      const pool = new Pool(server.url, { connections: 8, pipelining: 1 });
      try {
        expect(
          (
            await call(pool, 'POST', '/v1/webhooks', {
              url: `${receiver.url}/in`,
              events: ['out_of_stock'],
              secret: 'whsec-0123456789abcdef',
            })
          ).status,
        ).toBe(201);
        // 40 SKUs sold out, through both workers: 80 out_of_stock events in the outbox (the warehouse's, the SKU's)
        const skus = Array.from({ length: 40 }, (_, i) => `OUT-${i}`);
        await call(pool, 'POST', '/v1/warehouses', { code: 'OUT', name: 'Out' });
        await Promise.all(
          skus.map(async (out) => {
            await call(pool, 'POST', '/v1/variants', { sku: out, product: { title: out } });
            await call(pool, 'POST', '/v1/stock/receive', { sku: out, warehouse: 'OUT', qty: 1 });
            const sold = await call(pool, 'POST', '/v1/stock/adjust', {
              sku: out,
              warehouse: 'OUT',
              delta: -1,
              reason: 'damaged',
            });
            expect(sold.status).toBe(200);
          }),
        );
        await receiver.received(80);
      } finally {
        await pool.close();
      }
    } finally {
      // a graceful stop lets each worker finish its replenishment turn and deliveries in flight
      expect(await server.stop()).toBe(0);
    }
    const s = await database.open();
    try {
      const ids = receiver.items.map((item) => String(item.headers['x-stockroom-event-id']));
      expect(ids).toHaveLength(80);
      expect(new Set(ids).size).toBe(80);
      const { rows: deliveries } = await s.db.query<{ status: string; count: number }>(
        'SELECT status, count(*)::int AS count FROM deliveries GROUP BY status',
      );
      expect(deliveries).toEqual([{ status: 'delivered', count: 80 }]);
      const { rows: drafts } = await s.db.query<{ lines: number }>(
        `SELECT (SELECT count(*)::int FROM purchase_order_lines pl WHERE pl.purchase_order_id = po.id) AS lines
           FROM purchase_orders po WHERE po.origin = 'replenishment'`,
      );
      expect(drafts).toEqual([{ lines: 1 }]);
      expect((await s.stock.get(sku)).total).toMatchObject({ on_hand: 10 });
      expect((await s.reconcile()).clean).toBe(true);
    } finally {
      await s.close();
      await receiver.close();
      await database.cleanup();
    }
  }, 60_000);

  it('a worker that cannot start (the schema is behind) ends the command with its reason, not a restart loop', async () => {
    const { url, drop } = await createPostgresDatabase();
    try {
      const failed = await startServer({ DATABASE_URL: url, STOCKROOM_WORKERS: '2' }).then(
        () => undefined,
        (error: unknown) => String(error),
      );
      expect(failed).toMatch(/server exited with 3 before listening/);
      expect(failed).toMatch(/the database needs migrations .*: run `stockroom migrate` first/);
      expect(failed).toMatch(/worker \d \(pid \d+\) exited with code 3 before serving/);
    } finally {
      await drop();
    }
  });
});

describe('stockroom serve --workers on the embedded database', () => {
  it('is refused with the reason before the database is opened', async () => {
    const env = { STOCKROOM_DATA: `/nonexistent-${randomUUID()}/data` };
    const refused = await cli(env, 'serve', '--workers', '2', '--port', '0');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/\/options\/workers: the embedded database serves one process/);
    const fromEnv = await cli({ ...env, STOCKROOM_WORKERS: '4' }, 'serve', '--port', '0');
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toMatch(/\/env\/STOCKROOM_WORKERS: the embedded database serves one process/);
  });
});
