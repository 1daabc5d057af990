/** The numbers of one variant in one warehouse, and what follows from them. */
export interface LevelNumbers {
  on_hand: number;
  reserved: number;
  safety_stock: number;
  /** of on_hand, units damaged: in the building, never sellable */
  damaged: number;
  /** of on_hand, units held for inspection: in the building, never sellable */
  quality_control: number;
}

/**
 * What the storefront may sell: units present, less those promised, the buffer held back and the units in an
 * unsellable state (the `available` column of stock_levels is the same sum).
 */
export function available(level: LevelNumbers): number {
  return level.on_hand - level.reserved - level.safety_stock - level.damaged - level.quality_control;
}

/** Units promised to orders that are not in the building: orders that cannot all ship until stock arrives. */
export function shortfall(level: Pick<LevelNumbers, 'on_hand' | 'reserved'>): number {
  return Math.max(0, level.reserved - level.on_hand);
}

/**
 * Of `qty` units just promised at a level, those beyond its stock, which ship when it is restocked: how far below
 * zero `availableAfter` (available once they are promised) has gone, at most `qty`.
 */
export function backorderedUnits(qty: number, availableAfter: number): number {
  return Math.min(qty, Math.max(0, -availableAfter));
}
