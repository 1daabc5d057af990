import type { FastifyServerOptions } from 'fastify';
import { ListenError } from '../domain/errors.js';
import { withoutMarkers } from '../domain/stock-change.js';
import { buildServer } from '../http/server.js';
import type { ConnectionLimits } from '../http/server.js';
import type { ImportLimits } from '../http/routes/stock.js';
import { DEFAULT_PUBLIC_RATE_LIMIT } from '../http/limits.js';
import type { PublicRateLimit } from '../http/rate-limits.js';
import { DeliveryWorker } from '../infra/delivery-worker.js';
import type { DeliveryOptions } from '../infra/delivery-worker.js';
import { MemoryCache } from '../infra/memory-cache.js';
import { runEvery } from '../infra/periodic.js';
import { RedisCache } from '../infra/redis-cache.js';
import { RedisConnection } from '../infra/redis-connection.js';
import { createMetrics } from '../infra/metrics.js';
import { stockroomSources } from '../http/engine-metrics.js';
import { StockChanges } from '../infra/stock-changes.js';
import type { AvailabilityItem } from '../services/availability.js';
import { DEFAULT_IDEMPOTENCY_RETENTION_HOURS } from '../services/idempotency.js';
import { AvailabilityFeed } from '../services/availability-feed.js';
import type { Stockroom } from '../services/stockroom.js';
import { isUnavailable } from '../store/db.js';
import {
  WORKER_HEADER,
  announceListening,
  assertCanListen,
  clusterMetricsRegistry,
  leaveCluster,
  serveRole,
  superviseWorkers,
  workerCount,
} from './cluster.js';
import { withStockroom } from './context.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, DEFAULT_STATISTICS_EVERY_MS } from './serve-limits.js';
import type { Io } from './io.js';

/** How `stockroom serve` runs: where it listens and how its background work and limits are set. */
export interface ServeOptions {
  port: number;
  host: string;
  /** how often the sweeper releases expired reservations */
  sweepEveryMs: number;
  /** how long storefront availability is cached (0: not at all); changes empty it at once */
  cacheTtlSeconds: number;
  /** REDIS_URL: the availability cache lives there, shared by every server process */
  redisUrl?: string | undefined;
  /** how often an idle availability stream gets a heartbeat */
  heartbeatMs?: number | undefined;
  logger: FastifyServerOptions['logger'];
  /** STOCKROOM_ADMIN_KEY: an admin key with this value is made to exist */
  adminKey?: string | undefined;
  /** how often the replenishment job drafts purchase orders (0: never by itself) */
  replenishEveryHours?: number | undefined;
  /** how long idempotency keys are remembered before the server forgets them (0: for ever) */
  idempotencyRetentionHours?: number | undefined;
  /** how often the tables grown to twice their measured size are analyzed (0: never; see refreshStatistics) */
  statisticsEveryMs?: number | undefined;
  /** STOCKROOM_METRICS_PUBLIC: /metrics answers without a key */
  metricsPublic?: boolean | undefined;
  /** STOCKROOM_METRICS_READ_TIMEOUT_MS: how long a scrape waits for its database read */
  metricsReadTimeoutMs?: number | undefined;
  /** how alerts reach their channels: tries, backoff, timeout */
  delivery?: DeliveryOptions | undefined;
  /** what a slow or greedy client may hold: timeouts, connections, open streams, CSV imports */
  limits?: ServeLimits | undefined;
  /** how long a shutdown waits for requests in flight before it closes their connections */
  shutdownGraceMs?: number | undefined;
  /** the demo storefront's checkout key (`stockroom demo` makes one), written into that page */
  storefrontCheckoutKey?: string | undefined;
  /** how the order of the stock list's number sorts is brought up to date on read (changed SKUs listed, wait) */
  stockOrder?: { maxSkus?: number | undefined; waitMs?: number | undefined } | undefined;
  /** printed once listening, with the address filled in */
  banner?: (url: string) => string;
  /**
   * this process is worker `slot` of `stockroom serve --workers N`: it names itself in a response header on every
   * answer and tells the primary it listens (the primary prints the one banner)
   */
  workerSlot?: number | undefined;
}

/** How often a server forgets the idempotency keys past their retention. */
const FORGET_KEYS_EVERY_MS = 600_000;

/** What a slow or greedy client may hold: connections, CSV imports, availability streams. */
export interface ServeLimits {
  connections?: ConnectionLimits | undefined;
  imports?: ImportLimits | undefined;
  /** open availability streams in all, and from one client address */
  streams?: { max?: number | undefined; perClient?: number | undefined } | undefined;
  /** the reverse proxies whose X-Forwarded-For names the client (STOCKROOM_TRUST_PROXY) */
  trustProxy?: readonly string[] | undefined;
  /** requests per window one client address may send to the public storefront routes */
  publicRate?: PublicRateLimit | undefined;
}

type Cache = MemoryCache<AvailabilityItem> | RedisCache<AvailabilityItem>;

/** The storefront cache: shared in Redis with REDIS_URL, else in this process; none with a TTL of 0. */
async function availabilityCache(options: ServeOptions): Promise<Cache | undefined> {
  if (options.cacheTtlSeconds <= 0) return undefined;
  const ttlMs = options.cacheTtlSeconds * 1000;
  return options.redisUrl
    ? RedisCache.connect<AvailabilityItem>(options.redisUrl, ttlMs)
    : new MemoryCache<AvailabilityItem>(ttlMs);
}

/**
 * Serves the API until SIGTERM or SIGINT, then shuts down gracefully: stops accepting, lets in-flight requests
 * and a running sweep finish, and returns so the caller can close the database.
 */
export async function serveUntilStopped(stockroom: Stockroom, options: ServeOptions, io: Io): Promise<void> {
  if (options.adminKey) await stockroom.keys.ensure(options.adminKey, 'STOCKROOM_ADMIN_KEY', ['admin']);
  // what is opened before the server listens is closed again if a step up to the listen fails: a connection left
  // open (a Redis client reconnecting, a LISTEN) would keep the process from ending
  const opened: (() => Promise<unknown>)[] = [];
  const abandon = async (error: unknown): Promise<never> => {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  };
  // the storefront cache and live streams follow the database's announcements of committed changes, from any
  // process; a change is dropped from the cache before the streams read it again, so they read fresh numbers
  const changes = await StockChanges.follow(stockroom.db);
  opened.push(() => changes.close());
  const cache = await availabilityCache(options).catch(abandon);
  opened.push(async () => {
    stockroom.availability.useCache(undefined);
    await cache?.close();
  });
  const { connections, imports, streams, trustProxy, publicRate } = options.limits ?? {};
  // the public rate limit's counts, shared by every server process when there is a Redis to share them in
  const rateCounts =
    options.redisUrl && (publicRate ?? DEFAULT_PUBLIC_RATE_LIMIT).max > 0
      ? await RedisConnection.open(options.redisUrl, {
          name: 'the public rate limit',
          meanwhile: 'the public routes are served without it',
        }).catch(abandon)
      : undefined;
  opened.push(async () => rateCounts?.close());
  stockroom.availability.useCache(cache);
  const feed = new AvailabilityFeed(stockroom.availability);
  const delivery = new DeliveryWorker(stockroom.db, options.delivery);
  const metrics = createMetrics({
    ...stockroomSources(stockroom),
    deliveries: () => delivery.counts,
    ...(options.metricsReadTimeoutMs === undefined ? {} : { workStatusTimeoutMs: options.metricsReadTimeoutMs }),
    ...(cache ? { availabilityCache: () => cache.stats } : {}),
  });
  const app = await buildServer({
    stockroom,
    logger: options.logger,
    // a worker's scrape shows every worker's figures, summed by the primary
    metrics:
      options.workerSlot === undefined ? metrics : { ...metrics, registry: clusterMetricsRegistry(metrics.registry) },
    metricsPublic: options.metricsPublic,
    storefront: {
      feed,
      heartbeatMs: options.heartbeatMs,
      maxStreams: streams?.max,
      maxStreamsPerClient: streams?.perClient,
      rateLimit: publicRate,
      rateCounts: rateCounts?.redis,
    },
    ...(connections ? { connections } : {}),
    ...(imports ? { imports } : {}),
    web: { storefrontCheckoutKey: options.storefrontCheckoutKey },
    trustProxy,
  }).catch(abandon);
  opened.push(() => app.close());
  if (options.workerSlot !== undefined) {
    const worker = `${options.workerSlot}; pid=${process.pid}`;
    // on the raw server, before Fastify's own handler: every answer carries it, a 404 or a stream's too
    app.server.prependListener('request', (_request, response) => {
      response.setHeader(WORKER_HEADER, worker);
    });
  }
  // before listening nothing is cached or watched yet, so no change can be missed by subscribing here
  await stockroom.kits.registry.load().catch(abandon);
  changes.subscribe((announced) => {
    // the stock list's markers (its reads waiting to hear every change before them) are no SKU to drop or stream
    const heard = withoutMarkers(announced);
    if (heard === undefined) return;
    // a kit's availability is its components': their change is the kit's too
    const change = stockroom.kits.registry.withKitsOf(heard);
    void Promise.resolve(cache?.invalidate(change))
      .catch((err: unknown) => {
        app.log.warn({ err }, 'could not drop changed SKUs from the availability cache');
      })
      .then(() => {
        feed.onChange(change);
      });
  });

  // the order of the stock list's number sorts is brought up to date when a page sorted by a number is read, for
  // the SKUs this process heard changed (and every level once at start, below: what changed before it listened)
  const stockOrder = stockroom.stockList.follow({
    ...options.stockOrder,
    onError: (err) => {
      app.log.warn({ err }, 'could not bring the order of the stock list up to date; the page is read as it stands');
    },
    onRefreshed: (refresh) => {
      app.log.debug(refresh, 'stock list order refreshed');
    },
  });
  opened.push(() => stockroom.stockList.unfollow());
  changes.subscribe((change) => {
    stockOrder.onChange(change);
  });

  // listen before any background work starts: a port that cannot be had (in use, not permitted) ends the
  // command at once with the reason, instead of leaving the workers running on a database about to be closed
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    return abandon(new ListenError(options.host, options.port, error));
  }

  // alerts and other outbox events leave from every server process; the database hands each to one of them
  delivery.logTo(app.log);
  rateCounts?.logTo(app.log);
  if (cache instanceof RedisCache) cache.logTo(app.log);
  // a replica skipped (lagging, unreachable, promoted, unreadable) or used again is said once, when it changes
  stockroom.replicas?.logTo(app.log);
  // with several hosts in DATABASE_URL: the primary lost, and found again (on which host), each said once
  stockroom.db.logTo?.(app.log);
  await delivery.start();

  // what changed before this process listened is not known: every level is compared now (about a second at a
  // million), in the background, not when an operator first opens a page sorted by a number
  void stockOrder.refresh().catch((err: unknown) => {
    app.log.warn(
      { err },
      'could not bring the order of the stock list up to date at start; the first sorted read does',
    );
  });

  // the replenishment job: every process looks each hour (and at start) whether a run is due; the database lets
  // one of them run it, and a restart does not run it again early
  const replenishEveryMs = (options.replenishEveryHours ?? 24) * 3_600_000;
  const replenisher = runEvery({
    everyMs: Math.min(replenishEveryMs, 3_600_000),
    atStart: true,
    backoff: false,
    run: () => stockroom.replenishment.replenishIfDue(replenishEveryMs),
    succeeded: (run) => {
      if (run && run.orders.length > 0)
        app.log.info(
          { orders: run.orders.map((order) => order.id), skipped: run.skipped.length },
          'replenishment drafted purchase orders',
        );
    },
    failed: (err) => {
      if (isUnavailable(err))
        app.log.warn({ err }, 'replenishment could not reach the database; it is tried again within the hour');
      else app.log.error({ err }, 'replenishment failed; it is tried again within the hour');
    },
  });

  // idempotency keys past their retention: every process looks every ten minutes (and at start); SKIP LOCKED lets
  // any number of them share the work, and a pass through a backlog stops at a shutdown after the batch it is in
  const keyRetentionMs = (options.idempotencyRetentionHours ?? DEFAULT_IDEMPOTENCY_RETENTION_HOURS) * 3_600_000;
  const keyForgetter = runEvery({
    everyMs: keyRetentionMs > 0 ? FORGET_KEYS_EVERY_MS : 0,
    atStart: true,
    backoff: false,
    run: (signal) => stockroom.forgetIdempotencyKeys(keyRetentionMs, { signal }),
    succeeded: (forgotten) => {
      if (forgotten > 0) app.log.info({ forgotten }, 'forgot idempotency keys past their retention');
    },
    failed: (err) => {
      if (isUnavailable(err))
        app.log.warn({ err }, 'could not reach the database to forget old idempotency keys; tried again later');
      else app.log.error({ err }, 'forgetting old idempotency keys failed; tried again later');
    },
  });

  // the planner's statistics of tables that doubled since last measured: every process looks every ten seconds
  // (and at start: tables may have grown while no server ran); the database lets one of them analyze at a time
  const analyzer = runEvery({
    everyMs: options.statisticsEveryMs ?? DEFAULT_STATISTICS_EVERY_MS,
    atStart: true,
    backoff: true,
    run: () => stockroom.refreshStatistics(),
    succeeded: (tables) => {
      if (tables.length > 0) app.log.info({ tables }, 'analyzed tables grown to twice their measured size');
    },
    failed: (err) => {
      if (isUnavailable(err))
        app.log.warn({ err }, 'could not reach the database to refresh its statistics; tried again later');
      else app.log.error({ err }, 'refreshing the statistics of grown tables failed; tried again later');
    },
  });

  // the sweeper: its first turn one interval after start; through an outage it backs off, a few warnings rather
  // than a failure and a log line every tick
  const sweeper = runEvery({
    everyMs: options.sweepEveryMs,
    atStart: false,
    backoff: true,
    run: () => stockroom.reservations.expireDue(),
    succeeded: (expired) => {
      metrics.sweeps.inc({ result: 'ok' });
      metrics.expired.inc(expired);
      if (expired > 0) app.log.info({ expired }, 'sweeper released expired reservations');
    },
    failed: (err) => {
      metrics.sweeps.inc({ result: 'error' });
      if (isUnavailable(err))
        app.log.warn({ err }, 'sweeper could not reach the database; it backs off and tries again');
      else app.log.error({ err }, 'sweeper failed');
    },
  });
  const jobs = [sweeper, replenisher, keyForgetter, analyzer];

  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      // Ctrl-C reaches every process of the terminal's group, and the primary of a cluster sends SIGTERM as well
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down');
      for (const job of jobs) job.stop();
      // a client that keeps a request half-sent (a byte now and then) would hold the server open for ever: after
      // the grace period every connection still open is closed
      const grace = setTimeout(() => {
        app.log.warn('connections still open after the shutdown grace period are closed');
        app.server.closeAllConnections();
      }, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      // every step runs even if one before it failed: a shutdown that stops half way leaves the process hanging
      const steps: [string, () => Promise<unknown>][] = [
        [
          'http server',
          () =>
            app.close().finally(() => {
              clearTimeout(grace);
            }),
        ],
        ['sweeper', () => sweeper.idle()],
        ['replenishment', () => replenisher.idle()],
        ['idempotency keys', () => keyForgetter.idle()],
        ['statistics', () => analyzer.idle()],
        ['delivery worker', () => delivery.stop()],
        ['stock list order', () => stockroom.stockList.unfollow()],
        ['change follower', () => changes.close()],
        [
          'availability cache',
          async () => {
            stockroom.availability.useCache(undefined);
            await cache?.close();
          },
        ],
        ['public rate limit counts', async () => rateCounts?.close()],
      ];
      for (const [name, step] of steps) {
        await step().catch((err: unknown) => {
          app.log.warn({ err }, `${name} did not stop cleanly`);
        });
      }
      resolve();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
  if (options.workerSlot !== undefined) announceListening(address);
  else io.out(options.banner ? options.banner(address) : `stockroom listening on ${address}`);
  await stopped;
}

/** How `stockroom serve` spreads over processes: `--workers`, and how a dead worker is started again. */
export interface WorkerSettings {
  /** --workers, when given */
  workers?: number | undefined;
  /** STOCKROOM_WORKER_RESTART_MS: the first wait before a dead worker is started again */
  restartBackoffMs: number;
  /** STOCKROOM_WORKER_RESTART_MAX_MS: the longest such wait */
  restartBackoffCapMs: number;
}

/**
 * `stockroom serve`: one process that serves, or (with more than one worker) the primary that runs the workers,
 * or one of those workers. Returns the exit code.
 */
export async function serveProcesses(
  env: NodeJS.ProcessEnv,
  options: ServeOptions,
  settings: WorkerSettings,
  io: Io,
): Promise<number> {
  const role = serveRole(workerCount(env, settings.workers));
  if (role.role === 'primary') {
    await assertCanListen(options.host, options.port);
    return superviseWorkers(
      {
        workers: role.workers,
        restartBackoffMs: settings.restartBackoffMs,
        restartBackoffCapMs: settings.restartBackoffCapMs,
        shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
        banner: (url, workers) => `stockroom listening on ${url} (${workers} workers)`,
      },
      io,
    );
  }
  if (role.role === 'single') {
    await withStockroom(env, (stockroom) => serveUntilStopped(stockroom, options, io), { replicas: true });
    return 0;
  }
  try {
    await withStockroom(env, (stockroom) => serveUntilStopped(stockroom, { ...options, workerSlot: role.slot }, io), {
      replicas: true,
    });
    return 0;
  } finally {
    leaveCluster();
  }
}
