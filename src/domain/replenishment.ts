import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/**
 * Reordering, by the textbook (s, S) policy: when a variant's inventory position (on hand, less what is
 * promised, plus what is on order) is at or below its reorder point s, order up to S = s + reorder quantity.
 * Safety stock and reorder point are suggested from daily demand: with mean d and sample deviation σ over a
 * window, a lead time of L days and a service level p (the chance of not running out while an order is on its
 * way), safety stock = ⌈z·σ·√L⌉ with z the standard normal quantile of p, and reorder point = ⌈d·L⌉ + safety stock.
 */

/** Days of shipped demand a suggestion is computed from when the caller names no window: four whole weeks. */
export const DEFAULT_WINDOW_DAYS = 28;
/** The chance of not running out during a lead time that suggestions aim for when the caller names none. */
export const DEFAULT_SERVICE_LEVEL = 0.95;

/** Daily demand over a window, as the suggestion formulas take it. */
export interface DemandStats {
  /** days in the window, each counted whether anything shipped or not */
  days: number;
  /** mean units shipped per day */
  mean: number;
  /** sample standard deviation of units shipped per day (0 for a window of one day) */
  deviation: number;
}

/** Mean and sample deviation of daily demand; `daily` has one entry per day of the window, zeros included. */
export function demandStats(daily: readonly number[]): DemandStats {
  const days = daily.length;
  if (days === 0) return { days, mean: 0, deviation: 0 };
  const mean = daily.reduce((total, units) => total + units, 0) / days;
  const deviation = days < 2 ? 0 : Math.sqrt(daily.reduce((sum, units) => sum + (units - mean) ** 2, 0) / (days - 1));
  return { days, mean, deviation };
}

/** Safety stock and reorder point for a service level in (0, 1). */
export function suggestLevels(
  stats: DemandStats,
  leadTimeDays: number,
  serviceLevel: number,
): { z: number; safety_stock: number; reorder_point: number } {
  const zScore = normalQuantile(serviceLevel, 0, 1);
  // tiny float noise (1e-9) must not buy a whole extra unit
  const up = (units: number): number => Math.max(0, Math.ceil(units - 1e-9));
  const safety = up(zScore * stats.deviation * Math.sqrt(leadTimeDays));
  return { z: zScore, safety_stock: safety, reorder_point: up(stats.mean * leadTimeDays) + safety };
}

/**
 * Units to order for a position at or below the reorder point: up to reorder point + reorder quantity (which
 * defaults to the reorder point itself), and at least one.
 */
export function orderQuantity(position: number, reorderPoint: number, reorderQty: number | null): number {
  return Math.max(1, reorderPoint + (reorderQty ?? reorderPoint) - position);
}
