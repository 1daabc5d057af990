import type { Reason } from '../domain/movements.js';
import type { StateNumbers, StockState } from '../domain/stock-state.js';
import type { Queryable } from './db.js';
import type { LevelRow } from './levels.js';

/** A move of units between states at one level, to record with the numbers its level is left at. */
export interface StateWrite {
  variantId: number;
  warehouseId: number;
  from: StockState;
  to: StockState;
  qty: number;
  /** the states' numbers after the move, worked out on the locked level (domain/stock-state.ts moveState) */
  after: StateNumbers;
  reason: Reason;
  reference: string | null;
  actor: string | null;
  at: Date;
}

/**
 * Sets a locked level's states and writes its 'state' ledger row in one statement, so the level never changes
 * without the row that explains it. The caller has locked every level of the variant (lockLevels), as every
 * statement that changes levels does: the alert trigger judges the variant's total on locked numbers. A move
 * into or out of safety_stock gives the level its own safety stock (safety_stock_own, migration 0016).
 */
export async function writeStateMove(tx: Queryable, move: StateWrite): Promise<LevelRow> {
  const ownSafetyStock = move.from === 'safety_stock' || move.to === 'safety_stock';
  const { rows } = await tx.query<LevelRow>(
    `WITH upd AS (
       UPDATE stock_levels l
          SET damaged = $3, quality_control = $4, safety_stock = $5, safety_stock_own = l.safety_stock_own OR $6,
              updated_at = now()
        WHERE l.variant_id = $1 AND l.warehouse_id = $2
       RETURNING l.*
     ),
     ledger AS (
       INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after,
                                    reserved_after, reason, reference, actor, state_from, state_to, state_qty, created_at)
       SELECT variant_id, warehouse_id, 'state', 0, 0, on_hand, reserved, $7, $8, $9, $10, $11, $12, $13 FROM upd
     )
     SELECT u.variant_id, u.warehouse_id, v.sku, w.code AS warehouse, u.on_hand, u.reserved, u.safety_stock, u.damaged,
            u.quality_control, u.backorder_limit
       FROM upd u JOIN variants v ON v.id = u.variant_id JOIN warehouses w ON w.id = u.warehouse_id`,
    [
      move.variantId,
      move.warehouseId,
      move.after.damaged,
      move.after.quality_control,
      move.after.safety_stock,
      ownSafetyStock,
      move.reason,
      move.reference,
      move.actor,
      move.from,
      move.to,
      move.qty,
      move.at,
    ],
  );
  const level = rows[0];
  if (!level) throw new Error('state move on a level that does not exist');
  return level;
}

/** What open reservations hold at each level of a variant that is committed (paid), by warehouse id. */
export async function readCommitted(db: Queryable, variantId: number): Promise<Map<number, number>> {
  // reservation_lines_variant_idx (0014) finds the variant's lines; only committed and partially fulfilled
  // reservations count, so nothing is kept up to date on any write path for this read; a line of an untracked
  // variant (holds_stock false) is in no level's reserved, so it is in no committed either
  const { rows } = await db.query<{ warehouse_id: number; committed: number }>(
    `SELECT rl.warehouse_id, sum(rl.qty - rl.fulfilled_qty - rl.released_qty)::int AS committed
       FROM reservation_lines rl JOIN reservations r ON r.id = rl.reservation_id
      WHERE rl.variant_id = $1 AND rl.holds_stock AND r.status IN ('committed', 'partially_fulfilled')
      GROUP BY rl.warehouse_id`,
    [variantId],
  );
  return new Map(rows.map((row) => [row.warehouse_id, row.committed]));
}
