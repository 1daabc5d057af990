import type { Queryable } from './db.js';
import type { PlannedMovement } from './levels.js';
import { movementBatch, movementCtes } from './levels.js';
import type { NewReservation } from './reservations.js';
import { reservationCtes, reservationParams } from './reservations.js';

// a reserve group's whole write, one statement: its reservations, their lines and, wanted, their created events,
// their holds (applyMovements's expressions) and, wanted, their stock.changed events; the statement's triggers run
// once, as it ends, on all of it. It refuses itself (migration 0034) unless every hold applied and left its level's
// reserved where it was planned to; its answer is which events channels want, for the next group to know which to
// write. The holds' parameters follow reservationParams's, two or four.
const writeStatement = ({ reservationCreated, stockChanged }: EventsWanted): string => {
  const holds = reservationCreated ? 5 : 3;
  return `WITH ${reservationCtes('$1', '$2', reservationCreated ? { ids: '$3', data: '$4' } : undefined)},
     ${movementCtes(`$${holds}`, `$${holds + 1}`, { stockEvents: stockChanged, levelsLocked: true })}
  SELECT (SELECT stockroom_subscribed('reservation.created')) AS reservation_created,
         (SELECT stockroom_subscribed('stock.changed')) AS stock_changed,
         (SELECT stockroom_refuse_unplanned((SELECT count(*) FROM req) - count(*)) FROM done
           WHERE planned_reserved IS NULL OR reserved_after = planned_reserved) AS as_planned_check`;
};
/** The four texts, by `${reservationCreated}/${stockChanged}`: each prepared once per connection. */
const WRITES: Record<`${boolean}/${boolean}`, string> = {
  'false/false': writeStatement({ reservationCreated: false, stockChanged: false }),
  'false/true': writeStatement({ reservationCreated: false, stockChanged: true }),
  'true/false': writeStatement({ reservationCreated: true, stockChanged: false }),
  'true/true': writeStatement({ reservationCreated: true, stockChanged: true }),
};

/**
 * Which events a channel wants, of those a reserve group writes itself: only those are built (a few µs a
 * reservation) and written by its statement, which otherwise has no outbox insert at all (one that writes nothing
 * still starts and ends its nodes, indexes and trigger: about 0.1 ms of the database's time a group). One a
 * channel starts wanting between groups is written by the table's trigger instead (the reservations' for
 * reservation.created, the levels' for stock.changed), so none is lost.
 */
export interface EventsWanted {
  reservationCreated: boolean;
  stockChanged: boolean;
}

/**
 * New pending reservations and the holds they place, in one statement: one round trip and one plan per group
 * instead of two (bench/README.md, issue 18). The holds apply as applyMovements applies any movement (locked
 * levels, checked on the locked numbers, a ledger row each); the statement fails, and so the transaction, if one
 * did not apply or left reserved at another number than its `reservedAfter`. Nothing in the answer needs reading
 * before the commit, so a caller may send it with the COMMIT (Db.transaction). It writes the events in `wanted`
 * (see EventsWanted) and answers which are wanted now.
 */
export async function writeReservationsWithHolds(
  tx: Queryable,
  reservations: readonly NewReservation[],
  holds: readonly PlannedMovement[],
  at: Date,
  wanted: EventsWanted,
): Promise<EventsWanted> {
  if (reservations.length === 0 && holds.length === 0) return wanted;
  const { rows } = await tx.query<{ reservation_created: boolean; stock_changed: boolean }>(
    WRITES[`${wanted.reservationCreated}/${wanted.stockChanged}`],
    [...reservationParams(reservations, wanted.reservationCreated), movementBatch(null, holds, true), at],
  );
  const [row] = rows;
  return row ? { reservationCreated: row.reservation_created, stockChanged: row.stock_changed } : wanted;
}
