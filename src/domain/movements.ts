/** What happened to a level. One ledger row per level change, typed by the operation that made it. */
export const MOVEMENT_TYPES = [
  'receive',
  'adjust',
  'count',
  'transfer_out',
  'transfer_in',
  'sync',
  'return',
  'reserve',
  'release',
  'expire',
  'fulfil',
  'unfulfil',
  'state',
  'relocate',
] as const;
/** One of MOVEMENT_TYPES. */
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** Why a warehouse operation happened: the fixed list a store reports shrinkage and corrections by. */
export const REASONS = [
  'received',
  'restock',
  'correction',
  'cycle_count',
  'damaged',
  'shrinkage',
  'promotion',
  'return',
  'transfer',
  'sync',
  'other',
  'quality_control',
] as const;
/** One of REASONS. */
export type Reason = (typeof REASONS)[number];

/** Narrows a filter read from a request to a movement type, so an unknown one is refused, not ignored. */
export const isMovementType = (value: string): value is MovementType =>
  (MOVEMENT_TYPES as readonly string[]).includes(value);
