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
import { allocate, totalReservable } from '../domain/routing.js';
import { serves } from '../domain/service-area.js';
import type { Shopper } from '../domain/service-area.js';
import type { WarehouseStock } from '../domain/routing.js';
import { available } from '../domain/stock-level.js';
import type { Db, Queryable } from '../store/db.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import { applyMovements, lockLevels, lockRoutingLevels } from '../store/levels.js';
import type { LevelRow, MovementInput, RoutingRow } from '../store/levels.js';
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
import { missing } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toReservation } from './dto.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit } from './group-commit.js';
import type { GroupCommitOptions, GroupCommitStats, Settled } from './group-commit.js';
import { claimGroupKeys, settleGroupKeys } from './group-keys.js';
import type { Reservation } from './dto.js';
import { FulfilInput, ReservationId, ReserveInput, parse } from './schemas.js';
import type { FulfilInput as FulfilRequest, ReserveInput as ReserveRequest } from './schemas.js';

/** A reserve movement with the names the reservation's lines are shown by. */
type PlannedMove = MovementInput & { sku: string; warehouse: string };

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
      const settled: (Settled<Reservation> | undefined)[] = jobs.map(() => undefined);

      const keys = await claimGroupKeys(
        tx,
        jobs.map((j) => ({ scope: RESERVE_SCOPE, options: j.options, request: j.req })),
        settled,
      );

      const skus = [...new Set(jobs.flatMap((j, i) => (settled[i] ? [] : j.req.lines.map((l) => l.sku))))];
      const { levels, elsewhere } =
        skus.length > 0 ? await expireDueHoldsOn(tx, skus, now) : { levels: [], elsewhere: [] };
      const known = await this.knownNames(tx, skus, levels, jobs);

      const moves: PlannedMove[] = [];
      /** what each move's level must hold after it: checked against what the database applied */
      const reservedAfter: number[] = [];
      const planned: { job: number; id: string; lines: ReservationLineRow[] }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        try {
          const id = randomUUID();
          const mine = plan(id, job.req, levels, known);
          const lines = mine.map((m, n): ReservationLineRow => {
            m.actor = job.options.actor ?? null;
            const level =
              levels.find((l) => l.variant_id === m.variantId && l.warehouse_id === m.warehouseId) ??
              missing('planned level');
            level.reserved += m.deltaReserved;
            reservedAfter.push(level.reserved);
            const qty = m.deltaReserved;
            // of this line's units, those beyond stock: how far below zero available is after it, at most the line
            const backordered = Math.min(qty, Math.max(0, -available(level)));
            return {
              line_no: n + 1,
              variant_id: m.variantId,
              warehouse_id: m.warehouseId,
              sku: m.sku,
              warehouse: m.warehouse,
              qty,
              backordered,
              fulfilled_qty: 0,
              released_qty: 0,
            };
          });
          moves.push(...mine);
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
          lines: lines.map((l) => ({
            variantId: l.variant_id,
            warehouseId: l.warehouse_id,
            qty: l.qty,
            backordered: l.backordered,
          })),
        };
      });
      await insertReservations(tx, reservations);
      const applied = await applyMovements(tx, null, moves, now);
      // planned on locked numbers, every hold must apply as planned; if one did not, the group is wrong as a whole
      if (applied.length !== moves.length || applied.some((a, i) => a.reserved !== reservedAfter[i])) {
        throw new Error('group commit: holds planned on locked levels did not apply as planned');
      }

      await settleGroupKeys(tx, keys, settled);
      return settled.map((s) => s ?? missing('settled job'));
    });
  }

  /** Which SKUs and warehouses of the group exist: from the locked levels, asking only about the rest. */
  private async knownNames(
    tx: Queryable,
    skus: readonly string[],
    levels: readonly RoutingRow[],
    jobs: readonly ReserveJob[],
  ): Promise<KnownNames> {
    const skuSet = new Set(levels.map((l) => l.sku));
    const unseen = skus.filter((s) => !skuSet.has(s));
    // a variant with no levels yet (no warehouse exists) is known all the same
    if (unseen.length > 0) for (const v of await findVariants(tx, unseen)) skuSet.add(v.sku);
    const warehouses = new Set(levels.map((l) => l.warehouse));
    const asked = [
      ...new Set(
        jobs.flatMap((j) =>
          j.req.warehouse !== undefined && !warehouses.has(j.req.warehouse) ? [j.req.warehouse] : [],
        ),
      ),
    ];
    if (asked.length > 0) for (const w of await findWarehouses(tx, asked)) warehouses.add(w.code);
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
      jobs.forEach((j, i) => {
        if (seen.has(j.id)) settled[i] = { retry: true };
        seen.add(j.id);
      });
      const keys = await claimGroupKeys(
        tx,
        jobs.map((j) => ({
          scope: `reservation.${j.action}`,
          options: j.options,
          request: { id: j.id, body: j.body },
        })),
        settled,
      );

      const ids = jobs.flatMap((j, i) => (settled[i] ? [] : [j.id]));
      const rows = await lockReservations(tx, ids);
      const linesOf = await readLinesOf(tx, [...rows.keys()]);
      const levelKeys = [...linesOf.values()]
        .flat()
        .map((l) => ({ variantId: l.variant_id, warehouseId: l.warehouse_id }));
      const levels = new Map(
        (levelKeys.length > 0 ? await lockLevels(tx, levelKeys) : []).map((l) => [
          levelKey(l.variant_id, l.warehouse_id),
          l,
        ]),
      );

      const change: Change = { moves: [], onHandAfter: [], progress: [], statuses: [] };
      const answered: { job: number; id: string }[] = [];
      jobs.forEach((job, i) => {
        if (settled[i]) return;
        const r = rows.get(job.id);
        if (!r) {
          settled[i] = { ok: false, error: new NotFoundError('reservation', job.id) };
          return;
        }
        const lines = linesOf.get(job.id) ?? [];
        if (isDue(r, now)) {
          releaseAll(change, r, lines, 'expire', 'sweeper');
          settled[i] = { ok: false, error: new InvalidTransitionError('expired', job.action) };
          return;
        }
        try {
          decide(change, r, lines, job, levels);
          answered.push({ job: i, id: r.id });
        } catch (error) {
          settled[i] = { ok: false, error };
        }
      });

      await writeChange(tx, change, now);
      const after = await readReservationsWithLines(
        tx,
        answered.map((a) => a.id),
      );
      for (const { job, id } of answered) {
        const r = after.get(id) ?? missing(`reservation ${id}`);
        settled[job] = { ok: true, value: toReservation(r.row, r.lines) };
      }
      await settleGroupKeys(tx, keys, settled);
      return settled.map((s) => s ?? missing('settled job'));
    });
  }

  /** A reservation as it stands; one whose deadline has passed is expired first, so it never claims to hold stock. */
  async get(id: string): Promise<Reservation> {
    parseId(id);
    const r = await readReservation(this.ctx.db, id);
    if (!r) throw new NotFoundError('reservation', id);
    if (isDue(r, this.ctx.clock())) await this.expireOne(id);
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
      const n = await this.ctx.db.transaction(async (tx) => {
        const ids = await claimDueReservations(tx, this.ctx.clock(), SWEEP_BATCH);
        // claimed FOR UPDATE above: reading them again takes no new lock
        if (ids.length > 0) await expireLocked(tx, [...(await lockReservations(tx, ids)).values()], this.ctx.clock());
        return ids.length;
      });
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  private async expireOne(id: string): Promise<void> {
    await this.ctx.db.transaction(async (tx) => {
      const r = (await lockReservations(tx, [id])).get(id);
      const now = this.ctx.clock();
      if (r && isDue(r, now)) await expireLocked(tx, [r], now);
    });
  }

  private async load(db: Queryable, id: string): Promise<Reservation> {
    const r = (await readReservationsWithLines(db, [id])).get(id);
    if (!r) throw new NotFoundError('reservation', id);
    return toReservation(r.row, r.lines);
  }
}

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
  const claimed = await claimDueHolds(tx, [...new Set(levels.map((l) => l.variant_id))], now);
  for (const m of await expireLocked(tx, claimed, now)) {
    const level =
      levels.find((l) => l.variant_id === m.variantId && l.warehouse_id === m.warehouseId) ??
      missing('level of an expired hold');
    level.reserved += m.deltaReserved;
  }
  const expired = new Set(claimed.map((r) => r.id));
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
    reservations.map((r) => r.id),
  );
  const change: Change = { moves: [], onHandAfter: [], progress: [], statuses: [] };
  for (const r of reservations) releaseAll(change, r, linesOf.get(r.id) ?? [], 'expire', 'sweeper');
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
function plan(id: string, req: ReserveRequest, levels: readonly RoutingRow[], known: KnownNames): PlannedMove[] {
  const wanted = new Map<string, number>();
  for (const line of req.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.qty);
  const unknown = [...wanted.keys()].filter((sku) => !known.skus.has(sku));
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  if (req.warehouse !== undefined && !known.warehouses.has(req.warehouse))
    throw new NotFoundError('warehouse', req.warehouse);
  const shopper: Shopper = { region: req.region, ship_to: req.ship_to };
  const moves: PlannedMove[] = [];
  const short: ShortLine[] = [];
  for (const [sku, qty] of wanted) {
    const mine = levels.filter((l) => l.sku === sku && (req.warehouse === undefined || l.warehouse === req.warehouse));
    const serving = mine.filter((l) => serves(l, shopper));
    const stocks = serving.map(toWarehouseStock);
    const allocation = allocate(qty, stocks, { ship_to: req.ship_to });
    if (!allocation) {
      const reason = outsideArea(
        mine,
        serving.length,
        req.warehouse,
        totalReservable(mine.filter((l) => !serves(l, shopper)).map(toWarehouseStock)),
      );
      short.push({
        sku,
        requested: qty,
        available: totalReservable(stocks),
        ...(reason === undefined ? {} : { reason }),
      });
      continue;
    }
    for (const a of allocation) {
      const level = mine.find((l) => l.warehouse === a.warehouse) ?? missing(`level of ${sku} at ${a.warehouse}`);
      moves.push({
        sku,
        warehouse: level.warehouse,
        variantId: level.variant_id,
        warehouseId: level.warehouse_id,
        type: 'reserve',
        deltaOnHand: 0,
        deltaReserved: a.qty,
        guard: 'reservable',
        reference: req.order_ref,
        reservationId: id,
      });
    }
  }
  if (short.length > 0) throw new InsufficientStockError(short);
  return moves;
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
  moves: MovementInput[];
  /** on_hand each move must leave its level at, where the group decided on locked numbers */
  onHandAfter: (number | undefined)[];
  progress: LineProgress[];
  statuses: { id: string; status: ReservationStatus }[];
}

const levelKey = (variantId: number, warehouseId: number): string => `${variantId}:${warehouseId}`;

/** Gives back what the lines still hold and closes the reservation as released or expired. */
function releaseAll(
  change: Change,
  r: ReservationRow,
  lines: readonly ReservationLineRow[],
  action: 'release' | 'expire',
  actor: string | null,
): void {
  change.statuses.push({ id: r.id, status: nextStatus(r.status, action) });
  for (const l of lines) {
    const qty = remaining(l);
    if (qty === 0) continue;
    change.moves.push({
      variantId: l.variant_id,
      warehouseId: l.warehouse_id,
      type: action,
      deltaOnHand: 0,
      deltaReserved: -qty,
      guard: 'none',
      reference: r.order_ref,
      reservationId: r.id,
      actor,
    });
    change.onHandAfter.push(undefined);
    change.progress.push({ reservationId: r.id, lineNo: l.line_no, fulfilled: 0, released: qty });
  }
}

/**
 * Decides one commit, release or fulfilment of a locked reservation on the locked levels, adding it to the
 * change and the levels; or throws why it is refused, having added nothing.
 */
function decide(
  change: Change,
  r: ReservationRow,
  lines: readonly ReservationLineRow[],
  job: TransitionJob,
  levels: Map<string, LevelRow>,
): void {
  const actor = job.options.actor ?? null;
  if (job.action === 'commit') {
    change.statuses.push({ id: r.id, status: nextStatus(r.status, 'commit') });
    return;
  }
  if (job.action === 'release') {
    releaseAll(change, r, lines, 'release', actor);
    return;
  }
  nextStatus(r.status, 'fulfil');
  const open = lines.map((l) => ({ line_no: l.line_no, sku: l.sku, warehouse: l.warehouse, remaining: remaining(l) }));
  const picks = planFulfilment(open, (job.body as FulfilRequest).lines);
  if (picks.length === 0) throw new InvalidTransitionError(r.status, 'fulfil');
  const byLine = new Map(lines.map((l) => [l.line_no, l]));
  const shipments = picks.map((p) => {
    const line = byLine.get(p.line_no) ?? missing(`line ${p.line_no}`);
    return {
      line,
      qty: p.qty,
      level: levels.get(levelKey(line.variant_id, line.warehouse_id)) ?? missing(`level of line ${p.line_no}`),
    };
  });
  // promised units that are not on the shelf (a count or a sync found fewer): nothing ships
  const short: ShortLine[] = shipments
    .filter(({ qty, level }) => level.on_hand < qty)
    .map(({ line, qty, level }) => ({
      sku: line.sku,
      warehouse: line.warehouse,
      requested: qty,
      available: level.on_hand,
    }));
  if (short.length > 0) throw new InsufficientStockError(short);
  for (const { line, qty, level } of shipments) {
    level.on_hand -= qty;
    level.reserved -= qty;
    change.moves.push({
      variantId: line.variant_id,
      warehouseId: line.warehouse_id,
      type: 'fulfil',
      deltaOnHand: -qty,
      deltaReserved: -qty,
      guard: 'none',
      reference: r.order_ref,
      reservationId: r.id,
      actor,
    });
    change.onHandAfter.push(level.on_hand);
    change.progress.push({ reservationId: r.id, lineNo: line.line_no, fulfilled: qty, released: 0 });
  }
  const shipped = new Map(picks.map((p) => [p.line_no, p.qty]));
  const fully = lines.every((l) => remaining(l) - (shipped.get(l.line_no) ?? 0) === 0);
  change.statuses.push({ id: r.id, status: nextStatus(r.status, 'fulfil', fully) });
}

/** Writes a change set-based: every movement with its ledger row, line progress, statuses. */
async function writeChange(tx: Queryable, change: Change, now: Date): Promise<void> {
  const applied = await applyMovements(tx, null, change.moves, now);
  // decided on locked numbers, every movement must apply as decided; if one did not, the change is wrong as a whole
  if (
    applied.length !== change.moves.length ||
    applied.some((a, i) => change.onHandAfter[i] !== undefined && a.on_hand !== change.onHandAfter[i])
  ) {
    throw new Error('a change decided on locked levels did not apply as decided');
  }
  await addLineProgress(tx, change.progress);
  await setReservationStatuses(tx, change.statuses, now);
}

const remaining = (l: ReservationLineRow): number => l.qty - l.fulfilled_qty - l.released_qty;

const toWarehouseStock = (l: RoutingRow): WarehouseStock => ({
  warehouse: l.warehouse,
  priority: l.priority,
  available: available(l),
  backorder_allowance: l.backorder_limit,
  lat: l.lat,
  lon: l.lon,
});

function parseId(id: string): void {
  try {
    parse(ReservationId, id);
  } catch {
    throw ValidationError.field('/id', 'not a reservation id (a UUID)');
  }
}
