import { randomUUID } from 'node:crypto';
import { InsufficientStockError, InvalidTransitionError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { ShortLine } from '../domain/errors.js';
import { DEFAULT_TTL_SECONDS, isDue, nextStatus, planFulfilment } from '../domain/reservation.js';
import type { ReservationAction } from '../domain/reservation.js';
import { allocate, totalReservable } from '../domain/routing.js';
import type { WarehouseStock } from '../domain/routing.js';
import { available } from '../domain/stock-level.js';
import type { Queryable } from '../store/db.js';
import { applyMovements, readLevel, readRoutingLevels } from '../store/levels.js';
import type { MovementInput, RoutingRow } from '../store/levels.js';
import {
  claimDueReservations,
  insertReservation,
  insertReservationLines,
  readReservation,
  readReservationLines,
  recordLineProgress,
  setReservationStatus,
} from '../store/reservations.js';
import type { ReservationLineRow, ReservationRow } from '../store/reservations.js';
import { missing, runOnce, variantsBySku, warehouseByCode } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toReservation } from './dto.js';
import type { Reservation } from './dto.js';
import { FulfilInput, ReservationId, ReserveInput, parse } from './schemas.js';
import type { ReserveInput as ReserveRequest } from './schemas.js';

/** A reserve movement with the names the reservation's lines are shown by. */
type PlannedMove = MovementInput & { sku: string; warehouse: string };

/** How many times a reservation is re-planned when stock moved between reading and writing. */
const PLAN_ATTEMPTS = 5;
const SWEEP_BATCH = 200;

/** Stock moved between the routing read and the conditional write: plan again from fresh numbers. */
class PlanConflict extends Error {}
/** The reservation's deadline passed before this call: expire it (and commit that), then refuse. */
class DueSignal extends Error {}

/**
 * Two-phase reservations: reserve holds stock with a deadline (pending), commit removes the deadline,
 * fulfil ships (on_hand and reserved drop), release and expiry give the stock back.
 */
export class ReservationService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Holds stock for every line or for none. Lines of one SKU are summed before anything is checked. Each
   * level is taken with one conditional UPDATE; the routing read before it only chooses warehouses, so a
   * concurrent change can make the plan fail (it is re-planned) but never oversell.
   */
  async reserve(input: unknown, options: CallOptions = {}): Promise<Reservation> {
    const req = parse(ReserveInput, input);
    const wanted = new Map<string, number>();
    for (const line of req.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.qty);
    for (let attempt = 1; ; attempt++) {
      try {
        return await runOnce(this.ctx, 'reservation.reserve', options, req, async (tx) => {
          const now = this.ctx.clock();
          const id = randomUUID();
          const moves = await this.plan(tx, id, wanted, req);
          const expiresAt = new Date(now.getTime() + (req.ttl_seconds ?? DEFAULT_TTL_SECONDS) * 1000);
          await insertReservation(tx, { id, orderRef: req.order_ref, expiresAt, now });
          const applied = await applyMovements(tx, options.actor ?? null, moves);
          if (applied.length !== moves.length) throw new PlanConflict();
          const lines: ReservationLineRow[] = applied.map((a, i) => {
            const m = moves[a.idx] ?? missing('planned move');
            const qty = m.deltaReserved;
            // of this line's units, those beyond stock: how far below zero available now is, at most the line
            const backordered = Math.min(qty, Math.max(0, -available(a)));
            return { line_no: i + 1, variant_id: m.variantId, warehouse_id: m.warehouseId, sku: m.sku, warehouse: m.warehouse, qty, backordered, fulfilled_qty: 0, released_qty: 0 };
          });
          await insertReservationLines(tx, id, lines.map((l) => ({ variantId: l.variant_id, warehouseId: l.warehouse_id, qty: l.qty, backordered: l.backordered })));
          // everything about the new reservation is known here: no need to read it back
          return toReservation(
            { id, order_ref: req.order_ref, status: 'pending', expires_at: expiresAt, created_at: now, updated_at: now, committed_at: null, closed_at: null },
            lines,
          );
        });
      } catch (error) {
        if (!(error instanceof PlanConflict)) throw error;
        // stock kept moving under every plan: refuse as short, with what could be had at this moment
        if (attempt >= PLAN_ATTEMPTS) throw new InsufficientStockError(await this.reservableNow(wanted, req));
      }
    }
  }

  private async reservableNow(wanted: ReadonlyMap<string, number>, req: ReserveRequest): Promise<ShortLine[]> {
    const variants = await variantsBySku(this.ctx.db, [...wanted.keys()]);
    const levels = await readRoutingLevels(this.ctx.db, [...variants.values()].map((v) => v.id));
    return [...wanted].map(([sku, requested]) => {
      const id = variants.get(sku)?.id;
      const stocks = levels.filter((l) => l.variant_id === id && (req.warehouse === undefined || l.warehouse === req.warehouse));
      return { sku, requested, available: totalReservable(stocks.map(toWarehouseStock)) };
    });
  }

  /**
   * Routes every SKU's summed quantity to warehouses, from the levels as they are now, into one reserve
   * movement per level; or refuses, naming every SKU that cannot be covered and what could be.
   */
  private async plan(tx: Queryable, id: string, wanted: ReadonlyMap<string, number>, req: ReserveRequest): Promise<PlannedMove[]> {
    const variants = await variantsBySku(tx, [...wanted.keys()]);
    if (req.warehouse !== undefined) await warehouseByCode(tx, req.warehouse);
    const levels = await readRoutingLevels(tx, [...variants.values()].map((v) => v.id));
    const moves: PlannedMove[] = [];
    const short: ShortLine[] = [];
    for (const [sku, qty] of wanted) {
      const variant = variants.get(sku) ?? missing(`variant ${sku}`);
      const mine = levels.filter((l) => l.variant_id === variant.id);
      const stocks = mine.map(toWarehouseStock);
      const plan = allocate(qty, stocks, { warehouse: req.warehouse, ship_to: req.ship_to });
      if (!plan) {
        const from = req.warehouse === undefined ? stocks : stocks.filter((s) => s.warehouse === req.warehouse);
        short.push({ sku, requested: qty, available: totalReservable(from) });
        continue;
      }
      for (const a of plan) {
        const level = mine.find((l) => l.warehouse === a.warehouse) ?? missing(`level of ${sku} at ${a.warehouse}`);
        moves.push({
          sku,
          warehouse: level.warehouse,
          variantId: variant.id,
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
