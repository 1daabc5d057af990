import { randomUUID } from 'node:crypto';
import {
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
  UnknownSkuError,
  ValidationError,
} from '../domain/errors.js';
import type { ShortLine } from '../domain/errors.js';
import { DEFAULT_TTL_SECONDS, isDue, nextStatus, planFulfilment } from '../domain/reservation.js';
import type { ReservationAction, ReservationStatus } from '../domain/reservation.js';
import { DEFAULT_ALLOCATION, routeOrder, totalReservable } from '../domain/routing.js';
import { serves } from '../domain/service-area.js';
import type { Shopper } from '../domain/service-area.js';
import type { AllocationStrategy, RoutingCandidate } from '../domain/routing.js';
import { available, backorderedUnits } from '../domain/stock-level.js';
import { variantHeadroom } from '../domain/variant-limits.js';
import type { Db, Queryable } from '../store/db.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import { applyMovements, lockLevels, lockRoutingLevels } from '../store/levels.js';
import type { AppliedMovement, LevelRow, MovementInput, RoutingRow } from '../store/levels.js';
import {
  addLineProgress,
  claimDueHolds,
  claimDueReservations,
  insertReservations,
  lockReservations,
  readLinesOf,
  readReservation,
  readReservationsWithLines,
  setReservationStatuses,
} from '../store/reservations.js';
import type { LineProgress, ReservationLineRow, ReservationRow } from '../store/reservations.js';
import { missing } from './lookups.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toReservation } from './dto.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit } from './group-commit.js';
import type { GroupCommitOptions, GroupCommitStats, Settled } from './group-commit.js';
import { claimGroupKeys, settleGroupKeys } from './group-keys.js';
import type { Reservation } from './dto.js';
import { FulfilInput, ReservationId, ReserveInput, parse } from './schemas.js';
import type { FulfilInput as FulfilRequest, ReserveInput as ReserveRequest } from './schemas.js';

/**
 * A movement decided on locked levels, with the numbers it must leave its level at where the decision fixed them:
 * after every group, what the database applied is checked against them (see appliedAsPlanned).
 */
interface PlannedMove extends MovementInput {
  /** reserved the move must leave its level at (a hold) */
  reservedAfter?: number;
  /** on_hand the move must leave its level at (a shipment) */
  onHandAfter?: number;
}

/**
 * A hold to place: a reserve movement with the names the reservation's lines are shown by. One that holds no
 * stock (an untracked variant's) becomes a line only: no movement, no ledger row.
 */
type PlannedHold = PlannedMove & { sku: string; warehouse: string; holdsStock: boolean };

interface ReserveJob {
  req: ReserveRequest;
  options: CallOptions;
  /** already put off once, for units a sweeper was releasing (see reserveGroup) */
  putOff?: boolean;
}

/**
 * An order refused for units that holds past their deadline still take, while another transaction (a sweeper)
 * that has them locked is releasing them: it waits for that transaction and is tried once more.
 */
export class HoldsBeingReleased extends Error {
  constructor(readonly ids: readonly string[]) {
    super('holds past their deadline are being released elsewhere');
  }
}

const RESERVE_SCOPE = 'reservation.reserve';
const SWEEP_BATCH = 200;

/**
 * Two-phase reservations: reserve holds stock with a deadline (pending), commit removes the deadline,
 * fulfil ships (on_hand and reserved drop), release and expiry give the stock back.
 */
export class ReservationService {
  private readonly reserving: GroupCommit<ReserveJob, Reservation>;
  private readonly transitioning: GroupCommit<TransitionJob, Reservation>;

  constructor(
    private readonly ctx: ServiceContext,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
    /** how orders that do not say are spread over warehouses (STOCKROOM_ALLOCATION) */
    private readonly allocation: AllocationStrategy = DEFAULT_ALLOCATION,
  ) {
    this.reserving = new GroupCommit((jobs) => this.reserveGroup(jobs), groupCommit);
    this.transitioning = new GroupCommit((jobs) => this.transitionGroup(jobs), groupCommit);
  }

  /** How reservations have been grouped into transactions so far. */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.reserving.stats;
  }

  /**
   * Holds stock for every line or for none. Lines of one SKU are summed before anything is checked.
   * Reservations arriving together are committed together (see reserveGroup); the answer comes after the
   * commit.
   */
  async reserve(input: ReserveInput, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(ReserveInput, input);
    // asked for by name, nearest without a place to be near to is a mistake; the store's default falls back
    if (req.allocation === 'nearest' && req.ship_to === undefined)
      throw ValidationError.field('/ship_to', 'is required when allocation is nearest');
    return afterReleasesElsewhere(this.ctx.db, (putOff) => this.reserving.submit({ req, options, putOff }));
  }

  /**
   * One transaction for a group of orders: claim their idempotency keys, lock every level of every SKU they
   * name (in key order, so groups cannot deadlock), expire the holds on them that are past their deadline (a
   * hold that has run out holds nothing, whether the sweeper has been by or not), plan the orders one after
   * the other on the locked numbers, each seeing what the ones before it took, then write all holds, ledger
   * rows and reservations in one statement each. Planning on locked numbers is exact: an order is refused only when the stock is not
   * there, and never oversold. Each order is all or nothing; a refused order changes nothing.
   */
  private async reserveGroup(jobs: readonly ReserveJob[]): Promise<Settled<Reservation>[]> {
    return this.ctx.db.transaction(async (tx) => {
      const now = this.ctx.clock();
      const { claimed, settled } = await claimGroupKeys<Reservation>(
        tx,
        jobs.map((job) => ({ scope: RESERVE_SCOPE, options: job.options, request: job.req })),
      );

      const skus = [...new Set(jobs.flatMap((job, i) => (settled[i] ? [] : job.req.lines.map((line) => line.sku))))];
      const { levels, elsewhere } =
        skus.length > 0 ? await expireDueHoldsOn(tx, skus, now) : { levels: [], elsewhere: [] };
      const known = await this.knownNames(tx, skus, levels, jobs);

      const moves: PlannedHold[] = [];
      const planned: { job: number; id: string; lines: ReservationLineRow[] }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        try {
          const id = randomUUID();
          const holds = plan(id, job.req, levels, known, this.allocation);
          const lines = holds.map((hold, index): ReservationLineRow => {
            hold.actor = job.options.actor ?? null;
            const level =
              levels.find((row) => row.variant_id === hold.variantId && row.warehouse_id === hold.warehouseId) ??
              missing('planned level');
            if (hold.holdsStock) level.reserved += hold.deltaReserved;
            hold.reservedAfter = level.reserved;
            const qty = hold.deltaReserved;
            return {
              line_no: index + 1,
              variant_id: hold.variantId,
              warehouse_id: hold.warehouseId,
              sku: hold.sku,
              warehouse: hold.warehouse,
              qty,
              backordered: hold.holdsStock ? backorderedUnits(qty, available(level)) : 0,
              fulfilled_qty: 0,
              released_qty: 0,
              holds_stock: hold.holdsStock,
            };
          });
          moves.push(...holds.filter((hold) => hold.holdsStock));
          planned.push({ job: i, id, lines });
        } catch (error) {
          // a due hold here is being released by someone else (a sweeper), who waits for this group's locks: the
          // order waits for them and is tried again, rather than be refused units that are free in a moment
          const wait = elsewhere.length > 0 && error instanceof InsufficientStockError && !job.putOff;
          settled[i] = { ok: false, error: wait ? new HoldsBeingReleased(elsewhere) : error };
        }
      });

      const reservations = planned.map(({ job, id, lines }) => {
        const req = jobs[job]?.req ?? missing('job');
        const expiresAt = new Date(now.getTime() + (req.ttl_seconds ?? DEFAULT_TTL_SECONDS) * 1000);
        // everything about the new reservation is known here: no need to read it back
        settled[job] = {
          ok: true,
          value: toReservation(
            {
              id,
              order_ref: req.order_ref,
              status: 'pending',
              expires_at: expiresAt,
              created_at: now,
              updated_at: now,
              committed_at: null,
              closed_at: null,
            },
            lines,
          ),
        };
        return {
          id,
          orderRef: req.order_ref,
          expiresAt,
          now,
          lines: lines.map((line) => ({
            variantId: line.variant_id,
            warehouseId: line.warehouse_id,
            qty: line.qty,
            backordered: line.backordered,
            holdsStock: line.holds_stock,
          })),
        };
      });
      await insertReservations(tx, reservations);
      const applied = await applyMovements(tx, null, moves, now);
      // planned on locked numbers, every hold must apply as planned; if one did not, the group is wrong as a whole
      if (!appliedAsPlanned(moves, applied)) {
        throw new Error('group commit: holds planned on locked levels did not apply as planned');
      }

      await settleGroupKeys(tx, claimed, settled);
      return settled.map((settlement) => settlement ?? missing('settled job'));
    });
  }

  /** Which SKUs and warehouses of the group exist: from the locked levels, asking only about the rest. */
  private async knownNames(
    tx: Queryable,
    skus: readonly string[],
    levels: readonly RoutingRow[],
    jobs: readonly ReserveJob[],
  ): Promise<KnownNames> {
    const skuSet = new Set(levels.map((level) => level.sku));
    const unseen = skus.filter((sku) => !skuSet.has(sku));
    // a variant with no levels yet (no warehouse exists) is known all the same
    if (unseen.length > 0) for (const variant of await findVariants(tx, unseen)) skuSet.add(variant.sku);
    const warehouses = new Set(levels.map((level) => level.warehouse));
    const asked = [
      ...new Set(
        jobs.flatMap((job) =>
          job.req.warehouse !== undefined && !warehouses.has(job.req.warehouse) ? [job.req.warehouse] : [],
        ),
      ),
    ];
    if (asked.length > 0) for (const warehouse of await findWarehouses(tx, asked)) warehouses.add(warehouse.code);
    return { skus: skuSet, warehouses };
  }

  /** Payment received: the reservation no longer expires. Committing twice answers the same. */
  async commit(id: string, options: CallOptions = {}): Promise<Reservation> {
    parseId(id);
    return this.transitioning.submit({ id, action: 'commit', body: {}, options });
  }

  /** Cancels: whatever is still held goes back to available. */
  async release(id: string, options: CallOptions = {}): Promise<Reservation> {
    parseId(id);
    return this.transitioning.submit({ id, action: 'release', body: {}, options });
  }

  /**
   * Ships all that is held, or the given lines: on_hand and reserved drop at exactly the warehouses the
   * lines were reserved in.
   */
  async fulfil(id: string, input: FulfilInput = {}, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(FulfilInput, input);
    parseId(id);
    return this.transitioning.submit({ id, action: 'fulfil', body: req, options });
  }

  /**
   * One transaction for a group of commits, releases and fulfilments, as reserveGroup is for reservations:
   * lock the reservations (in id order), then the levels their lines hold stock in, decide every change on
   * those locked numbers, and write them set-based. One change per reservation per group: a second call on a
   * reservation waits for the next group, so it sees the first one's effect. A reservation found past its
   * deadline is expired here (that sticks) and its call refused. A refused call changes nothing.
   */
  private async transitionGroup(jobs: readonly TransitionJob[]): Promise<Settled<Reservation>[]> {
    return this.ctx.db.transaction(async (tx) => {
      const now = this.ctx.clock();
      const settled: (Settled<Reservation> | undefined)[] = jobs.map(() => undefined);
      const seen = new Set<string>();
      jobs.forEach((job, i) => {
        if (seen.has(job.id)) settled[i] = { retry: true };
        seen.add(job.id);
      });
      const keys = await claimGroupKeys<Reservation>(
        tx,
        jobs.map((job, i) =>
          settled[i]
            ? undefined
            : { scope: `reservation.${job.action}`, options: job.options, request: { id: job.id, body: job.body } },
        ),
      );
      keys.settled.forEach((settlement, i) => {
        if (settlement) settled[i] = settlement;
      });

      const ids = jobs.flatMap((job, i) => (settled[i] ? [] : [job.id]));
      const rows = await lockReservations(tx, ids);
      const linesOf = await readLinesOf(tx, [...rows.keys()]);
      const levelKeys = [...linesOf.values()]
        .flat()
        .map((line) => ({ variantId: line.variant_id, warehouseId: line.warehouse_id }));
      const levels = new Map(
        (levelKeys.length > 0 ? await lockLevels(tx, levelKeys) : []).map((level) => [
          levelKey(level.variant_id, level.warehouse_id),
          level,
        ]),
      );

      const change: Change = { moves: [], progress: [], statuses: [] };
      const answered: { job: number; id: string }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        const reservation = rows.get(job.id);
        if (!reservation) {
          settled[i] = { ok: false, error: new NotFoundError('reservation', job.id) };
          return;
        }
        const lines = linesOf.get(job.id) ?? [];
        if (isDue(reservation, now)) {
          releaseAll(change, reservation, lines, 'expire', 'sweeper');
          settled[i] = { ok: false, error: new InvalidTransitionError('expired', job.action) };
          return;
        }
        try {
          decide(change, reservation, lines, job, levels);
          answered.push({ job: i, id: reservation.id });
        } catch (error) {
          settled[i] = { ok: false, error };
        }
      });

      await writeChange(tx, change, now);
      const after = await readReservationsWithLines(
        tx,
        answered.map((answer) => answer.id),
      );
      for (const { job, id } of answered) {
        const reservation = after.get(id) ?? missing(`reservation ${id}`);
        settled[job] = { ok: true, value: toReservation(reservation.row, reservation.lines) };
      }
      await settleGroupKeys(tx, keys.claimed, settled);
      return settled.map((settlement) => settlement ?? missing('settled job'));
    });
  }

  /** A reservation as it stands; one whose deadline has passed is expired first, so it never claims to hold stock. */
  async get(id: string): Promise<Reservation> {
    parseId(id);
    const reservation = await readReservation(this.ctx.db, id);
    if (!reservation) throw new NotFoundError('reservation', id);
    if (isDue(reservation, this.ctx.clock())) await this.expireOne(id);
    return this.load(this.ctx.db, id);
  }

  /**
   * The sweeper: releases every pending reservation past its deadline, in batches, each batch one
   * transaction. Safe to run in several processes at once.
   * @returns how many reservations it expired
   */
  async expireDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.ctx.db.transaction(async (tx) => {
        const ids = await claimDueReservations(tx, this.ctx.clock(), SWEEP_BATCH);
        // claimed FOR UPDATE above: reading them again takes no new lock
        if (ids.length > 0) await expireLocked(tx, [...(await lockReservations(tx, ids)).values()], this.ctx.clock());
        return ids.length;
      });
      total += expired;
      if (expired < SWEEP_BATCH) return total;
    }
  }

  private async expireOne(id: string): Promise<void> {
    await this.ctx.db.transaction(async (tx) => {
      const reservation = (await lockReservations(tx, [id])).get(id);
      const now = this.ctx.clock();
      if (reservation && isDue(reservation, now)) await expireLocked(tx, [reservation], now);
    });
  }

  private async load(db: Queryable, id: string): Promise<Reservation> {
    const reservation = (await readReservationsWithLines(db, [id])).get(id);
    if (!reservation) throw new NotFoundError('reservation', id);
    return toReservation(reservation.row, reservation.lines);
  }
}

/** What expireDueHoldsOn leaves its caller: the locked levels to plan on, and the due holds it could not expire. */
export interface DueHoldsExpired {
  /** every level of the SKUs, locked, with what the expired holds gave back */
  levels: RoutingRow[];
  /** due reservations on these levels that another transaction (a sweeper) has locked and is releasing */
  elsewhere: string[];
}

/**
 * For anything about to check or change the levels of these SKUs: locks every one of them (and those of other
 * SKUs a due hold on them shares) in (variant, warehouse) order, then expires the reservations past their
 * deadline that hold stock on them, through the ledger as the sweeper does, so what follows sees only what is
 * really held. A hold that has run out holds nothing, whether the sweeper has been by or not. Those another
 * transaction has locked are left to it (it waits for these levels) and named in `elsewhere`.
 */
export async function expireDueHoldsOn(tx: Queryable, skus: readonly string[], now: Date): Promise<DueHoldsExpired> {
  const { levels, due } = await lockRoutingLevels(tx, skus, now);
  if (due.length === 0) return { levels, elsewhere: [] };
  const claimed = await claimDueHolds(tx, [...new Set(levels.map((level) => level.variant_id))], now);
  for (const move of await expireLocked(tx, claimed, now)) {
    const level =
      levels.find((row) => row.variant_id === move.variantId && row.warehouse_id === move.warehouseId) ??
      missing('level of an expired hold');
    level.reserved += move.deltaReserved;
  }
  const expired = new Set(claimed.map((reservation) => reservation.id));
  return { levels, elsewhere: due.filter((id) => !expired.has(id)) };
}

/**
 * Runs work; if it was refused for units that due holds being released elsewhere still take (HoldsBeingReleased),
 * waits for whoever is releasing them and runs it once more, put off (refused for good this time).
 */
export async function afterReleasesElsewhere<T>(db: Db, work: (putOff: boolean) => Promise<T>): Promise<T> {
  try {
    return await work(false);
  } catch (error) {
    if (!(error instanceof HoldsBeingReleased)) throw error;
    // their lock is free once whoever released them has committed (it holds nothing this waits for)
    await db.transaction((tx) => lockReservations(tx, error.ids));
    return work(true);
  }
}

/** Expires reservations this transaction has locked, all in one change; returns the movements it wrote. */
async function expireLocked(
  tx: Queryable,
  reservations: readonly ReservationRow[],
  now: Date,
): Promise<MovementInput[]> {
  if (reservations.length === 0) return [];
  const linesOf = await readLinesOf(
    tx,
    reservations.map((reservation) => reservation.id),
  );
  const change: Change = { moves: [], progress: [], statuses: [] };
  for (const reservation of reservations)
    releaseAll(change, reservation, linesOf.get(reservation.id) ?? [], 'expire', 'sweeper');
  await writeChange(tx, change, now);
  return change.moves;
}

interface KnownNames {
  skus: ReadonlySet<string>;
  warehouses: ReadonlySet<string>;
}

/**
 * Routes every SKU's summed quantity to warehouses from the given levels, into one reserve movement per level;
 * or refuses, naming every SKU that cannot be covered and what could be. Only warehouses that serve the
 * order's region and ship-to point count, as they do for the storefront's availability.
 */
function plan(
  id: string,
  req: ReserveRequest,
  levels: readonly RoutingRow[],
  known: KnownNames,
  storeAllocation: AllocationStrategy,
): PlannedHold[] {
  const wanted = new Map<string, number>();
  for (const line of req.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.qty);
  const unknown = [...wanted.keys()].filter((sku) => !known.skus.has(sku));
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  if (req.warehouse !== undefined && !known.warehouses.has(req.warehouse))
    throw new NotFoundError('warehouse', req.warehouse);
  const shopper: Shopper = { region: req.region, ship_to: req.ship_to };
  const strategy = routingStrategy(req, storeAllocation);
  const skuLines = [...wanted].map(([sku, qty]) => {
    const mine = levels.filter(
      (level) => level.sku === sku && (req.warehouse === undefined || level.warehouse === req.warehouse),
    );
    const serving = mine.filter((level) => serves(level, shopper));
    // an untracked variant is never short: every serving warehouse could send it all, and the strategy picks one
    const tracked = mine[0]?.track_inventory !== false;
    const candidates = serving.map((level) =>
      tracked ? toRoutingCandidate(level) : { ...toRoutingCandidate(level), available: qty, backorder_allowance: 0 },
    );
    return { sku, qty, mine, serving, candidates, tracked, headroom: headroomOf(sku, levels) };
  });
  const allocations = routeOrder(skuLines, { ship_to: req.ship_to, strategy, split: req.split });
  const moves: PlannedHold[] = [];
  const short: ShortLine[] = [];
  skuLines.forEach(({ sku, qty, mine, serving, candidates, tracked, headroom }, i) => {
    const allocation = allocations[i];
    if (allocation && headroom !== undefined && qty > headroom) {
      short.push({ sku, requested: qty, available: headroom, reason: 'variant-wide limit over all warehouses' });
      return;
    }
    if (!allocation) {
      const reason =
        outsideArea(
          mine,
          serving.length,
          req.warehouse,
          totalReservable(mine.filter((level) => !serves(level, shopper)).map(toRoutingCandidate)),
        ) ?? unsplit(req, qty, candidates);
      short.push({
        sku,
        requested: qty,
        available: Math.min(totalReservable(candidates), headroom ?? Number.POSITIVE_INFINITY),
        ...(reason === undefined ? {} : { reason }),
      });
      return;
    }
    for (const part of allocation) {
      const level =
        mine.find((row) => row.warehouse === part.warehouse) ?? missing(`level of ${sku} at ${part.warehouse}`);
      moves.push({
        sku,
        warehouse: level.warehouse,
        variantId: level.variant_id,
        warehouseId: level.warehouse_id,
        type: 'reserve',
        deltaOnHand: 0,
        deltaReserved: part.qty,
        guard: 'reservable',
        reference: req.order_ref,
        reservationId: id,
        holdsStock: tracked,
      });
    }
  });
  if (short.length > 0) throw new InsufficientStockError(short);
  return moves;
}

/**
 * What a variant whose limits apply to its sum (limit_scope variant) can still promise over every warehouse,
 * serving the order or not; undefined for a variant limited per warehouse.
 */
function headroomOf(sku: string, levels: readonly RoutingRow[]): number | undefined {
  const all = levels.filter((level) => level.sku === sku);
  const first = all[0];
  if (first?.limit_scope !== 'variant') return undefined;
  return variantHeadroom(all, {
    safety_stock: first.variant_safety_stock,
    backorder_allowance: first.backorder_limit,
  });
}

/** The order's own strategy, else the store's; the store's nearest routes an order without ship_to by priority. */
function routingStrategy(req: ReserveRequest, storeAllocation: AllocationStrategy): AllocationStrategy {
  const strategy = req.allocation ?? storeAllocation;
  return strategy === 'nearest' && req.ship_to === undefined ? DEFAULT_ALLOCATION : strategy;
}

/** Why a line is short when split: false refused what the warehouses had together. */
function unsplit(req: ReserveRequest, qty: number, candidates: readonly RoutingCandidate[]): string | undefined {
  return req.split === false && totalReservable(candidates) >= qty
    ? `no single warehouse has all ${qty} and split is false`
    : undefined;
}

/** Why an order is short beyond plain shortage: the warehouses that would have it do not serve its destination. */
function outsideArea(
  levels: readonly RoutingRow[],
  serving: number,
  warehouse: string | undefined,
  outside: number,
): string | undefined {
  if (levels.length > 0 && serving === 0)
    return warehouse === undefined
      ? 'no warehouse serves the destination'
      : `${warehouse} does not serve the destination`;
  return outside > 0 ? `${outside} more in warehouses that do not serve the destination` : undefined;
}

interface TransitionJob {
  id: string;
  action: Exclude<ReservationAction, 'expire'>;
  body: FulfilRequest | Record<string, never>;
  options: CallOptions;
}

/** What a group of state changes writes: movements, line progress and statuses. */
interface Change {
  moves: PlannedMove[];
  progress: LineProgress[];
  statuses: { id: string; status: ReservationStatus }[];
}

const levelKey = (variantId: number, warehouseId: number): string => `${variantId}:${warehouseId}`;

/** Gives back what the lines still hold and closes the reservation as released or expired. */
function releaseAll(
  change: Change,
  reservation: ReservationRow,
  lines: readonly ReservationLineRow[],
  action: 'release' | 'expire',
  actor: string | null,
): void {
  change.statuses.push({ id: reservation.id, status: nextStatus(reservation.status, action) });
  for (const line of lines) {
    const qty = remaining(line);
    if (qty === 0) continue;
    change.progress.push({ reservationId: reservation.id, lineNo: line.line_no, fulfilled: 0, released: qty });
    // a line that holds nothing gives nothing back: its progress only
    if (!line.holds_stock) continue;
    change.moves.push({
      variantId: line.variant_id,
      warehouseId: line.warehouse_id,
      type: action,
      deltaOnHand: 0,
      deltaReserved: -qty,
      guard: 'none',
      reference: reservation.order_ref,
      reservationId: reservation.id,
      actor,
    });
  }
}

/**
 * Decides one commit, release or fulfilment of a locked reservation on the locked levels, adding it to the
 * change and the levels; or throws why it is refused, having added nothing.
 */
function decide(
  change: Change,
  reservation: ReservationRow,
  lines: readonly ReservationLineRow[],
  job: TransitionJob,
  levels: Map<string, LevelRow>,
): void {
  const actor = job.options.actor ?? null;
  if (job.action === 'commit') {
    change.statuses.push({ id: reservation.id, status: nextStatus(reservation.status, 'commit') });
    return;
  }
  if (job.action === 'release') {
    releaseAll(change, reservation, lines, 'release', actor);
    return;
  }
  nextStatus(reservation.status, 'fulfil');
  const open = lines.map((line) => ({
    line_no: line.line_no,
    sku: line.sku,
    warehouse: line.warehouse,
    remaining: remaining(line),
  }));
  const picks = planFulfilment(open, (job.body as FulfilRequest).lines);
  if (picks.length === 0) throw new InvalidTransitionError(reservation.status, 'fulfil');
  const byLine = new Map(lines.map((line) => [line.line_no, line]));
  const shipments = picks.map((pick) => {
    const line = byLine.get(pick.line_no) ?? missing(`line ${pick.line_no}`);
    return {
      line,
      qty: pick.qty,
      level: levels.get(levelKey(line.variant_id, line.warehouse_id)) ?? missing(`level of line ${pick.line_no}`),
    };
  });
  // promised units that are not on the shelf (a count or a sync found fewer): nothing ships. An untracked
  // variant's line holds nothing and ships without touching stock.
  const short: ShortLine[] = shipments
    .filter(({ line, qty, level }) => line.holds_stock && level.on_hand < qty)
    .map(({ line, qty, level }) => ({
      sku: line.sku,
      warehouse: line.warehouse,
      requested: qty,
      available: level.on_hand,
    }));
  if (short.length > 0) throw new InsufficientStockError(short);
  for (const { line, qty, level } of shipments) {
    change.progress.push({ reservationId: reservation.id, lineNo: line.line_no, fulfilled: qty, released: 0 });
    if (!line.holds_stock) continue;
    level.on_hand -= qty;
    level.reserved -= qty;
    change.moves.push({
      variantId: line.variant_id,
      warehouseId: line.warehouse_id,
      type: 'fulfil',
      deltaOnHand: -qty,
      deltaReserved: -qty,
      guard: 'none',
      reference: reservation.order_ref,
      reservationId: reservation.id,
      actor,
      onHandAfter: level.on_hand,
    });
  }
  const shipped = new Map(picks.map((pick) => [pick.line_no, pick.qty]));
  const fully = lines.every((line) => remaining(line) - (shipped.get(line.line_no) ?? 0) === 0);
  change.statuses.push({ id: reservation.id, status: nextStatus(reservation.status, 'fulfil', fully) });
}

/** Writes a change set-based: every movement with its ledger row, line progress, statuses. */
async function writeChange(tx: Queryable, change: Change, now: Date): Promise<void> {
  const applied = await applyMovements(tx, null, change.moves, now);
  // decided on locked numbers, every movement must apply as decided; if one did not, the change is wrong as a whole
  if (!appliedAsPlanned(change.moves, applied)) {
    throw new Error('a change decided on locked levels did not apply as decided');
  }
  await addLineProgress(tx, change.progress);
  await setReservationStatuses(tx, change.statuses, now);
}

/**
 * Whether every planned move applied, each leaving its level at the numbers it was planned to leave (TigerBeetle's
 * paired assertions: what was decided on locked levels is checked against what the database did).
 */
function appliedAsPlanned(moves: readonly PlannedMove[], applied: readonly AppliedMovement[]): boolean {
  return (
    applied.length === moves.length &&
    applied.every((outcome, i) => {
      const move = moves[i];
      return (
        move !== undefined &&
        (move.reservedAfter === undefined || outcome.reserved === move.reservedAfter) &&
        (move.onHandAfter === undefined || outcome.on_hand === move.onHandAfter)
      );
    })
  );
}

const remaining = (line: ReservationLineRow): number => line.qty - line.fulfilled_qty - line.released_qty;

const toRoutingCandidate = (level: RoutingRow): RoutingCandidate => ({
  warehouse: level.warehouse,
  priority: level.priority,
  available: available(level),
  backorder_allowance: level.backorder_limit,
  lat: level.lat,
  lon: level.lon,
});

function parseId(id: string): void {
  try {
    parse(ReservationId, id);
  } catch {
    throw ValidationError.field('/id', 'not a reservation id (a UUID)');
  }
}
