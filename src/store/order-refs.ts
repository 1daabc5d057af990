import type { Queryable } from './db.js';
import { ORDER_REF_LOCK_SPACE } from './advisory-locks.js';
import { anyOf } from './sql.js';
import { RESERVATION_COLUMNS } from './reservations.js';
import type { ReservationRow } from './reservations.js';

/**
 * Takes a transaction-level advisory lock on each order_ref, in hash order, so two groups with overlapping
 * order_refs take them in the same order and cannot deadlock. Two order_refs with the same hash only wait for each
 * other; they are never confused, since what is decided is read by order_ref under the lock. Held until commit:
 * while this transaction decides whether an order_ref has an open reservation, no other reserving transaction
 * decides it too.
 */
export async function lockOrderRefs(tx: Queryable, orderRefs: readonly string[]): Promise<void> {
  if (orderRefs.length === 0) return;
  // the subquery's order is the order the locks are taken in (one row, one lock, as the scan goes)
  await tx.query(
    `SELECT pg_advisory_xact_lock(${ORDER_REF_LOCK_SPACE}, k.key)
       FROM (SELECT DISTINCT hashtext(ref) AS key FROM unnest($1::text[]) AS ref ORDER BY 1) AS k`,
    [orderRefs],
  );
}

/** The open reservations holding the order_refs in $1 as unique, locked in id order. */
const OPEN_OF_ORDER_REFS = `SELECT ${RESERVATION_COLUMNS} FROM reservations
   WHERE order_ref = ${anyOf('$1::text[]')} AND unique_order_ref
     AND status IN ('pending', 'committed', 'partially_fulfilled')
   ORDER BY id FOR UPDATE`;

/**
 * The open reservations (pending, committed, partially fulfilled) that hold these order_refs as unique, locked
 * in id order as lockReservations locks them. Opted-out reservations (unique_order_ref false) are not read:
 * they block nobody. Found through reservations_open_order_ref_key. A statement of its own, run after
 * lockOrderRefs: under READ COMMITTED its snapshot is taken once those locks are held, so it sees the reservation
 * a transaction that held them before committed (one statement taking both would read with an older snapshot).
 * Sent right behind lockOrderRefs without waiting for it (a pipeline) is the same: the server starts it, and
 * takes its snapshot, only once that statement is done.
 */
export async function lockOpenReservationsOf(tx: Queryable, orderRefs: readonly string[]): Promise<ReservationRow[]> {
  if (orderRefs.length === 0) return [];
  const { rows } = await tx.query<ReservationRow>(OPEN_OF_ORDER_REFS, [orderRefs]);
  return rows;
}

/**
 * The order_refs these reservations hold as unique, read without a lock (an order_ref never changes): what a
 * change that may reopen a closed reservation locks with lockOrderRefs before it locks any reservation.
 */
export async function readUniqueOrderRefs(tx: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await tx.query<{ order_ref: string }>(
    `SELECT DISTINCT order_ref FROM reservations WHERE id = ${anyOf('$1::uuid[]')} AND unique_order_ref`,
    [ids],
  );
  return rows.map((row) => row.order_ref);
}
