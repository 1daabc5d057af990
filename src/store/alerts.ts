import type { AlertType } from '../domain/alerts.js';
import type { Queryable } from './db.js';

/** An alert as stored, with its variant and warehouse by name. */
export interface AlertRow {
  id: number;
  type: AlertType;
  sku: string;
  /** null: the variant over all warehouses */
  warehouse: string | null;
  available: number;
  threshold: number;
  created_at: Date;
}

/** Which alerts to list, and the page; every filter left out matches all. */
export interface AlertFilter {
  type?: AlertType | undefined;
  sku?: string | undefined;
  warehouse?: string | undefined;
  /** keyset: alerts with a smaller id than this (newest first) */
  before?: number | undefined;
  limit: number;
}

/** Alerts raised by the database (migration 0007), newest first. */
export async function listAlerts(db: Queryable, filter: AlertFilter): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT a.id, a.type, v.sku, w.code AS warehouse, a.available, a.threshold, a.created_at
       FROM alerts a JOIN variants v ON v.id = a.variant_id LEFT JOIN warehouses w ON w.id = a.warehouse_id
      WHERE ($1::text IS NULL OR a.type = $1)
        AND ($2::text IS NULL OR v.sku = $2)
        AND ($3::text IS NULL OR w.code = $3)
        AND ($4::bigint IS NULL OR a.id < $4)
      ORDER BY a.id DESC LIMIT $5`,
    [filter.type ?? null, filter.sku ?? null, filter.warehouse ?? null, filter.before ?? null, filter.limit],
  );
  return rows;
}
