import type { MetricSources } from '../infra/metrics.js';
import type { Stockroom } from '../services/stockroom.js';

/** What any server over a Stockroom shows: its group commit, reservation latency, connections and work status. */
export function stockroomSources(stockroom: Stockroom): MetricSources {
  const reservations = stockroom.reservations;
  return {
    groupCommit: () => reservations.groupCommitStats,
    groupCommitQueues: () => reservations.groupCommitQueues,
    reserveLatency: (watcher) => reservations.watchReserveLatency(watcher),
    pool: () => stockroom.db.poolUsage?.(),
    // without replicas, /metrics shows none of their series
    ...(stockroom.replicas ? { replicas: () => stockroom.replicas?.stats } : {}),
    workStatus: () => stockroom.workStatus(),
  };
}
