import { timeOrderedUuid } from './time-ordered-ids.js';
import {
  ArchivedError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
  OpenReservationExistsError,
  UnknownSkuError,
  ValidationError,
} from '../domain/errors.js';
import type { ShortLine } from '../domain/errors.js';
import { assertChangeable, planAmendment, planMove, statusAfterChange } from '../domain/amendment.js';
import type { MoveRequest } from '../domain/amendment.js';
import { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, isDue, nextStatus, planFulfilment } from '../domain/reservation.js';
import type { ReservationAction, ReservationStatus } from '../domain/reservation.js';
import { DEFAULT_ALLOCATION, routeOrder, totalReservable } from '../domain/routing.js';
import { serves } from '../domain/service-area.js';
import type { Shopper } from '../domain/service-area.js';
import type { AllocationStrategy, RoutingCandidate } from '../domain/routing.js';
import { available, backorderedUnits } from '../domain/stock-level.js';
import { pastVariantLimits, variantAvailable, variantHeadroom } from '../domain/variant-limits.js';
import type { VariantLimits } from '../domain/variant-limits.js';
import type { Db, Queryable } from '../store/db.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import { lockOpenReservationsOf, lockOrderRefs, readUniqueOrderRefs } from '../store/order-refs.js';
import { writeReservationsWithHolds } from '../store/holds.js';
import type { EventsWanted } from '../store/holds.js';
import { applyMovements, lockLevels, lockRoutingLevels } from '../store/levels.js';
import type {
  AppliedMovement,
  LevelRow,
  LockedRouting,
  MovementInput,
  PlannedMovement,
  RoutingRow,
} from '../store/levels.js';
import {
  addLineProgress,
  claimDueHolds,
  claimDueReservations,
  countReservations,
  growReservationLines,
  lockReservations,
  readLinesOf,
  readReservation,
  readReservationsWithLines,
  setReservationDeadlines,
  setReservationStatuses,
} from '../store/reservations.js';
import type { LineGrowth, LineProgress, ReservationLineRow, ReservationRow } from '../store/reservations.js';
import { asStockroomError } from '../store/failures.js';
import { missing } from './lookups.js';
import { DEFAULT_LIST_TOTAL_MAX, checkReservationQuery, listReservations } from './reservation-search.js';
import type { ReservationPage, ReservationQuery } from './reservation-search.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toReservation } from './dto.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit } from './group-commit.js';
import type { GroupCommitOptions, GroupCommitStats, Settled } from './group-commit.js';
import { claimGroupKeys, settleGroupKeys } from './group-keys.js';
import { Picking, movesByLocation } from './picking.js';
import type { ClaimedKey } from './group-keys.js';
import type { Reservation } from './dto.js';
import { isComponentLine, kitVariantOf, withComponentPicks } from '../domain/kits.js';
import type { Kit } from '../domain/kits.js';
import { KitRegistry } from './kits.js';
import { componentSkus, kitsNamed, planKitHolds } from './kit-holds.js';
import {
  AmendInput,
  FulfilInput,
  MoveInput,
  ReleaseInput,
  ReservationId,
  ReserveInput,
  UnfulfilInput,
  parse,
} from './schemas.js';
import type {
  AmendInput as AmendRequest,
  FulfilInput as FulfilRequest,
  MoveInput as MoveBody,
  ReleaseInput as ReleaseRequest,
  ReserveInput as ReserveRequest,
  UnfulfilInput as UnfulfilRequest,
} from './schemas.js';

/**
 * A hold to place: a reserve movement with the names the reservation's lines are shown by. One that holds no
 * stock (an untracked variant's) becomes a line only: no movement, no ledger row.
 */
type PlannedHold = PlannedMovement & {
  sku: string;
  warehouse: string;
  holdsStock: boolean;
  /** a component's hold: the hold of the kit it is for (its line is the kit line's component) */
  kitOf?: PlannedHold;
};

interface ReserveJob {
  req: ReserveRequest;
  options: CallOptions;
  /** already put off once, for units a sweeper was releasing (see reserveGroup) */
  putOff?: boolean;
  /** the kits the order names (undefined for an order of plain SKUs) */
  kits?: ReadonlyMap<string, Kit> | undefined;
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

/** Told how long one reservation took and how it ended ('ok' or its error code): see watchReserveLatency. */
export type ReserveLatencyWatcher = (seconds: number, outcome: string) => void;

const RESERVE_SCOPE = 'reservation.reserve';
/** Why a variant-wide variant is short: its sum over warehouses, not one warehouse. */
const VARIANT_WIDE_SHORT = 'variant-wide limit over all warehouses';
const SWEEP_BATCH = 200;

/**
 * Two-phase reservations: reserve holds stock with a deadline (pending), commit removes the deadline,
 * fulfil ships (on_hand and reserved drop), release and expiry give the stock back.
 */
export class ReservationService {
  private readonly reserving: GroupCommit<ReserveJob, Reservation>;
  private readonly transitioning: GroupCommit<TransitionJob, Reservation>;
  private readonly amending: GroupCommit<AmendJob, Reservation>;
  private readonly reserveWatchers = new Set<ReserveLatencyWatcher>();
  /**
   * Which of its events a channel wanted when the last group was written: only those does a group build and write
   * (store/holds.ts, EventsWanted); the group tells the next one.
   */
  private eventsWanted: EventsWanted = { reservationCreated: true, stockChanged: true };

  constructor(
    private readonly ctx: ServiceContext,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
    /** how many matches a list counts at most (STOCKROOM_LIST_TOTAL_MAX) */
    private readonly listTotalMax: number = DEFAULT_LIST_TOTAL_MAX,
    /** how orders that do not say are spread over warehouses (STOCKROOM_ALLOCATION) */
    private readonly allocation: AllocationStrategy = DEFAULT_ALLOCATION,
    /** the kits, known in memory: a plain order is looked up there and nowhere else */
    private readonly kits: KitRegistry = new KitRegistry(ctx.db),
  ) {
    // an order's first SKU: orders of different SKUs may run side by side, a hot SKU's wait in one group
    this.reserving = new GroupCommit(
      (jobs) => this.reserveGroup(jobs),
      groupCommit,
      (job) => job.req.lines[0]?.sku ?? '',
    );
    this.transitioning = new GroupCommit((jobs) => this.transitionGroup(jobs), groupCommit);
    this.amending = new GroupCommit((jobs) => this.amendGroup(jobs), groupCommit);
  }

  /** How reservations have been grouped into transactions so far. */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.reserving.stats;
  }

  /** Calls waiting for a group of their kind to take them, now: reservations, commits/releases/fulfils, changes. */
  get groupCommitQueues(): { reserve: number; transition: number; amend: number } {
    return { reserve: this.reserving.queued, transition: this.transitioning.queued, amend: this.amending.queued };
  }

  /**
   * Calls `watcher` for every reservation that reached the group commit, once its group has answered: the seconds
   * from the call entering reserve (queueing for a group included) to that answer, and its outcome ('ok' or the
   * error code). @returns the function that stops watching
   */
  watchReserveLatency(watcher: ReserveLatencyWatcher): () => void {
    this.reserveWatchers.add(watcher);
    return () => {
      this.reserveWatchers.delete(watcher);
    };
  }

  /**
   * Holds stock for every line or for none. Lines of one SKU are summed before anything is checked.
   * Reservations arriving together are committed together (see reserveGroup); the answer comes after the
   * commit.
   */
  async reserve(input: ReserveInput, options: CallOptions = {}): Promise<Reservation> {
    const started = performance.now();
    const req = parse(ReserveInput, input);
    if (req.replace === true && req.unique_order_ref === false)
      throw ValidationError.field(
        '/replace',
        'replaces the open reservation of a unique order_ref: not with unique_order_ref false',
      );
    // asked for by name, nearest without a place to be near to is a mistake; the store's default falls back
    if (req.allocation === 'nearest' && req.ship_to === undefined)
      throw ValidationError.field('/ship_to', 'is required when allocation is nearest');
    const kits = kitsNamed(req.lines, this.kits.known ?? (await this.kits.load()));
    const answered = afterReleasesElsewhere(this.ctx.db, (putOff) =>
      this.reserving.submit({ req, options, putOff, kits }),
    );
    if (this.reserveWatchers.size === 0) return answered;
    const tell = (outcome: string): void => {
      const seconds = (performance.now() - started) / 1000;
      for (const watcher of this.reserveWatchers) watcher(seconds, outcome);
    };
    return answered.then(
      (reservation) => {
        tell('ok');
        return reservation;
      },
      (error: unknown) => {
        tell(asStockroomError(error)?.code ?? 'internal_error');
        throw error;
      },
    );
  }

  /**
   * One transaction for a group of orders: claim their idempotency keys, lock their order_refs and the open
   * reservations holding them (one per order_ref: see lockOrdersAndLevels), lock every level of every SKU they
   * name (in key order, so groups cannot deadlock), expire the holds on them that are past their deadline (a
   * hold that has run out holds nothing, whether the sweeper has been by or not), plan the orders one after
   * the other on the locked numbers, each seeing what the ones before it took, then write all holds, ledger
   * rows and reservations in one statement each. Planning on locked numbers is exact: an order is refused only when the stock is not
   * there, and never oversold. Each order is all or nothing; a refused order changes nothing.
   */
  private async reserveGroup(jobs: readonly ReserveJob[]): Promise<Settled<Reservation>[]> {
    // the ids of the reservations the last run wrote: whether they exist says whether a group whose COMMIT's answer
    // was lost is in (Db.transaction), so its callers get their answers rather than 503 and a retry
    let madeIds: string[] = [];
    const committed = async (db: Queryable): Promise<boolean> =>
      madeIds.length > 0 && (await countReservations(db, madeIds)) === madeIds.length;
    const run = async (tx: Queryable): Promise<Settled<Reservation>[]> => {
      const now = this.ctx.clock();
      const later = laterOfSameOrderRef(jobs);
      const { claimed, settled } = await claimGroupKeys<Reservation>(
        tx,
        jobs.map((job, i) =>
          later.has(i) ? undefined : { scope: RESERVE_SCOPE, options: job.options, request: job.req },
        ),
      );
      // a second order for an order_ref in this group is decided after the first: in the next group
      for (const i of later) settled[i] = { retry: true };
      const requested = [
        ...new Set(
          jobs.flatMap((job, i) =>
            settled[i]
              ? []
              : job.kits
                ? [...job.req.lines.map((line) => line.sku), ...componentSkus(job.kits)]
                : job.req.lines.map((line) => line.sku),
          ),
        ),
      ];
      const { orders, levels, elsewhere } = await lockOrdersAndLevels(
        tx,
        jobs.filter((job, i) => !settled[i] && isUniqueOrderRef(job.req)).map((job) => job.req.order_ref),
        requested,
        now,
      );
      // a pending one past its deadline was expired just now, with the levels: it no longer holds the order_ref
      const open = await stillOpen(tx, orders);
      const known = await this.knownNames(tx, requested, levels, jobs);

      const moves: PlannedMovement[] = [];
      const replacing: Change = { moves: [], progress: [], statuses: [] };
      const planned: { job: number; id: string; lines: ReservationLineRow[] }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        try {
          // time-ordered (UUIDv7): each new reservation's key, and its lines', goes to the right edge of their
          // indexes instead of a random page of each (bench/README.md); 74 random bits still make it unguessable
          const id = timeOrderedUuid();
          const previous = isUniqueOrderRef(job.req) ? open.get(job.req.order_ref) : undefined;
          const released = previous ? replaceable(previous, job, levels) : undefined;
          let holds: PlannedHold[];
          try {
            holds = plan(id, job.req, levels, known, this.allocation, job.kits);
          } catch (error) {
            // the new order cannot be held: the one it would replace keeps every unit it holds
            if (released) shiftReserved(released.moves, levels, -1);
            throw error;
          }
          if (released) {
            // its units are given back (in the ledger) right before the new holds that may use them
            moves.push(...released.moves);
            replacing.progress.push(...released.progress);
            replacing.statuses.push(...released.statuses);
          }
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
              backordered: hold.holdsStock ? backorderedUnits(qty, availableFor(level, levels)) : 0,
              fulfilled_qty: 0,
              released_qty: 0,
              holds_stock: hold.holdsStock,
              kit_line_no: hold.kitOf ? holds.indexOf(hold.kitOf) + 1 : null,
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
              unique_order_ref: isUniqueOrderRef(req),
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
          uniqueOrderRef: isUniqueOrderRef(req),
          expiresAt,
          now,
          lines: lines.map((line) => ({
            variantId: line.variant_id,
            warehouseId: line.warehouse_id,
            sku: line.sku,
            warehouse: line.warehouse,
            qty: line.qty,
            backordered: line.backordered,
            holdsStock: line.holds_stock,
            kitLineNo: line.kit_line_no,
          })),
        };
      });
      madeIds = reservations.map((reservation) => reservation.id);
      // the replaced are closed before the new ones are written: the unique index sees one open per order_ref
      await addLineProgress(tx, replacing.progress);
      await setReservationStatuses(tx, replacing.statuses, now);
      // planned on locked numbers, every hold must apply as planned: the write refuses the whole group if one did
      // not. Nothing in its answer is needed before the commit, so it and the keys' answers are not waited for
      // here: they go out with the COMMIT, one round trip, and the transaction fails if either failed
      // (Db.transaction); their own promises are settled quietly
      const written = writeReservationsWithHolds(tx, reservations, moves, now, this.eventsWanted);
      const keysSettled = settleGroupKeys(tx, claimed, settled);
      written.then((wanted) => {
        this.eventsWanted = wanted;
      }, ignore);
      keysSettled.catch(ignore);
      return settled.map((settlement) => settlement ?? missing('settled job'));
    };
    return this.ctx.db.transaction(run, { committed });
  }

  /** Which SKUs and warehouses of the group exist: from the locked levels, asking only about the rest. */
  private async knownNames(
    tx: Queryable,
    skus: readonly string[],
    levels: readonly RoutingRow[],
    jobs: readonly ReserveJob[],
  ): Promise<KnownNames> {
    return namesKnown(
      tx,
      skus,
      levels,
      jobs.flatMap((job) => (job.req.warehouse === undefined ? [] : [job.req.warehouse])),
    );
  }

  /** Payment received: the reservation no longer expires. Committing twice answers the same. */
  async commit(id: string, options: CallOptions = {}): Promise<Reservation> {
    reservationIdOf(id);
    return this.transitioning.submit({ id, action: 'commit', body: {}, options });
  }

  /** Cancels: whatever is still held goes back to available. */
  async release(id: string, options: CallOptions = {}): Promise<Reservation> {
    reservationIdOf(id);
    return this.transitioning.submit({ id, action: 'release', body: {}, options });
  }

  /**
   * Ships all that is held, or the given lines: on_hand and reserved drop at exactly the warehouses the
   * lines were reserved in.
   */
  async fulfil(id: string, input: FulfilInput = {}, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(FulfilInput, input);
    reservationIdOf(id);
    // shipping from another warehouse moves the hold first: that needs the other warehouse's level locked too
    if (req.lines?.some((line) => line.ship_from !== undefined))
      return this.change(id, { action: 'fulfil', body: req }, options);
    return this.transitioning.submit({ id, action: 'fulfil', body: req, options });
  }

  /**
   * Changes a reservation after checkout, all or nothing (see amendGroup): lines to a new quantity (the extra
   * units held at the line's warehouse, or units given back), new lines routed as reserve routes them, and a
   * pending one's deadline (`ttl_seconds` from now, or `expires_at`).
   */
  async amend(id: string, input: AmendInput, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(AmendInput, input);
    reservationIdOf(id);
    if (req.lines === undefined && req.ttl_seconds === undefined && req.expires_at === undefined)
      throw ValidationError.field('', 'nothing to amend: give lines, ttl_seconds or expires_at');
    if (req.ttl_seconds !== undefined && req.expires_at !== undefined)
      throw ValidationError.field('/expires_at', 'give ttl_seconds or expires_at, not both');
    const kits = kitsNamed(req.lines ?? [], this.kits.known ?? (await this.kits.load()));
    if (kits)
      throw ValidationError.field('/lines', `${[...kits.keys()].join(', ')}: a kit is reserved, not amended in`);
    return this.change(id, { action: 'amend', body: req }, options);
  }

  /**
   * Gives back the given units only; the reservation stays as it is unless nothing is left open (then it is
   * released). Without lines, everything held is given back, as release does.
   */
  async releaseLines(id: string, input: ReleaseInput = {}, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(ReleaseInput, input);
    reservationIdOf(id);
    if (req.lines === undefined) return this.release(id, options);
    return this.change(id, { action: 'release', body: req }, options);
  }

  /** Holds units of a line in another warehouse instead: given back at the old level, held at the new one. */
  async move(id: string, input: MoveInput, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(MoveInput, input);
    reservationIdOf(id);
    return this.change(id, { action: 'move', body: req }, options);
  }

  /**
   * Undoes shipments (all, or the given units): they come back on hand where they shipped from and are held
   * for the reservation again, which goes back to committed or partially fulfilled.
   */
  async unfulfil(id: string, input: UnfulfilInput = {}, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(UnfulfilInput, input);
    reservationIdOf(id);
    return this.change(id, { action: 'unfulfil', body: req }, options);
  }

  /** Submits a change to amendGroup; one refused for units a sweeper elsewhere is releasing is tried once more. */
  private change(id: string, change: ChangeRequest, options: CallOptions): Promise<Reservation> {
    return afterReleasesElsewhere(this.ctx.db, (putOff) => this.amending.submit({ id, change, options, putOff }));
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
      const { settled, claimed } = await claimCallKeys(tx, jobs);

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
      // a fulfilment takes its units out of locations: what they hold is read (under the levels' locks) only then
      const picking = jobs.some((job, i) => !settled[i] && job.action === 'fulfil')
        ? await Picking.read(tx, levelKeys)
        : undefined;

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
          decide(change, reservation, lines, job, levels, picking);
          answered.push({ job: i, id: reservation.id });
        } catch (error) {
          settled[i] = { ok: false, error };
        }
      });

      await writeChange(tx, change, now, picking);
      return settleAnswered(tx, answered, settled, claimed);
    });
  }

  /**
   * One transaction for a group of amendments, partial releases, moves, fulfilments from another warehouse
   * and undone fulfilments, as transitionGroup is for commits: decided on locked numbers, each all or nothing,
   * written set-based. Locks are taken in the order every other group takes them, so no two transactions wait
   * on each other in a cycle: first the reservations, in id order (as transitionGroup and the sweeper do;
   * reserveGroup locks no existing reservation but due ones, with SKIP LOCKED, never waiting), then every level
   * of every SKU involved in ONE statement in (variant, warehouse) order (expireDueHoldsOn, as reserveGroup):
   * the SKUs of the reservations' lines and those the changes name. applyMovements then only takes locks this
   * transaction holds. Locking levels in two statements could take a later key before an earlier one and
   * deadlock with a group that locks both in one.
   */
  private async amendGroup(jobs: readonly AmendJob[]): Promise<Settled<Reservation>[]> {
    return this.ctx.db.transaction(async (tx) => {
      const now = this.ctx.clock();
      const { settled, claimed } = await claimCallKeys(
        tx,
        jobs.map((job) => ({ id: job.id, action: job.change.action, body: job.change.body, options: job.options })),
      );

      const open = jobs.filter((_, i) => !settled[i]);
      // an unfulfil reopens a fulfilled reservation: its order_ref is locked first, as reserveGroup locks it (the
      // lock order of lockOrdersAndLevels), so no reservation for that order is opened meanwhile
      const reopening = open.filter((job) => job.change.action === 'unfulfil').map((job) => job.id);
      await lockOrderRefs(tx, await readUniqueOrderRefs(tx, reopening));
      const rows = await lockReservations(
        tx,
        open.map((job) => job.id),
      );
      const takenBy = await openOrdersOf(
        tx,
        reopening.flatMap((id) => {
          const row = rows.get(id);
          return row?.status === 'fulfilled' && row.unique_order_ref ? [row.order_ref] : [];
        }),
      );
      const linesOf = await readLinesOf(tx, [...rows.keys()]);
      const skus = [
        ...new Set([
          ...[...linesOf.values()].flat().map((line) => line.sku),
          ...open.flatMap((job) => namedIn(job.change).skus),
        ]),
      ];
      // a due reservation of the group is expired here too: its lines' SKUs are among these, and it is ours
      const { levels, elsewhere } =
        skus.length > 0 ? await expireDueHoldsOn(tx, skus, now) : { levels: [], elsewhere: [] };
      const known = await namesKnown(
        tx,
        skus,
        levels,
        open.flatMap((job) => namedIn(job.change).warehouses),
      );

      const picking = open.some((job) => job.change.action === 'fulfil')
        ? await Picking.read(
            tx,
            levels.map((level) => ({ variantId: level.variant_id, warehouseId: level.warehouse_id })),
          )
        : undefined;
      const change: Change = { moves: [], progress: [], statuses: [] };
      const growth: LineGrowth[] = [];
      const deadlines: { id: string; expiresAt: Date }[] = [];
      const answered: { job: number; id: string }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        const reservation = rows.get(job.id);
        if (!reservation) {
          settled[i] = { ok: false, error: new NotFoundError('reservation', job.id) };
          return;
        }
        if (isDue(reservation, now)) {
          settled[i] = { ok: false, error: new InvalidTransitionError('expired', job.change.action) };
          return;
        }
        const before = levels.map((level) => ({ level, on_hand: level.on_hand, reserved: level.reserved }));
        try {
          if (job.change.action === 'unfulfil') refuseReopeningTaken(reservation, takenBy);
          const draft = decideAmendment(
            reservation,
            linesOf.get(job.id) ?? [],
            job,
            levels,
            known,
            now,
            this.allocation,
            picking,
          );
          change.moves.push(...draft.change.moves);
          change.progress.push(...draft.change.progress);
          change.statuses.push(...draft.change.statuses);
          growth.push(...draft.growth);
          if (draft.expiresAt) deadlines.push({ id: reservation.id, expiresAt: draft.expiresAt });
          answered.push({ job: i, id: reservation.id });
        } catch (error) {
          // a refused change leaves the locked numbers as they were for the ones after it
          for (const saved of before) {
            saved.level.on_hand = saved.on_hand;
            saved.level.reserved = saved.reserved;
          }
          const wait = elsewhere.length > 0 && error instanceof InsufficientStockError && !job.putOff;
          settled[i] = { ok: false, error: wait ? new HoldsBeingReleased(elsewhere) : error };
        }
      });

      // lines first: the progress writeChange adds may be on lines this group adds
      await growReservationLines(tx, growth);
      await setReservationDeadlines(tx, deadlines, now);
      await writeChange(tx, change, now, picking);
      return settleAnswered(tx, answered, settled, claimed);
    });
  }

  /**
   * Reservations newest first, filtered by status, order_ref, SKU, warehouse, creation time and deadline, a page at
   * a time, with how many match in all. Holds past their deadline are expired first, as `get` does, so every one
   * listed shows what it holds (a due one reads expired, not pending).
   */
  async list(query: ReservationQuery = {}): Promise<ReservationPage> {
    const checked = await checkReservationQuery(this.ctx.db, query);
    await expireDueNow(this.ctx, { wait: true });
    return listReservations(this.ctx.staleReads ?? this.ctx.db, checked, this.listTotalMax);
  }

  /** A reservation as it stands; one whose deadline has passed is expired first, so it never claims to hold stock. */
  async get(id: string): Promise<Reservation> {
    reservationIdOf(id);
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
  expireDue(): Promise<number> {
    return expireDueNow(this.ctx);
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

/**
 * Releases every pending reservation past its deadline, in batches of SWEEP_BATCH, each batch one transaction (the
 * sweeper's work). Also run by reads that show `reserved` or a status as stored (the reservation list, the stock
 * list and the exports), so a hold past its deadline is not counted or listed as pending there either, swept or
 * not yet. Those reads `wait` for due holds another transaction has locked (a sweeper in another process, a group
 * expiring them with its levels), which the sweeper skips: they would read them as they were.
 * @returns how many reservations it expired
 */
export async function expireDueNow(ctx: ServiceContext, { wait = false } = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await ctx.db.transaction(async (tx) => {
      const ids = await claimDueReservations(tx, ctx.clock(), SWEEP_BATCH, wait);
      // claimed FOR UPDATE above: reading them again takes no new lock
      if (ids.length > 0) await expireLocked(tx, [...(await lockReservations(tx, ids)).values()], ctx.clock());
      return ids.length;
    });
    total += expired;
    if (expired < SWEEP_BATCH) return total;
  }
}

/** Whether an order keeps its order_ref unique among open reservations (the default) or opted out. */
const isUniqueOrderRef = (req: ReserveRequest): boolean => req.unique_order_ref !== false;

/** The jobs of a group whose unique order_ref an earlier job of the group already names. */
function laterOfSameOrderRef(jobs: readonly ReserveJob[]): Set<number> {
  const seen = new Set<string>();
  const later = new Set<number>();
  jobs.forEach((job, i) => {
    if (!isUniqueOrderRef(job.req)) return;
    if (seen.has(job.req.order_ref)) later.add(i);
    seen.add(job.req.order_ref);
  });
  return later;
}

/** An open reservation that holds its order_ref, locked, with its lines. */
interface OpenOrder {
  row: ReservationRow;
  lines: ReservationLineRow[];
}

/** For the promises of statements a transaction waits for itself (Db.transaction reports their failure). */
const ignore = (): void => undefined;

/**
 * The uniqueness step of reserveGroup, and its level locks. Lock order, the same in every transaction that changes
 * reservations, so none can wait for another in a circle: idempotency keys (claimGroupKeys), then order_refs
 * (advisory locks, in hash order), then reservations (in id order, as transitionGroup and the sweeper take them),
 * then levels (in (variant, warehouse) order, lockRoutingLevels and lockLevels). Order_ref locks are taken only by
 * reserveGroup and by amendGroup for the reservations an unfulfil reopens, and only before any reservation or level
 * lock, so a transaction holding a reservation or a level never waits for one; the due holds expireDueHolds claims
 * later are taken with SKIP LOCKED and wait for nobody. The levels locked are those of the SKUs asked for and of the
 * SKUs the pending reservations of these order_refs hold: a replace gives their units back, and one past its
 * deadline is expired with them (see expireDueHoldsOn), which frees its order_ref for the new order.
 * @param orderRefs the unique order_refs of the group, whose open reservations are locked and read
 * @returns the open reservations of these order_refs by order_ref, with their lines, and the locked levels
 */
async function lockOrdersAndLevels(
  tx: Queryable,
  orderRefs: readonly string[],
  skus: readonly string[],
  now: Date,
): Promise<{ orders: Map<string, OpenOrder> } & DueHoldsExpired> {
  // sent together and run in this order by the server (a pipeline: one round trip for the three); each statement
  // takes its snapshot when it starts, so the open reservations are read once the order_ref locks are held
  const [, rows, routing] = await Promise.all([
    lockOrderRefs(tx, orderRefs),
    lockOpenReservationsOf(tx, orderRefs),
    skus.length > 0 ? lockRoutingLevels(tx, skus, now, orderRefs) : Promise.resolve({ levels: [], due: [] }),
  ]);
  const pending = rows.filter((row) => row.status === 'pending').map((row) => row.id);
  const linesOf = pending.length > 0 ? await readLinesOf(tx, pending) : new Map<string, ReservationLineRow[]>();
  const { levels, elsewhere } = await expireDueHolds(tx, routing, now);
  return {
    orders: new Map(rows.map((row) => [row.order_ref, { row, lines: linesOf.get(row.id) ?? [] }])),
    levels,
    elsewhere,
  };
}

/** The open reservations holding these order_refs as unique, by order_ref (locked: see lockOpenReservationsOf). */
async function openOrdersOf(tx: Queryable, orderRefs: readonly string[]): Promise<Map<string, ReservationRow>> {
  return new Map((await lockOpenReservationsOf(tx, orderRefs)).map((row) => [row.order_ref, row]));
}

/**
 * An unfulfil reopens a fulfilled reservation; refused when another reservation is open for its order (one open
 * reservation per order_ref). The first reopened in a group takes the order_ref for the ones after it.
 */
function refuseReopeningTaken(reservation: ReservationRow, takenBy: Map<string, ReservationRow>): void {
  if (reservation.status !== 'fulfilled' || !reservation.unique_order_ref) return;
  const other = takenBy.get(reservation.order_ref);
  if (other !== undefined && other.id !== reservation.id)
    throw new OpenReservationExistsError(
      reservation.order_ref,
      other.id,
      other.status,
      'unfulfilling would reopen this one beside it; return the units instead, or cancel the open one first',
    );
  takenBy.set(reservation.order_ref, { ...reservation, status: 'partially_fulfilled' });
}

/** The open orders that are still open once the due holds on their levels were expired (read again, locked). */
async function stillOpen(tx: Queryable, open: Map<string, OpenOrder>): Promise<Map<string, OpenOrder>> {
  const pending = [...open.values()].filter((order) => order.row.status === 'pending').map((order) => order.row.id);
  if (pending.length === 0) return open;
  const current = await lockReservations(tx, pending);
  return new Map(
    [...open].filter(([, order]) => order.row.status !== 'pending' || current.get(order.row.id)?.status === 'pending'),
  );
}

/**
 * What replacing an order's open reservation releases, already given back on the locked levels so the new order
 * may use those units; or why it is refused: without `replace`, or when the open one is no longer pending
 * (committed or partly shipped: it is paid for, so it is amended or cancelled, never silently replaced).
 */
function replaceable(previous: OpenOrder, job: ReserveJob, levels: RoutingRow[]): Change {
  const { row, lines } = previous;
  if (job.req.replace !== true)
    throw new OpenReservationExistsError(
      row.order_ref,
      row.id,
      row.status,
      'replace it ("replace": true; --replace from the CLI) or reserve another beside it ("unique_order_ref": false; --not-unique)',
    );
  if (row.status !== 'pending')
    throw new OpenReservationExistsError(
      row.order_ref,
      row.id,
      row.status,
      'only a pending reservation is replaced; amend or cancel this one',
    );
  const change: Change = { moves: [], progress: [], statuses: [] };
  releaseAll(change, row, lines, 'release', job.options.actor ?? null);
  shiftReserved(change.moves, levels, 1);
  return change;
}

/** Adds (direction 1) or takes back (-1) what movements change of reserved on the locked levels. */
function shiftReserved(moves: readonly MovementInput[], levels: RoutingRow[], direction: 1 | -1): void {
  for (const move of moves) {
    const level =
      levels.find((row) => row.variant_id === move.variantId && row.warehouse_id === move.warehouseId) ??
      missing('level of a replaced hold');
    level.reserved += move.deltaReserved * direction;
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
  return expireDueHolds(tx, await lockRoutingLevels(tx, skus, now), now);
}

/** The second half of expireDueHoldsOn, for a caller that has locked the levels itself (lockOrdersAndLevels). */
async function expireDueHolds(tx: Queryable, { levels, due }: LockedRouting, now: Date): Promise<DueHoldsExpired> {
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
  kits?: ReadonlyMap<string, Kit>,
): PlannedHold[] {
  const wanted = new Map<string, number>();
  for (const line of req.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.qty);
  const unknown = [...wanted.keys()].filter((sku) => !known.skus.has(sku));
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  if (req.warehouse !== undefined && !known.warehouses.has(req.warehouse))
    throw new NotFoundError('warehouse', req.warehouse);
  const shopper: Shopper = { region: req.region, ship_to: req.ship_to };
  const strategy = routingStrategy(req, storeAllocation);
  // kits are routed after the plain lines, on what those leave (see planKitHolds)
  const kitsWanted = new Map<string, number>();
  for (const sku of kits?.keys() ?? []) {
    kitsWanted.set(sku, wanted.get(sku) ?? 0);
    wanted.delete(sku);
  }
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
      short.push({ sku, requested: qty, available: headroom, reason: VARIANT_WIDE_SHORT });
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
  if (kits) short.push(...holdKits(id, req, kits, kitsWanted, levels, moves, { shopper, strategy }));
  if (short.length > 0) throw new InsufficientStockError(short);
  return moves;
}

/**
 * Adds an order's kits to its holds: per warehouse a line for the kit (it holds nothing) and one per component
 * (holding the units), routed on what the order's plain holds leave. @returns the kits that cannot be covered
 */
function holdKits(
  id: string,
  req: ReserveRequest,
  kits: ReadonlyMap<string, Kit>,
  wanted: ReadonlyMap<string, number>,
  levels: readonly RoutingRow[],
  moves: PlannedHold[],
  routing: { shopper: Shopper; strategy: AllocationStrategy },
): ShortLine[] {
  const taken = new Map<RoutingRow, number>();
  for (const move of moves) {
    const level = levels.find((row) => row.variant_id === move.variantId && row.warehouse_id === move.warehouseId);
    if (level && move.holdsStock) taken.set(level, (taken.get(level) ?? 0) + move.deltaReserved);
  }
  const { parts, short } = planKitHolds(wanted, kits, levels, taken, {
    ...routing,
    warehouse: req.warehouse,
    ship_to: req.ship_to,
    split: req.split,
  });
  const hold = (level: RoutingRow, qty: number, kitOf?: PlannedHold): PlannedHold => ({
    sku: level.sku,
    warehouse: level.warehouse,
    variantId: level.variant_id,
    warehouseId: level.warehouse_id,
    type: 'reserve',
    deltaOnHand: 0,
    deltaReserved: qty,
    guard: 'reservable',
    reference: req.order_ref,
    reservationId: id,
    holdsStock: kitOf !== undefined,
    ...(kitOf ? { kitOf, kitVariantId: kitOf.variantId } : {}),
  });
  for (const part of parts) {
    const kitHold = hold(part.kit, part.kits);
    moves.push(kitHold, ...part.components.map((component) => hold(component.level, component.qty, kitHold)));
  }
  return short;
}

/**
 * What a variant whose limits apply to its sum (limit_scope variant) can still promise over every warehouse,
 * serving the order or not; undefined for a variant limited per warehouse.
 */
/**
 * What a hold at this level is sold short against: the level's available, or for a variant-wide variant what the
 * variant has left over all its warehouses (its levels hold no safety stock of their own).
 */
function availableFor(level: RoutingRow, levels: readonly RoutingRow[]): number {
  const wide = variantWide(level.sku, levels);
  return wide ? variantAvailable(wide.levels, wide.limits) : available(level);
}

function headroomOf(sku: string, levels: readonly RoutingRow[]): number | undefined {
  const wide = variantWide(sku, levels);
  return wide && variantHeadroom(wide.levels, wide.limits);
}

/** Every level of a variant-wide variant with its limits; undefined for a variant limited per warehouse. */
function variantWide(
  sku: string,
  levels: readonly RoutingRow[],
): { levels: RoutingRow[]; limits: VariantLimits } | undefined {
  const all = levels.filter((level) => level.sku === sku);
  const first = all[0];
  if (first?.limit_scope !== 'variant') return undefined;
  return {
    levels: all,
    limits: { safety_stock: first.variant_safety_stock, backorder_allowance: first.backorder_limit },
  };
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
  moves: PlannedMovement[];
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
      kitVariantId: kitVariantOf(line, lines),
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
  /** what the locations hold: a shipment's units come out of them, a ledger row each (none: in code order) */
  picking?: Picking,
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
  // a kit's components are shipped with it, never named alone
  const open = lines
    .filter((line) => !isComponentLine(line))
    .map((line) => ({ line_no: line.line_no, sku: line.sku, warehouse: line.warehouse, remaining: remaining(line) }));
  const picks = withComponentPicks(planFulfilment(open, (job.body as FulfilRequest).lines), lines);
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
  const withRemaining = (line: ReservationLineRow) => ({ ...line, remaining: remaining(line) });
  const picked = picking?.plan(
    shipments.map(({ line, qty }) => ({ line: withRemaining(line), qty })),
    (job.body as FulfilRequest).lines,
    lines.map(withRemaining),
  );
  for (const [i, { line, qty, level }] of shipments.entries()) {
    change.progress.push({ reservationId: reservation.id, lineNo: line.line_no, fulfilled: qty, released: 0 });
    if (!line.holds_stock) continue;
    const onHand = level.on_hand;
    level.on_hand -= qty;
    level.reserved -= qty;
    const move: PlannedMovement = {
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
      kitVariantId: kitVariantOf(line, lines),
    };
    const parts = picked?.[i];
    change.moves.push(...(parts ? movesByLocation(move, parts, onHand) : [move]));
  }
  const shipped = new Map(picks.map((pick) => [pick.line_no, pick.qty]));
  const fully = lines.every((line) => remaining(line) - (shipped.get(line.line_no) ?? 0) === 0);
  change.statuses.push({ id: reservation.id, status: nextStatus(reservation.status, 'fulfil', fully) });
}

/** Writes a change set-based: every movement with its ledger row, line progress, statuses. */
async function writeChange(tx: Queryable, change: Change, now: Date, picking?: Picking): Promise<void> {
  // out of the locations before the levels drop, so the trim trigger finds nothing to take in code order
  await picking?.takeOut(tx, now);
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
function appliedAsPlanned(moves: readonly PlannedMovement[], applied: readonly AppliedMovement[]): boolean {
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

/**
 * `id` if it is a reservation id (a UUID), else refused at `${at}/id`: the HTTP routes say `/params/id`, as for
 * any path parameter.
 */
export function reservationIdOf(id: string, at = ''): string {
  try {
    return parse(ReservationId, id);
  } catch {
    throw ValidationError.field(`${at}/id`, 'not a reservation id (a UUID)');
  }
}

/** A change of an existing reservation, as amendGroup takes it, with the body its endpoint was called with. */
type ChangeRequest =
  | { action: 'amend'; body: AmendRequest }
  | { action: 'release'; body: ReleaseRequest }
  | { action: 'move'; body: MoveBody }
  | { action: 'fulfil'; body: FulfilRequest }
  | { action: 'unfulfil'; body: UnfulfilRequest };

interface AmendJob {
  id: string;
  change: ChangeRequest;
  options: CallOptions;
  /** already put off once, for units a sweeper was releasing (see reserveGroup) */
  putOff?: boolean;
}

/** The SKUs and warehouses a change names beyond the reservation's own lines. */
function namedIn(change: ChangeRequest): { skus: string[]; warehouses: string[] } {
  const defined = (values: (string | undefined)[]): string[] => values.flatMap((value) => value ?? []);
  switch (change.action) {
    case 'amend':
      return {
        skus: (change.body.lines ?? []).map((line) => line.sku),
        warehouses: defined((change.body.lines ?? []).map((line) => line.warehouse)),
      };
    case 'move':
      return { skus: [change.body.sku], warehouses: defined([change.body.to, change.body.from]) };
    case 'fulfil':
      return {
        skus: (change.body.lines ?? []).map((line) => line.sku),
        warehouses: defined((change.body.lines ?? []).map((line) => line.ship_from)),
      };
    default:
      return { skus: [], warehouses: [] };
  }
}

/** Which of these SKUs and warehouses exist: from the locked levels, asking only about the rest. */
async function namesKnown(
  tx: Queryable,
  skus: readonly string[],
  levels: readonly RoutingRow[],
  warehouseCodes: readonly string[],
): Promise<KnownNames> {
  const skuSet = new Set(levels.map((level) => level.sku));
  const unseen = skus.filter((sku) => !skuSet.has(sku));
  // a variant with no levels yet (no warehouse exists) is known all the same
  if (unseen.length > 0) for (const variant of await findVariants(tx, unseen)) skuSet.add(variant.sku);
  const warehouses = new Set(levels.map((level) => level.warehouse));
  const asked = [...new Set(warehouseCodes.filter((code) => !warehouses.has(code)))];
  if (asked.length > 0) for (const warehouse of await findWarehouses(tx, asked)) warehouses.add(warehouse.code);
  return { skus: skuSet, warehouses };
}

/**
 * The start of a group of calls on existing reservations: a second call on one reservation waits for the next
 * group (so it sees the first one's effect), and every other call's idempotency key is claimed.
 */
async function claimCallKeys(
  tx: Queryable,
  calls: readonly { id: string; action: string; body: unknown; options: CallOptions }[],
): Promise<{ settled: (Settled<Reservation> | undefined)[]; claimed: (ClaimedKey | undefined)[] }> {
  const settled: (Settled<Reservation> | undefined)[] = calls.map(() => undefined);
  const seen = new Set<string>();
  calls.forEach((call, i) => {
    if (seen.has(call.id)) settled[i] = { retry: true };
    seen.add(call.id);
  });
  const keys = await claimGroupKeys<Reservation>(
    tx,
    calls.map((call, i) =>
      settled[i]
        ? undefined
        : { scope: `reservation.${call.action}`, options: call.options, request: { id: call.id, body: call.body } },
    ),
  );
  keys.settled.forEach((settlement, i) => {
    if (settlement) settled[i] = settlement;
  });
  return { settled, claimed: keys.claimed };
}

/** Answers the group's changed reservations as they now stand, stores the answers of its keys, settles all. */
async function settleAnswered(
  tx: Queryable,
  answered: readonly { job: number; id: string }[],
  settled: (Settled<Reservation> | undefined)[],
  claimed: readonly (ClaimedKey | undefined)[],
): Promise<Settled<Reservation>[]> {
  const after = await readReservationsWithLines(
    tx,
    answered.map((answer) => answer.id),
  );
  for (const { job, id } of answered) {
    const reservation = after.get(id) ?? missing(`reservation ${id}`);
    settled[job] = { ok: true, value: toReservation(reservation.row, reservation.lines) };
  }
  await settleGroupKeys(tx, claimed, settled);
  return settled.map((settlement) => settlement ?? missing('settled job'));
}

/** What one change of a reservation writes: movements, line progress and status, lines grown, a new deadline. */
interface Draft {
  change: Change;
  growth: LineGrowth[];
  expiresAt?: Date;
}

/**
 * Decides one change of a locked reservation on the locked levels, changing those levels as it goes; throws
 * why it is refused (the caller puts the levels back). Every held unit more is checked reservable at its level,
 * every unit given back or taken back is a ledger row tied to the reservation.
 */
function decideAmendment(
  reservation: ReservationRow,
  lines: readonly ReservationLineRow[],
  job: AmendJob,
  levels: readonly RoutingRow[],
  known: KnownNames,
  now: Date,
  allocation: AllocationStrategy,
  picking?: Picking,
): Draft {
  const draft: Draft = { change: { moves: [], progress: [], statuses: [] }, growth: [] };
  const edits = new LineEdits(reservation, lines, levels, draft, job.options.actor ?? null);
  const { change } = job;
  // a kit's lines change together: given back (release) as a whole kit, nothing else
  if (change.action !== 'release' && lines.some(isComponentLine))
    throw new InvalidTransitionError(
      'holding a kit',
      change.action === 'fulfil' ? 'ship from elsewhere' : change.action,
    );
  let emptied: 'released' | 'fulfilled' = 'fulfilled';
  switch (change.action) {
    case 'amend': {
      assertChangeable(reservation.status, 'amend');
      const body = change.body;
      if (body.ttl_seconds !== undefined || body.expires_at !== undefined) {
        if (reservation.status !== 'pending')
          throw new InvalidTransitionError(reservation.status, 'change the deadline of');
        draft.expiresAt = deadlineOf(body, now);
      }
      const wanted = planAmendment(edits.lines, body.lines ?? []);
      const unknown = [...new Set(wanted.add.map((line) => line.sku).filter((sku) => !known.skus.has(sku)))];
      if (unknown.length > 0) throw new UnknownSkuError(unknown);
      const short: ShortLine[] = [];
      for (const { line_no, delta } of wanted.resize) {
        const line = edits.line(line_no);
        if (delta < 0) edits.giveBack(line, -delta);
        else short.push(...edits.hold(line, delta));
      }
      for (const line of wanted.add) {
        try {
          const routed = plan(
            reservation.id,
            {
              order_ref: reservation.order_ref,
              lines: [{ sku: line.sku, qty: line.qty }],
              ...(line.warehouse === undefined ? {} : { warehouse: line.warehouse }),
              ...(body.region === undefined ? {} : { region: body.region }),
              ...(body.ship_to === undefined ? {} : { ship_to: body.ship_to }),
            },
            levels,
            known,
            allocation,
          );
          // routed on these levels as they stand: each part is reservable where it was routed
          for (const part of routed) short.push(...edits.hold(edits.lineAt(edits.levelOf(part)), part.deltaReserved));
        } catch (error) {
          if (!(error instanceof InsufficientStockError)) throw error;
          short.push(...error.lines);
        }
      }
      if (short.length > 0) throw new InsufficientStockError(short);
      break;
    }
    case 'release': {
      assertChangeable(reservation.status, 'release');
      emptied = 'released';
      const picks = withComponentPicks(
        planFulfilment(
          edits.openLines().filter((line) => !isComponentLine(edits.line(line.line_no))),
          change.body.lines,
          'release',
        ),
        edits.lines,
      );
      for (const pick of picks) edits.giveBack(edits.line(pick.line_no), pick.qty);
      break;
    }
    case 'move':
      assertChangeable(reservation.status, 'move');
      edits.move(change.body, known, '');
      break;
    case 'fulfil': {
      nextStatus(reservation.status, 'fulfil');
      const requested = (change.body.lines ?? []).map((want, i) => {
        const { ship_from: shipFrom, ...line } = want;
        if (shipFrom === undefined || shipFrom === want.warehouse) return line;
        // units the SKU already holds there ship first; the rest move there from its other lines
        const there =
          want.warehouse === undefined
            ? edits.lines
                .filter((held) => held.sku === want.sku && held.warehouse === shipFrom)
                .reduce((sum, held) => sum + remaining(held), 0)
            : 0;
        if (want.qty > there)
          edits.move(
            { sku: want.sku, qty: want.qty - there, from: want.warehouse, to: shipFrom },
            known,
            `/lines/${i}`,
          );
        return {
          sku: want.sku,
          qty: want.qty,
          warehouse: shipFrom,
          ...(want.locations ? { locations: want.locations } : {}),
        };
      });
      const levelMap = new Map(levels.map((level) => [levelKey(level.variant_id, level.warehouse_id), level]));
      decide(
        draft.change,
        reservation,
        edits.lines,
        { id: reservation.id, action: 'fulfil', body: { lines: requested }, options: job.options },
        levelMap,
        picking,
      );
      // decide has set the status
      return draft;
    }
    case 'unfulfil': {
      if (reservation.status !== 'partially_fulfilled' && reservation.status !== 'fulfilled')
        throw new InvalidTransitionError(reservation.status, 'unfulfil');
      const shipped = edits.lines.map((line) => ({ ...line, remaining: line.fulfilled_qty }));
      for (const pick of planFulfilment(shipped, change.body.lines, 'unfulfil'))
        edits.unship(edits.line(pick.line_no), pick.qty);
      break;
    }
  }
  draft.change.statuses.push({
    id: reservation.id,
    status: statusAfterChange(reservation.status, edits.lines, emptied),
  });
  return draft;
}

/** The new deadline an amendment asks for: `ttl_seconds` from now, or `expires_at`, in the future and within a week. */
function deadlineOf(body: AmendRequest, now: Date): Date {
  if (body.ttl_seconds !== undefined) return new Date(now.getTime() + body.ttl_seconds * 1000);
  const at = new Date(body.expires_at ?? missing('expires_at'));
  if (at.getTime() <= now.getTime()) throw ValidationError.field('/expires_at', 'is not in the future');
  if (at.getTime() > now.getTime() + MAX_TTL_SECONDS * 1000)
    throw ValidationError.field('/expires_at', `is more than ${MAX_TTL_SECONDS} seconds away`);
  return at;
}

/**
 * The lines of one reservation being changed (a copy), with the moves each edit makes on the locked levels:
 * every edit changes the line, its level and the draft together, so they never disagree.
 */
class LineEdits {
  readonly lines: ReservationLineRow[];

  constructor(
    private readonly reservation: ReservationRow,
    lines: readonly ReservationLineRow[],
    private readonly levels: readonly RoutingRow[],
    private readonly draft: Draft,
    private readonly actor: string | null,
  ) {
    this.lines = lines.map((line) => ({ ...line }));
  }

  line(lineNo: number): ReservationLineRow {
    return this.lines.find((line) => line.line_no === lineNo) ?? missing(`line ${lineNo}`);
  }

  openLines(): { line_no: number; sku: string; warehouse: string; remaining: number }[] {
    return this.lines.map((line) => ({ ...line, remaining: remaining(line) }));
  }

  levelOf(at: { variantId: number; warehouseId: number }): RoutingRow {
    return (
      this.levels.find((level) => level.variant_id === at.variantId && level.warehouse_id === at.warehouseId) ??
      missing(`level ${at.variantId}:${at.warehouseId}`)
    );
  }

  /** The reservation's line at a level, or a new empty one there (one line per SKU and warehouse). */
  lineAt(level: RoutingRow): ReservationLineRow {
    const found = this.lines.find(
      (line) => line.variant_id === level.variant_id && line.warehouse_id === level.warehouse_id,
    );
    if (found) return found;
    const line: ReservationLineRow = {
      line_no: Math.max(0, ...this.lines.map((other) => other.line_no)) + 1,
      variant_id: level.variant_id,
      warehouse_id: level.warehouse_id,
      sku: level.sku,
      warehouse: level.warehouse,
      qty: 0,
      backordered: 0,
      fulfilled_qty: 0,
      released_qty: 0,
      holds_stock: level.track_inventory,
      kit_line_no: null,
    };
    this.lines.push(line);
    return line;
  }

  /**
   * Holds `qty` more on a line, if its level can promise them and, for a variant-wide variant, the variant's sum
   * over its warehouses too (checked here, on the locked levels, so the database's own check never fires and fails
   * the group); else names the shortage and changes nothing. A line that holds no stock (an untracked variant's)
   * just grows: never refused, no movement.
   */
  hold(line: ReservationLineRow, qty: number): ShortLine[] {
    if (!line.holds_stock) {
      line.qty += qty;
      this.draft.growth.push({ ...this.growth(line), qty, backordered: 0 });
      return [];
    }
    const level = this.levelOf({ variantId: line.variant_id, warehouseId: line.warehouse_id });
    const reservable = totalReservable([toRoutingCandidate(level)]);
    if (reservable < qty) return [{ sku: line.sku, warehouse: line.warehouse, requested: qty, available: reservable }];
    const headroom = headroomOf(line.sku, this.levels);
    if (headroom !== undefined && headroom < qty)
      return [{ sku: line.sku, requested: qty, available: headroom, reason: VARIANT_WIDE_SHORT }];
    level.reserved += qty;
    const backordered = backorderedUnits(qty, availableFor(level, this.levels));
    line.qty += qty;
    line.backordered += backordered;
    this.draft.change.moves.push({
      ...this.movement(line, 'reserve'),
      deltaReserved: qty,
      guard: 'reservable',
      reservedAfter: level.reserved,
    });
    this.draft.growth.push({ ...this.growth(line), qty, backordered });
    return [];
  }

  /** Gives back `qty` units a line holds (a line that holds no stock records them released, and that is all). */
  giveBack(line: ReservationLineRow, qty: number): void {
    line.released_qty += qty;
    this.draft.change.progress.push({
      reservationId: this.reservation.id,
      lineNo: line.line_no,
      fulfilled: 0,
      released: qty,
    });
    if (!line.holds_stock) return;
    const level = this.levelOf({ variantId: line.variant_id, warehouseId: line.warehouse_id });
    level.reserved -= qty;
    this.draft.change.moves.push({
      ...this.movement(line, 'release'),
      deltaReserved: -qty,
      reservedAfter: level.reserved,
    });
  }

  /**
   * Takes back `qty` shipped units of a line: on hand where they shipped from, and held for the line again. A line
   * that holds no stock records them unshipped only. A variant-wide variant already past its limits can hold
   * nothing again, nor can a level whose available is below its backorder limit (a count or a removal took on hand
   * under what it holds): the units would come back on hand and be held at once, and the database refuses any hold
   * that leaves a level there (it would fail the group). Refused, naming the SKU and the warehouse.
   */
  unship(line: ReservationLineRow, qty: number): void {
    line.fulfilled_qty -= qty;
    this.draft.change.progress.push({
      reservationId: this.reservation.id,
      lineNo: line.line_no,
      fulfilled: -qty,
      released: 0,
    });
    if (!line.holds_stock) return;
    const wide = variantWide(line.sku, this.levels);
    if (wide && pastVariantLimits(wide.levels, wide.limits))
      throw new InsufficientStockError([
        { sku: line.sku, requested: qty, available: 0, reason: `${VARIANT_WIDE_SHORT}: return the units instead` },
      ]);
    const level = this.levelOf({ variantId: line.variant_id, warehouseId: line.warehouse_id });
    if (available(level) < -level.backorder_limit)
      throw new InsufficientStockError([
        {
          sku: line.sku,
          warehouse: line.warehouse,
          requested: qty,
          available: available(level),
          reason: 'the level holds more than it has on hand: return the units instead',
        },
      ]);
    level.on_hand += qty;
    level.reserved += qty;
    this.draft.change.moves.push({
      ...this.movement(line, 'unfulfil'),
      deltaOnHand: qty,
      deltaReserved: qty,
      onHandAfter: level.on_hand,
      reservedAfter: level.reserved,
    });
  }

  /** Moves held units of a SKU to another warehouse: given back where they were, held there if it can. */
  move(request: MoveRequest, known: KnownNames, at: string): void {
    const picks = planMove(this.lines, request, at);
    const target = this.levels.find((level) => level.sku === request.sku && level.warehouse === request.to);
    if (!target) {
      if (!known.warehouses.has(request.to)) throw new NotFoundError('warehouse', request.to);
      // every variant has a level in every warehouse; one left out of the locked levels is archived
      throw new ArchivedError('warehouse', request.to);
    }
    for (const pick of picks) this.giveBack(this.line(pick.line_no), pick.qty);
    const short = this.hold(
      this.lineAt(target),
      picks.reduce((sum, pick) => sum + pick.qty, 0),
    );
    if (short.length > 0) throw new InsufficientStockError(short);
  }

  /** Where a line grows: the growth to write, less its units. */
  private growth(line: ReservationLineRow): Omit<LineGrowth, 'qty' | 'backordered'> {
    return {
      reservationId: this.reservation.id,
      lineNo: line.line_no,
      variantId: line.variant_id,
      warehouseId: line.warehouse_id,
      holdsStock: line.holds_stock,
    };
  }

  private movement(line: ReservationLineRow, type: 'reserve' | 'release' | 'unfulfil'): PlannedMovement {
    return {
      variantId: line.variant_id,
      warehouseId: line.warehouse_id,
      type,
      deltaOnHand: 0,
      deltaReserved: 0,
      guard: 'none',
      reference: this.reservation.order_ref,
      reservationId: this.reservation.id,
      actor: this.actor,
      kitVariantId: kitVariantOf(line, this.lines),
    };
  }
}
