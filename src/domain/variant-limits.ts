import { available } from './stock-level.js';
import type { LevelNumbers } from './stock-level.js';

/**
 * Where a variant's safety stock and backorder/pre-order limit apply:
 * - warehouse: in each warehouse on its own (the default)
 * - variant: to the variant's sum over all its warehouses
 */
export const LIMIT_SCOPES = ['warehouse', 'variant'] as const;
/** One of LIMIT_SCOPES. */
export type LimitScope = (typeof LIMIT_SCOPES)[number];

/** A variant's limits as they apply to its sum over warehouses. */
export interface VariantLimits {
  safety_stock: number;
  /** how far below zero the sum may go (0 for deny; see backorderAllowance) */
  backorder_allowance: number;
}

/**
 * Units a variant-wide variant can still promise over all its warehouses: what they have available together,
 * less the variant's safety stock, plus its backorder headroom; never below zero. `levels` are every level of
 * the variant (they hold no safety stock of their own).
 */
export function variantHeadroom(levels: readonly LevelNumbers[], limits: VariantLimits): number {
  return Math.max(0, variantMargin(levels, limits));
}

/**
 * Whether a variant-wide variant is already past its limits (a count, a state move or a higher safety stock took
 * its sum below them): then no unit may be held again, not even one coming back on hand with it, as the database
 * refuses any hold on such a variant (stock_levels_variant_reservable).
 */
export function pastVariantLimits(levels: readonly LevelNumbers[], limits: VariantLimits): boolean {
  return variantMargin(levels, limits) < 0;
}

/**
 * What a variant-wide variant has left to sell over all its warehouses once its safety stock is held back, below
 * zero when it is sold short: what a hold's backordered units are counted against, as a level's available is.
 */
export function variantAvailable(levels: readonly LevelNumbers[], limits: VariantLimits): number {
  return levels.reduce((sum, level) => sum + available(level), 0) - limits.safety_stock;
}

const variantMargin = (levels: readonly LevelNumbers[], limits: VariantLimits): number =>
  levels.reduce((sum, level) => sum + available(level), 0) - limits.safety_stock + limits.backorder_allowance;
