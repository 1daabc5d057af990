import type { Queryable } from './db.js';
import { findCostDrift } from './valuation.js';
import type { CostDrift } from './valuation.js';

/** A level whose numbers differ from the replay of its ledger, with both sides. */
export interface DriftRow {
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
  ledger_on_hand: number;
  ledger_reserved: number;
  /** on_hand_after/reserved_after of the newest ledger row, null when there is none */
  last_on_hand: number | null;
  last_reserved: number | null;
}

/** A level whose reserved differs from what its open reservations hold. */
export interface HoldDrift {
  sku: string;
  warehouse: string;
  reserved: number;
  /** what the open reservations' lines still hold there */
  held: number;
}

/** A level whose damaged or quality_control differs from the replay of its 'state' ledger rows. */
export interface StateDrift {
  sku: string;
  warehouse: string;
  damaged: number;
  quality_control: number;
  ledger_damaged: number;
  ledger_quality_control: number;
}

/** Everything found wrong, and how much was checked. */
export interface DriftReport {
  levels: number;
  movements: number;
  drift: DriftRow[];
  holds: HoldDrift[];
  states: StateDrift[];
  /** levels whose value differs from their costed ledger rows */
  costs: CostDrift[];
}

/**
 * Levels whose numbers differ from the replay of their ledger: the sums of the deltas, and the numbers the
 * newest ledger row says it left. A clean database returns no rows.
 */
export async function findDrift(db: Queryable): Promise<DriftReport> {
  const { rows } = await db.query<DriftRow>(
    `WITH replay AS (
       SELECT variant_id, warehouse_id, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved, max(id) AS last_id
         FROM stock_movements GROUP BY variant_id, warehouse_id
     )
     SELECT v.sku, w.code AS warehouse, l.on_hand, l.reserved,
            coalesce(r.on_hand, 0) AS ledger_on_hand, coalesce(r.reserved, 0) AS ledger_reserved,
            m.on_hand_after AS last_on_hand, m.reserved_after AS last_reserved
       FROM stock_levels l
       JOIN variants v ON v.id = l.variant_id
       JOIN warehouses w ON w.id = l.warehouse_id
       LEFT JOIN replay r ON r.variant_id = l.variant_id AND r.warehouse_id = l.warehouse_id
       LEFT JOIN stock_movements m ON m.id = r.last_id
      WHERE l.on_hand <> coalesce(r.on_hand, 0) OR l.reserved <> coalesce(r.reserved, 0)
         OR (m.id IS NOT NULL AND (m.on_hand_after <> l.on_hand OR m.reserved_after <> l.reserved))
      ORDER BY v.sku, w.code`,
  );
  const counts = await db.query<{ levels: number; movements: number }>(
    'SELECT (SELECT count(*) FROM stock_levels) AS levels, (SELECT count(*) FROM stock_movements) AS movements',
  );
  const checked = counts.rows[0] ?? { levels: 0, movements: 0 };
  return {
    levels: checked.levels,
    movements: checked.movements,
    drift: rows,
    holds: await findHoldDrift(db),
    states: await findStateDrift(db),
    costs: await findCostDrift(db),
  };
}

/** Levels whose reserved differs from what the open reservations hold there: a bookkeeping error. */
async function findHoldDrift(db: Queryable): Promise<HoldDrift[]> {
  const { rows } = await db.query<HoldDrift>(
    `WITH held AS (
       SELECT rl.variant_id, rl.warehouse_id, sum(rl.qty - rl.fulfilled_qty - rl.released_qty) AS held
         FROM reservation_lines rl JOIN reservations r ON r.id = rl.reservation_id
        WHERE r.status IN ('pending', 'committed', 'partially_fulfilled') AND rl.holds_stock
        GROUP BY rl.variant_id, rl.warehouse_id
     )
     SELECT v.sku, w.code AS warehouse, l.reserved, coalesce(h.held, 0) AS held
       FROM stock_levels l
       JOIN variants v ON v.id = l.variant_id
       JOIN warehouses w ON w.id = l.warehouse_id
       LEFT JOIN held h ON h.variant_id = l.variant_id AND h.warehouse_id = l.warehouse_id
      WHERE l.reserved <> coalesce(h.held, 0)
      ORDER BY v.sku, w.code`,
  );
  return rows;
}

/**
 * Levels whose unsellable states differ from what their 'state' ledger rows moved in and out (migration 0016):
 * only state moves change them, so the ledger explains them as it explains on_hand.
 */
async function findStateDrift(db: Queryable): Promise<StateDrift[]> {
  const { rows } = await db.query<StateDrift>(
    `WITH replay AS (
       SELECT variant_id, warehouse_id,
              sum(CASE WHEN state_to = 'damaged' THEN state_qty WHEN state_from = 'damaged' THEN -state_qty ELSE 0 END)
                AS damaged,
              sum(CASE WHEN state_to = 'quality_control' THEN state_qty
                       WHEN state_from = 'quality_control' THEN -state_qty ELSE 0 END) AS quality_control
         FROM stock_movements WHERE type = 'state' GROUP BY variant_id, warehouse_id
     )
     SELECT v.sku, w.code AS warehouse, l.damaged, l.quality_control,
            coalesce(r.damaged, 0)::int AS ledger_damaged, coalesce(r.quality_control, 0)::int AS ledger_quality_control
       FROM stock_levels l
       JOIN variants v ON v.id = l.variant_id
       JOIN warehouses w ON w.id = l.warehouse_id
       LEFT JOIN replay r ON r.variant_id = l.variant_id AND r.warehouse_id = l.warehouse_id
      WHERE l.damaged <> coalesce(r.damaged, 0) OR l.quality_control <> coalesce(r.quality_control, 0)
      ORDER BY v.sku, w.code`,
  );
  return rows;
}
