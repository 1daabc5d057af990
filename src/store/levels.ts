import type { MovementType, Reason } from '../domain/movements.js';
import type { Queryable } from './db.js';

/**
 * What a movement must leave true, beyond on_hand >= 0 and reserved >= 0:
 * - none: nothing more (physical facts: receipts, damage, counts)
 * - available: available stays >= 0 (moving stock away must not take promised units)
 * - reservable: available stays >= -backorder_limit (promising stock)
 */
export type MovementGuard = 'none' | 'available' | 'reservable';

export interface MovementInput {
  variantId: number;
  warehouseId: number;
  type: MovementType;
  deltaOnHand: number;
  deltaReserved: number;
  guard: MovementGuard;
  reason?: Reason | null;
  reference?: string | null;
  reservationId?: string | null;
  /** compare-and-set: apply only if on_hand is still this */
  expectedOnHand?: number | null;
}

export interface AppliedMovement {
  /** position of the movement in the input */
  idx: number;
  variant_id: number;
  warehouse_id: number;
  on_hand: number;
  reserved: number;
  safety_stock: number;
}

/**
 * The only statement that changes on_hand or reserved. Each movement is a conditional UPDATE of its level
 * and a ledger row carrying the level's new numbers, in one statement, so a level can never change without
 * its ledger row (invariant 2) and no decision is made on numbers read earlier (invariant 5).
 *
 * Movements whose guard fails are not applied and are missing from the result; the caller decides (in its
 * transaction) whether that aborts everything. At most one movement per level per call.
 */
export async function applyMovements(tx: Queryable, actor: string | null, movements: readonly MovementInput[]): Promise<AppliedMovement[]> {
  if (movements.length === 0) return [];
  const seen = new Set(movements.map((m) => `${m.variantId}:${m.warehouseId}`));
  if (seen.size !== movements.length) throw new Error('applyMovements: two movements on one level in one call');
  // Levels are locked in (variant, warehouse) order, so two batches over the same levels cannot deadlock.
  const batch = movements
    .map((m, idx) => ({
      idx,
      variant_id: m.variantId,
      warehouse_id: m.warehouseId,
      type: m.type,
      d_on_hand: m.deltaOnHand,
      d_reserved: m.deltaReserved,
      guard: m.guard,
      reason: m.reason ?? null,
      reference: m.reference ?? null,
      reservation_id: m.reservationId ?? null,
      expected_on_hand: m.expectedOnHand ?? null,
    }))
    .sort((a, b) => a.variant_id - b.variant_id || a.warehouse_id - b.warehouse_id);
  const { rows } = await tx.query<AppliedMovement>(
    `WITH req AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
         idx int, variant_id bigint, warehouse_id bigint, type text, d_on_hand int, d_reserved int, guard text,
         reason text, reference text, reservation_id uuid, expected_on_hand int)
     ),
     locked AS (
       SELECT l.variant_id, l.warehouse_id FROM stock_levels l
         JOIN req ON l.variant_id = req.variant_id AND l.warehouse_id = req.warehouse_id
        ORDER BY l.variant_id, l.warehouse_id
          FOR UPDATE OF l
     ),
     upd AS (
       UPDATE stock_levels l
          SET on_hand = l.on_hand + req.d_on_hand, reserved = l.reserved + req.d_reserved, updated_at = now()
         FROM req, locked
        WHERE l.variant_id = req.variant_id AND l.warehouse_id = req.warehouse_id
          AND locked.variant_id = req.variant_id AND locked.warehouse_id = req.warehouse_id
          AND l.on_hand + req.d_on_hand >= 0
          AND l.reserved + req.d_reserved >= 0
          AND (req.expected_on_hand IS NULL OR l.on_hand = req.expected_on_hand)
          AND CASE req.guard
                WHEN 'none' THEN true
                WHEN 'available' THEN l.on_hand + req.d_on_hand - l.reserved - req.d_reserved - l.safety_stock >= 0
                WHEN 'reservable' THEN l.on_hand + req.d_on_hand - l.reserved - req.d_reserved - l.safety_stock >= -l.backorder_limit
              END
       RETURNING req.idx, req.type, req.d_on_hand, req.d_reserved, req.reason, req.reference, req.reservation_id,
                 l.variant_id, l.warehouse_id, l.on_hand, l.reserved, l.safety_stock
     ),
     ledger AS (
       INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after,
                                    reserved_after, reason, reference, actor, reservation_id)
       SELECT variant_id, warehouse_id, type, d_on_hand, d_reserved, on_hand, reserved, reason, reference, $2, reservation_id
         FROM upd ORDER BY idx
     )
     SELECT idx, variant_id, warehouse_id, on_hand, reserved, safety_stock FROM upd ORDER BY idx`,
    [JSON.stringify(batch), actor],
  );
  return rows;
}

export interface LevelRow {
  variant_id: number;
  warehouse_id: number;
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  backorder_limit: number;
}

const LEVEL_COLUMNS = `l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, l.on_hand, l.reserved, l.safety_stock, l.backorder_limit`;
/** Levels with the SKU and warehouse code they are known by outside. */
const LEVELS = `stock_levels l JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id`;

/** Locks levels for a read-modify-write under the lock (counts and syncs set absolute numbers). */
export async function lockLevels(tx: Queryable, keys: readonly { variantId: number; warehouseId: number }[]): Promise<LevelRow[]> {
  const { rows } = await tx.query<LevelRow>(
    `SELECT ${LEVEL_COLUMNS}
       FROM ${LEVELS}
       JOIN jsonb_to_recordset($1::jsonb) AS k(variant_id bigint, warehouse_id bigint)
         ON k.variant_id = l.variant_id AND k.warehouse_id = l.warehouse_id
      ORDER BY l.variant_id, l.warehouse_id
        FOR UPDATE OF l`,
    [JSON.stringify(keys.map((k) => ({ variant_id: k.variantId, warehouse_id: k.warehouseId })))],
  );
  return rows;
}

export async function readLevel(tx: Queryable, variantId: number, warehouseId: number): Promise<LevelRow | undefined> {
  const { rows } = await tx.query<LevelRow>(
    `SELECT ${LEVEL_COLUMNS}
       FROM ${LEVELS}
      WHERE l.variant_id = $1 AND l.warehouse_id = $2`,
    [variantId, warehouseId],
  );
  return rows[0];
}

export interface RoutingRow extends LevelRow {
  priority: number;
  lat: number | null;
  lon: number | null;
}

/** Every level of these variants with what routing needs of its warehouse. */
export async function readRoutingLevels(tx: Queryable, variantIds: readonly number[]): Promise<RoutingRow[]> {
  const { rows } = await tx.query<RoutingRow>(
    `SELECT ${LEVEL_COLUMNS}, w.priority, w.lat, w.lon
       FROM ${LEVELS}
      WHERE l.variant_id = ANY($1::bigint[])`,
    [variantIds],
  );
  return rows;
}

export interface StockRow extends LevelRow {
  bins: { bin: string; qty: number }[];
}

/** The levels of one variant in every warehouse, with the bins their units are put away in. */
export async function readStock(db: Queryable, variantId: number): Promise<StockRow[]> {
  const { rows } = await db.query<StockRow>(
    `SELECT ${LEVEL_COLUMNS},
            coalesce((SELECT jsonb_agg(jsonb_build_object('bin', b.code, 'qty', s.qty) ORDER BY b.code)
                        FROM bin_stock s JOIN bins b ON b.id = s.bin_id
                       WHERE s.variant_id = l.variant_id AND b.warehouse_id = l.warehouse_id AND s.qty > 0), '[]'::jsonb) AS bins
       FROM ${LEVELS}
      WHERE l.variant_id = $1
      ORDER BY w.priority DESC, w.code`,
    [variantId],
  );
  return rows;
}

/** Puts received units away in a bin. The trim trigger keeps bins within on_hand when stock leaves. */
export async function putAway(tx: Queryable, binId: number, variantId: number, qty: number): Promise<void> {
  await tx.query(
    `INSERT INTO bin_stock (bin_id, variant_id, qty) VALUES ($1, $2, $3)
     ON CONFLICT (bin_id, variant_id) DO UPDATE SET qty = bin_stock.qty + EXCLUDED.qty`,
    [binId, variantId, qty],
  );
}

export interface ExportRow extends Omit<LevelRow, 'safety_stock' | 'backorder_limit'> {
  available: number;
}

/** One page of all levels in key order, after the given key: constant memory however many there are. */
export async function readLevelsAfter(
  db: Queryable,
  after: { variantId: number; warehouseId: number } | null,
  limit: number,
): Promise<ExportRow[]> {
  const { rows } = await db.query<ExportRow>(
    `SELECT l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, l.on_hand, l.reserved, l.available
       FROM ${LEVELS}
      WHERE (l.variant_id, l.warehouse_id) > ($1, $2)
      ORDER BY l.variant_id, l.warehouse_id LIMIT $3`,
    [after?.variantId ?? 0, after?.warehouseId ?? 0, limit],
  );
  return rows;
}
