import type { MovementType, Reason } from '../domain/movements.js';
import type { LimitScope } from '../domain/variant-limits.js';
import type { Queryable } from './db.js';
import { eventBatchCte } from './outbox.js';
import { anyOf, opaque } from './sql.js';
import { dueHoldsAt } from './reservations.js';

/**
 * What a movement must leave true, beyond on_hand >= 0 and reserved >= 0:
 * - none: nothing more (physical facts: receipts, damage, counts)
 * - available: available stays >= 0 (moving stock away must not take promised units)
 * - reservable: available stays >= -backorder_limit (promising stock)
 */
export type MovementGuard = 'none' | 'available' | 'reservable';

/** One change to one level, as applyMovements takes it: a ledger row to write and the deltas it carries. */
export interface MovementInput {
  variantId: number;
  warehouseId: number;
  type: MovementType;
  deltaOnHand: number;
  deltaReserved: number;
  guard: MovementGuard;
  reason?: Reason | null;
  reference?: string | null;
  reservationId?: string | null;
  /** compare-and-set: apply only if on_hand is still this */
  expectedOnHand?: number | null;
  /** who, if not the actor of the whole call (orders of several clients committed together) */
  actor?: string | null;
  /** the location the units left (negative binDelta) or entered, for the ledger row (migration 0028) */
  binId?: number;
  binDelta?: number;
  /** what one unit coming in cost, in minor units (a receipt's); the ledger's cost trigger (migration 0029) values
   * every other row that moves on_hand at the level's moving average */
  unitCost?: number | null;
  /** the kit a component's units move for (migration 0030) */
  kitVariantId?: number | null;
}

/**
 * A movement decided on locked levels, with the numbers it must leave its level at where the decision fixed them:
 * what the database applied is checked against them, by the reserve write itself (writeReservationsWithHolds) and
 * after every other group of the reservation service (its appliedAsPlanned).
 */
export interface PlannedMovement extends MovementInput {
  /** reserved the movement must leave its level at (a hold) */
  reservedAfter?: number;
  /** on_hand the movement must leave its level at (a shipment) */
  onHandAfter?: number;
}

/** A movement applyMovements wrote, with the numbers its level was left at. */
export interface AppliedMovement {
  /** position of the movement in the input */
  idx: number;
  variant_id: number;
  warehouse_id: number;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  damaged: number;
  quality_control: number;
}

/**
 * applyMovements's batch, the json its statement reads (one object per movement, in order). With `planned`, each
 * row carries the reserved its movement was planned to leave (writeReservationsWithHolds checks it in the statement).
 */
export function movementBatch(actor: string | null, movements: readonly PlannedMovement[], planned = false): string {
  return JSON.stringify(
    movements.map((movement, idx) => ({
      idx,
      variant_id: movement.variantId,
      warehouse_id: movement.warehouseId,
      type: movement.type,
      d_on_hand: movement.deltaOnHand,
      d_reserved: movement.deltaReserved,
      guard: movement.guard,
      reason: movement.reason ?? null,
      reference: movement.reference ?? null,
      reservation_id: movement.reservationId ?? null,
      expected_on_hand: movement.expectedOnHand ?? null,
      actor: movement.actor ?? actor,
      // left out when none: a hold's row stays as short as it was (json_to_recordset reads a missing key as null)
      ...(movement.binId === undefined ? {} : { bin_id: movement.binId, bin_delta: movement.binDelta }),
      ...(movement.unitCost == null ? {} : { unit_cost: movement.unitCost }),
      // only a kit component's movement carries it: every other batch is as long as before (the column reads null)
      ...(movement.kitVariantId ? { kit_variant_id: movement.kitVariantId } : {}),
      ...(planned && movement.reservedAfter !== undefined ? { planned_reserved: movement.reservedAfter } : {}),
    })),
  );
}

/** movementCtes's stock.changed events, from its ledger rows. */
const STOCK_CHANGED_CTE = `,
     -- stock.changed for every ledger row, written here from the numbers at hand (migration 0023), one outbox row
     -- for the statement as the level trigger (0018, 0019) writes for any other: that trigger would find these rows
     -- again, a walk down the ledger per level. The setting tells it, as this statement ends, that they are written.
     -- Ids in ledger order, so in each level's order. The json is written out as text, every string through to_json:
     -- json_build_object took 6-7 µs an event (and jsonb's 24), this 2 (bench/README.md).
     ${eventBatchCte(
       'events',
       'stock.changed',
       "'variant:' || e.variant_id",
       `SELECT m.id, m.variant_id,
               '{"sku":' || to_json(v.sku)::text || ',"warehouse":' || to_json(w.code)::text
               || ',"before":{"on_hand":' || (m.on_hand_after - m.delta_on_hand)
               || ',"reserved":' || (m.reserved_after - m.delta_reserved)
               || ',"available":'
               || (m.on_hand_after - m.delta_on_hand - m.reserved_after + m.delta_reserved - k.held_back)
               || '},"after":{"on_hand":' || m.on_hand_after || ',"reserved":' || m.reserved_after
               || ',"available":' || (m.on_hand_after - m.reserved_after - k.held_back)
               || '},"movement":{"id":' || m.id || ',"type":' || to_json(m.type)::text
               || ',"reason":' || coalesce(to_json(m.reason)::text, 'null')
               || ',"reference":' || coalesce(to_json(m.reference)::text, 'null')
               || ',"reservation_id":' || coalesce('"' || m.reservation_id || '"', 'null')
               || ',"delta_on_hand":' || m.delta_on_hand || ',"delta_reserved":' || m.delta_reserved || '}}' AS data
          FROM ledger m
          JOIN (SELECT variant_id, warehouse_id, safety_stock + damaged + quality_control AS held_back FROM locked) k
            ON k.variant_id = m.variant_id AND k.warehouse_id = m.warehouse_id
         CROSS JOIN LATERAL (SELECT v.sku FROM variants v WHERE v.id = m.variant_id OFFSET 0) v
         CROSS JOIN LATERAL (SELECT w.code FROM warehouses w WHERE w.id = m.warehouse_id OFFSET 0) w
         WHERE (SELECT stockroom_subscribed('stock.changed'))
         ORDER BY m.id`,
       "(SELECT set_config('stockroom.stock_events_written', 'on', true)) = 'on'",
     )}`;

/** How movementCtes's statement comes by its levels. */
export interface MovementCtesOptions {
  /** write stock.changed events itself (see STOCK_CHANGED_CTE); without, the level trigger writes those wanted */
  stockEvents?: boolean;
  /**
   * Every level the batch moves is locked already, by this transaction's statement before (the reserve group's
   * lockRoutingLevels, which locks every level of its SKUs but archived ones, which no hold moves): they are read,
   * not locked again. A row this transaction holds cannot change under it, so the statement's snapshot reads the
   * locked numbers; locking them again was about 0.2 ms of a group of 32 (bench/README.md, issue 18). A caller
   * that cannot say so must leave it false.
   */
  levelsLocked?: boolean;
}

/**
 * The common table expressions of applyMovements's statement, its batch and time read from the given parameters,
 * for a statement that writes something else in the same breath (reservations with their holds: a round trip
 * less per group). Every level of each variant is locked, in (variant, warehouse) order: two batches cannot
 * deadlock, and the alert trigger (migration 0007) judges a variant's total on numbers nobody else can be changing.
 * Without `stockEvents` the statement writes no stock.changed events of its own and leaves them to the level
 * trigger, which writes them if a channel wants them (for a caller that knew none did: store/holds.ts). Every
 * statement with STOCK_CHANGED_CTE updates stock_levels, so the trigger that clears its setting always runs.
 */
export const movementCtes = (
  batch: string,
  at: string,
  { stockEvents = true, levelsLocked = false }: MovementCtesOptions = {},
): string => `req AS (
       SELECT * FROM json_to_recordset(${batch}::json) AS r(
         idx int, variant_id bigint, warehouse_id bigint, type text, d_on_hand int, d_reserved int, guard text,
         reason text, reference text, reservation_id uuid, expected_on_hand int, actor text, bin_id bigint,
         bin_delta int, unit_cost bigint, kit_variant_id bigint, planned_reserved bigint)
     ),
     locked AS (
       SELECT l.variant_id, l.warehouse_id, l.on_hand, l.reserved, l.safety_stock, l.damaged, l.quality_control,
              l.backorder_limit
         FROM stock_levels l
        -- an array, not IN (subquery): a prepared statement's generic plan guesses 100 movements and may hash
        -- them against a scan of every level; an array is always a key lookup per variant
        WHERE l.variant_id = ANY(ARRAY(SELECT DISTINCT variant_id FROM req))${
          levelsLocked
            ? ''
            : `
        ORDER BY l.variant_id, l.warehouse_id
          FOR UPDATE OF l`
        }
     ),
     steps AS (
       SELECT req.*, k.safety_stock, k.damaged, k.quality_control, k.backorder_limit,
              -- what available leaves out besides reserved (the available column's sum, on the locked numbers)
              k.safety_stock + k.damaged + k.quality_control AS held_back,
              k.on_hand + sum(req.d_on_hand) OVER running AS on_hand_after,
              k.reserved + sum(req.d_reserved) OVER running AS reserved_after
         FROM req JOIN locked k ON k.variant_id = req.variant_id AND k.warehouse_id = req.warehouse_id
       WINDOW running AS (PARTITION BY req.variant_id, req.warehouse_id ORDER BY req.idx)
     ),
     checked AS (
       SELECT s.*, bool_and(s.ok) OVER (PARTITION BY s.variant_id, s.warehouse_id) AS level_ok
         FROM (SELECT steps.*,
                      on_hand_after >= 0 AND reserved_after >= 0
                      AND (expected_on_hand IS NULL OR on_hand_after - d_on_hand = expected_on_hand)
                      AND CASE guard
                            WHEN 'none' THEN true
                            WHEN 'available' THEN on_hand_after - reserved_after - held_back >= 0
                            WHEN 'reservable' THEN on_hand_after - reserved_after - held_back >= -backorder_limit
                          END AS ok
                 FROM steps) s
     ),
     totals AS (
       SELECT variant_id, warehouse_id, sum(d_on_hand) AS d_on_hand, sum(d_reserved) AS d_reserved
         FROM checked WHERE level_ok GROUP BY variant_id, warehouse_id
     ),
     upd AS (
       UPDATE stock_levels l
          SET on_hand = l.on_hand + t.d_on_hand, reserved = l.reserved + t.d_reserved, updated_at = now()
         FROM totals t
        WHERE l.variant_id = t.variant_id AND l.warehouse_id = t.warehouse_id
     ),
     -- every level that passed is locked, so the UPDATE above (run to completion whether read or not) changes
     -- each of them: no need to join its output back, which the planner would do row by row
     done AS (
       SELECT * FROM checked WHERE level_ok
     ),
     ledger AS (
       INSERT INTO stock_movements (variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after,
                                    reserved_after, reason, reference, actor, reservation_id, created_at, bin_id,
                                    bin_delta, unit_cost, kit_variant_id)
       SELECT variant_id, warehouse_id, type, d_on_hand, d_reserved, on_hand_after, reserved_after, reason, reference,
              actor, reservation_id, coalesce(${at}::timestamptz, now()), bin_id, bin_delta, unit_cost, kit_variant_id
         FROM done ORDER BY idx${
           stockEvents
             ? `
       RETURNING id, variant_id, warehouse_id, type, delta_on_hand, delta_reserved, on_hand_after, reserved_after,
                 reason, reference, reservation_id`
             : ''
         }
     )${stockEvents ? STOCK_CHANGED_CTE : ''}`;

/** What applyMovements's statement returns, from its `done` expression: the applied movements, in input order. */
const MOVEMENTS_APPLIED = `SELECT idx, variant_id, warehouse_id, on_hand_after AS on_hand, reserved_after AS reserved, safety_stock, damaged,
            quality_control
       FROM done ORDER BY idx`;

const APPLY_MOVEMENTS = `WITH ${movementCtes('$1', '$2')} ${MOVEMENTS_APPLIED}`;

/**
 * The only statement that changes on_hand or reserved. Each movement is a ledger row carrying its level's
 * numbers after it, written by the same statement that updates the level, so a level can never change without
 * its ledger rows (invariant 2) and no decision is made on numbers read earlier (invariant 5): the levels are
 * locked first and every check is made on the locked numbers.
 *
 * Several movements may touch one level (a group commit of many orders on one hot SKU): they apply in input
 * order, each checked against the numbers the ones before it left, and the level is updated once. A level whose
 * movements do not all pass is left untouched and its movements are missing from the result; the caller decides
 * (in its transaction) whether that aborts everything.
 */
export async function applyMovements(
  tx: Queryable,
  actor: string | null,
  movements: readonly MovementInput[],
  /** the ledger rows' time: the service's clock (the database's own if not given) */
  at?: Date,
): Promise<AppliedMovement[]> {
  if (movements.length === 0) return [];
  const { rows } = await tx.query<AppliedMovement>(APPLY_MOVEMENTS, [movementBatch(actor, movements), at ?? null]);
  return rows;
}

/** One variant's numbers in one warehouse, with the SKU and warehouse code they are known by outside. */
export interface LevelRow {
  variant_id: number;
  warehouse_id: number;
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  damaged: number;
  quality_control: number;
  backorder_limit: number;
}

const LEVEL_COLUMNS = `l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, l.on_hand, l.reserved, l.safety_stock, l.damaged,
  l.quality_control, l.backorder_limit`;
/** Levels with the SKU and warehouse code they are known by outside. */
const LEVELS = `stock_levels l JOIN variants v ON v.id = l.variant_id JOIN warehouses w ON w.id = l.warehouse_id`;

/**
 * Locks levels for a read-modify-write under the lock (counts and syncs set absolute numbers). Like
 * applyMovements it locks every level of each variant, in key order, so the two never wait on each other in a
 * cycle; it returns the levels asked for.
 */
export async function lockLevels(
  tx: Queryable,
  keys: readonly { variantId: number; warehouseId: number }[],
): Promise<LevelRow[]> {
  const { rows } = await tx.query<LevelRow & { wanted: boolean }>(
    `WITH k AS (SELECT * FROM json_to_recordset($1::json) AS k(variant_id bigint, warehouse_id bigint))
     SELECT ${LEVEL_COLUMNS},
            EXISTS (SELECT 1 FROM k WHERE k.variant_id = l.variant_id AND k.warehouse_id = l.warehouse_id) AS wanted
       FROM ${LEVELS}
      WHERE l.variant_id = ANY(ARRAY(SELECT DISTINCT variant_id FROM k))
      ORDER BY l.variant_id, l.warehouse_id
        FOR UPDATE OF l`,
    [JSON.stringify(keys.map((key) => ({ variant_id: key.variantId, warehouse_id: key.warehouseId })))],
  );
  return rows.filter((row) => row.wanted).map(({ wanted: _, ...level }) => level);
}

/** One level as it stands, unlocked: for telling why a guarded movement did not apply. */
export async function readLevel(tx: Queryable, variantId: number, warehouseId: number): Promise<LevelRow | undefined> {
  const { rows } = await tx.query<LevelRow>(
    `SELECT ${LEVEL_COLUMNS}
       FROM ${LEVELS}
      WHERE l.variant_id = $1 AND l.warehouse_id = $2`,
    [variantId, warehouseId],
  );
  return rows[0];
}

/** A level with what routing needs of its warehouse: rank, place and service area. */
export interface RoutingRow extends LevelRow {
  priority: number;
  lat: number | null;
  lon: number | null;
  /** the warehouse's service area: regions it ships to (none: every region) and its delivery radius */
  regions: string[];
  serves_within_km: number | null;
  /** the variant's: where its limits apply, its own safety stock (for the sum), whether its stock is counted */
  limit_scope: LimitScope;
  variant_safety_stock: number;
  track_inventory: boolean;
}

const ROUTING_COLUMNS = `${LEVEL_COLUMNS}, w.priority, w.lat, w.lon, w.regions, w.serves_within_km,
  v.limit_scope, v.safety_stock AS variant_safety_stock, v.track_inventory`;

/** What lockRoutingLevels locked: the levels to plan on, and the due holds on them. */
export interface LockedRouting {
  levels: RoutingRow[];
  /** the pending reservations past their deadline that hold stock of these SKUs (see claimDueHolds) */
  due: string[];
}

/**
 * Every level of these SKUs with what routing needs, locked in (variant, warehouse) order: a group of orders
 * is planned on these numbers and nobody can change them until the group commits. The levels of every other
 * variant that a reservation past its deadline holds along with these are locked in the same order, so the
 * group can expire such a reservation whole before planning (its levels come back too, by other SKUs). So are
 * the levels of the SKUs held by the pending reservations of `orderRefs` (the group's unique order_refs, whose open
 * reservations the caller has locked before this: lockOpenReservationsOf): a replace gives their units back, and
 * one past its deadline is expired with them, which frees its order_ref.
 *
 * One statement, so a caller may send it right behind the locks it must come after (pipelined: one round trip
 * for all of them). Whether any pending reservation is past its deadline at all is asked first, inside it, of
 * reservations_due_idx (the earliest deadline: one index entry, whatever the statistics say); almost always none
 * is, and the part that looks for due holds is gated on that answer and never runs. Every set is a key probe of
 * one table per element (`= ANY(array)`, or a join on the unnested order_refs): stale statistics once planned a scan
 * of every reservation line per group here, which halved throughput; a key probe stays a key probe whatever they
 * say. The arrays and the deadline are read through subqueries (store/sql.ts), so the plan cache keeps one generic
 * plan: planned for its values, a group of one spent 0.4 ms of the database's 1.4 planning this statement.
 */
export async function lockRoutingLevels(
  tx: Queryable,
  skus: readonly string[],
  now: Date,
  orderRefs: readonly string[] = [],
): Promise<LockedRouting> {
  const { rows } = await tx.query<RoutingRow & { due: string[] | null }>(
    `WITH probe AS MATERIALIZED (SELECT min(expires_at) <= ${opaque('$2::timestamptz')} AS any_due
                               FROM reservations WHERE status = 'pending'),
     wanted AS MATERIALIZED (
       SELECT array_agg(id) AS ids FROM variants WHERE sku = ${anyOf('$1::text[]')}
        UNION ALL
       SELECT array_agg(DISTINCT rl.variant_id) FROM reservation_lines rl
        WHERE ${opaque('cardinality($3::text[])')} > 0
          -- a join, not order_ref = anyOf(...): PGlite's plan for that took an embedded flash sale (groups of 250
          -- order_refs) from 7,000 to 5,000 answers a second
          AND rl.reservation_id = ANY(ARRAY(SELECT r.id FROM unnest(${opaque('$3::text[]')}) AS o(ref)
                                              JOIN reservations r ON r.order_ref = o.ref AND r.unique_order_ref
                                                                 AND r.status = 'pending'))
     ),
     due AS MATERIALIZED (
       SELECT array_agg(DISTINCT r.id) AS ids
         FROM reservations r
        WHERE (SELECT any_due FROM probe)
          AND r.id = ANY(ARRAY(SELECT rl.reservation_id FROM reservation_lines rl
                                WHERE rl.variant_id = ANY(ARRAY(SELECT unnest(ids) FROM wanted))))
          AND r.status = 'pending' AND r.expires_at <= ${opaque('$2::timestamptz')}
     ),
     touched AS (
       SELECT unnest(ids) AS variant_id FROM wanted
        UNION
       SELECT rl.variant_id FROM reservation_lines rl
        WHERE (SELECT any_due FROM probe) AND rl.reservation_id = ANY((SELECT ids FROM due)::uuid[])
     )
     SELECT ${ROUTING_COLUMNS}, (SELECT ids::text[] FROM due) AS due
       FROM ${LEVELS}
      WHERE l.variant_id = ANY(ARRAY(SELECT variant_id FROM touched)) AND NOT l.archived
      ORDER BY l.variant_id, l.warehouse_id
        FOR UPDATE OF l`,
    [skus, now, orderRefs],
  );
  return { levels: rows.map(({ due: _, ...level }) => level), due: rows[0]?.due ?? [] };
}

/** A level with the bins its units are put away in. */
export interface StockRow extends LevelRow {
  bins: { bin: string; qty: number }[];
}

/**
 * The levels of one variant in every warehouse, with the bins their units are put away in. Holds of pending
 * reservations past their deadline at `now` are left out of reserved: they hold nothing, swept or not.
 */
export async function readStock(db: Queryable, variantId: number, now: Date): Promise<StockRow[]> {
  const { rows } = await db.query<StockRow>(
    `WITH due AS (${dueHoldsAt('$2')})
     SELECT l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, l.on_hand, l.reserved - coalesce(d.held, 0) AS reserved,
            l.safety_stock, l.damaged, l.quality_control, l.backorder_limit,
            coalesce((SELECT jsonb_agg(jsonb_build_object('bin', b.code, 'qty', s.qty) ORDER BY b.code)
                        FROM bin_stock s JOIN bins b ON b.id = s.bin_id
                       WHERE s.variant_id = l.variant_id AND b.warehouse_id = l.warehouse_id AND s.qty > 0), '[]'::jsonb) AS bins
       FROM ${LEVELS}
       LEFT JOIN due d ON d.variant_id = l.variant_id AND d.warehouse_id = l.warehouse_id
      WHERE l.variant_id = $1
      ORDER BY w.priority DESC, w.code`,
    [variantId, now],
  );
  return rows;
}

/** A level as the stock export lists it. */
export interface ExportRow extends Omit<LevelRow, 'safety_stock' | 'damaged' | 'quality_control' | 'backorder_limit'> {
  available: number;
}

/** One page of all levels in key order, after the given key: constant memory however many there are. */
export async function readLevelsAfter(
  db: Queryable,
  after: { variantId: number; warehouseId: number } | null,
  limit: number,
): Promise<ExportRow[]> {
  const { rows } = await db.query<ExportRow>(
    `SELECT l.variant_id, l.warehouse_id, v.sku, w.code AS warehouse, l.on_hand, l.reserved, l.available
       FROM ${LEVELS}
      WHERE (l.variant_id, l.warehouse_id) > ($1, $2)
      ORDER BY l.variant_id, l.warehouse_id LIMIT $3`,
    [after?.variantId ?? 0, after?.warehouseId ?? 0, limit],
  );
  return rows;
}
