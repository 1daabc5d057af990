import type { ReservationStatus } from '../domain/reservation.js';
import type { Queryable } from './db.js';
import { RESERVATION_COLUMNS } from './reservations.js';
import type { ReservationRow } from './reservations.js';

/** Which reservations to list; every filter left out matches all. Names are resolved to ids by the caller. */
export interface ReservationFilter {
  status?: ReservationStatus | undefined;
  orderRef?: string | undefined;
  /** holds a line of this variant (and warehouse, when both are given) */
  variantId?: number | undefined;
  /** holds a line in this warehouse */
  warehouseId?: number | undefined;
  createdAfter?: Date | undefined;
  /** pending and due before this time (only a pending reservation has a deadline) */
  expiresBefore?: Date | undefined;
}

/** A statement with its values, as the database is asked it (and EXPLAINed in test/reservation-list.test.ts). */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * The WHERE of a filter, built from fixed fragments with only the values as parameters. Only the conditions that
 * are asked for are in it, so the planner sees each query as it is and picks the index that fits it (0015):
 * a plain `$1 IS NULL OR ...` for every filter would leave it one generic plan.
 */
function conditions(filter: ReservationFilter, values: unknown[]): string[] {
  const where: string[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.status !== undefined) where.push(`r.status = ${param(filter.status)}`);
  if (filter.orderRef !== undefined) where.push(`r.order_ref = ${param(filter.orderRef)}`);
  if (filter.createdAfter !== undefined) where.push(`r.created_at > ${param(filter.createdAfter)}`);
  // said as the due index's own predicate (status = 'pending'), so reservations_due_idx serves it
  if (filter.expiresBefore !== undefined)
    where.push(`r.status = 'pending' AND r.expires_at < ${param(filter.expiresBefore)}`);
  const line: string[] = [];
  if (filter.variantId !== undefined) line.push(`rl.variant_id = ${param(filter.variantId)}`);
  if (filter.warehouseId !== undefined) line.push(`rl.warehouse_id = ${param(filter.warehouseId)}`);
  if (line.length > 0)
    where.push(`EXISTS (SELECT 1 FROM reservation_lines rl WHERE rl.reservation_id = r.id AND ${line.join(' AND ')})`);
  return where;
}

const whereOf = (where: readonly string[]): string => (where.length > 0 ? `WHERE ${where.join(' AND ')}` : '');

/**
 * One page of reservations, newest first: (created_at, id) descending, after the reservation `after` names (the
 * last one of the page before). Keyset paging: a page costs the same at the millionth row as at the first.
 */
export function reservationPageStatement(
  filter: ReservationFilter,
  page: { after?: string | undefined; limit: number },
): Statement {
  const values: unknown[] = [];
  const where = conditions(filter, values);
  if (page.after !== undefined) {
    values.push(page.after);
    where.push(`(r.created_at, r.id) < (SELECT c.created_at, c.id FROM reservations c WHERE c.id = $${values.length})`);
  }
  values.push(page.limit);
  return {
    text: `SELECT ${RESERVATION_COLUMNS} FROM reservations r ${whereOf(where)}
            ORDER BY r.created_at DESC, r.id DESC LIMIT $${values.length}`,
    values,
  };
}

/**
 * How many reservations match a filter, counting at most `max` + 1 of them: walked in page order through the same
 * index as the page, so the count costs what reading that many rows of the list costs, and never a whole table.
 */
export function reservationCountStatement(filter: ReservationFilter, max: number): Statement {
  const values: unknown[] = [];
  const where = conditions(filter, values);
  values.push(max + 1);
  return {
    text: `SELECT count(*)::int AS n FROM (
             SELECT 1 FROM reservations r ${whereOf(where)}
              ORDER BY r.created_at DESC, r.id DESC LIMIT $${values.length}) AS matching`,
    values,
  };
}

/** A page of reservations (without their lines), newest first. */
export async function searchReservations(
  db: Queryable,
  filter: ReservationFilter,
  page: { after?: string | undefined; limit: number },
): Promise<ReservationRow[]> {
  const { text, values } = reservationPageStatement(filter, page);
  return (await db.query<ReservationRow>(text, values)).rows;
}

/** The number of reservations a filter matches, up to `max` + 1 (more than `max` are not counted). */
export async function countReservations(db: Queryable, filter: ReservationFilter, max: number): Promise<number> {
  const { text, values } = reservationCountStatement(filter, max);
  const { rows } = await db.query<{ n: number }>(text, values);
  return rows[0]?.n ?? 0;
}
