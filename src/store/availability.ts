import type { BackorderPolicy } from '../domain/backorder.js';
import type { LimitScope } from '../domain/variant-limits.js';
import type { Queryable } from './db.js';
import { dueHoldsAt } from './reservations.js';

/** A variant's storefront settings and its level in every warehouse. */
export interface AvailabilityRow {
  sku: string;
  low_stock_threshold: number;
  backorder_policy: BackorderPolicy;
  backorder_limit: number;
  backorder_lead_days: number | null;
  limit_scope: LimitScope;
  /** the variant's own safety stock (a variant-wide variant's levels hold none) */
  variant_safety_stock: number;
  track_inventory: boolean;
  /**
   * the earliest deadline, after now and up to the horizon asked for, of a pending reservation holding this
   * variant: past it the answer changes without any change in the database
   */
  next_deadline: Date | null;
  /** each level, with the area its warehouse serves */
  levels: {
    warehouse: string;
    on_hand: number;
    reserved: number;
    safety_stock: number;
    damaged: number;
    quality_control: number;
    regions: string[];
    serves_within_km: number | null;
    lat: number | null;
    lon: number | null;
    /** the earliest expected date of units on order into this warehouse, YYYY-MM-DD */
    incoming_date: string | null;
  }[];
}

/**
 * What the storefront needs of these SKUs, in one statement; SKUs that do not exist are missing. Holds of
 * pending reservations past their deadline at `now` are left out of reserved (they hold nothing, swept or not);
 * with a `horizon`, each SKU says when its next hold runs out before it.
 */
export async function readAvailability(
  db: Queryable,
  skus: readonly string[],
  now: Date,
  horizon: Date | null = null,
): Promise<AvailabilityRow[]> {
  const { rows } = await db.query<AvailabilityRow>(
    `WITH due AS (${dueHoldsAt('$2')}),
     soon AS (
       SELECT rl.variant_id, min(r.expires_at) AS next_deadline
         FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
        WHERE r.status = 'pending' AND r.expires_at > $2 AND r.expires_at <= $3
          AND rl.variant_id IN (SELECT id FROM variants WHERE sku = ANY($1::text[]))
        GROUP BY rl.variant_id
     )
     SELECT v.sku, v.low_stock_threshold, v.backorder_policy, v.backorder_limit, v.backorder_lead_days,
            v.limit_scope, v.safety_stock AS variant_safety_stock, v.track_inventory,
            (SELECT s.next_deadline FROM soon s WHERE s.variant_id = v.id) AS next_deadline,
            coalesce(json_agg(json_build_object('warehouse', w.code, 'on_hand', l.on_hand,
                                                'reserved', l.reserved - coalesce(d.held, 0),
                                                'safety_stock', l.safety_stock, 'damaged', l.damaged,
                                                'quality_control', l.quality_control, 'regions', w.regions,
                                                'serves_within_km', w.serves_within_km, 'lat', w.lat, 'lon', w.lon,
                                                'incoming_date',
                                                (SELECT min(i.expected_date)::text FROM purchase_incoming i
                                                  WHERE i.variant_id = v.id AND i.warehouse_id = w.id))
                              ORDER BY w.code)
                       FILTER (WHERE w.id IS NOT NULL), '[]') AS levels
       FROM variants v
       -- archived levels (their warehouse or variant archived) sell nothing and are left out
       LEFT JOIN stock_levels l ON l.variant_id = v.id AND NOT l.archived
       LEFT JOIN warehouses w ON w.id = l.warehouse_id
       LEFT JOIN due d ON d.variant_id = l.variant_id AND d.warehouse_id = l.warehouse_id
      WHERE v.sku = ANY($1::text[])
      GROUP BY v.id`,
    [skus, now, horizon],
  );
  return rows;
}
