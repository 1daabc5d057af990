import type { Queryable } from './db.js';
import type { AppliedMovement, MovementInput } from './levels.js';
import { MOVEMENTS_APPLIED, movementBatch, movementCtes } from './levels.js';
import type { NewReservation } from './reservations.js';
import { reservationCtes, reservationParams } from './reservations.js';

// a reserve group's whole write, one statement: its reservations, their lines and created events, and their holds
// (applyMovements's expressions); the statement's triggers run once, as it ends, on all of it. Beside its answer,
// whether a channel wants reservation.created events, for the next group to know whether to build them.
const WRITE_RESERVATIONS_WITH_HOLDS = `WITH ${reservationCtes('$1', '$2', '$3', '$4')}, ${movementCtes('$5', '$6')},
  applied AS (${MOVEMENTS_APPLIED})
  SELECT (SELECT stockroom_subscribed('reservation.created')) AS created_wanted,
         (SELECT coalesce(json_agg(a ORDER BY a.idx), '[]') FROM applied a) AS applied`;

/** What writeReservationsWithHolds did. */
export interface ReservationsWritten {
  /** the holds, as applyMovements answers */
  applied: AppliedMovement[];
  /** whether a channel wants reservation.created events (so the next group builds them) */
  createdEventsWanted: boolean;
}

/**
 * New pending reservations and the holds they place, in one statement: one round trip and one plan per group
 * instead of two (bench/README.md, issue 18). The holds apply as applyMovements applies any movement (locked
 * levels, checked on the locked numbers, a ledger row each), and `applied` is applyMovements's answer. Their
 * reservation.created events are built by the caller only if `withEvents`; see reservationParams.
 */
export async function writeReservationsWithHolds(
  tx: Queryable,
  reservations: readonly NewReservation[],
  holds: readonly MovementInput[],
  at: Date,
  withEvents: boolean,
): Promise<ReservationsWritten> {
  if (reservations.length === 0 && holds.length === 0) return { applied: [], createdEventsWanted: withEvents };
  const { rows } = await tx.query<{ created_wanted: boolean; applied: AppliedMovement[] }>(
    WRITE_RESERVATIONS_WITH_HOLDS,
    [...reservationParams(reservations, withEvents), movementBatch(null, holds), at],
  );
  const [row] = rows;
  return { applied: row?.applied ?? [], createdEventsWanted: row?.created_wanted ?? withEvents };
}
