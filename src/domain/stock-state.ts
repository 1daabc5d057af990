import { available } from './stock-level.js';
import type { LevelNumbers } from './stock-level.js';

/**
 * The states a level's unreserved units are in, as Shopify names them: `available` (sellable), `damaged` and
 * `quality_control` (in the building, never sellable) and `safety_stock` (held back from the storefront).
 */
export const STOCK_STATES = ['available', 'damaged', 'quality_control', 'safety_stock'] as const;
/** One of STOCK_STATES. */
export type StockState = (typeof STOCK_STATES)[number];

/** The level's numbers a state move changes: available follows from them. */
export type StateNumbers = Pick<LevelNumbers, 'damaged' | 'quality_control' | 'safety_stock'>;

/** How many units a level has in a state: for available, none below zero (a level sold short has none). */
export function unitsIn(level: LevelNumbers, state: StockState): number {
  return state === 'available' ? Math.max(0, available(level)) : level[state];
}

/**
 * Moves qty units of a level from one state to another: the states' numbers after the move, or undefined when
 * the source state does not hold qty units (out of available, reserved units are never taken).
 */
export function moveState(
  level: LevelNumbers,
  from: StockState,
  to: StockState,
  qty: number,
): StateNumbers | undefined {
  if (from === to || qty <= 0 || unitsIn(level, from) < qty) return undefined;
  const after: StateNumbers = {
    damaged: level.damaged,
    quality_control: level.quality_control,
    safety_stock: level.safety_stock,
  };
  if (from !== 'available') after[from] -= qty;
  if (to !== 'available') after[to] += qty;
  return after;
}
