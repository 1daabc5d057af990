import type { ReservationStatus } from '../domain/reservation.js';
import type { Queryable } from './db.js';
import { eventBatchCte } from './outbox.js';
import { anyOf, opaque, opaqueArray } from './sql.js';

/** A reservation as stored, without its lines. */
export interface ReservationRow {
  id: string;
  order_ref: string;
  status: ReservationStatus;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  committed_at: Date | null;
  closed_at: Date | null;
  /** false: opted out of one-open-reservation-per-order_ref; it neither blocks nor is blocked (migration 0015) */
  unique_order_ref: boolean;
}

/** The columns a ReservationRow is read from. */
export const RESERVATION_COLUMNS =
  'id, order_ref, status, expires_at, created_at, updated_at, committed_at, closed_at, unique_order_ref';

/** A reservation line as stored, with the SKU and warehouse code it is shown by. */
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
  /** false for a line of an untracked variant: it records where the order ships from and holds nothing */
  holds_stock: boolean;
  /** a kit component's line: the line of its kit (which holds nothing itself); null for any other (migration 0030) */
  kit_line_no: number | null;
}

/** A line of a new reservation: where its units are held and how many of them are backordered. */
export interface NewReservationLine {
  variantId: number;
  warehouseId: number;
  /** the SKU and warehouse code the line is shown by (in its reservation.created event) */
  sku: string;
  warehouse: string;
  qty: number;
  backordered: number;
  /** false: the line holds nothing (an untracked variant); true unless said */
  holdsStock?: boolean;
  /** a kit component's line: its kit's line number */
  kitLineNo?: number | null;
}

/** A new pending reservation, as writeReservationsWithHolds (store/holds.ts) writes it. */
export interface NewReservation {
  id: string;
  orderRef: string;
  /** whether the order_ref is unique among open reservations (see lockOrderRefs) */
  uniqueOrderRef: boolean;
  expiresAt: Date;
  now: Date;
  lines: readonly NewReservationLine[];
}

/** What reservationParams's events are joined with: the record separator, U+001E (chr(30) in SQL). */
const EVENT_SEPARATOR = '\u001e';

/**
 * A new reservation as its reservation.created event shows it: as stockroom_reservation_json (migration 0018) shows
 * any reservation, GET /v1/reservations/{id}'s shape with previous_status and updated_at.
 */
const createdEventData = (reservation: NewReservation): Record<string, unknown> => ({
  id: reservation.id,
  order_ref: reservation.orderRef,
  status: 'pending',
  previous_status: null,
  expires_at: reservation.expiresAt.toISOString(),
  created_at: reservation.now.toISOString(),
  committed_at: null,
  closed_at: null,
  updated_at: reservation.now.toISOString(),
  backordered: reservation.lines.some((line) => line.backordered > 0),
  lines: reservation.lines.map((line) => ({
    sku: line.sku,
    warehouse: line.warehouse,
    qty: line.qty,
    backordered: line.backordered,
    fulfilled: 0,
    released: 0,
  })),
});

/** Where reservationCtes finds the group's reservation.created events: $-parameters, reservationParams's last two. */
export interface CreatedEventParams {
  /** the reservations' ids, uuid[] */
  ids: string;
  /** each event's data, joined by EVENT_SEPARATOR */
  data: string;
}

/** The reservations' created events, from the data built for them (reservationParams). */
const createdEventsCte = (events: CreatedEventParams): string =>
  eventBatchCte(
    'created_events',
    'reservation.created',
    "'reservation:' || e.id",
    `SELECT d.id, d.data
       FROM unnest(${events.ids}::uuid[], string_to_array(${events.data}, chr(30))) AS d(id, data)
      WHERE (SELECT stockroom_subscribed('reservation.created'))
      ORDER BY 1`,
  );

/**
 * New pending reservations with their lines (numbered from 1), any number, and, given `events`, their
 * reservation.created events (migration 0023): one outbox row, as the reservations' trigger writes for any other
 * statement, from what is known here rather than read back line by line. The expressions tell the triggers on
 * reservations and lines, which run as the statement ends, that its reservations came whole and whether their
 * events are written (transaction-local settings they read and clear): without them, the reservations' trigger
 * writes them if a channel wants them by now. Common table expressions, for the statement that writes them with
 * their holds (store/holds.ts); their parameters are reservationParams's. Without events, no outbox insert at all
 * (store/holds.ts says why).
 */
export const reservationCtes = (reservations: string, lines: string, events?: CreatedEventParams): string => `
     new_reservations AS (
       INSERT INTO reservations (id, order_ref, status, expires_at, created_at, updated_at, unique_order_ref)
       SELECT id, order_ref, 'pending', expires_at, created_at, created_at, unique_order_ref
         FROM json_to_recordset(${reservations}::json)
           AS r(id uuid, order_ref text, expires_at timestamptz, created_at timestamptz, unique_order_ref boolean)
     ),${events ? `${createdEventsCte(events)},` : ''}
     new_lines AS (
       INSERT INTO reservation_lines (reservation_id, line_no, variant_id, warehouse_id, qty, backordered, holds_stock,
                                      kit_line_no)
       SELECT l.reservation_id, l.line_no, l.variant_id, l.warehouse_id, l.qty, l.backordered, l.holds_stock, l.kit_line_no
         FROM json_to_recordset(${lines}::json)
           AS l(reservation_id uuid, line_no int, variant_id bigint, warehouse_id bigint, qty int, backordered int,
                holds_stock boolean, kit_line_no int)
        -- tells the triggers, once, as the statement starts: these lines are their new reservations' own (migration
        -- 0019), and these reservations came with their lines and, given, their created events (0023)
        WHERE (SELECT set_config('stockroom.lines_created', 'on', true)
                      || set_config('stockroom.reservations_created', '${events ? 'on' : ''}', true)) IS NOT NULL
     )`;

/**
 * reservationCtes's parameters for these reservations, in order: the reservations and their lines, then, if
 * `withEvents` (a channel wanted them when last asked), their ids and their reservation.created events' data.
 */
export function reservationParams(
  reservations: readonly NewReservation[],
  withEvents: boolean,
): [string, string] | [string, string, string[], string] {
  const written: [string, string] = [
    JSON.stringify(
      reservations.map((reservation) => ({
        id: reservation.id,
        order_ref: reservation.orderRef,
        unique_order_ref: reservation.uniqueOrderRef,
        expires_at: reservation.expiresAt,
        created_at: reservation.now,
      })),
    ),
    JSON.stringify(
      reservations.flatMap((reservation) =>
        reservation.lines.map((line, i) => ({
          reservation_id: reservation.id,
          line_no: i + 1,
          variant_id: line.variantId,
          warehouse_id: line.warehouseId,
          qty: line.qty,
          backordered: line.backordered,
          holds_stock: line.holdsStock ?? true,
          // only a kit component's line carries it (the column reads null for every other)
          ...(line.kitLineNo ? { kit_line_no: line.kitLineNo } : {}),
        })),
      ),
    ),
  ];
  if (!withEvents) return written;
  return [
    ...written,
    reservations.map((reservation) => reservation.id),
    // each event's data as json text, spliced into the batch as it is (a uuid and JSON.stringify's output need no
    // escaping), in one text split on a record separator, which JSON.stringify never writes (it escapes every
    // control character): a text[] would be escaped here and taken apart again there, quote by quote
    reservations.map((reservation) => JSON.stringify(createdEventData(reservation))).join(EVENT_SEPARATOR),
  ];
}

/** One reservation as it stands, unlocked. */
export async function readReservation(db: Queryable, id: string): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1`, [
    id,
  ]);
  return rows[0];
}

/** How many of these reservations exist: whether a group's write is in, asked after its COMMIT's answer was lost. */
export async function countReservations(db: Queryable, ids: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reservations WHERE id = ${anyOf('$1::uuid[]')}`,
    [ids],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Claims pending reservations past their deadline. SKIP LOCKED lets several sweepers (or a sweeper and a
 * checkout committing in time) work side by side without waiting on or taking each other's rows. With `wait`, a
 * read that must not show a due hold as pending waits for those another transaction has locked instead (one
 * releasing them, or changing them in time), in id order as every transaction locks reservations, before any
 * level: once it has them, each is checked again and claimed only if it is still pending and due.
 */
export async function claimDueReservations(tx: Queryable, now: Date, limit: number, wait = false): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    wait
      ? `SELECT id FROM reservations WHERE status = 'pending' AND expires_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE`
      : `SELECT id FROM reservations WHERE status = 'pending' AND expires_at <= $1
          ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map((row) => row.id);
}

/**
 * Units still held, per level, by pending reservations past their deadline at `now` (the SQL expression that
 * stands for it): they hold nothing any more, the sweeper just has not released them yet. Reads that tell what
 * can be sold leave them out. Found through reservations_due_idx: the due and not yet swept are few.
 */
export const dueHoldsAt = (now: string): string =>
  `SELECT rl.variant_id, rl.warehouse_id, sum(rl.qty - rl.fulfilled_qty - rl.released_qty)::int AS held
     FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
    WHERE r.status = 'pending' AND r.expires_at <= ${now} AND rl.holds_stock
    GROUP BY rl.variant_id, rl.warehouse_id`;

/**
 * Claims the pending reservations past their deadline that hold stock of these variants and of no other, so a
 * transaction that has locked these variants' levels can expire them. SKIP LOCKED: one a sweeper or a commit
 * has locked is theirs to settle (and they wait for our levels, so waiting for them here would deadlock).
 */
export async function claimDueHolds(
  tx: Queryable,
  variantIds: readonly number[],
  now: Date,
): Promise<ReservationRow[]> {
  const { rows } = await tx.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM reservations r
      WHERE r.status = 'pending' AND r.expires_at <= ${opaque('$2::timestamptz')}
        AND EXISTS (SELECT 1 FROM reservation_lines rl
                     WHERE rl.reservation_id = r.id AND rl.variant_id = ${anyOf('$1::bigint[]')})
        AND NOT EXISTS (SELECT 1 FROM reservation_lines rl
                         WHERE rl.reservation_id = r.id AND rl.variant_id <> ALL(${opaqueArray('$1::bigint[]')}))
      ORDER BY r.id FOR UPDATE SKIP LOCKED`,
    [variantIds, now],
  );
  return rows;
}

/** Reservations by id, locked in id order (so two groups over the same reservations cannot deadlock). */
export async function lockReservations(tx: Queryable, ids: readonly string[]): Promise<Map<string, ReservationRow>> {
  const { rows } = await tx.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = ${anyOf('$1::uuid[]')} ORDER BY id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** Reservations by id with their lines, for many at once. */
export async function readReservationsWithLines(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, { row: ReservationRow; lines: ReservationLineRow[] }>> {
  const out = new Map<string, { row: ReservationRow; lines: ReservationLineRow[] }>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = ${anyOf('$1::uuid[]')}`,
    [ids],
  );
  for (const row of rows) out.set(row.id, { row, lines: [] });
  for (const [id, lines] of await readLinesOf(db, ids)) {
    const entry = out.get(id);
    if (entry) entry.lines = lines;
  }
  return out;
}

/** The lines of many reservations, by reservation id, each in line order. */
export async function readLinesOf(db: Queryable, ids: readonly string[]): Promise<Map<string, ReservationLineRow[]>> {
  const { rows } = await db.query<ReservationLineRow & { reservation_id: string }>(
    `SELECT rl.reservation_id, rl.line_no, rl.variant_id, rl.warehouse_id, v.sku, w.code AS warehouse, rl.qty, rl.backordered,
            rl.fulfilled_qty, rl.released_qty, rl.holds_stock, rl.kit_line_no
       FROM reservation_lines rl JOIN variants v ON v.id = rl.variant_id JOIN warehouses w ON w.id = rl.warehouse_id
      WHERE rl.reservation_id = ${anyOf('$1::uuid[]')} ORDER BY rl.reservation_id, rl.line_no`,
    [ids],
  );
  const out = new Map<string, ReservationLineRow[]>();
  for (const { reservation_id, ...line } of rows) {
    const list = out.get(reservation_id) ?? [];
    list.push(line);
    out.set(reservation_id, list);
  }
  return out;
}

/** Units of one reservation line newly shipped or given back. */
export interface LineProgress {
  reservationId: string;
  lineNo: number;
  fulfilled: number;
  released: number;
}

/** Adds to the shipped and released counts of lines of many reservations, in one statement. */
export async function addLineProgress(tx: Queryable, progress: readonly LineProgress[]): Promise<void> {
  if (progress.length === 0) return;
  await tx.query(
    `UPDATE reservation_lines rl
        SET fulfilled_qty = rl.fulfilled_qty + p.fulfilled, released_qty = rl.released_qty + p.released
       FROM (SELECT reservation_id, line_no, sum(fulfilled) AS fulfilled, sum(released) AS released
               FROM json_to_recordset($1::json) AS p(reservation_id uuid, line_no int, fulfilled int, released int)
              GROUP BY reservation_id, line_no) p
      WHERE rl.reservation_id = p.reservation_id AND rl.line_no = p.line_no`,
    [
      JSON.stringify(
        progress.map((step) => ({
          reservation_id: step.reservationId,
          line_no: step.lineNo,
          fulfilled: step.fulfilled,
          released: step.released,
        })),
      ),
    ],
  );
}

/** Sets the status of many reservations, with the timestamps each status implies (only pending has a deadline). */
export async function setReservationStatuses(
  tx: Queryable,
  changes: readonly { id: string; status: ReservationStatus }[],
  now: Date,
): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `UPDATE reservations r
        SET status = c.status, updated_at = $3,
            expires_at = CASE WHEN c.status = 'pending' THEN r.expires_at END,
            committed_at = CASE WHEN c.status = 'committed' AND r.committed_at IS NULL THEN $3 ELSE r.committed_at END,
            closed_at = CASE WHEN c.status IN ('fulfilled', 'released', 'expired') THEN $3 END
       FROM unnest(${opaque('$1::uuid[]')}, ${opaque('$2::text[]')}) AS c(id, status)
      WHERE r.id = c.id`,
    [changes.map((change) => change.id), changes.map((change) => change.status), now],
  );
}

/** Units a reservation line newly holds: a line added by an amendment or a move, or more units on one it has. */
export interface LineGrowth {
  reservationId: string;
  lineNo: number;
  variantId: number;
  warehouseId: number;
  qty: number;
  backordered: number;
  /** false for a line of an untracked variant (it holds nothing); a line it grows keeps the flag it has */
  holdsStock: boolean;
}

/** Adds lines to reservations, or units to lines they have, in one statement (lines named twice are summed). */
export async function growReservationLines(tx: Queryable, growth: readonly LineGrowth[]): Promise<void> {
  if (growth.length === 0) return;
  await tx.query(
    `INSERT INTO reservation_lines AS rl
       (reservation_id, line_no, variant_id, warehouse_id, qty, backordered, holds_stock)
     SELECT reservation_id, line_no, variant_id, warehouse_id, sum(qty), sum(backordered), bool_and(holds_stock)
       FROM json_to_recordset($1::json)
         AS g(reservation_id uuid, line_no int, variant_id bigint, warehouse_id bigint, qty int, backordered int,
              holds_stock boolean)
      GROUP BY reservation_id, line_no, variant_id, warehouse_id
     ON CONFLICT (reservation_id, line_no)
       DO UPDATE SET qty = rl.qty + EXCLUDED.qty, backordered = rl.backordered + EXCLUDED.backordered`,
    [
      JSON.stringify(
        growth.map((line) => ({
          reservation_id: line.reservationId,
          line_no: line.lineNo,
          variant_id: line.variantId,
          warehouse_id: line.warehouseId,
          qty: line.qty,
          backordered: line.backordered,
          holds_stock: line.holdsStock,
        })),
      ),
    ],
  );
}

/** New deadlines of pending reservations, in one statement. */
export async function setReservationDeadlines(
  tx: Queryable,
  deadlines: readonly { id: string; expiresAt: Date }[],
  now: Date,
): Promise<void> {
  if (deadlines.length === 0) return;
  await tx.query(
    `UPDATE reservations r SET expires_at = d.expires_at, updated_at = $2
       FROM unnest(${opaque('$1::uuid[]')}, ${opaque('$3::timestamptz[]')}) AS d(id, expires_at)
      WHERE r.id = d.id AND r.status = 'pending'`,
    [deadlines.map((deadline) => deadline.id), now, deadlines.map((deadline) => deadline.expiresAt.toISOString())],
  );
}
