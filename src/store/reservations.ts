import type { ReservationStatus } from '../domain/reservation.js';
import type { Queryable } from './db.js';

export interface ReservationRow {
  id: string;
  order_ref: string;
  status: ReservationStatus;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  committed_at: Date | null;
  closed_at: Date | null;
}

const RESERVATION_COLUMNS = 'id, order_ref, status, expires_at, created_at, updated_at, committed_at, closed_at';

export interface ReservationLineRow {
  line_no: number;
  variant_id: number;
  warehouse_id: number;
  sku: string;
  warehouse: string;
  qty: number;
  backordered: number;
  fulfilled_qty: number;
  released_qty: number;
}

export interface NewReservationLine {
  variantId: number;
  warehouseId: number;
  qty: number;
  backordered: number;
}

export interface NewReservation {
  id: string;
  orderRef: string;
  expiresAt: Date;
  now: Date;
  lines: readonly NewReservationLine[];
}

/** New pending reservations with their lines (numbered from 1), any number in one statement. */
export async function insertReservations(tx: Queryable, reservations: readonly NewReservation[]): Promise<void> {
  if (reservations.length === 0) return;
  await tx.query(
    `WITH r AS (
       INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at)
       SELECT id, order_ref, 'pending', expires_at, created_at, created_at
         FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, order_ref text, expires_at timestamptz, created_at timestamptz)
     )
     INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty, backordered)
     SELECT l.reservation_id, l.line_no, l.variant_id, l.warehouse_id, l.qty, l.backordered
       FROM jsonb_to_recordset($2::jsonb)
         AS l(reservation_id uuid, line_no int, variant_id bigint, warehouse_id bigint, qty int, backordered int)`,
    [
      JSON.stringify(reservations.map((r) => ({ id: r.id, order_ref: r.orderRef, expires_at: r.expiresAt, created_at: r.now }))),
      JSON.stringify(
        reservations.flatMap((r) =>
          r.lines.map((l, i) => ({ reservation_id: r.id, line_no: i + 1, variant_id: l.variantId, warehouse_id: l.warehouseId, qty: l.qty, backordered: l.backordered })),
        ),
      ),
    ],
  );
}

export async function readReservation(db: Queryable, id: string, forUpdate = false): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function readReservationLines(db: Queryable, id: string): Promise<ReservationLineRow[]> {
  const { rows } = await db.query<ReservationLineRow>(
    `SELECT rl.line_no, rl.variant_id, rl.warehouse_id, v.sku, w.code AS warehouse, rl.qty, rl.backordered,
            rl.fulfilled_qty, rl.released_qty
       FROM reservation_lines rl JOIN variants v ON v.id = rl.variant_id JOIN warehouses w ON w.id = rl.warehouse_id
      WHERE rl.reservation_id = $1 ORDER BY rl.line_no`,
    [id],
  );
  return rows;
}

export async function setReservationStatus(tx: Queryable, id: string, status: ReservationStatus, now: Date): Promise<void> {
  await tx.query(
    `UPDATE reservations
        SET status = $2, updated_at = $3,
            expires_at = CASE WHEN $2 = 'pending' THEN expires_at END,
            committed_at = CASE WHEN $2 = 'committed' AND committed_at IS NULL THEN $3 ELSE committed_at END,
            closed_at = CASE WHEN $2 IN ('fulfilled', 'released', 'expired') THEN $3 END
      WHERE id = $1`,
    [id, status, now],
  );
}

/** Adds to the shipped or the released count of lines. */
export async function recordLineProgress(
  tx: Queryable,
  id: string,
  column: 'fulfilled_qty' | 'released_qty',
  picks: readonly { line_no: number; qty: number }[],
): Promise<void> {
  await tx.query(
    `UPDATE reservation_lines rl SET ${column} = rl.${column} + p.qty
       FROM jsonb_to_recordset($2::jsonb) AS p(line_no int, qty int)
      WHERE rl.reservation_id = $1 AND rl.line_no = p.line_no`,
    [id, JSON.stringify(picks)],
  );
}

/**
 * Claims pending reservations past their deadline. SKIP LOCKED lets several sweepers (or a sweeper and a
 * checkout committing in time) work side by side without waiting on or taking each other's rows.
 */
export async function claimDueReservations(tx: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM reservations WHERE status = 'pending' AND expires_at <= $1
      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map((r) => r.id);
}
