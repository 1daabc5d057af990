/** The three numbers of one variant in one warehouse, and what follows from them. */
export interface LevelNumbers {
  on_hand: number;
  reserved: number;
  safety_stock: number;
}

/** What the storefront may sell: units present, less those promised, less the buffer held back. */
export function available(level: LevelNumbers): number {
  return level.on_hand - level.reserved - level.safety_stock;
}

/** Units promised to orders that are not in the building: orders that cannot all ship until stock arrives. */
export function shortfall(level: Pick<LevelNumbers, 'on_hand' | 'reserved'>): number {
  return Math.max(0, level.reserved - level.on_hand);
}
