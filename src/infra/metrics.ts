import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus metrics, in a registry of its own (tests build many servers in one process). */
export interface Metrics {
  registry: Registry;
  /** every API call by route and outcome: 'ok' or the problem code (reservations by outcome, stock operations) */
  requests: Counter<'method' | 'route' | 'outcome'>;
  latency: Histogram<'method' | 'route'>;
  sweeps: Counter<'result'>;
  expired: Counter;
}

/** Numbers kept elsewhere that only grow, read when metrics are scraped. */
export interface MetricSources {
  /** reservations group commit: transactions and the reservations in them */
  groupCommit?: () => { groups: number; jobs: number };
  /** the storefront cache: SKUs answered from it and SKUs read from the database */
  availabilityCache?: () => { hits: number; misses: number };
  /** alert delivery: tries that got through, failed and will be retried, failed for the last time */
  deliveries?: () => { delivered: number; failed: number; dead: number };
  /** deliveries waiting to be sent, and dead letters waiting for a person, across all processes (read from the database) */
  deliveryBacklog?: () => Promise<{ pending: number; dead: number }>;
}

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
  const backlog = sources.deliveryBacklog;
  if (backlog) {
    new Gauge({
      name: 'stockroom_deliveries',
      help: 'Alert deliveries by status: pending (not sent yet or to be retried) and dead (given up; retry by hand)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const now = await backlog();
        this.set({ status: 'pending' }, now.pending);
        this.set({ status: 'dead' }, now.dead);
      },
    });
  }
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
  };
}
