import { setImmediate } from 'node:timers/promises';
import {
  InsufficientStockError,
  KitHoldsNoStockError,
  NotFoundError,
  StaleQuantityError,
  ValidationError,
} from '../domain/errors.js';
import type { FieldError } from '../domain/errors.js';
import { isMovementType } from '../domain/movements.js';
import type { MovementType, Reason } from '../domain/movements.js';
import { sellable } from '../domain/availability.js';
import { available, shortfall } from '../domain/stock-level.js';
import type { LevelNumbers } from '../domain/stock-level.js';
import { moveState, unitsIn } from '../domain/stock-state.js';
import { variantHeadroom } from '../domain/variant-limits.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import type { VariantRow, WarehouseRow } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { asStockroomError } from '../store/failures.js';
import { applyMovements, lockLevels, readLevel, readLevelsAfter, readStock } from '../store/levels.js';
import type { AppliedMovement, MovementInput } from '../store/levels.js';
import { listMovements, movementExists } from '../store/movements.js';
import { readIncoming } from '../store/purchase-orders.js';
import { enqueue } from '../store/outbox.js';
import { readCommitted, writeStateMove } from '../store/stock-states.js';
import { insertReturn } from '../store/returns.js';
import { HoldsBeingReleased, afterReleasesElsewhere, expireDueHoldsOn, expireDueNow } from './reservations.js';
import type { Page } from './paging.js';
import { runIdempotently } from './idempotency.js';
import { refuseArchived } from './archive.js';
import { putAwayReceipt } from './locations.js';
import { missing, variantBySku, variantsBySku, warehouseByCode, warehousesByCode } from './lookups.js';
import { staleReads } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toLevel, toMovement } from './dto.js';
import { KitRegistry, kitStock, refuseKit } from './kits.js';
import type { Level, Movement } from './dto.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import { DEFAULT_PREVIEW_LISTED, readStockCsv, scanStockCsv, tooMany } from './stock-csv.js';
import type { CsvSource, StockCsvLimits, StockCsvRow } from './stock-csv.js';
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
  refuseRepeatedLevels,
} from './schemas.js';
import type { SyncItem } from './schemas.js';
import { MoveStateInput } from './state-schemas.js';

/** Levels per statement when setting absolute numbers (syncs, imports). */
const SET_CHUNK = 5000;

/** One absolute on_hand number to set, with what the caller expects it to be now. */
interface OnHandItem {
  variantId: number;
  warehouseId: number;
  sku: string;
  warehouse: string;
  onHand: number;
  expected: number | undefined;
}

/** How absolute on_hand numbers are recorded: as counts or a sync, for whom, with what reason and reference. */
interface OnHandWrite {
  options: CallOptions;
  type: 'count' | 'sync';
  reason: Reason;
  reference: string | null;
}

/** What changeLevel hands a change: the level's variant and warehouse, and due holds on its SKU released elsewhere. */
interface LevelToChange {
  variant: VariantRow;
  warehouse: WarehouseRow;
  releasing: readonly string[];
}

/** A row of an import, resolved; `archived` names its archived variant or warehouse, if one is. */
interface ImportItem extends OnHandItem {
  line: number;
  archived?: string | undefined;
}

/** Carries a dry run's result out of its transaction, which throwing rolls back. */
class DryRun<T> extends Error {
  constructor(readonly result: T) {
    super('dry run');
  }
}

/** The line a problem's path names (/line/7/sku), or 0 for the file as a whole. */
const lineOf = (path: string): number => Number(/^\/line\/(\d+)/.exec(path)?.[1] ?? 0);

/** SKUs an import looks up in one statement. */
const SKUS_PER_LOOKUP = 5000;

/**
 * The first `limit` problems of lists each in line order, in line order: merged as they are, not sorted (a file of a
 * million bad rows has a million problems, and a sort reading each one's line from its path took seconds).
 */
function firstByLine(lists: readonly (readonly FieldError[])[], limit: number): FieldError[] {
  const next = lists.map(() => 0);
  const merged: FieldError[] = [];
  while (merged.length < limit) {
    let from = -1;
    let line = Infinity;
    lists.forEach((list, i) => {
      const problem = list[next[i] ?? 0];
      if (problem === undefined) return;
      const at = lineOf(problem.path);
      if (at < line || from === -1) {
        line = at;
        from = i;
      }
    });
    const list = lists[from];
    if (list === undefined) break;
    merged.push(list[next[from] ?? 0] as FieldError);
    next[from] = (next[from] ?? 0) + 1;
  }
  return merged;
}

const shortfallsOf = (levels: readonly (LevelChange & { difference: number })[]): LevelChange[] =>
  levels.filter((level) => level.shortfall > 0).map(({ difference: _, ...level }) => level);

/** A level after a change that may leave it short of what is promised. */
export interface LevelChange extends Level {
  /** units promised to orders that are no longer in the building (on_hand below reserved) */
  shortfall: number;
}

/** What an import would do, from a dry run (StockService.previewImport). */
export interface ImportPreview {
  /** data rows in the file */
  rows: number;
  /** levels the import would change */
  changed: number;
  /** the first changes, in file order */
  changes: { sku: string; warehouse: string; on_hand_before: number; on_hand: number }[];
  /** levels that would be left short of what orders hold */
  shortfalls: LevelChange[];
  /** the first problems, in line order; the import is refused while there is one */
  errors: { line: number | null; path: string; message: string }[];
  /** every problem found, listed or not */
  error_count: number;
}

/** A level after a cycle count, with what the count changed. */
export interface CountResult extends LevelChange {
  /** counted minus what the books said: what the ledger records */
  difference: number;
}

/** What a sync batch set, level by level, and where it left orders short. */
export interface SyncResult {
  source: string;
  levels: (LevelChange & { difference: number })[];
  /** levels the sync left below what is promised: orders there cannot all ship */
  shortfalls: LevelChange[];
}

/** A recorded customer return and the level its units went back to. */
export interface ReturnResult {
  id: number;
  sku: string;
  warehouse: string;
  qty: number;
  condition: 'resellable' | 'damaged';
  level: Level;
}

/**
 * A level's numbers with the states of its units (Shopify's names): of on_hand, `damaged` and `quality_control`
 * units are never sellable, `safety_stock` is held back; `available` is what is left once they and `reserved`
 * are taken off.
 */
export interface StateLevel extends Level {
  damaged: number;
  quality_control: number;
  safety_stock: number;
}

/** Of a level's reserved units, those held for paid orders and those for checkouts not yet paid. */
export interface HeldStates {
  /** held by committed and partially fulfilled reservations */
  committed: number;
  /** held by pending reservations within their deadline */
  pending: number;
}

/** One warehouse's stock of a SKU as StockService.get shows it: numbers, states, incoming units and bins. */
export interface WarehouseStock extends HeldStates {
  warehouse: string;
  on_hand: number;
  reserved: number;
  available: number;
  damaged: number;
  quality_control: number;
  safety_stock: number;
  /** units on purchase orders the supplier has, not yet received here */
  incoming: number;
  bins: { bin: string; qty: number }[];
}

/** The truth about one SKU: totals over every warehouse and each warehouse's stock. */
export interface Stock {
  sku: string;
  total: HeldStates & {
    on_hand: number;
    reserved: number;
    available: number;
    incoming: number;
    damaged: number;
    quality_control: number;
    safety_stock: number;
  };
  warehouses: WarehouseStock[];
}

/** Which ledger rows StockService.movements lists: each field given narrows the list. */
export interface MovementQuery {
  sku?: string | undefined;
  warehouse?: string | undefined;
  type?: string | undefined;
  since?: string | undefined;
  reservation_id?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/**
 * Units put on a kit by a receipt or an adjustment are refused by the database (migration 0030's check), which cannot
 * say which variant it was: the caller named one, so the refusal names it. Checking first would cost every receipt a
 * query for a mistake; this costs nothing until the mistake is made.
 */
async function namingKit<T>(sku: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const refusal = asStockroomError(error);
    if (refusal instanceof KitHoldsNoStockError && refusal.sku === undefined) throw new KitHoldsNoStockError(sku);
    throw error;
  }
}

/** Warehouse operations: physical stock coming, going, counted and moved. Each is one transaction. */
export class StockService {
  constructor(
    private readonly ctx: ServiceContext,
    /** the kits: a kit's stock is what its components make */
    private readonly kits: KitRegistry = new KitRegistry(ctx.db),
  ) {}

  /** Units arriving at a warehouse (into a bin, if named): on_hand goes up. */
  async receive(input: ReceiveInput, options: CallOptions = {}): Promise<Level> {
    const receipt = parse(ReceiveInput, input);
    return runIdempotently(this.ctx, 'stock.receive', options, receipt, async (tx) => {
      const { variant, warehouse } = await this.resolve(tx, receipt.sku, receipt.warehouse);
      const applied = await namingKit(
        receipt.sku,
        this.applyAll(tx, options, [
          {
            variantId: variant.id,
            warehouseId: warehouse.id,
            type: 'receive',
            deltaOnHand: receipt.qty,
            deltaReserved: 0,
            guard: 'none',
            reason: receipt.reason ?? 'received',
            reference: receipt.reference ?? null,
            unitCost: receipt.unit_cost ?? null,
          },
        ]),
      );
      await refuseArchived(tx, [{ variantId: variant.id, warehouseId: warehouse.id, ...receipt }]);
      await putAwayReceipt(tx, this.ctx.clock(), {
        warehouse,
        variant: { id: variant.id, sku: receipt.sku },
        qty: receipt.qty,
        location: receipt.bin,
        force: receipt.force,
        suggest: false,
      });
      return toLevel(receipt.sku, receipt.warehouse, first(applied));
    });
  }

  /**
   * Moves on_hand by a signed delta for a stated reason. A decrease may leave fewer units than are promised
   * (damage and theft happen); that is reported as a shortfall, never hidden. It can never go below zero.
   */
  async adjust(input: AdjustInput, options: CallOptions = {}): Promise<LevelChange> {
    const adjustment = parse(AdjustInput, input);
    return this.changeLevel('stock.adjust', options, adjustment, async (tx, { variant, warehouse, releasing }) => {
      const move: MovementInput = {
        variantId: variant.id,
        warehouseId: warehouse.id,
        type: 'adjust',
        deltaOnHand: adjustment.delta,
        deltaReserved: 0,
        guard: 'none',
        reason: adjustment.reason,
        reference: adjustment.reference ?? null,
        expectedOnHand: adjustment.expected_on_hand ?? null,
      };
      const [applied] = await namingKit(
        adjustment.sku,
        applyMovements(tx, options.actor ?? null, [move], this.ctx.clock()),
      );
      if (!applied) {
        const now = await readLevel(tx, variant.id, warehouse.id);
        if (!now) throw new NotFoundError('stock level', `${adjustment.sku}@${adjustment.warehouse}`);
        if (adjustment.expected_on_hand !== undefined && now.on_hand !== adjustment.expected_on_hand) {
          throw new StaleQuantityError([
            {
              sku: adjustment.sku,
              warehouse: adjustment.warehouse,
              expected_on_hand: adjustment.expected_on_hand,
              on_hand: now.on_hand,
            },
          ]);
        }
        throw new InsufficientStockError([
          {
            sku: adjustment.sku,
            warehouse: adjustment.warehouse,
            requested: -adjustment.delta,
            available: now.on_hand,
          },
        ]);
      }
      // units found in an archived warehouse, or of an archived variant, must be unarchived into first
      if (adjustment.delta > 0)
        await refuseArchived(tx, [
          { variantId: variant.id, warehouseId: warehouse.id, sku: adjustment.sku, warehouse: adjustment.warehouse },
        ]);
      if (adjustment.delta < 0 && shortfall(applied) > 0) waitFor(releasing);
      return this.flagShortfall(tx, adjustment.sku, adjustment.warehouse, applied, 'adjust', adjustment.delta < 0);
    });
  }

  /** A cycle count: the counted number becomes on_hand; the ledger records the difference. */
  async count(input: CountInput, options: CallOptions = {}): Promise<CountResult> {
    const count = parse(CountInput, input);
    return this.changeLevel('stock.count', options, count, async (tx, { variant, warehouse, releasing }) => {
      // a count of a kit is refused even at 0, which puts no units on it: a kit is counted as its components
      await refuseKit(tx, variant.id, count.sku);
      const [level] = await this.setOnHand(
        tx,
        { options, type: 'count', reason: 'cycle_count', reference: count.reference ?? null },
        [
          {
            variantId: variant.id,
            warehouseId: warehouse.id,
            sku: count.sku,
            warehouse: count.warehouse,
            onHand: count.counted,
            expected: count.expected_on_hand,
          },
        ],
        releasing,
      );
      if (!level) throw new Error('count applied to no level');
      return level;
    });
  }

  /**
   * Absolute on-hand numbers from an external warehouse system, all or nothing. Reserved is never touched:
   * the external system does not know about pending orders. Levels left below what is promised are
   * applied anyway (the shelf is the truth) and flagged as shortfalls.
   */
  async sync(input: SyncInput, options: CallOptions = {}): Promise<SyncResult> {
    const batch = parse(SyncInput, input);
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runIdempotently(this.ctx, 'stock.sync', options, batch, (tx) =>
        this.applySync(tx, batch.source, batch.items, options, putOff),
      ),
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
    refuseRepeatedLevels(items);
    const variants = await variantsBySku(tx, [...new Set(items.map((item) => item.sku))]);
    const warehouses = await warehousesByCode(tx, [...new Set(items.map((item) => item.warehouse))]);
    const releasing = await this.expireDueHolds(tx, [...variants.keys()], putOff);
    const levels = await this.setOnHand(
      tx,
      { options, type: 'sync', reason: 'sync', reference: source },
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
    const transfer = parse(TransferInput, input);
    if (transfer.from === transfer.to) throw ValidationError.field('/to', 'a transfer needs two different warehouses');
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runIdempotently(this.ctx, 'stock.transfer', options, transfer, async (tx) => {
        const variant = await variantBySku(tx, transfer.sku);
        const warehouses = await warehousesByCode(tx, [transfer.from, transfer.to]);
        const from = warehouses.get(transfer.from) ?? missing('value');
        const to = warehouses.get(transfer.to) ?? missing('value');
        const releasing = await this.expireDueHolds(tx, [transfer.sku], putOff);
        const common = {
          variantId: variant.id,
          deltaReserved: 0,
          reason: 'transfer' as const,
          reference: transfer.reference ?? null,
        };
        const applied = await applyMovements(
          tx,
          options.actor ?? null,
          [
            { ...common, warehouseId: from.id, type: 'transfer_out', deltaOnHand: -transfer.qty, guard: 'available' },
            { ...common, warehouseId: to.id, type: 'transfer_in', deltaOnHand: transfer.qty, guard: 'none' },
          ],
          this.ctx.clock(),
        );
        const out = applied.find((movement) => movement.idx === 0);
        const into = applied.find((movement) => movement.idx === 1);
        if (!out || !into) {
          waitFor(releasing);
          const level = (await readLevel(tx, variant.id, from.id)) ?? missing('value');
          throw new InsufficientStockError([
            {
              sku: transfer.sku,
              warehouse: transfer.from,
              requested: transfer.qty,
              available: Math.max(0, available(level)),
            },
          ]);
        }
        await refuseArchived(tx, [
          { variantId: variant.id, warehouseId: to.id, sku: transfer.sku, warehouse: to.code },
        ]);
        return {
          sku: transfer.sku,
          qty: transfer.qty,
          from: toLevel(transfer.sku, transfer.from, out),
          to: toLevel(transfer.sku, transfer.to, into),
        };
      }),
    );
  }

  /**
   * A customer return. Resellable units go back on hand; damaged ones are recorded (in returns and as a
   * zero-quantity ledger row with reason damaged) but never become sellable.
   */
  async return(input: ReturnInput, options: CallOptions = {}): Promise<ReturnResult> {
    const returned = parse(ReturnInput, input);
    return runIdempotently(this.ctx, 'stock.return', options, returned, async (tx) => {
      const { variant, warehouse } = await this.resolve(tx, returned.sku, returned.warehouse);
      // a damaged return puts no units on hand either: a kit comes back as its components, in whatever condition
      await refuseKit(tx, variant.id, returned.sku);
      const id = await insertReturn(tx, {
        variantId: variant.id,
        warehouseId: warehouse.id,
        qty: returned.qty,
        condition: returned.condition,
        reference: returned.reference,
        actor: options.actor ?? null,
      });
      const resellable = returned.condition === 'resellable';
      const applied = await this.applyAll(tx, options, [
        {
          variantId: variant.id,
          warehouseId: warehouse.id,
          type: 'return',
          deltaOnHand: resellable ? returned.qty : 0,
          deltaReserved: 0,
          guard: 'none',
          reason: resellable ? 'return' : 'damaged',
          reference: returned.reference,
        },
      ]);
      await refuseArchived(tx, [{ variantId: variant.id, warehouseId: warehouse.id, ...returned }]);
      return {
        id,
        sku: returned.sku,
        warehouse: returned.warehouse,
        qty: returned.qty,
        condition: returned.condition,
        level: toLevel(returned.sku, returned.warehouse, first(applied)),
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
    // resolved before the transaction, in short reads (variants and warehouses are never deleted; archiving is
    // checked again on the locked levels): the embedded database runs one transaction at a time, and a file of a
    // million unknown SKUs would hold every other request for as long as it takes to find them all
    const { items, unknown, skus } = await this.resolveImportRows(this.ctx.db, rows);
    if (unknown.length > 0) throw tooMany(unknown, options.maxErrors);
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runIdempotently(this.ctx, 'stock.import', options, request, async (tx) => {
        const levels = await this.applyImportRows(tx, options, items, await this.expireDueHolds(tx, skus, putOff));
        return {
          rows: rows.length,
          changed: levels.filter((level) => level.difference !== 0).length,
          shortfalls: shortfallsOf(levels),
        };
      }),
    );
  }

  /**
   * A dry run of importOnHand: reads the whole file with the same checks, resolves its SKUs and warehouses and
   * applies the rows that pass, all in one transaction that is then rolled back, so nothing changes. Reports every
   * row problem with its line (the first `listed` of them, and their count), what the import would change, and the
   * shortfalls it would leave. A file that cannot be read as a stock CSV at all is refused, as the import refuses it.
   */
  async previewImport(
    csv: CsvSource,
    options: CallOptions & { maxBytes?: number | undefined; listed?: number | undefined } = {},
  ): Promise<ImportPreview> {
    const listed = options.listed ?? DEFAULT_PREVIEW_LISTED;
    const scan = await scanStockCsv(csv, { maxBytes: options.maxBytes, listed });
    // before the transaction, in short reads, as importOnHand does
    const { items, unknown, skus } = await this.resolveImportRows(this.ctx.db, scan.rows);
    const work = this.ctx.db.transaction(async (tx) => {
      // an import may not raise on hand into an archived variant or warehouse (refuseArchived): each such row is named
      const archived = items.filter((item) => item.archived !== undefined);
      const now = new Map(
        (archived.length === 0 ? [] : await lockLevels(tx, archived)).map((level) => [
          `${level.variant_id}:${level.warehouse_id}`,
          level.on_hand,
        ]),
      );
      const refused = archived.flatMap((item) => {
        const onHand = now.get(`${item.variantId}:${item.warehouseId}`) ?? 0;
        return item.onHand > onHand
          ? [
              {
                path: `/line/${item.line}`,
                message: `${item.archived} is archived: on hand may not rise (${onHand} now)`,
              },
            ]
          : [];
      });
      const refusedLines = new Set(refused.map((problem) => problem.path));
      const applied = items.filter((item) => !refusedLines.has(`/line/${item.line}`));
      // put off: a dry run does not wait for holds being released elsewhere, it reports what the file would leave
      const levels = await this.applyImportRows(tx, options, applied, await this.expireDueHolds(tx, skus, true));
      const problems = firstByLine([scan.problems, unknown, refused], listed);
      const changes = levels.filter((level) => level.difference !== 0);
      throw new DryRun<ImportPreview>({
        rows: scan.records,
        changed: changes.length,
        changes: changes.slice(0, listed).map((level) => ({
          sku: level.sku,
          warehouse: level.warehouse,
          on_hand_before: level.on_hand - level.difference,
          on_hand: level.on_hand,
        })),
        shortfalls: shortfallsOf(levels),
        errors: problems.slice(0, listed).map((problem) => ({ line: lineOf(problem.path) || null, ...problem })),
        error_count: scan.problemCount + unknown.length + refused.length,
      });
    });
    return work.then(
      () => missing('dry run result'),
      (error: unknown) => {
        if (error instanceof DryRun) return error.result as ImportPreview;
        throw asStockroomError(error) ?? error;
      },
    );
  }

  /** The import's rows with their variant and warehouse ids, and a problem for each unknown SKU or warehouse. */
  private async resolveImportRows(
    db: Queryable,
    rows: readonly StockCsvRow[],
  ): Promise<{ items: ImportItem[]; unknown: FieldError[]; skus: string[] }> {
    // in parts: a file of a million SKUs asked at once holds the embedded database, which runs on this thread, for
    // half a minute; between parts other requests have their turn (a turn of the event loop: the embedded database
    // answers in microtasks, so awaiting it alone never lets a request in)
    const variants: VariantRow[] = [];
    const skus = [...new Set(rows.map((row) => row.sku))];
    for (let at = 0; at < skus.length; at += SKUS_PER_LOOKUP) {
      if (at > 0) await setImmediate();
      variants.push(...(await findVariants(db, skus.slice(at, at + SKUS_PER_LOOKUP))));
    }
    const warehouses = await findWarehouses(db, [...new Set(rows.map((row) => row.warehouse))]);
    const variantOf = new Map(variants.map((variant) => [variant.sku, variant]));
    const warehouseOf = new Map(warehouses.map((warehouse) => [warehouse.code, warehouse]));
    const unknown: FieldError[] = [];
    const items: ImportItem[] = [];
    for (const row of rows) {
      const variant = variantOf.get(row.sku);
      const warehouse = warehouseOf.get(row.warehouse);
      if (!variant) unknown.push({ path: `/line/${row.line}/sku`, message: `unknown SKU ${row.sku}` });
      if (!warehouse)
        unknown.push({ path: `/line/${row.line}/warehouse`, message: `unknown warehouse ${row.warehouse}` });
      if (!variant || !warehouse) continue;
      items.push({
        line: row.line,
        variantId: variant.id,
        warehouseId: warehouse.id,
        sku: row.sku,
        warehouse: row.warehouse,
        onHand: row.on_hand,
        expected: undefined,
        archived:
          variant.archived_at !== null
            ? `variant ${row.sku}`
            : warehouse.archived_at !== null
              ? `warehouse ${row.warehouse}`
              : undefined,
      });
    }
    return { items, unknown, skus: variants.map((variant) => variant.sku) };
  }

  /** Sets the import's levels, recorded as counts. */
  private applyImportRows(
    tx: Queryable,
    options: CallOptions & { reference?: string | undefined },
    items: readonly ImportItem[],
    releasing: readonly string[],
  ): Promise<(LevelChange & { difference: number })[]> {
    return this.setOnHand(
      tx,
      { options, type: 'count', reason: 'cycle_count', reference: options.reference ?? 'csv-import' },
      items,
      releasing,
    );
  }

  /** Every level, in key order, a page at a time: for exports of any size in constant memory. */
  async *exportLevels(pageSize = 5000): AsyncGenerator<Level> {
    // reserved as the levels store it: holds past their deadline are released first, not counted
    await expireDueNow(this.ctx, { wait: true });
    let after: { variantId: number; warehouseId: number } | null = null;
    for (;;) {
      const page = await readLevelsAfter(staleReads(this.ctx), after, pageSize);
      for (const row of page)
        yield {
          sku: row.sku,
          warehouse: row.warehouse,
          on_hand: row.on_hand,
          reserved: row.reserved,
          available: row.available,
        };
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
    const kit = (await this.kits.current()).get(sku);
    if (!kit) return this.levelsOf(sku);
    const components = await Promise.all(kit.components.map((component) => this.levelsOf(component.sku)));
    return kitStock(kit, await this.levelsOf(sku), components);
  }

  private async levelsOf(sku: string): Promise<Stock> {
    const variant = await variantBySku(this.ctx.db, sku);
    const rows = await readStock(this.ctx.db, variant.id, this.ctx.clock());
    const incoming = new Map(
      (await readIncoming(this.ctx.db, [variant.id])).map((row) => [row.warehouse_id, row.incoming]),
    );
    const committed = await readCommitted(this.ctx.db, variant.id);
    const warehouses = rows.map((row) => ({
      ...toStateLevel(sku, row.warehouse, row),
      // reserved counts no hold past its deadline, so what is not committed is held by pending checkouts
      committed: committed.get(row.warehouse_id) ?? 0,
      pending: row.reserved - (committed.get(row.warehouse_id) ?? 0),
      incoming: incoming.get(row.warehouse_id) ?? 0,
      bins: row.bins,
    }));
    const sum = (figure: (stock: WarehouseStock) => number): number =>
      warehouses.reduce((total, stock) => total + figure(stock), 0);
    return {
      sku,
      // what the storefront can sell: a warehouse short of stock does not take from another's (as availabilityOf)
      total: {
        on_hand: sum((stock) => stock.on_hand),
        reserved: sum((stock) => stock.reserved),
        available:
          variant.limit_scope === 'variant'
            ? Math.min(
                sellable(rows),
                variantHeadroom(rows, { safety_stock: variant.safety_stock, backorder_allowance: 0 }),
              )
            : sellable(rows),
        incoming: sum((stock) => stock.incoming),
        committed: sum((stock) => stock.committed),
        pending: sum((stock) => stock.pending),
        damaged: sum((stock) => stock.damaged),
        quality_control: sum((stock) => stock.quality_control),
        safety_stock: sum((stock) => stock.safety_stock),
      },
      warehouses: warehouses.map(({ sku: _, ...stock }) => stock),
    };
  }

  /**
   * Moves units between the states of one level (available, damaged, quality_control, safety_stock) on the
   * locked level: never more than the source state holds, and never reserved units out of available (409
   * insufficient_stock). On hand and reserved stay; one ledger row of type 'state' records the move.
   */
  async moveState(input: MoveStateInput, options: CallOptions = {}): Promise<StateLevel> {
    const move = parse(MoveStateInput, input);
    if (move.from === move.to) throw ValidationError.field('/to', 'a state move needs two different states');
    return this.changeLevel('stock.move_state', options, move, async (tx, { variant, warehouse, releasing }) => {
      const [level] = await lockLevels(tx, [{ variantId: variant.id, warehouseId: warehouse.id }]);
      if (!level) throw new NotFoundError('stock level', `${move.sku}@${move.warehouse}`);
      const after = moveState(level, move.from, move.to, move.qty);
      if (!after) {
        if (move.from === 'available') waitFor(releasing);
        throw new InsufficientStockError([
          {
            sku: move.sku,
            warehouse: move.warehouse,
            requested: move.qty,
            available: unitsIn(level, move.from),
            ...(move.from === 'available' ? {} : { reason: `${move.from} holds ${unitsIn(level, move.from)}` }),
          },
        ]);
      }
      const moved = await writeStateMove(tx, {
        variantId: variant.id,
        warehouseId: warehouse.id,
        from: move.from,
        to: move.to,
        qty: move.qty,
        after,
        reason: move.reason,
        reference: move.note ?? null,
        actor: options.actor ?? null,
        at: this.ctx.clock(),
      });
      return toStateLevel(move.sku, move.warehouse, moved);
    });
  }

  /** Ledger rows, newest first, paged by cursor. */
  async movements(query: MovementQuery = {}): Promise<Page<Movement>> {
    const limit = pageLimit(query.limit);
    const type = query.type;
    if (type !== undefined && !isMovementType(type))
      throw ValidationError.field('/type', `unknown movement type ${type}`);
    const since = query.since === undefined ? undefined : new Date(parse(Timestamp, query.since, '/since'));
    const before = idCursor(query.cursor);
    // a cursor handed out is the id of the last row of a page, and ledger rows are never deleted: an id no row has (0,
    // past the newest) was never one. Asked of the primary, which has every row a replica may have handed out.
    if (before !== undefined && !(await movementExists(this.ctx.db, before)))
      throw ValidationError.field('/cursor', 'not a cursor this endpoint returned');
    if (query.reservation_id !== undefined) parse(ReservationId, query.reservation_id, '/reservation_id');
    // a filter that names nothing is 404, as on every other list, not an empty page that looks like "no movements"
    if (query.sku !== undefined) await variantBySku(this.ctx.db, query.sku);
    if (query.warehouse !== undefined) await warehouseByCode(this.ctx.db, query.warehouse);
    const rows = await listMovements(staleReads(this.ctx), {
      sku: query.sku,
      warehouse: query.warehouse,
      type,
      since,
      reservationId: query.reservation_id,
      before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, toMovement, (movement) => movement.id);
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

  private async resolve(
    tx: Queryable,
    sku: string,
    warehouseCode: string,
  ): Promise<{ variant: VariantRow; warehouse: WarehouseRow }> {
    return { variant: await variantBySku(tx, sku), warehouse: await warehouseByCode(tx, warehouseCode) };
  }

  /**
   * A change to one level, once per idempotency key: the level's SKU and warehouse are resolved and the due holds
   * on the SKU expired first (see expireDueHolds); a first attempt they would refuse or leave short runs once more.
   */
  private changeLevel<T>(
    scope: string,
    options: CallOptions,
    /** the whole parsed request, not just its level: the idempotency key's request hash is taken over all of it */
    request: { sku: string; warehouse: string },
    change: (tx: Queryable, level: LevelToChange) => Promise<T>,
  ): Promise<T> {
    return afterReleasesElsewhere(this.ctx.db, (putOff) =>
      runIdempotently(this.ctx, scope, options, request, async (tx) => {
        const { variant, warehouse } = await this.resolve(tx, request.sku, request.warehouse);
        const releasing = await this.expireDueHolds(tx, [request.sku], putOff);
        return change(tx, { variant, warehouse, releasing });
      }),
    );
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
    write: OnHandWrite,
    items: readonly OnHandItem[],
    releasing: readonly string[],
  ): Promise<(LevelChange & { difference: number })[]> {
    // Chunks keep each statement's JSON parameter and lock list moderate; all in the caller's transaction. They
    // go in key order, as every statement locks levels, so a big sync never holds a later variant's levels while
    // waiting for an earlier one's (a deadlock with a checkout); answers come back in the caller's order.
    const order = items
      .map((_, i) => i)
      .sort((first, second) => compareLevels(items[first] ?? missing('item'), items[second] ?? missing('item')));
    const results = new Array<LevelChange & { difference: number }>(items.length);
    for (let i = 0; i < order.length; i += SET_CHUNK) {
      const chunk = order.slice(i, i + SET_CHUNK);
      const changed = await this.setOnHandChunk(
        tx,
        write,
        chunk.map((index) => items[index] ?? missing('item')),
      );
      changed.forEach((change, j) => (results[chunk[j] ?? missing('item')] = change));
    }
    if (results.some((level) => level.difference < 0 && level.shortfall > 0)) waitFor(releasing);
    return results;
  }

  /** One chunk of setOnHand, in key order: lock, compare with what was expected, move by the difference. */
  private async setOnHandChunk(
    tx: Queryable,
    write: OnHandWrite,
    items: readonly OnHandItem[],
  ): Promise<(LevelChange & { difference: number })[]> {
    const locked = await lockLevels(
      tx,
      items.map((item) => ({ variantId: item.variantId, warehouseId: item.warehouseId })),
    );
    const current = new Map(locked.map((level) => [`${level.variant_id}:${level.warehouse_id}`, level]));
    const levelOf = (item: OnHandItem) => current.get(`${item.variantId}:${item.warehouseId}`) ?? missing('value');
    const stale = items
      .filter((item) => item.expected !== undefined && levelOf(item).on_hand !== item.expected)
      .map((item) => ({
        sku: item.sku,
        warehouse: item.warehouse,
        expected_on_hand: item.expected as number,
        on_hand: levelOf(item).on_hand,
      }));
    if (stale.length > 0) throw new StaleQuantityError(stale);
    const applied = await this.applyAll(
      tx,
      write.options,
      items.map((item) => ({
        variantId: item.variantId,
        warehouseId: item.warehouseId,
        type: write.type,
        deltaOnHand: item.onHand - levelOf(item).on_hand,
        deltaReserved: 0,
        guard: 'none',
        reason: write.reason,
        reference: write.reference,
        expectedOnHand: levelOf(item).on_hand,
      })),
    );
    // a count, sync or import may not bring units into an archived warehouse or of an archived variant
    await refuseArchived(
      tx,
      items.filter((item) => item.onHand > levelOf(item).on_hand),
    );
    const results = [];
    for (const movement of applied) {
      const item = items[movement.idx] ?? missing('value');
      const difference = item.onHand - levelOf(item).on_hand;
      const change = await this.flagShortfall(tx, item.sku, item.warehouse, movement, write.type, difference < 0);
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
    applied: AppliedMovement,
    cause: MovementType,
    decreased: boolean,
  ): Promise<LevelChange> {
    const level = { ...toLevel(sku, warehouse, applied), shortfall: shortfall(applied) };
    if (decreased && level.shortfall > 0) await enqueue(tx, 'stock.shortfall', { ...level, cause });
    return level;
  }
}

/** A change that would be refused or come out short while due holds on its levels are being released elsewhere waits for them. */
function waitFor(releasing: readonly string[]): void {
  if (releasing.length > 0) throw new HoldsBeingReleased(releasing);
}

const compareLevels = (first: OnHandItem, second: OnHandItem): number =>
  first.variantId - second.variantId || first.warehouseId - second.warehouseId;

/** A level's numbers with the states of its units, as reads and state moves show them. */
const toStateLevel = (sku: string, warehouse: string, numbers: LevelNumbers): StateLevel => ({
  ...toLevel(sku, warehouse, numbers),
  damaged: numbers.damaged,
  quality_control: numbers.quality_control,
  safety_stock: numbers.safety_stock,
});

function first<T>(items: readonly T[]): T {
  return items[0] ?? missing('value');
}
