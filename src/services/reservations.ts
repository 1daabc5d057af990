import { randomUUID } from 'node:crypto';
import { IdempotencyConflictError, InsufficientStockError, InvalidTransitionError, NotFoundError, UnknownSkuError, ValidationError } from '../domain/errors.js';
import type { ShortLine } from '../domain/errors.js';
import { DEFAULT_TTL_SECONDS, isDue, nextStatus, planFulfilment } from '../domain/reservation.js';
import type { ReservationAction } from '../domain/reservation.js';
import { allocate, totalReservable } from '../domain/routing.js';
import type { WarehouseStock } from '../domain/routing.js';
import { available } from '../domain/stock-level.js';
import type { Queryable } from '../store/db.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import { claimKeys, settleKeys } from '../store/idempotency.js';
import { applyMovements, lockRoutingLevels, readLevel } from '../store/levels.js';
import type { MovementInput, RoutingRow } from '../store/levels.js';
import {
  claimDueReservations,
  insertReservations,
  readReservation,
  readReservationLines,
  recordLineProgress,
  setReservationStatus,
} from '../store/reservations.js';
import type { ReservationLineRow, ReservationRow } from '../store/reservations.js';
import { idempotencyOf, missing, runOnce } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toReservation } from './dto.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit } from './group-commit.js';
import type { GroupCommitOptions, GroupCommitStats, Settled } from './group-commit.js';
import type { Reservation } from './dto.js';
import { FulfilInput, ReservationId, ReserveInput, parse } from './schemas.js';
import type { ReserveInput as ReserveRequest } from './schemas.js';

/** A reserve movement with the names the reservation's lines are shown by. */
type PlannedMove = MovementInput & { sku: string; warehouse: string };

interface ReserveJob {
  req: ReserveRequest;
  options: CallOptions;
}

const RESERVE_SCOPE = 'reservation.reserve';
const SWEEP_BATCH = 200;

/** The reservation's deadline passed before this call: expire it (and commit that), then refuse. */
class DueSignal extends Error {}

/**
 * Two-phase reservations: reserve holds stock with a deadline (pending), commit removes the deadline,
 * fulfil ships (on_hand and reserved drop), release and expiry give the stock back.
 */
export class ReservationService {
  private readonly reserving: GroupCommit<ReserveJob, Reservation>;

  constructor(
    private readonly ctx: ServiceContext,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {
    this.reserving = new GroupCommit((jobs) => this.reserveGroup(jobs), groupCommit);
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
  async reserve(input: unknown, options: CallOptions = {}): Promise<Reservation> {
    return this.reserving.submit({ req: parse(ReserveInput, input), options });
  }

  /**
   * One transaction for a group of orders: claim their idempotency keys, lock every level of every SKU they
   * name (in key order, so groups cannot deadlock), plan the orders one after the other on the locked numbers,
   * each seeing what the ones before it took, then write all holds, ledger rows and reservations in one
   * statement each. Planning on locked numbers is exact: an order is refused only when the stock is not
   * there, and never oversold. Each order is all or nothing; a refused order changes nothing.
   */
  private async reserveGroup(jobs: readonly ReserveJob[]): Promise<Settled<Reservation>[]> {
    return this.ctx.db.transaction(async (tx) => {
      const now = this.ctx.clock();
      const settled: (Settled<Reservation> | undefined)[] = jobs.map(() => undefined);

      // idempotency: a key met twice in one group waits for the next group, where it replays
      const keys = jobs.map((j) => idempotencyOf(j.options, j.req));
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (!k) return;
        if (seen.has(k.key)) settled[i] = { retry: true };
        seen.add(k.key);
      });
      const claims = await claimKeys(tx, RESERVE_SCOPE, keys.filter((k, i) => k !== undefined && settled[i] === undefined) as { key: string; requestHash: string }[]);
      keys.forEach((k, i) => {
        const claim = k && settled[i] === undefined ? claims.get(k.key) : undefined;
        if (!k || !claim || claim.claimed) return;
        settled[i] =
          claim.requestHash === k.requestHash
            ? { ok: true, value: claim.response as Reservation }
            : { ok: false, error: new IdempotencyConflictError(jobs[i]?.options.idempotencyKey ?? k.key) };
      });

      const skus = [...new Set(jobs.flatMap((j, i) => (settled[i] ? [] : j.req.lines.map((l) => l.sku))))];
      const levels = skus.length > 0 ? await lockRoutingLevels(tx, skus) : [];
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
            const level = levels.find((l) => l.variant_id === m.variantId && l.warehouse_id === m.warehouseId) ?? missing('planned level');
            level.reserved += m.deltaReserved;
            reservedAfter.push(level.reserved);
            const qty = m.deltaReserved;
            // of this line's units, those beyond stock: how far below zero available is after it, at most the line
            const backordered = Math.min(qty, Math.max(0, -available(level)));
            return { line_no: n + 1, variant_id: m.variantId, warehouse_id: m.warehouseId, sku: m.sku, warehouse: m.warehouse, qty, backordered, fulfilled_qty: 0, released_qty: 0 };
          });
          moves.push(...mine);
          planned.push({ job: i, id, lines });
        } catch (error) {
          settled[i] = { ok: false, error };
        }
      });

      const reservations = planned.map(({ job, id, lines }) => {
        const req = jobs[job]?.req ?? missing('job');
        const expiresAt = new Date(now.getTime() + (req.ttl_seconds ?? DEFAULT_TTL_SECONDS) * 1000);
        // everything about the new reservation is known here: no need to read it back
        settled[job] = {
          ok: true,
          value: toReservation({ id, order_ref: req.order_ref, status: 'pending', expires_at: expiresAt, created_at: now, updated_at: now, committed_at: null, closed_at: null }, lines),
        };
        return { id, orderRef: req.order_ref, expiresAt, now, lines: lines.map((l) => ({ variantId: l.variant_id, warehouseId: l.warehouse_id, qty: l.qty, backordered: l.backordered })) };
      });
      await insertReservations(tx, reservations);
      const applied = await applyMovements(tx, null, moves);
      // planned on locked numbers, every hold must apply as planned; if one did not, the group is wrong as a whole
      if (applied.length !== moves.length || applied.some((a, i) => a.reserved !== reservedAfter[i])) {
        throw new Error('group commit: holds planned on locked levels did not apply as planned');
      }

      const responses: { key: string; response: unknown }[] = [];
      const failed: string[] = [];
      keys.forEach((k, i) => {
        const s = settled[i];
        if (!k || !s || 'retry' in s || !claims.get(k.key)?.claimed) return;
        if (s.ok) responses.push({ key: k.key, response: s.value });
        else failed.push(k.key);
      });
      await settleKeys(tx, RESERVE_SCOPE, responses, failed);
      return settled.map((s) => s ?? missing('settled job'));
    });
  }

  /** Which SKUs and warehouses of the group exist: from the locked levels, asking only about the rest. */
  private async knownNames(tx: Queryable, skus: readonly string[], levels: readonly RoutingRow[], jobs: readonly ReserveJob[]): Promise<KnownNames> {
    const skuSet = new Set(levels.map((l) => l.sku));
    const unseen = skus.filter((s) => !skuSet.has(s));
    // a variant with no levels yet (no warehouse exists) is known all the same
    if (unseen.length > 0) for (const v of await findVariants(tx, unseen)) skuSet.add(v.sku);
    const warehouses = new Set(levels.map((l) => l.warehouse));
    const asked = [...new Set(jobs.flatMap((j) => (j.req.warehouse !== undefined && !warehouses.has(j.req.warehouse) ? [j.req.warehouse] : [])))];
    if (asked.length > 0) for (const w of await findWarehouses(tx, asked)) warehouses.add(w.code);
    return { skus: skuSet, warehouses };
  }

  /** Payment received: the reservation no longer expires. Committing twice answers the same. */
  async commit(id: string, options: CallOptions = {}): Promise<Reservation> {
    return this.transition(id, 'commit', {}, options, async (tx, r) => {
      await setReservationStatus(tx, r.id, nextStatus(r.status, 'commit'), this.ctx.clock());
    });
  }

  /** Cancels: whatever is still held goes back to available. */
  async release(id: string, options: CallOptions = {}): Promise<Reservation> {
    return this.transition(id, 'release', {}, options, async (tx, r, lines) => {
      await this.releaseHolds(tx, r, lines, 'release', options);
    });
  }

  /**
   * Ships all that is held, or the given lines: on_hand and reserved drop at exactly the warehouses the
   * lines were reserved in.
   */
  async fulfil(id: string, input: unknown = {}, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(FulfilInput, input ?? {});
    return this.transition(id, 'fulfil', req, options, async (tx, r, lines) => {
      nextStatus(r.status, 'fulfil');
      const open = lines.map((l) => ({ line_no: l.line_no, sku: l.sku, warehouse: l.warehouse, remaining: remaining(l) }));
      const picks = planFulfilment(open, req.lines);
      if (picks.length === 0) throw new InvalidTransitionError(r.status, 'fulfil');
      const byLine = new Map(lines.map((l) => [l.line_no, l]));
      const shipments = picks.map((p) => ({ line: byLine.get(p.line_no) ?? missing(`line ${p.line_no}`), qty: p.qty }));
      const applied = await applyMovements(
        tx,
        options.actor ?? null,
        shipments.map(({ line, qty }) => ({
          variantId: line.variant_id,
          warehouseId: line.warehouse_id,
          type: 'fulfil',
          deltaOnHand: -qty,
          deltaReserved: -qty,
          guard: 'none',
          reference: r.order_ref,
          reservationId: r.id,
        })),
      );
      if (applied.length !== shipments.length) {
        // promised units that are not on the shelf (a count or a sync found fewer): nothing ships
        const done = new Set(applied.map((a) => a.idx));
        const short: ShortLine[] = [];
        for (const [i, { line, qty }] of shipments.entries()) {
          if (done.has(i)) continue;
          const level = await readLevel(tx, line.variant_id, line.warehouse_id);
          short.push({ sku: line.sku, warehouse: line.warehouse, requested: qty, available: level?.on_hand ?? 0 });
        }
        throw new InsufficientStockError(short);
      }
      await recordLineProgress(tx, r.id, 'fulfilled_qty', picks);
      const shipped = new Map(picks.map((p) => [p.line_no, p.qty]));
      const fully = lines.every((l) => remaining(l) - (shipped.get(l.line_no) ?? 0) === 0);
      await setReservationStatus(tx, r.id, nextStatus(r.status, 'fulfil', fully), this.ctx.clock());
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
        for (const id of ids) await this.expireLocked(tx, id);
        return ids.length;
      });
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  private async expireOne(id: string): Promise<void> {
    await this.ctx.db.transaction(async (tx) => {
      const r = await readReservation(tx, id, true);
      if (r && isDue(r, this.ctx.clock())) await this.expireLocked(tx, id);
    });
  }

  private async expireLocked(tx: Queryable, id: string): Promise<void> {
    const r = (await readReservation(tx, id)) ?? missing('row');
    await this.releaseHolds(tx, r, await readReservationLines(tx, id), 'expire', { actor: 'sweeper' });
  }

  /** Gives back what the lines still hold and closes the reservation as released or expired. */
  private async releaseHolds(
    tx: Queryable,
    r: ReservationRow,
    lines: readonly ReservationLineRow[],
    action: 'release' | 'expire',
    options: CallOptions,
  ): Promise<void> {
    const status = nextStatus(r.status, action);
    const held = lines.filter((l) => remaining(l) > 0);
    const moves: MovementInput[] = held.map((l) => ({
      variantId: l.variant_id,
      warehouseId: l.warehouse_id,
      type: action,
      deltaOnHand: 0,
      deltaReserved: -remaining(l),
      guard: 'none',
      reference: r.order_ref,
      reservationId: r.id,
    }));
    const applied = await applyMovements(tx, options.actor ?? null, moves);
    if (applied.length !== moves.length) throw new Error(`reservation ${r.id} holds more than its levels have reserved`);
    await recordLineProgress(tx, r.id, 'released_qty', held.map((l) => ({ line_no: l.line_no, qty: remaining(l) })));
    await setReservationStatus(tx, r.id, status, this.ctx.clock());
  }

  /**
   * Runs one state change on a locked reservation, idempotently by key. A reservation found past its
   * deadline is expired in its own transaction (that must stick even though this call is refused).
   */
  private async transition(
    id: string,
    action: Exclude<ReservationAction, 'expire'>,
    body: unknown,
    options: CallOptions,
    change: (tx: Queryable, r: ReservationRow, lines: ReservationLineRow[]) => Promise<void>,
  ): Promise<Reservation> {
    parseId(id);
    try {
      return await runOnce(this.ctx, `reservation.${action}`, options, { id, body }, async (tx) => {
        const r = await readReservation(tx, id, true);
        if (!r) throw new NotFoundError('reservation', id);
        if (isDue(r, this.ctx.clock())) throw new DueSignal();
        await change(tx, r, await readReservationLines(tx, id));
        return this.load(tx, id);
      });
    } catch (error) {
      if (!(error instanceof DueSignal)) throw error;
      await this.expireOne(id);
      throw new InvalidTransitionError('expired', action);
    }
  }

  private async load(db: Queryable, id: string): Promise<Reservation> {
    const r = await readReservation(db, id);
    if (!r) throw new NotFoundError('reservation', id);
    return toReservation(r, await readReservationLines(db, id));
  }
}

interface KnownNames {
  skus: ReadonlySet<string>;
  warehouses: ReadonlySet<string>;
}

/**
 * Routes every SKU's summed quantity to warehouses from the given levels, into one reserve movement per level;
 * or refuses, naming every SKU that cannot be covered and what could be.
 */
function plan(id: string, req: ReserveRequest, levels: readonly RoutingRow[], known: KnownNames): PlannedMove[] {
  const wanted = new Map<string, number>();
  for (const line of req.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.qty);
  const unknown = [...wanted.keys()].filter((sku) => !known.skus.has(sku));
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  if (req.warehouse !== undefined && !known.warehouses.has(req.warehouse)) throw new NotFoundError('warehouse', req.warehouse);
  const moves: PlannedMove[] = [];
  const short: ShortLine[] = [];
  for (const [sku, qty] of wanted) {
    const mine = levels.filter((l) => l.sku === sku);
    const stocks = mine.map(toWarehouseStock);
    const allocation = allocate(qty, stocks, { warehouse: req.warehouse, ship_to: req.ship_to });
    if (!allocation) {
      const from = req.warehouse === undefined ? stocks : stocks.filter((s) => s.warehouse === req.warehouse);
      short.push({ sku, requested: qty, available: totalReservable(from) });
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
