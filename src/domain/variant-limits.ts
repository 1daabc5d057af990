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
  const together = levels.reduce((sum, level) => sum + available(level), 0);
  return Math.max(0, together - limits.safety_stock + limits.backorder_allowance);
}
