import type { Queryable } from './db.js';
import type { PlannedMovement } from './levels.js';
import { movementBatch, movementCtes } from './levels.js';
import type { NewReservation } from './reservations.js';
import { reservationCtes, reservationParams } from './reservations.js';

// a reserve group's whole write, one statement: its reservations, their lines and, wanted, their created events,
// their holds (applyMovements's expressions) and, wanted, their stock.changed events; the statement's triggers run
// once, as it ends, on all of it. It refuses itself (migration 0034) unless every hold applied and left its level's
// reserved where it was planned to; its answer is which events channels want, for the next group to know which to
// build. Four texts, one per choice of events, each prepared once per connection.
const writeStatement = ({ created, stock }: EventsWanted): string => `WITH ${
  created ? reservationCtes('$1', '$2', { ids: '$3', events: '$4' }) : reservationCtes('$1', '$2')
}, ${created ? movementCtes('$5', '$6', stock) : movementCtes('$3', '$4', stock)}
  SELECT (SELECT stockroom_subscribed('reservation.created')) AS created_wanted,
         (SELECT stockroom_subscribed('stock.changed')) AS stock_wanted,
         (SELECT stockroom_refuse_unplanned((SELECT count(*) FROM req) - count(*)) FROM done
           WHERE planned_reserved IS NULL OR reserved_after = planned_reserved) AS as_planned_check`;
const WRITE_WITH_NO_EVENTS = writeStatement({ created: false, stock: false });
const WRITE_WITH_CREATED_EVENTS = writeStatement({ created: true, stock: false });
const WRITE_WITH_STOCK_EVENTS = writeStatement({ created: false, stock: true });
const WRITE_WITH_ALL_EVENTS = writeStatement({ created: true, stock: true });

/**
 * Which events a channel wants, of those a reserve group writes itself: only those are built and written by its
 * statement. One a channel starts wanting between groups is written by the table's trigger instead (the
 * reservations' for reservation.created, the levels' for stock.changed), so none is lost.
 */
export interface EventsWanted {
  /** reservation.created */
  created: boolean;
  /** stock.changed */
  stock: boolean;
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
  const { rows } = await tx.query<{ created_wanted: boolean; stock_wanted: boolean }>(
    wanted.created
      ? wanted.stock
        ? WRITE_WITH_ALL_EVENTS
        : WRITE_WITH_CREATED_EVENTS
      : wanted.stock
        ? WRITE_WITH_STOCK_EVENTS
        : WRITE_WITH_NO_EVENTS,
    [...reservationParams(reservations, wanted.created), movementBatch(null, holds, true), at],
  );
  const [row] = rows;
  return row ? { created: row.created_wanted, stock: row.stock_wanted } : wanted;
}
