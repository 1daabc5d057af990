import type { BackorderPolicy } from '../domain/backorder.js';
import type { Queryable } from './db.js';

/** A variant's storefront settings and its level in every warehouse. */
export interface AvailabilityRow {
  sku: string;
  low_stock_threshold: number;
  backorder_policy: BackorderPolicy;
  backorder_limit: number;
  backorder_lead_days: number | null;
  /** each level, with the area its warehouse serves */
  levels: {
    warehouse: string;
    on_hand: number;
    reserved: number;
    safety_stock: number;
    regions: string[];
    serves_within_km: number | null;
    lat: number | null;
    lon: number | null;
    /** the earliest expected date of units on order into this warehouse, YYYY-MM-DD */
    incoming_date: string | null;
  }[];
}

/** What the storefront needs of these SKUs, in one statement; SKUs that do not exist are missing. */
export async function readAvailability(db: Queryable, skus: readonly string[]): Promise<AvailabilityRow[]> {
  const { rows } = await db.query<AvailabilityRow>(
    `SELECT v.sku, v.low_stock_threshold, v.backorder_policy, v.backorder_limit, v.backorder_lead_days,
            coalesce(json_agg(json_build_object('warehouse', w.code, 'on_hand', l.on_hand, 'reserved', l.reserved,
                                                'safety_stock', l.safety_stock, 'regions', w.regions,
                                                'serves_within_km', w.serves_within_km, 'lat', w.lat, 'lon', w.lon,
                                                'incoming_date',
                                                (SELECT min(i.expected_date)::text FROM purchase_incoming i
                                                  WHERE i.variant_id = v.id AND i.warehouse_id = w.id))
                              ORDER BY w.code)
                       FILTER (WHERE w.id IS NOT NULL), '[]') AS levels
       FROM variants v
       LEFT JOIN stock_levels l ON l.variant_id = v.id
       LEFT JOIN warehouses w ON w.id = l.warehouse_id
      WHERE v.sku = ANY($1::text[])
      GROUP BY v.id`,
    [skus],
  );
  return rows;
}
