import type { StockInUse } from '../domain/errors.js';
import type { Queryable } from './db.js';

/** What a warehouse's or variant's levels hold, and the open reservations with a line there. */
export type LevelsInUse = Omit<StockInUse, 'open_purchase_orders'>;

/**
 * Locks every level of a warehouse, in (variant, warehouse) order as every statement that changes levels locks
 * them (so archiving never deadlocks with a checkout or a receipt), then the warehouse's row (FOR NO KEY UPDATE,
 * after the levels as lockVariant takes a variant's: an order placed into it holds a share lock on it, so its open
 * orders, counted after this, cannot grow meanwhile), and says what the warehouse still holds: its units on hand and
 * held, and the open reservations with a line there (one whose held units are all fulfilled may still be
 * unfulfilled back into it). Counted after the locks, on the numbers nobody can change any more.
 */
export async function lockWarehouseStock(tx: Queryable, warehouseId: number): Promise<LevelsInUse> {
  await tx.query(
    'SELECT 1 FROM stock_levels l WHERE l.warehouse_id = $1 ORDER BY l.variant_id, l.warehouse_id FOR UPDATE OF l',
    [warehouseId],
  );
  await tx.query('SELECT 1 FROM warehouses WHERE id = $1 FOR NO KEY UPDATE', [warehouseId]);
  const { rows } = await tx.query<LevelsInUse>(
    `SELECT coalesce(sum(l.on_hand), 0)::bigint AS on_hand, coalesce(sum(l.reserved), 0)::bigint AS reserved,
            (SELECT count(DISTINCT r.id)::int
               FROM stock_levels k
               JOIN reservation_lines rl ON rl.variant_id = k.variant_id AND rl.warehouse_id = k.warehouse_id
               JOIN reservations r ON r.id = rl.reservation_id
              WHERE k.warehouse_id = $1 AND r.status IN ('pending', 'committed', 'partially_fulfilled')) AS open_reservations
       FROM stock_levels l WHERE l.warehouse_id = $1`,
    [warehouseId],
  );
  return rows[0] ?? { on_hand: 0, reserved: 0, open_reservations: 0 };
}

/**
 * What a variant still holds over every warehouse, and its open reservations; the caller has locked its levels
 * (lockVariant).
 */
export async function variantStock(tx: Queryable, variantId: number): Promise<LevelsInUse> {
  const { rows } = await tx.query<LevelsInUse>(
    `SELECT coalesce(sum(l.on_hand), 0)::bigint AS on_hand, coalesce(sum(l.reserved), 0)::bigint AS reserved,
            (SELECT count(DISTINCT r.id)::int
               FROM reservation_lines rl JOIN reservations r ON r.id = rl.reservation_id
              WHERE rl.variant_id = $1 AND r.status IN ('pending', 'committed', 'partially_fulfilled')) AS open_reservations
       FROM stock_levels l WHERE l.variant_id = $1`,
    [variantId],
  );
  return rows[0] ?? { on_hand: 0, reserved: 0, open_reservations: 0 };
}

/**
 * Archives a warehouse (at) or takes it back into use (null), with its levels: a level is archived while its
 * warehouse or its variant is. The levels are locked already (lockWarehouseStock).
 */
export async function setWarehouseArchived(tx: Queryable, warehouseId: number, at: Date | null): Promise<void> {
  await tx.query('UPDATE warehouses SET archived_at = $2 WHERE id = $1', [warehouseId, at]);
  await tx.query(
    `UPDATE stock_levels l SET archived = ($2::timestamptz IS NOT NULL OR v.archived_at IS NOT NULL), updated_at = now()
       FROM variants v
      WHERE l.warehouse_id = $1 AND v.id = l.variant_id`,
    [warehouseId, at],
  );
}

/** Archives a variant (at) or takes it back into use (null), with its levels (locked already: lockVariant). */
export async function setVariantArchived(tx: Queryable, variantId: number, at: Date | null): Promise<void> {
  await tx.query('UPDATE variants SET archived_at = $2 WHERE id = $1', [variantId, at]);
  await tx.query(
    `UPDATE stock_levels l SET archived = ($2::timestamptz IS NOT NULL OR w.archived_at IS NOT NULL), updated_at = now()
       FROM warehouses w
      WHERE l.variant_id = $1 AND w.id = l.warehouse_id`,
    [variantId, at],
  );
}

/**
 * Of these levels, the index of the first whose variant or warehouse is archived, and which; read after the
 * caller locked them, so an archive that committed meanwhile is seen.
 */
export async function firstArchived(
  tx: Queryable,
  levels: readonly { variantId: number; warehouseId: number }[],
): Promise<{ idx: number; variant: boolean; warehouse: boolean } | undefined> {
  const { rows } = await tx.query<{ idx: number; variant: boolean; warehouse: boolean }>(
    `SELECT k.idx, v.archived_at IS NOT NULL AS variant, w.archived_at IS NOT NULL AS warehouse
       FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS k(variant_id, warehouse_id, idx)
       JOIN variants v ON v.id = k.variant_id JOIN warehouses w ON w.id = k.warehouse_id
      WHERE v.archived_at IS NOT NULL OR w.archived_at IS NOT NULL
      ORDER BY k.idx LIMIT 1`,
    [levels.map((level) => level.variantId), levels.map((level) => level.warehouseId)],
  );
  const found = rows[0];
  return found && { ...found, idx: found.idx - 1 };
}
