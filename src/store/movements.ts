import type { MovementType, Reason } from '../domain/movements.js';
import type { StockState } from '../domain/stock-state.js';
import type { Queryable } from './db.js';

/** A ledger row, with the SKU and warehouse code it is shown by. */
export interface MovementRow {
  id: number;
  sku: string;
  warehouse: string;
  type: MovementType;
  delta_on_hand: number;
  delta_reserved: number;
  on_hand_after: number;
  reserved_after: number;
  reason: Reason | null;
  reference: string | null;
  actor: string | null;
  reservation_id: string | null;
  /** a 'state' row: the states its units moved between and how many (null on every other row) */
  state_from: StockState | null;
  state_to: StockState | null;
  state_qty: number | null;
  /** the location the row's units left (negative location_delta) or entered; null when it names none */
  location: string | null;
  location_delta: number | null;
  /** what one unit moved at and what the row did to the level's value, in minor units (null: not costed) */
  unit_cost: number | null;
  value_delta: number | null;
  value_after: number | null;
  /** a kit component's row: the kit its units moved for (migration 0030) */
  kit: string | null;
  created_at: Date;
}

/** Which ledger rows listMovements returns: each field given narrows the list. */
export interface MovementFilter {
  sku?: string | undefined;
  warehouse?: string | undefined;
  type?: MovementType | undefined;
  since?: Date | undefined;
  reservationId?: string | undefined;
  /** keyset: rows with a smaller id than this (newest first) */
  before?: number | undefined;
  limit: number;
}

/** Whether a ledger row has this id. */
export async function movementExists(db: Queryable, id: number): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 AS found FROM stock_movements WHERE id = $1', [id]);
  return rows.length > 0;
}

/** Ledger rows, newest first. */
export async function listMovements(db: Queryable, filter: MovementFilter): Promise<MovementRow[]> {
  const { rows } = await db.query<MovementRow>(
    `SELECT m.id, v.sku, w.code AS warehouse, m.type, m.delta_on_hand, m.delta_reserved, m.on_hand_after, m.reserved_after,
            m.reason, m.reference, m.actor, m.reservation_id, m.state_from, m.state_to, m.state_qty,
            b.code AS location, m.bin_delta AS location_delta, m.unit_cost, m.value_delta, m.value_after,
            m.created_at, (SELECT k.sku FROM variants k WHERE k.id = m.kit_variant_id) AS kit
       FROM stock_movements m JOIN variants v ON v.id = m.variant_id JOIN warehouses w ON w.id = m.warehouse_id
       LEFT JOIN bins b ON b.id = m.bin_id
      WHERE ($1::text IS NULL OR v.sku = $1)
        AND ($2::text IS NULL OR w.code = $2)
        AND ($3::text IS NULL OR m.type = $3)
        AND ($4::timestamptz IS NULL OR m.created_at >= $4)
        AND ($5::uuid IS NULL OR m.reservation_id = $5)
        AND ($6::bigint IS NULL OR m.id < $6)
      ORDER BY m.id DESC LIMIT $7`,
    [
      filter.sku ?? null,
      filter.warehouse ?? null,
      filter.type ?? null,
      filter.since ?? null,
      filter.reservationId ?? null,
      filter.before ?? null,
      filter.limit,
    ],
  );
  return rows;
}
