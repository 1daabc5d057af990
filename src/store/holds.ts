import type { Queryable } from './db.js';
import type { AppliedMovement, MovementInput } from './levels.js';
import { MOVEMENTS_APPLIED, movementBatch, movementCtes } from './levels.js';
import type { NewReservation } from './reservations.js';
import { reservationCtes, reservationParams } from './reservations.js';

// a reserve group's whole write, one statement: its reservations, their lines and created events, and their holds
// (applyMovements's expressions); the statement's triggers run once, as it ends, on all of it
const WRITE_RESERVATIONS_WITH_HOLDS = `WITH ${reservationCtes('$1', '$2', '$3', '$4')}, ${movementCtes('$5', '$6')}
  ${MOVEMENTS_APPLIED}`;

/**
 * New pending reservations and the holds they place, in one statement: one round trip and one plan per group
 * instead of two (bench/README.md, issue 18). The holds apply as applyMovements applies any movement (locked
 * levels, checked on the locked numbers, a ledger row each), and what it returns is applyMovements's answer.
 */
export async function writeReservationsWithHolds(
  tx: Queryable,
  reservations: readonly NewReservation[],
  holds: readonly MovementInput[],
  at: Date,
): Promise<AppliedMovement[]> {
  if (reservations.length === 0 && holds.length === 0) return [];
  const { rows } = await tx.query<AppliedMovement>(WRITE_RESERVATIONS_WITH_HOLDS, [
    ...reservationParams(reservations),
    movementBatch(null, holds),
    at,
  ]);
  return rows;
}
