import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { stockroomSources } from '../src/http/engine-metrics.js';
import { DeliveryWorker } from '../src/infra/delivery-worker.js';
import { createMetrics } from '../src/infra/metrics.js';
import { AvailabilityFeed } from '../src/services/availability-feed.js';
import { DEFAULT_GROUP_COMMIT } from '../src/services/group-commit.js';
import { Stockroom } from '../src/services/stockroom.js';
import { drivers } from './support/databases.js';
import { uniq, useStockroom, world } from './support/harness.js';
import { adminCall, apiCall, useServer } from './support/served.js';
import { openStream } from './support/sse.js';

/** The pooled connections the PostgreSQL suite opens: few, so the test can hold every one of them. */
const POOL_MAX = 3;
/** How long a scrape waits for its database read here: short, as the test holds the database on purpose. */
const READ_TIMEOUT_MS = 300;

/** One sample of a scrape, by its series (`name` or `name{label="value",...}` as Prometheus prints it). */
type Scrape = Map<string, number>;

/** The samples of a Prometheus text exposition, by series. */
function samples(text: string): Scrape {
  const scrape: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    scrape.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return scrape;
}

/** A series' value; a series the scrape does not hold is a failure, not a zero. */
function valueOf(scrape: Scrape, series: string): number {
  const value = scrape.get(series);
  if (value === undefined) throw new Error(`the scrape has no ${series}`);
  return value;
}

/** promtool from Debian's prometheus package: required under CI, the check skipped without it elsewhere. */
function promtool(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (process.env.CI) throw new Error('CI: no promtool on the PATH (Debian package prometheus)');
  return undefined;
}

describe.each(drivers())('the operator metrics of /metrics on %s', (driver) => {
  const h = useStockroom(driver, { max: POOL_MAX });
  // a Stockroom of its own over the same database, one group in flight at a time (as on PGlite), so that calls
  // queue for a group whichever the driver
  let stockroom: Stockroom;
  let app: FastifyInstance;
  let url = '';
  // a second server whose /metrics needs a key, and a key it has not seen yet (so not cached)
  let keyed: FastifyInstance;
  let keyedUrl = '';
  let metricsKey = '';
  beforeAll(async () => {
    stockroom = new Stockroom({
      db: h.test.db,
      clock: h.clock.now,
      groupCommit: { ...DEFAULT_GROUP_COMMIT, maxInFlight: 1 },
    });
    const metrics = createMetrics({ ...stockroomSources(stockroom), workStatusTimeoutMs: READ_TIMEOUT_MS });
    app = await buildServer({
      stockroom,
      metrics,
      metricsPublic: true,
      storefront: { feed: new AvailabilityFeed(stockroom.availability), heartbeatMs: 1000 },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    keyed = await buildServer({
      stockroom,
      metrics: createMetrics({ ...stockroomSources(stockroom), workStatusTimeoutMs: READ_TIMEOUT_MS }),
    });
    await keyed.listen({ port: 0, host: '127.0.0.1' });
    keyedUrl = `http://127.0.0.1:${(keyed.server.address() as AddressInfo).port}`;
    metricsKey = (await stockroom.keys.create({ name: 'prometheus', scopes: ['metrics'] })).key;
  });
  afterAll(async () => {
    await app.close();
    await keyed.close();
  });
  const keyedScrape = () => fetch(`${keyedUrl}/metrics`, { headers: { authorization: `Bearer ${metricsKey}` } });
  const text = async (): Promise<string> => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const scrape = async (): Promise<Scrape> => samples(await text());
  /** scrapes until `done` holds (a change another part of the server makes on its own time) */
  const scrapeUntil = async (done: (scrape: Scrape) => boolean): Promise<Scrape> => {
    for (let tries = 0; tries < 200; tries++) {
      const now = await scrape();
      if (done(now)) return now;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the metric never moved');
  };
  const reserved = (outcome: string) => (s: Scrape) =>
    s.get(`stockroom_reservation_duration_seconds_count{outcome="${outcome}"}`) ?? 0;

  it('times every reservation from the call to its group commit answering, by outcome', async () => {
    const { sku } = await world(stockroom, [3]);
    const before = await scrape();
    await stockroom.reservations.reserve({ order_ref: uniq('timed'), lines: [{ sku, qty: 2 }] });
    await expect(
      stockroom.reservations.reserve({ order_ref: uniq('short'), lines: [{ sku, qty: 2 }] }),
    ).rejects.toMatchObject({ code: 'insufficient_stock' });
    const after = await scrape();
    expect(reserved('ok')(after) - reserved('ok')(before)).toBe(1);
    expect(reserved('insufficient_stock')(after) - reserved('insufficient_stock')(before)).toBe(1);
    const sum = (s: Scrape) => s.get('stockroom_reservation_duration_seconds_sum{outcome="ok"}') ?? 0;
    expect(sum(after)).toBeGreaterThan(sum(before));
  });

  it('shows calls queued for a group commit and connections in use and waiting while the database is held, and still answers', async () => {
    const { sku } = await world(stockroom, [10]);
    const before = await scrape();
    // hold every connection: one transaction each, kept open until the test lets go
    let letGo = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const holds = driver === 'pglite' ? 1 : POOL_MAX;
    const entered: Promise<void>[] = [];
    const held = Array.from({ length: holds }, () => {
      let enter = (): void => undefined;
      entered.push(new Promise<void>((resolve) => (enter = resolve)));
      return h.test.db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        enter();
        await gate;
      });
    });
    await Promise.all(entered);
    try {
      const first = stockroom.reservations.reserve({ order_ref: uniq('q'), lines: [{ sku, qty: 1 }] });
      // the first call's group is taken (and waits for a connection) before the next ones come
      await scrapeUntil((s) => valueOf(s, 'stockroom_group_commit_queue_depth{queue="reserve"}') === 0);
      const more = [1, 2].map(() => stockroom.reservations.reserve({ order_ref: uniq('q'), lines: [{ sku, qty: 1 }] }));
      const busy = await scrape();
      expect(valueOf(busy, 'stockroom_group_commit_queue_depth{queue="reserve"}')).toBe(2);
      expect(valueOf(busy, 'stockroom_database_pool_in_use')).toBe(valueOf(busy, 'stockroom_database_pool_max'));
      expect(valueOf(busy, 'stockroom_database_pool_max')).toBe(holds);
      // the first group's transaction at least (and any earlier scrape's read)
      expect(valueOf(busy, 'stockroom_database_pool_waiting')).toBeGreaterThanOrEqual(1);
      // the database could not answer: /metrics did not wait for it, and says so
      expect(valueOf(busy, 'stockroom_work_status_up')).toBe(0);
      expect(valueOf(busy, 'stockroom_sweeper_lag_seconds')).toBeNaN();
      // with a key to check and no database to check it in: 503 with Retry-After, not a scrape that hangs
      const unchecked = await keyedScrape();
      expect({ status: unchecked.status, retryAfter: unchecked.headers.get('retry-after') }).toEqual({
        status: 503,
        retryAfter: '1',
      });
      expect(await unchecked.json()).toMatchObject({ code: 'unavailable' });
      letGo();
      await Promise.all([...held, first, ...more]);
    } finally {
      letGo();
    }
    const after = await scrapeUntil((s) => valueOf(s, 'stockroom_database_pool_waiting') === 0);
    expect(valueOf(after, 'stockroom_group_commit_queue_depth{queue="reserve"}')).toBe(0);
    expect(valueOf(after, 'stockroom_work_status_up')).toBe(1);
    expect(reserved('ok')(after) - reserved('ok')(before)).toBe(3);
    expect((await keyedScrape()).status).toBe(200);
  });

  it('shows how long the oldest overdue hold has waited for the sweeper, until it is expired', async () => {
    const { sku } = await world(stockroom, [2]);
    expect(valueOf(await scrape(), 'stockroom_sweeper_lag_seconds')).toBe(0);
    await stockroom.reservations.reserve({ order_ref: uniq('late'), lines: [{ sku, qty: 1 }], ttl_seconds: 60 });
    h.clock.advance(90);
    expect(valueOf(await scrape(), 'stockroom_sweeper_lag_seconds')).toBeCloseTo(30, 3);
    await stockroom.reservations.expireDue();
    expect(valueOf(await scrape(), 'stockroom_sweeper_lag_seconds')).toBe(0);
  });

  it('counts outbox rows not yet dispatched and deliveries pending, as events are written and dispatched', async () => {
    const { sku, wh } = await world(stockroom, [0]);
    // nothing listens on port 9 of loopback: the delivery fails and stays pending for a later try
    const hook = await stockroom.channels.addWebhook({
      url: 'http://127.0.0.1:9/hook',
      events: ['stock.changed'],
      secret: 'whsec-metrics-0123456789',
    });
    try {
      const before = await scrape();
      await stockroom.stock.receive({ sku, warehouse: wh[0]!, qty: 4 });
      const written = await scrape();
      expect(valueOf(written, 'stockroom_outbox_undispatched') - valueOf(before, 'stockroom_outbox_undispatched')).toBe(
        1,
      );
      await new DeliveryWorker(h.test.db, { timeoutMs: 2000, backoffMs: 60_000 }).deliverDue();
      const dispatched = await scrape();
      expect(valueOf(dispatched, 'stockroom_outbox_undispatched')).toBe(0);
      expect(
        valueOf(dispatched, 'stockroom_deliveries{status="pending"}') -
          valueOf(before, 'stockroom_deliveries{status="pending"}'),
      ).toBe(1);
    } finally {
      await stockroom.channels.remove(hook.id);
    }
  });

  it('shows when replenishment last ran', async () => {
    const since = Math.floor(Date.now() / 1000);
    await stockroom.replenishment.replenish();
    const ran = valueOf(await scrape(), 'stockroom_replenishment_last_run_timestamp_seconds');
    // the database's clock, which is this machine's
    expect(ran).toBeGreaterThanOrEqual(since - 1);
    expect(ran).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  it('counts open availability streams as they open and close', async () => {
    const { sku } = await world(stockroom, [1]);
    const open = (s: Scrape) => valueOf(s, 'stockroom_availability_streams_open');
    const before = open(await scrape());
    const stream = await openStream(`${url}/v1/availability/stream?sku=${sku}`);
    try {
      expect(stream.status).toBe(200);
      expect(open(await scrape())).toBe(before + 1);
    } finally {
      await stream.close();
    }
    await scrapeUntil((s) => open(s) === before);
  });

  it('passes promtool check metrics on a scrape taken after that load', async (context) => {
    const tool = promtool();
    if (!tool) {
      context.skip();
      return;
    }
    const exposition = await text();
    const checked = spawnSync(tool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect({ status: checked.status, output: `${checked.stdout}${checked.stderr}` }).toEqual({
      status: 0,
      output: '',
    });
    // the scrape held what the load made: a histogram with observations, not only empty series
    expect(reserved('ok')(samples(exposition))).toBeGreaterThan(0);
  });
});

describe('the /metrics of a real stockroom serve process, after a load', () => {
  const ctx = useServer('pglite', { STOCKROOM_METRICS_PUBLIC: '1' });

  it('passes promtool check metrics, with every series serve adds (cache, delivery, sweeper) in it', async (context) => {
    const tool = promtool();
    if (!tool) {
      context.skip();
      return;
    }
    await adminCall(ctx.server, 'POST', '/v1/warehouses', { code: 'LOAD', name: 'Load' });
    await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'LOAD-1', product: { title: 'loaded' } });
    await adminCall(ctx.server, 'POST', '/v1/stock/receive', { sku: 'LOAD-1', warehouse: 'LOAD', qty: 50 });
    // reservations arriving together (some refused), storefront reads (cache misses, then hits), a stream
    const orders = Array.from({ length: 30 }, (_, i) =>
      apiCall(ctx.server, 'POST', '/v1/reservations', {
        body: { order_ref: `load-${i}`, lines: [{ sku: 'LOAD-1', qty: 2 }] },
      }),
    );
    const statuses = (await Promise.all(orders)).map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(25);
    for (let i = 0; i < 5; i++) await apiCall(ctx.server, 'GET', '/v1/availability?sku=LOAD-1', { key: null });
    const stream = await openStream(`${ctx.server.url}/v1/availability/stream?sku=LOAD-1`);
    try {
      const exposition = await (await fetch(`${ctx.server.url}/metrics`)).text();
      const checked = spawnSync(tool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
      expect({ status: checked.status, output: `${checked.stdout}${checked.stderr}` }).toEqual({
        status: 0,
        output: '',
      });
      const scrape = samples(exposition);
      expect(valueOf(scrape, 'stockroom_reservation_duration_seconds_count{outcome="ok"}')).toBe(25);
      expect(valueOf(scrape, 'stockroom_reservation_duration_seconds_count{outcome="insufficient_stock"}')).toBe(5);
      expect(valueOf(scrape, 'stockroom_availability_cache_hits_total')).toBeGreaterThan(0);
      expect(valueOf(scrape, 'stockroom_availability_streams_open')).toBe(1);
      expect(valueOf(scrape, 'stockroom_work_status_up')).toBe(1);
      expect(scrape.has('stockroom_sweeper_runs_total{result="ok"}')).toBe(true);
    } finally {
      await stream.close();
    }
  });
});
