import type { ValuationGroup } from '../domain/valuation.js';
import type { Queryable } from './db.js';

/**
 * Every level with units on hand at a moment, read from the ledger alone: each level's last row that moved on hand
 * before `$1` gives its on hand and value then (migration 0029), found by walking the level's rows back from the
 * newest on stock_movements_level_idx. Category and supplier are the variant's as they are now. Sums are text:
 * they may pass what a JavaScript number holds exactly, and the caller refuses that rather than round.
 */
const VALUED = `
  SELECT l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, p.category, s.code AS supplier,
         m.on_hand_after AS on_hand, coalesce(m.value_after, 0) AS value,
         -- a level never given a cost (or last moved before costs were recorded): its units count, at no value
         CASE WHEN m.unit_cost IS NULL AND coalesce(m.value_after, 0) = 0 THEN m.on_hand_after ELSE 0 END AS uncosted_units
    FROM stock_levels l
    JOIN variants v ON v.id = l.variant_id
    JOIN products p ON p.id = v.product_id
    JOIN warehouses w ON w.id = l.warehouse_id
    LEFT JOIN suppliers s ON s.id = v.supplier_id
   CROSS JOIN LATERAL (SELECT m.on_hand_after, m.value_after, m.unit_cost
                         FROM stock_movements m
                        WHERE m.variant_id = l.variant_id AND m.warehouse_id = l.warehouse_id
                          AND m.delta_on_hand <> 0 AND m.created_at < $1
                        ORDER BY m.id DESC LIMIT 1) m
   WHERE m.on_hand_after > 0`;

/** The column a report groups by: from a closed list, never from input text. */
const GROUP_COLUMN: Record<ValuationGroup, string> = {
  warehouse: 'warehouse',
  category: 'category',
  supplier: 'supplier',
  sku: 'sku',
};

/** One group of a valuation: its key (null: no category, no supplier), units, value as text, uncosted units. */
export interface ValuationGroupRow {
  key: string | null;
  levels: number;
  on_hand: number;
  value: string;
  uncosted_units: number;
}

/** The levels with units before `until`, added up by one column, in key order (no key last). */
export async function readValuationGroups(
  db: Queryable,
  until: Date,
  groupBy: ValuationGroup,
): Promise<ValuationGroupRow[]> {
  const column = GROUP_COLUMN[groupBy];
  const { rows } = await db.query<ValuationGroupRow>(
    `WITH valued AS (${VALUED})
     SELECT ${column} AS key, count(*)::int AS levels, sum(on_hand)::bigint AS on_hand, sum(value)::text AS value,
            sum(uncosted_units)::bigint AS uncosted_units
       FROM valued GROUP BY ${column} ORDER BY ${column} COLLATE "C" NULLS LAST`,
    [until],
  );
  return rows;
}

/** One level of a valuation, as its export lists it. */
export interface ValuationLevelRow {
  variant_id: number;
  warehouse_id: number;
  sku: string;
  warehouse: string;
  category: string | null;
  supplier: string | null;
  on_hand: number;
  /** minor units, as text (see readValuationGroups) */
  value: string;
  uncosted_units: number;
}

/** One page of the levels with units before `until`, in key order after the given key: constant memory. */
export async function readValuationLevelsAfter(
  db: Queryable,
  until: Date,
  after: { variantId: number; warehouseId: number } | null,
  limit: number,
): Promise<ValuationLevelRow[]> {
  const { rows } = await db.query<ValuationLevelRow>(
    `SELECT variant_id, warehouse_id, sku, warehouse, category, supplier, on_hand, value::text AS value, uncosted_units
       FROM (${VALUED} AND (l.variant_id, l.warehouse_id) > ($2, $3)
             ORDER BY l.variant_id, l.warehouse_id LIMIT $4) page`,
    [until, after?.variantId ?? 0, after?.warehouseId ?? 0, limit],
  );
  return rows;
}

/** A level valued past what a JavaScript number holds exactly, with its value as text. */
export interface ValueTooLarge {
  sku: string;
  warehouse: string;
  value: string;
}

/**
 * The first level, in key order, whose value before `until` passes 2^53 - 1 minor units. Only a level an older
 * version valued past it can have such rows (migration 0036 refuses a change that raises a value past it), so the
 * levels to look at come from the partial index that holds just those rows: on a database that never had one, this
 * reads nothing. The limit is written out, not a parameter, so
 * that the planner can match it to the index's predicate.
 */
export async function findValueTooLarge(db: Queryable, until: Date): Promise<ValueTooLarge | undefined> {
  const { rows } = await db.query<ValueTooLarge>(
    `SELECT v.sku, w.code AS warehouse, m.value_after::text AS value
       FROM (SELECT DISTINCT variant_id, warehouse_id FROM stock_movements WHERE value_after > 9007199254740991) l
       JOIN variants v ON v.id = l.variant_id
       JOIN warehouses w ON w.id = l.warehouse_id
      CROSS JOIN LATERAL (SELECT m.value_after
                            FROM stock_movements m
                           WHERE m.variant_id = l.variant_id AND m.warehouse_id = l.warehouse_id
                             AND m.delta_on_hand <> 0 AND m.created_at < $1
                           ORDER BY m.id DESC LIMIT 1) m
      WHERE m.value_after > 9007199254740991
      ORDER BY l.variant_id, l.warehouse_id LIMIT 1`,
    [until],
  );
  return rows[0];
}

/** A level whose value differs from the replay of its costed ledger rows (migration 0029), with both sides. */
export interface CostDrift {
  sku: string;
  warehouse: string;
  /** stock_costs.stock_value (0 without a row) */
  value: number;
  /** the sum of the level's value_delta */
  ledger_value: number;
  /** value_after of its newest costed row, null when there is none */
  last_value: number | null;
  /** costed rows whose value_after is not the row before's plus their own value_delta */
  broken_rows: number;
}

/**
 * Levels whose value is not what their ledger rows say: the sum of their value_delta, the value_after of the newest
 * of them, and each row's value_after against the one before plus its delta. A clean database returns none.
 */
export async function findCostDrift(db: Queryable): Promise<CostDrift[]> {
  const { rows } = await db.query<CostDrift>(
    `WITH costed AS (
       SELECT variant_id, warehouse_id, id, value_delta, value_after,
              lag(value_after) OVER (PARTITION BY variant_id, warehouse_id ORDER BY id) AS value_before
         FROM stock_movements WHERE value_after IS NOT NULL
     ),
     replay AS (
       SELECT variant_id, warehouse_id, sum(value_delta) AS value, max(id) AS last_id,
              count(*) FILTER (WHERE value_after <> coalesce(value_before, 0) + value_delta)::int AS broken_rows
         FROM costed GROUP BY variant_id, warehouse_id
     )
     SELECT v.sku, w.code AS warehouse, coalesce(c.stock_value, 0) AS value, coalesce(r.value, 0) AS ledger_value,
            m.value_after AS last_value, coalesce(r.broken_rows, 0) AS broken_rows
       FROM replay r
       FULL JOIN stock_costs c ON c.variant_id = r.variant_id AND c.warehouse_id = r.warehouse_id
       JOIN variants v ON v.id = coalesce(r.variant_id, c.variant_id)
       JOIN warehouses w ON w.id = coalesce(r.warehouse_id, c.warehouse_id)
       LEFT JOIN stock_movements m ON m.id = r.last_id
      WHERE coalesce(c.stock_value, 0) <> coalesce(r.value, 0)
         OR coalesce(m.value_after, 0) <> coalesce(c.stock_value, 0) OR coalesce(r.broken_rows, 0) > 0
      ORDER BY v.sku, w.code`,
  );
  return rows;
}
