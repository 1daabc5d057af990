import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolUsage } from '../store/db.js';
import type { ReplicaStats } from '../store/replicas.js';
import type { WorkStatus } from '../store/work-status.js';

/** The process's Prometheus metrics, in a registry of its own (tests build many servers in one process). */
export interface Metrics {
  registry: Registry;
  /** every API call by route and outcome: 'ok' or the problem code (reservations by outcome, stock operations) */
  requests: Counter<'method' | 'route' | 'outcome'>;
  latency: Histogram<'method' | 'route'>;
  sweeps: Counter<'result'>;
  expired: Counter;
  /** open availability streams, set by the storefront routes as streams open and close */
  streams: Gauge;
  /** how long a scrape waits for the database (its work status read; the server bounds its key check by it too) */
  readTimeoutMs: number;
  /** stops what the metrics watch (the reservation latency), when their server closes */
  stop: () => void;
}

/** Numbers kept elsewhere that only grow, read when metrics are scraped. */
export interface MetricSources {
  /** reservations group commit: transactions and the reservations in them */
  groupCommit?: () => { groups: number; jobs: number };
  /** the storefront cache: SKUs answered from it and SKUs read from the database */
  availabilityCache?: () => { hits: number; misses: number };
  /** alert delivery: tries that got through, failed and will be retried, failed for the last time */
  deliveries?: () => { delivered: number; failed: number; dead: number };
  /**
   * what the background work has left (overdue holds, outbox rows, deliveries) and when replenishment last ran,
   * across all processes: one read of the database per scrape, given up after `workStatusTimeoutMs`
   */
  workStatus?: () => Promise<WorkStatus>;
  /** how long a scrape waits for workStatus before it shows its gauges as NaN (default 1000 ms) */
  workStatusTimeoutMs?: number;
  /** the reservation service's watch: each reservation's seconds from the call to its group's answer */
  reserveLatency?: (watcher: (seconds: number, outcome: string) => void) => () => void;
  /** calls waiting for a group commit to take them, by kind, now */
  groupCommitQueues?: () => Record<string, number>;
  /** the database's connections now, where its driver can tell */
  pool?: () => PoolUsage | undefined;
  /** the read replicas: each one's lag and whether reads go to it, and the stale-safe reads each pool served */
  replicas?: () => ReplicaStats | undefined;
}

/** How long a scrape waits for the database's part unless told: a slow database must not hang /metrics. */
export const DEFAULT_WORK_STATUS_TIMEOUT_MS = 1000;

/**
 * prom-client's gauges of all active handles, requests and resources end in `_total`, which Prometheus keeps for
 * counters (`promtool check metrics` refuses them). The same gauges by `type` stay: their sum is the total.
 */
const MISNAMED_DEFAULT_GAUGES = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

/** A counter that shows a total kept elsewhere, read at each scrape. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let shown = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      this.inc(now - shown);
      shown = now;
    },
  });
}

/** Counters, by name, that show the totals one source keeps: each with its help text and which total it is. */
function mirrorTotals<Totals>(
  registry: Registry,
  source: (() => Totals) | undefined,
  counters: Record<string, [help: string, total: (totals: Totals) => number]>,
): void {
  if (!source) return;
  for (const [name, [help, total]] of Object.entries(counters)) {
    mirroredCounter(registry, name, help, () => total(source()));
  }
}

/** The registry GET /metrics shows: process defaults plus stockroom's own counters. */
export function createMetrics(sources: MetricSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stockroom_' });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`stockroom_nodejs_${name}`);
  mirrorTotals(registry, sources.groupCommit, {
    stockroom_reserve_groups_total: ['Transactions the reservation group commit ran', (totals) => totals.groups],
    stockroom_reserve_grouped_total: [
      'Reservations run in those transactions (divided by groups: the mean group size)',
      (totals) => totals.jobs,
    ],
  });
  mirrorTotals(registry, sources.availabilityCache, {
    stockroom_availability_cache_hits_total: ['Storefront SKUs answered from the cache', (totals) => totals.hits],
    stockroom_availability_cache_misses_total: ['Storefront SKUs read from the database', (totals) => totals.misses],
  });
  mirrorTotals(registry, sources.deliveries, {
    stockroom_deliveries_delivered_total: ['Alert deliveries that got through', (totals) => totals.delivered],
    stockroom_deliveries_failed_total: [
      'Alert delivery tries that failed and will be tried again',
      (totals) => totals.failed,
    ],
    stockroom_deliveries_dead_total: ['Alert deliveries given up on (dead letters)', (totals) => totals.dead],
  });
  // the engine's gauges first: collected in this order, the pool is read before the scrape's own query joins it
  engineGauges(registry, sources);
  if (sources.replicas) replicaMetrics(registry, sources.replicas);
  if (sources.workStatus) workStatusGauges(registry, sources.workStatus, sources.workStatusTimeoutMs);
  const reserveLatency = new Histogram({
    name: 'stockroom_reservation_duration_seconds',
    help: 'Reservations from the call entering the engine to its group commit answering (queueing included), by outcome (ok or the problem code)',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const stopWatching = sources.reserveLatency?.((seconds, outcome) => {
    reserveLatency.observe({ outcome }, seconds);
  });
  return {
    registry,
    requests: new Counter({
      name: 'stockroom_requests_total',
      help: 'API requests by route and outcome (ok, or the problem code such as insufficient_stock)',
      labelNames: ['method', 'route', 'outcome'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'stockroom_request_duration_seconds',
      help: 'API request latency',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sweeps: new Counter({
      name: 'stockroom_sweeper_runs_total',
      help: 'Sweeper runs by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    expired: new Counter({
      name: 'stockroom_reservations_expired_total',
      help: 'Reservations released by the sweeper',
      registers: [registry],
    }),
    streams: new Gauge({
      name: 'stockroom_availability_streams_open',
      help: 'Availability streams (Server-Sent Events) open now',
      registers: [registry],
    }),
    readTimeoutMs: sources.workStatusTimeoutMs ?? DEFAULT_WORK_STATUS_TIMEOUT_MS,
    stop: () => {
      stopWatching?.();
    },
  };
}

/** Gauges read from the engine's memory at each scrape: group-commit queues and database connections. */
function engineGauges(registry: Registry, sources: MetricSources): void {
  const { groupCommitQueues, pool } = sources;
  if (groupCommitQueues) {
    new Gauge({
      name: 'stockroom_group_commit_queue_depth',
      help: 'Calls waiting for a group commit to take them, by queue (reserve, transition, amend)',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        for (const [queue, depth] of Object.entries(groupCommitQueues())) this.set({ queue }, depth);
      },
    });
  }
  if (pool) {
    const poolGauge = (name: string, help: string, read: (usage: PoolUsage) => number): void => {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const usage = pool();
          if (usage) this.set(read(usage));
        },
      });
    };
    poolGauge(
      'stockroom_database_pool_max',
      'Database connections the pool opens at most (1 embedded)',
      (usage) => usage.size,
    );
    poolGauge(
      'stockroom_database_pool_in_use',
      'Database connections running a query or transaction now',
      (usage) => usage.inUse,
    );
    poolGauge(
      'stockroom_database_pool_waiting',
      'Database calls waiting for a connection now',
      (usage) => usage.waiting,
    );
  }
}

/**
 * The read replicas at each scrape, from the background checks (no query of their own). With `serve --workers`
 * each worker checks every replica itself: the host shows the furthest behind any worker found it, and healthy
 * only while every worker uses it (a sum would say 2 for one replica with two workers).
 */
function replicaMetrics(registry: Registry, read: () => ReplicaStats | undefined): void {
  new Gauge({
    name: 'stockroom_replica_lag_seconds',
    help: 'How far each read replica was behind the primary at its last check (NaN: unreachable or not a standby)',
    labelNames: ['replica'],
    aggregator: 'max',
    registers: [registry],
    collect() {
      for (const replica of read()?.replicas ?? [])
        this.set({ replica: replica.name }, replica.lagMs === null ? NaN : replica.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'stockroom_replica_healthy',
    help: 'Whether reads go to each read replica (1) or it is skipped as lagging, unreachable, not a standby or unreadable by its user (0)',
    labelNames: ['replica'],
    aggregator: 'min',
    registers: [registry],
    collect() {
      for (const replica of read()?.replicas ?? [])
        this.set({ replica: replica.name }, replica.condition === 'healthy' ? 1 : 0);
    },
  });
  const shown = new Map<string, number>();
  new Counter({
    name: 'stockroom_stale_reads_total',
    help: 'Reads that may be slightly stale (storefront misses, admin lists, exports), by the pool that served them: primary or a replica',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      for (const [pool, total] of Object.entries(read()?.reads ?? {})) {
        this.inc({ pool }, total - (shown.get(pool) ?? 0));
        shown.set(pool, total);
      }
    },
  });
}

/**
 * Gauges read from the database at scrape time, with one statement shared by all of them. A scrape that does not
 * get it within the timeout (or gets an error) shows them as NaN (and stockroom_work_status_up 0) instead of waiting; the read goes
 * on, and a later scrape joins it rather than starting another, so a slow database sees one such read at a time.
 */
function workStatusGauges(registry: Registry, read: () => Promise<WorkStatus>, timeoutMs?: number): void {
  const limitMs = timeoutMs ?? DEFAULT_WORK_STATUS_TIMEOUT_MS;
  let reading: Promise<WorkStatus | undefined> | undefined;
  const current = (): Promise<WorkStatus | undefined> => {
    reading ??= read()
      .catch(() => undefined)
      .finally(() => {
        reading = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, limitMs, undefined);
    });
    return Promise.race([reading, late]).finally(() => {
      clearTimeout(timer);
    });
  };
  // the database's figures, the same from every worker: with `serve --workers` the host's scrape takes the highest
  // worker's value, not their sum (and "up" the lowest: 0 when any worker's read failed)
  const gauge = (
    name: string,
    help: string,
    value: (status: WorkStatus | undefined) => number,
    aggregator: 'max' | 'min' = 'max',
  ): void => {
    new Gauge({
      name,
      help,
      aggregator,
      registers: [registry],
      async collect() {
        this.set(value(await current()));
      },
    });
  };
  /** a gauge of the status that is NaN (unknown) when the database did not answer in time */
  const known =
    (value: (status: WorkStatus) => number) =>
    (status: WorkStatus | undefined): number =>
      status ? value(status) : Number.NaN;
  gauge(
    'stockroom_work_status_up',
    'Whether this scrape read the database-backed gauges (1) or the database failed or was too slow (0: they show NaN)',
    (status) => (status ? 1 : 0),
    'min',
  );
  gauge(
    'stockroom_sweeper_lag_seconds',
    'Age of the oldest pending reservation past its deadline that the sweeper has not expired yet (0: none)',
    known((status) => status.oldest_overdue_hold_seconds),
  );
  gauge(
    'stockroom_outbox_undispatched',
    'Outbox rows (alerts, events) not yet turned into deliveries, counted up to 100000',
    known((status) => status.outbox_undispatched),
  );
  gauge(
    'stockroom_replenishment_last_run_timestamp_seconds',
    'When the replenishment job last ran, in Unix seconds (0: never)',
    known((status) => (status.replenished_at ? status.replenished_at.getTime() / 1000 : 0)),
  );
  new Gauge({
    name: 'stockroom_deliveries',
    help: 'Alert and event deliveries by status: pending (not sent yet or to be retried) and dead (given up; retry by hand), counted up to 100000',
    labelNames: ['status'],
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const status = await current();
      this.set({ status: 'pending' }, status ? status.deliveries_pending : Number.NaN);
      this.set({ status: 'dead' }, status ? status.deliveries_dead : Number.NaN);
    },
  });
}
