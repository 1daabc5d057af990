import type { Queryable } from './db.js';
import type { PlannedMovement } from './levels.js';
import { movementBatch, movementCtes } from './levels.js';
import type { NewReservation } from './reservations.js';
import { reservationCtes, reservationParams } from './reservations.js';

// a reserve group's whole write, one statement: its reservations, their lines and created events, and their holds
// (applyMovements's expressions); the statement's triggers run once, as it ends, on all of it. It refuses itself
// (migration 0034) unless every hold applied and left its level's reserved where it was planned to; its answer is
// whether a channel wants reservation.created events, for the next group to know whether to build them.
const WRITE_RESERVATIONS_WITH_HOLDS = `WITH ${reservationCtes('$1', '$2', '$3', '$4')}, ${movementCtes('$5', '$6')}
  SELECT (SELECT stockroom_subscribed('reservation.created')) AS created_wanted,
         (SELECT stockroom_refuse_unplanned((SELECT count(*) FROM req) - count(*)) FROM done
           WHERE planned_reserved IS NULL OR reserved_after = planned_reserved) AS as_planned_check`;

/** What writeReservationsWithHolds did. */
export interface ReservationsWritten {
  /** whether a channel wants reservation.created events (so the next group builds them) */
  createdEventsWanted: boolean;
}

/**
 * New pending reservations and the holds they place, in one statement: one round trip and one plan per group
 * instead of two (bench/README.md, issue 18). The holds apply as applyMovements applies any movement (locked
 * levels, checked on the locked numbers, a ledger row each); the statement fails, and so the transaction, if one
 * did not apply or left reserved at another number than its `reservedAfter`. Nothing in the answer needs reading
 * before the commit, so a caller may send it with the COMMIT (Db.transaction). Their reservation.created events
 * are built by the caller only if `withEvents`; see reservationParams.
 */
export async function writeReservationsWithHolds(
  tx: Queryable,
  reservations: readonly NewReservation[],
  holds: readonly PlannedMovement[],
  at: Date,
  withEvents: boolean,
): Promise<ReservationsWritten> {
  if (reservations.length === 0 && holds.length === 0) return { createdEventsWanted: withEvents };
  const { rows } = await tx.query<{ created_wanted: boolean }>(WRITE_RESERVATIONS_WITH_HOLDS, [
    ...reservationParams(reservations, withEvents),
    movementBatch(null, holds, true),
    at,
  ]);
  const [row] = rows;
  return { createdEventsWanted: row?.created_wanted ?? withEvents };
}
