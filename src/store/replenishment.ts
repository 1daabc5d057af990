import type { Queryable } from './db.js';

/** What replenishment knows of one variant: its settings, position, open order and recent demand. */
export interface ReplenishmentRow {
  variant_id: number;
  sku: string;
  reorder_point: number | null;
  reorder_qty: number | null;
  /** the variant's own, else its supplier's */
  lead_time_days: number | null;
  supplier_id: number | null;
  supplier: string | null;
  /** where the supplier delivers unless told otherwise */
  supplier_warehouse_id: number | null;
  /** that warehouse is archived: nothing can be ordered into it */
  supplier_warehouse_archived: boolean;
  /** on hand less reserved, over all warehouses */
  net: number;
  /** on orders the supplier has, not yet received */
  incoming: number;
  /** an order not closed yet (a draft included) that has this variant on it */
  open_purchase_order: number | null;
  /** units shipped per UTC day (YYYY-MM-DD) within the window; days without any are missing */
  demand: Record<string, number>;
}

/** Which variants to read, over which demand window, and the page. */
export interface ReplenishmentFilter {
  /** midnight UTC of the day the window ends before */
  until: Date;
  windowDays: number;
  /** these SKUs whatever their position; without them, only variants at or below their reorder point */
  skus?: readonly string[] | undefined;
  /** keyset: variants with a larger id */
  after?: number | undefined;
  limit?: number | undefined;
}

/** Everything replenishment decides on, per variant, in one statement. */
export async function readReplenishment(db: Queryable, filter: ReplenishmentFilter): Promise<ReplenishmentRow[]> {
  const { rows } = await db.query<ReplenishmentRow>(
    `WITH cand AS (
       SELECT v.id, v.sku, v.reorder_point, v.reorder_qty, coalesce(v.lead_time_days, s.lead_time_days) AS lead_time_days,
              v.supplier_id, s.code AS supplier, s.warehouse_id AS supplier_warehouse_id,
              coalesce((SELECT w.archived_at IS NOT NULL FROM warehouses w WHERE w.id = s.warehouse_id), false)
                AS supplier_warehouse_archived
         FROM variants v LEFT JOIN suppliers s ON s.id = v.supplier_id
        -- an archived variant is not reordered (it is asked about by SKU all the same)
        WHERE CASE WHEN $1::text[] IS NULL THEN v.reorder_point IS NOT NULL AND v.archived_at IS NULL
                   ELSE v.sku = ANY($1::text[]) END
          -- a kit holds no stock of its own, asked about or not: its components are what is ordered
          AND NOT EXISTS (SELECT 1 FROM kit_components k WHERE k.kit_variant_id = v.id)
          AND v.id > $4
     ),
     numbers AS (
       SELECT c.*,
              -- damaged units and units in quality control will not be sold: they are not part of the position
              -- bigint: a variant's levels and orders add up past what one integer column holds (each level is within it)
              coalesce((SELECT sum(l.on_hand - l.reserved - l.damaged - l.quality_control) FROM stock_levels l WHERE l.variant_id = c.id), 0)::bigint AS net,
              coalesce((SELECT sum(i.qty) FROM purchase_incoming i WHERE i.variant_id = c.id), 0)::bigint AS incoming,
              (SELECT min(o.id) FROM purchase_order_lines pl JOIN purchase_orders o ON o.id = pl.purchase_order_id
                WHERE pl.variant_id = c.id AND o.status IN ('DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL')) AS open_purchase_order
         FROM cand c
     ),
     due AS (
       SELECT * FROM numbers n
        WHERE $1::text[] IS NOT NULL OR n.net + n.incoming <= n.reorder_point
        ORDER BY n.id LIMIT $5
     )
     SELECT d.id AS variant_id, d.sku, d.reorder_point, d.reorder_qty, d.lead_time_days, d.supplier_id, d.supplier, d.supplier_warehouse_id,
            d.supplier_warehouse_archived,
            d.net, d.incoming, d.open_purchase_order,
            coalesce((SELECT jsonb_object_agg(x.day, x.units) FROM (
                        SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(-m.delta_on_hand)::bigint AS units
                          FROM stock_movements m
                         WHERE m.variant_id = d.id AND m.type = 'fulfil'
                           AND m.created_at >= $2::timestamptz - make_interval(days => $3) AND m.created_at < $2::timestamptz
                         GROUP BY 1) x), '{}'::jsonb) AS demand
       FROM due d ORDER BY d.id`,
    [filter.skus ?? null, filter.until, filter.windowDays, filter.after ?? 0, filter.limit ?? null],
  );
  return rows;
}

/**
 * Claims a scheduled job for a run, in the caller's transaction: the row is locked until it commits, so runs of
 * one job never overlap. With `everyMs`, only if the last run is that long ago. @returns false if not due
 */
export async function claimJob(tx: Queryable, name: string, everyMs?: number): Promise<boolean> {
  const { rows } = await tx.query(
    `UPDATE scheduled_jobs SET last_run_at = now()
      WHERE name = $1 AND ($2::double precision IS NULL OR last_run_at IS NULL OR last_run_at <= now() - make_interval(secs => $2 / 1000))
      RETURNING name`,
    [name, everyMs ?? null],
  );
  return rows.length > 0;
}

/** The supplier's replenishment draft for a warehouse, if one is open, locked for adding lines. */
export async function lockReplenishmentDraft(
  tx: Queryable,
  supplierId: number,
  warehouseId: number,
): Promise<number | undefined> {
  const { rows } = await tx.query<{ id: number }>(
    `SELECT id FROM purchase_orders
      WHERE supplier_id = $1 AND warehouse_id = $2 AND status = 'DRAFT' AND origin = 'replenishment'
      ORDER BY id LIMIT 1 FOR UPDATE`,
    [supplierId, warehouseId],
  );
  return rows[0]?.id;
}
