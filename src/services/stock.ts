import { InsufficientStockError, NotFoundError, StaleQuantityError, ValidationError } from '../domain/errors.js';
import { isMovementType } from '../domain/movements.js';
import type { MovementType, Reason } from '../domain/movements.js';
import { sellable } from '../domain/availability.js';
import { available, shortfall } from '../domain/stock-level.js';
import { findBin, findVariants, findWarehouses } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { applyMovements, lockLevels, putAway, readLevel, readLevelsAfter, readStock } from '../store/levels.js';
import type { AppliedMovement, MovementInput } from '../store/levels.js';
import { listMovements } from '../store/movements.js';
import { readIncoming } from '../store/purchasing.js';
import { enqueue } from '../store/outbox.js';
import { insertReturn } from '../store/returns.js';
import { HoldsBeingReleased, afterReleasesElsewhere, expireDueHoldsOn } from './reservations.js';
import type { Page } from './catalog.js';
import { missing, runOnce, variantBySku, variantsBySku, warehouseByCode, warehousesByCode } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toLevel, toMovement } from './dto.js';
import type { Level, Movement } from './dto.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import { readStockCsv, tooMany } from './stock-csv.js';
import type { CsvSource, StockCsvLimits } from './stock-csv.js';
import {
  AdjustInput,
  CountInput,
  ReceiveInput,
  Reference,
  ReservationId,
  ReturnInput,
  SyncInput,
  Timestamp,
  TransferInput,
  parse,
} from './schemas.js';
import type { SyncItem } from './schemas.js';

/** Levels per statement when setting absolute numbers (syncs, imports). */
const SET_CHUNK = 5000;

interface OnHandItem {
  variantId: number;
  warehouseId: number;
  sku: string;
  warehouse: string;
  onHand: number;
  expected: number | undefined;
}

const shortfallsOf = (levels: readonly (LevelChange & { difference: number })[]): LevelChange[] =>
  levels.filter((l) => l.shortfall > 0).map(({ difference: _, ...l }) => l);

export interface LevelChange extends Level {
  /** units promised to orders that are no longer in the building (on_hand below reserved) */
  shortfall: number;
}

export interface CountResult extends LevelChange {
  /** counted minus what the books said: what the ledger records */
  difference: number;
}

export interface SyncResult {
  source: string;
  levels: (LevelChange & { difference: number })[];
  /** levels the sync left below what is promised: orders there cannot all ship */
  shortfalls: LevelChange[];
}

export interface ReturnResult {
  id: number;
  sku: string;
  warehouse: string;
  qty: number;
  condition: 'resellable' | 'damaged';
  level: Level;
}

export interface WarehouseStock {
  warehouse: string;
  on_hand: number;
  reserved: number;
  available: number;
  /** units on purchase orders the supplier has, not yet received here */
  incoming: number;
  bins: { bin: string; qty: number }[];
}

export interface Stock {
  sku: string;
  total: { on_hand: number; reserved: number; available: number; incoming: number };
  warehouses: WarehouseStock[];
}

export interface MovementQuery {
  sku?: string | undefined;
  warehouse?: string | undefined;
  type?: string | undefined;
  since?: string | undefined;
  reservation_id?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Warehouse operations: physical stock coming, going, counted and moved. Each is one transaction. */
export class StockService {
  constructor(private readonly ctx: ServiceContext) {}

  async receive(input: ReceiveInput, options: CallOptions = {}): Promise<Level> {
    const r = parse(ReceiveInput, input);
    return runOnce(this.ctx, 'stock.receive', options, r, async (tx) => {
      const { variant, warehouse } = await this.resolve(tx, r.sku, r.warehouse);
      const bin = r.bin === undefined ? undefined : await findBin(tx, warehouse.id, r.bin);
      if (r.bin !== undefined && !bin) throw new NotFoundError('bin', `${r.warehouse}/${r.bin}`);
      const applied = await this.applyAll(tx, options, [
        {
          variantId: variant.id,
          warehouseId: warehouse.id,
          type: 'receive',
          deltaOnHand: r.qty,
          deltaReserved: 0,
          guard: 'none',
          reason: r.reason ?? 'received',
          reference: r.reference ?? null,
        },
      ]);
      if (bin) await putAway(tx, bin.id, variant.id, r.qty);
      return toLevel(r.sku, r.warehouse, first(applied));
    });
  }

  /**
   * Moves on_hand by a signed delta for a stated reason. A decrease may leave fewer units than are promised
   * (damage and theft happen); that is reported as a shortfall, never hidden. It can never go below zero.
   */
  async adjust(input: AdjustInput, options: CallOptions = {}): Promise<LevelChange> {
    const a = parse(AdjustInput, input);
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runOnce(this.ctx, 'stock.adjust', options, a, async (tx) => {
        const { variant, warehouse } = await this.resolve(tx, a.sku, a.warehouse);
        const releasing = await this.expireDueHolds(tx, [a.sku], putOff);
        const move: MovementInput = {
          variantId: variant.id,
          warehouseId: warehouse.id,
          type: 'adjust',
          deltaOnHand: a.delta,
          deltaReserved: 0,
          guard: 'none',
          reason: a.reason,
          reference: a.reference ?? null,
          expectedOnHand: a.expected_on_hand ?? null,
        };
        const [applied] = await applyMovements(tx, options.actor ?? null, [move], this.ctx.clock());
        if (!applied) {
          const now = await readLevel(tx, variant.id, warehouse.id);
          if (!now) throw new NotFoundError('stock level', `${a.sku}@${a.warehouse}`);
          if (a.expected_on_hand !== undefined && now.on_hand !== a.expected_on_hand) {
            throw new StaleQuantityError([
              { sku: a.sku, warehouse: a.warehouse, expected_on_hand: a.expected_on_hand, on_hand: now.on_hand },
            ]);
          }
          throw new InsufficientStockError([
            { sku: a.sku, warehouse: a.warehouse, requested: -a.delta, available: now.on_hand },
          ]);
        }
        if (a.delta < 0 && shortfall(applied) > 0) waitFor(releasing);
        return this.flagShortfall(tx, a.sku, a.warehouse, applied, 'adjust', a.delta < 0);
      }),
    );
  }

  /** A cycle count: the counted number becomes on_hand; the ledger records the difference. */
  async count(input: CountInput, options: CallOptions = {}): Promise<CountResult> {
    const c = parse(CountInput, input);
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runOnce(this.ctx, 'stock.count', options, c, async (tx) => {
        const { variant, warehouse } = await this.resolve(tx, c.sku, c.warehouse);
        const releasing = await this.expireDueHolds(tx, [c.sku], putOff);
        const [level] = await this.setOnHand(
          tx,
          options,
          'count',
          'cycle_count',
          c.reference ?? null,
          [
            {
              variantId: variant.id,
              warehouseId: warehouse.id,
              sku: c.sku,
              warehouse: c.warehouse,
              onHand: c.counted,
              expected: c.expected_on_hand,
            },
          ],
          releasing,
        );
        if (!level) throw new Error('count applied to no level');
        return level;
      }),
    );
  }

  /**
   * Absolute on-hand numbers from an external warehouse system, all or nothing. Reserved is never touched:
   * the external system does not know about pending orders. Levels left below what is promised are
   * applied anyway (the shelf is the truth) and flagged as shortfalls.
   */
  async sync(input: SyncInput, options: CallOptions = {}): Promise<SyncResult> {
    const s = parse(SyncInput, input);
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runOnce(this.ctx, 'stock.sync', options, s, (tx) => this.applySync(tx, s.source, s.items, options, putOff)),
    );
  }

  /**
   * A sync batch inside the caller's transaction (pull sync adds its cursor to the same transaction).
   * Unknown SKUs or warehouses refuse the whole batch. `putOff` false: the caller runs it again (see
   * afterReleasesElsewhere) when it would leave a shortfall that holds being released elsewhere account for.
   */
  async applySync(
    tx: Queryable,
    source: string,
    items: readonly SyncItem[],
    options: CallOptions = {},
    putOff = true,
  ): Promise<SyncResult> {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const key = `${item.sku}\u0000${item.warehouse}`;
      if (seen.has(key))
        throw ValidationError.field(`/items/${i}`, `${item.sku} at ${item.warehouse} appears twice in one sync`);
      seen.add(key);
    });
    const variants = await variantsBySku(tx, [...new Set(items.map((i) => i.sku))]);
    const warehouses = await warehousesByCode(tx, [...new Set(items.map((i) => i.warehouse))]);
    const releasing = await this.expireDueHolds(tx, [...variants.keys()], putOff);
    const levels = await this.setOnHand(
      tx,
      options,
      'sync',
      'sync',
      source,
      items.map((item) => ({
        variantId: (variants.get(item.sku) ?? missing('variant')).id,
        warehouseId: (warehouses.get(item.warehouse) ?? missing('warehouse')).id,
        sku: item.sku,
        warehouse: item.warehouse,
        onHand: item.on_hand,
        expected: item.expected_on_hand,
      })),
      releasing,
    );
    return { source, levels, shortfalls: shortfallsOf(levels) };
  }

  /** Moves units between warehouses at once; only units nobody is promised can leave. */
  async transfer(
    input: TransferInput,
    options: CallOptions = {},
  ): Promise<{ sku: string; qty: number; from: Level; to: Level }> {
    const t = parse(TransferInput, input);
    if (t.from === t.to) throw ValidationError.field('/to', 'a transfer needs two different warehouses');
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runOnce(this.ctx, 'stock.transfer', options, t, async (tx) => {
        const variant = await variantBySku(tx, t.sku);
        const warehouses = await warehousesByCode(tx, [t.from, t.to]);
        const from = warehouses.get(t.from) ?? missing('value');
        const to = warehouses.get(t.to) ?? missing('value');
        const releasing = await this.expireDueHolds(tx, [t.sku], putOff);
        const common = {
          variantId: variant.id,
          deltaReserved: 0,
          reason: 'transfer' as const,
          reference: t.reference ?? null,
        };
        const applied = await applyMovements(
          tx,
          options.actor ?? null,
          [
            { ...common, warehouseId: from.id, type: 'transfer_out', deltaOnHand: -t.qty, guard: 'available' },
            { ...common, warehouseId: to.id, type: 'transfer_in', deltaOnHand: t.qty, guard: 'none' },
          ],
          this.ctx.clock(),
        );
        const out = applied.find((m) => m.idx === 0);
        const into = applied.find((m) => m.idx === 1);
        if (!out || !into) {
          waitFor(releasing);
          const level = (await readLevel(tx, variant.id, from.id)) ?? missing('value');
          throw new InsufficientStockError([
            { sku: t.sku, warehouse: t.from, requested: t.qty, available: Math.max(0, available(level)) },
          ]);
        }
        return { sku: t.sku, qty: t.qty, from: toLevel(t.sku, t.from, out), to: toLevel(t.sku, t.to, into) };
      }),
    );
  }

  /**
   * A customer return. Resellable units go back on hand; damaged ones are recorded (in returns and as a
   * zero-quantity ledger row with reason damaged) but never become sellable.
   */
  async return(input: ReturnInput, options: CallOptions = {}): Promise<ReturnResult> {
    const r = parse(ReturnInput, input);
    return runOnce(this.ctx, 'stock.return', options, r, async (tx) => {
      const { variant, warehouse } = await this.resolve(tx, r.sku, r.warehouse);
      const id = await insertReturn(tx, {
        variantId: variant.id,
        warehouseId: warehouse.id,
        qty: r.qty,
        condition: r.condition,
        reference: r.reference,
        actor: options.actor ?? null,
      });
      const resellable = r.condition === 'resellable';
      const applied = await this.applyAll(tx, options, [
        {
          variantId: variant.id,
          warehouseId: warehouse.id,
          type: 'return',
          deltaOnHand: resellable ? r.qty : 0,
          deltaReserved: 0,
          guard: 'none',
          reason: resellable ? 'return' : 'damaged',
          reference: r.reference,
        },
      ]);
      return {
        id,
        sku: r.sku,
        warehouse: r.warehouse,
        qty: r.qty,
        condition: r.condition,
        level: toLevel(r.sku, r.warehouse, first(applied)),
      };
    });
  }

  /**
   * Sets on_hand from a stock CSV (a stock take), all or nothing: every row is validated and every SKU and
   * warehouse resolved before anything changes, and problems name their line. Recorded as counts.
   */
  async importOnHand(
    csv: CsvSource,
    options: CallOptions & StockCsvLimits & { reference?: string | undefined } = {},
  ): Promise<{ rows: number; changed: number; shortfalls: LevelChange[] }> {
    if (options.reference !== undefined) parse(Reference, options.reference, '/reference');
    const { rows, sha256 } = await readStockCsv(csv, options);
    // the file stands in the idempotency check by its hash: it was read as a stream and is not kept
    const request = { csv_sha256: sha256, reference: options.reference };
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runOnce(this.ctx, 'stock.import', options, request, async (tx) => {
        const variants = await findVariants(tx, [...new Set(rows.map((r) => r.sku))]);
        const warehouses = await findWarehouses(tx, [...new Set(rows.map((r) => r.warehouse))]);
        const variantId = new Map(variants.map((v) => [v.sku, v.id]));
        const warehouseId = new Map(warehouses.map((w) => [w.code, w.id]));
        const unknown = rows.flatMap((r) => [
          ...(variantId.has(r.sku) ? [] : [{ path: `/line/${r.line}/sku`, message: `unknown SKU ${r.sku}` }]),
          ...(warehouseId.has(r.warehouse)
            ? []
            : [{ path: `/line/${r.line}/warehouse`, message: `unknown warehouse ${r.warehouse}` }]),
        ]);
        if (unknown.length > 0) throw tooMany(unknown, options.maxErrors);
        const releasing = await this.expireDueHolds(
          tx,
          variants.map((v) => v.sku),
          putOff,
        );
        const levels = await this.setOnHand(
          tx,
          options,
          'count',
          'cycle_count',
          options.reference ?? 'csv-import',
          rows.map((r) => ({
            variantId: variantId.get(r.sku) ?? missing('variant'),
            warehouseId: warehouseId.get(r.warehouse) ?? missing('warehouse'),
            sku: r.sku,
            warehouse: r.warehouse,
            onHand: r.on_hand,
            expected: undefined,
          })),
          releasing,
        );
        return {
          rows: rows.length,
          changed: levels.filter((l) => l.difference !== 0).length,
          shortfalls: shortfallsOf(levels),
        };
      }),
    );
  }

  /** Every level, in key order, a page at a time: for exports of any size in constant memory. */
  async *exportLevels(pageSize = 5000): AsyncGenerator<Level> {
    let after: { variantId: number; warehouseId: number } | null = null;
    for (;;) {
      const page = await readLevelsAfter(this.ctx.db, after, pageSize);
      for (const r of page)
        yield { sku: r.sku, warehouse: r.warehouse, on_hand: r.on_hand, reserved: r.reserved, available: r.available };
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      after = { variantId: last.variant_id, warehouseId: last.warehouse_id };
    }
  }

  /**
   * The truth about one SKU, straight from the levels (never cached). Holds past their deadline are not
   * counted as reserved, swept or not.
   */
  async get(sku: string): Promise<Stock> {
    const variant = await variantBySku(this.ctx.db, sku);
    const rows = await readStock(this.ctx.db, variant.id, this.ctx.clock());
    const incoming = new Map((await readIncoming(this.ctx.db, [variant.id])).map((i) => [i.warehouse_id, i.incoming]));
    const warehouses = rows.map((r) => ({
      ...toLevel(sku, r.warehouse, r),
      incoming: incoming.get(r.warehouse_id) ?? 0,
      bins: r.bins,
    }));
    const sum = (f: (w: WarehouseStock) => number): number => warehouses.reduce((n, w) => n + f(w), 0);
    return {
      sku,
      // what the storefront can sell: a warehouse short of stock does not take from another's (as availabilityOf)
      total: {
        on_hand: sum((w) => w.on_hand),
        reserved: sum((w) => w.reserved),
        available: sellable(rows),
        incoming: sum((w) => w.incoming),
      },
      warehouses: warehouses.map(({ sku: _, ...w }) => w),
    };
  }

  /** Ledger rows, newest first, paged by cursor. */
  async movements(query: MovementQuery = {}): Promise<Page<Movement>> {
    const limit = pageLimit(query.limit);
    const type = query.type;
    if (type !== undefined && !isMovementType(type))
      throw ValidationError.field('/type', `unknown movement type ${type}`);
    const since = query.since === undefined ? undefined : new Date(parse(Timestamp, query.since, '/since'));
    const before = idCursor(query.cursor);
    if (query.reservation_id !== undefined) parse(ReservationId, query.reservation_id, '/reservation_id');
    if (query.sku !== undefined) await variantBySku(this.ctx.db, query.sku);
    const rows = await listMovements(this.ctx.db, {
      sku: query.sku,
      warehouse: query.warehouse,
      type,
      since,
      reservationId: query.reservation_id,
      before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, toMovement, (m) => m.id);
  }

  /**
   * Before a change checks or moves on_hand: the holds on these SKUs' levels past their deadline hold nothing,
   * so they are expired first, in this transaction (see expireDueHoldsOn; its levels stay locked until commit,
   * taken in the order every other statement takes them). Returns the due holds another transaction is still
   * releasing, which a first attempt waits for (see waitFor) rather than be refused or report a shortfall for them.
   */
  private async expireDueHolds(tx: Queryable, skus: readonly string[], putOff: boolean): Promise<readonly string[]> {
    if (skus.length === 0) return [];
    const { elsewhere } = await expireDueHoldsOn(tx, skus, this.ctx.clock());
    return putOff ? [] : elsewhere;
  }

  private async resolve(tx: Queryable, sku: string, warehouseCode: string) {
    return { variant: await variantBySku(tx, sku), warehouse: await warehouseByCode(tx, warehouseCode) };
  }

  /** Applies movements that cannot legitimately fail (no guard beyond on_hand/reserved >= 0). */
  private async applyAll(tx: Queryable, options: CallOptions, moves: MovementInput[]): Promise<AppliedMovement[]> {
    const applied = await applyMovements(tx, options.actor ?? null, moves, this.ctx.clock());
    if (applied.length !== moves.length)
      throw new Error(`stock level missing for ${moves.length - applied.length} movement(s)`);
    return applied;
  }

  /**
   * Sets absolute on_hand numbers: the levels are locked, compared with what the caller expected, and
   * moved by the difference through the ledger (with the locked number as compare-and-set).
   */
  private async setOnHand(
    tx: Queryable,
    options: CallOptions,
    type: 'count' | 'sync',
    reason: Reason,
    reference: string | null,
    items: readonly OnHandItem[],
    releasing: readonly string[],
  ): Promise<(LevelChange & { difference: number })[]> {
    // Chunks keep each statement's JSON parameter and lock list moderate; all in the caller's transaction. They
    // go in key order, as every statement locks levels, so a big sync never holds a later variant's levels while
    // waiting for an earlier one's (a deadlock with a checkout); answers come back in the caller's order.
    const order = items
      .map((_, i) => i)
      .sort((a, b) => compareLevels(items[a] ?? missing('item'), items[b] ?? missing('item')));
    const results = new Array<LevelChange & { difference: number }>(items.length);
    for (let i = 0; i < order.length; i += SET_CHUNK) {
      const chunk = order.slice(i, i + SET_CHUNK);
      const changed = await this.setOnHandChunk(
        tx,
        options,
        type,
        reason,
        reference,
        chunk.map((k) => items[k] ?? missing('item')),
      );
      changed.forEach((c, j) => (results[chunk[j] ?? missing('item')] = c));
    }
    if (results.some((l) => l.difference < 0 && l.shortfall > 0)) waitFor(releasing);
    return results;
  }

  private async setOnHandChunk(
    tx: Queryable,
    options: CallOptions,
    type: 'count' | 'sync',
    reason: Reason,
    reference: string | null,
    items: readonly OnHandItem[],
  ): Promise<(LevelChange & { difference: number })[]> {
    const locked = await lockLevels(
      tx,
      items.map((i) => ({ variantId: i.variantId, warehouseId: i.warehouseId })),
    );
    const current = new Map(locked.map((l) => [`${l.variant_id}:${l.warehouse_id}`, l]));
    const levelOf = (i: OnHandItem) => current.get(`${i.variantId}:${i.warehouseId}`) ?? missing('value');
    const stale = items
      .filter((i) => i.expected !== undefined && levelOf(i).on_hand !== i.expected)
      .map((i) => ({
        sku: i.sku,
        warehouse: i.warehouse,
        expected_on_hand: i.expected as number,
        on_hand: levelOf(i).on_hand,
      }));
    if (stale.length > 0) throw new StaleQuantityError(stale);
    const applied = await this.applyAll(
      tx,
      options,
      items.map((i) => ({
        variantId: i.variantId,
        warehouseId: i.warehouseId,
        type,
        deltaOnHand: i.onHand - levelOf(i).on_hand,
        deltaReserved: 0,
        guard: 'none',
        reason,
        reference,
        expectedOnHand: levelOf(i).on_hand,
      })),
    );
    const results = [];
    for (const a of applied) {
      const item = items[a.idx] ?? missing('value');
      const difference = item.onHand - levelOf(item).on_hand;
      const change = await this.flagShortfall(tx, item.sku, item.warehouse, a, type, difference < 0);
      results.push({ ...change, difference });
    }
    return results;
  }

  /**
   * A decrease that leaves a level below what is promised goes to the outbox, in this transaction, for
   * whoever must act (re-route or contact the customers).
   */
  private async flagShortfall(
    tx: Queryable,
    sku: string,
    warehouse: string,
    a: AppliedMovement,
    cause: MovementType,
    decreased: boolean,
  ): Promise<LevelChange> {
    const level = { ...toLevel(sku, warehouse, a), shortfall: shortfall(a) };
    if (decreased && level.shortfall > 0) await enqueue(tx, 'stock.shortfall', { ...level, cause });
    return level;
  }
}

/** A change that would be refused or come out short while due holds on its levels are being released elsewhere waits for them. */
function waitFor(releasing: readonly string[]): void {
  if (releasing.length > 0) throw new HoldsBeingReleased(releasing);
}

const compareLevels = (a: OnHandItem, b: OnHandItem): number =>
  a.variantId - b.variantId || a.warehouseId - b.warehouseId;

function first<T>(items: readonly T[]): T {
  return items[0] ?? missing('value');
}
