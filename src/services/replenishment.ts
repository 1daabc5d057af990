import { ValidationError } from '../domain/errors.js';
import { expectedDateFrom } from '../domain/purchasing.js';
import {
  DEFAULT_SERVICE_LEVEL,
  DEFAULT_WINDOW_DAYS,
  demandStats,
  orderQuantity,
  suggestLevels,
} from '../domain/replenishment.js';
import { listWarehouses } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import {
  addPurchaseOrderLines,
  insertPurchaseOrder,
  readPurchaseOrder,
  shareOrderTargets,
} from '../store/purchase-orders.js';
import { kitsAmong } from '../store/kits.js';
import { claimJob, lockReplenishmentDraft, readReplenishment } from '../store/replenishment.js';
import type { ReplenishmentRow } from '../store/replenishment.js';
import type { Page } from './paging.js';
import { variantsBySku } from './lookups.js';
import type { ServiceContext } from './context.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import { toPurchaseOrder } from './purchasing.js';
import type { PurchaseOrder } from './purchasing.js';

/** One variant's reorder position and what to order, as the suggestions list shows it. */
export interface Suggestion {
  sku: string;
  supplier: string | null;
  /** on hand less reserved, over all warehouses */
  net: number;
  incoming: number;
  /** net + incoming: what reordering compares with the reorder point */
  position: number;
  reorder_point: number | null;
  reorder_qty: number | null;
  lead_time_days: number | null;
  /** at or below the reorder point */
  due: boolean;
  /** what to order now (0 when not due) */
  suggested_qty: number;
  open_purchase_order: number | null;
  demand: { window_days: number; mean_per_day: number; deviation_per_day: number };
  /** from the demand history, the lead time and the service level */
  suggested_safety_stock: number;
  suggested_reorder_point: number;
}

/** Which variants to suggest for, over which demand window and service level, and the page. */
export interface SuggestionQuery {
  sku?: readonly string[] | undefined;
  window_days?: number | string | undefined;
  service_level?: number | string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** What a replenishment run drafted, and which due variants it could not order. */
export interface ReplenishResult {
  /** the drafts made or added to, one per supplier and warehouse */
  orders: PurchaseOrder[];
  /** due variants left alone, and why */
  skipped: { sku: string; reason: 'no_supplier' | 'open_purchase_order' | 'no_warehouse' }[];
}

const DAY_MS = 86_400_000;
const midnight = (time: Date): Date => new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));

function windowOf(value: number | string | undefined): number {
  // as text (a query parameter) only plain digits: 0x10 and 1e1 are not a number of days
  const days =
    value === undefined
      ? DEFAULT_WINDOW_DAYS
      : typeof value === 'number' || /^[0-9]{1,3}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw ValidationError.field('/window_days', 'must be a whole number of days from 1 to 365');
  return days;
}

function serviceLevelOf(value: number | string | undefined): number {
  const probability =
    value === undefined
      ? DEFAULT_SERVICE_LEVEL
      : typeof value === 'number' || /^0?\.[0-9]{1,6}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(probability) || probability < 0.5 || probability >= 1)
    throw ValidationError.field(
      '/service_level',
      'must be a probability from 0.5 up to (not including) 1, written with at most 6 decimals, e.g. 0.95',
    );
  return probability;
}

/** Reorder points, suggestions from demand history, and the job that drafts purchase orders by itself. */
export class ReplenishmentService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Variants at or below their reorder point (or the SKUs asked for, whatever their position), with what to
   * order and the safety stock and reorder point their demand over the window suggests.
   */
  async suggestions(
    query: SuggestionQuery = {},
  ): Promise<Page<Suggestion> & { window_days: number; service_level: number }> {
    const windowDays = windowOf(query.window_days);
    const serviceLevel = serviceLevelOf(query.service_level);
    const limit = pageLimit(query.limit);
    const after = idCursor(query.cursor);
    const skus = query.sku && query.sku.length > 0 ? [...new Set(query.sku)] : undefined;
    if (skus) await variantsBySku(this.ctx.db, skus);
    const today = midnight(this.ctx.clock());
    const rows = await readReplenishment(this.ctx.db, { until: today, windowDays, skus, after, limit: limit + 1 });
    const page = pageOf(
      rows,
      limit,
      (row) => this.suggest(row, today, windowDays, serviceLevel),
      (row) => row.variant_id,
    );
    return { ...page, window_days: windowDays, service_level: serviceLevel };
  }

  /**
   * Drafts purchase orders for every variant at or below its reorder point that has a supplier and no open
   * order: one per supplier (and receiving warehouse), added to that supplier's replenishment draft if one is
   * still open. Runs of it never overlap (the job's row is locked), so two at once never draft twice.
   */
  async replenish(): Promise<ReplenishResult> {
    return this.ctx.db.transaction(async (tx) => {
      await claimJob(tx, 'replenish');
      return this.draft(tx);
    });
  }

  /** The scheduled run: replenishes only if the last run (by hand or by schedule) is `everyMs` ago. */
  async replenishIfDue(everyMs: number): Promise<ReplenishResult | undefined> {
    return this.ctx.db.transaction(async (tx) =>
      (await claimJob(tx, 'replenish', everyMs)) ? this.draft(tx) : undefined,
    );
  }

  private async draft(tx: Queryable): Promise<ReplenishResult> {
    const now = this.ctx.clock();
    const due = await readReplenishment(tx, { until: midnight(now), windowDays: 1 });
    const skipped: ReplenishResult['skipped'] = [];
    const fallback = (await listWarehouses(tx))[0]?.id;
    const groups = new Map<
      string,
      {
        supplierId: number;
        warehouseId: number;
        lead: number | null;
        lines: { variantId: number; sku: string; qty: number }[];
      }
    >();
    for (const row of due) {
      if (row.open_purchase_order !== null) skipped.push({ sku: row.sku, reason: 'open_purchase_order' });
      else if (row.supplier_id === null) skipped.push({ sku: row.sku, reason: 'no_supplier' });
      else {
        // an archived warehouse takes no order: an order into it would count as incoming and never be received
        const warehouseId = row.supplier_warehouse_archived ? undefined : (row.supplier_warehouse_id ?? fallback);
        if (warehouseId === undefined) {
          skipped.push({ sku: row.sku, reason: 'no_warehouse' });
          continue;
        }
        const key = `${row.supplier_id}:${warehouseId}`;
        const group = groups.get(key) ?? { supplierId: row.supplier_id, warehouseId, lead: null, lines: [] };
        group.lead = Math.max(group.lead ?? 0, row.lead_time_days ?? 0);
        group.lines.push({
          variantId: row.variant_id,
          sku: row.sku,
          qty: orderQuantity(row.net + row.incoming, row.reorder_point ?? 0, row.reorder_qty),
        });
        groups.set(key, group);
      }
    }
    const orders: PurchaseOrder[] = [];
    for (const group of groups.values()) {
      // read above without locks: an archive that committed since is seen here, and one still deciding waits for
      // this run and then counts its order (as for an order placed by hand: PurchasingService.create)
      const targets = await shareOrderTargets(
        tx,
        group.warehouseId,
        group.lines.map((line) => line.variantId),
      );
      if (targets.warehouseArchived) {
        skipped.push(...group.lines.map((line) => ({ sku: line.sku, reason: 'no_warehouse' as const })));
        continue;
      }
      // a variant made a kit since (it holds no stock, so is never ordered) is left out as the read leaves kits out
      const kits = await kitsAmong(
        tx,
        group.lines.map((line) => line.variantId),
      );
      const lines = group.lines.filter(
        (line) => !targets.archivedVariantIds.includes(line.variantId) && !kits.includes(line.variantId),
      );
      if (lines.length === 0) continue;
      let id = await lockReplenishmentDraft(tx, group.supplierId, group.warehouseId);
      if (id === undefined) {
        id = await insertPurchaseOrder(tx, {
          supplierId: group.supplierId,
          warehouseId: group.warehouseId,
          expectedDate: expectedDateFrom(now, group.lead),
          origin: 'replenishment',
          reference: null,
          at: now,
          lines,
          currency: this.ctx.currency,
        });
      } else {
        await addPurchaseOrderLines(tx, id, lines);
      }
      const row = await readPurchaseOrder(tx, id);
      if (row) orders.push(toPurchaseOrder(row));
    }
    return { orders, skipped };
  }

  private suggest(row: ReplenishmentRow, today: Date, windowDays: number, serviceLevel: number): Suggestion {
    const daily = Array.from(
      { length: windowDays },
      (_, i) => row.demand[new Date(today.getTime() - (windowDays - i) * DAY_MS).toISOString().slice(0, 10)] ?? 0,
    );
    const stats = demandStats(daily);
    const levels = suggestLevels(stats, row.lead_time_days ?? 0, serviceLevel);
    const position = row.net + row.incoming;
    const due = row.reorder_point !== null && position <= row.reorder_point;
    return {
      sku: row.sku,
      supplier: row.supplier,
      net: row.net,
      incoming: row.incoming,
      position,
      reorder_point: row.reorder_point,
      reorder_qty: row.reorder_qty,
      lead_time_days: row.lead_time_days,
      due,
      suggested_qty: due ? orderQuantity(position, row.reorder_point ?? 0, row.reorder_qty) : 0,
      open_purchase_order: row.open_purchase_order,
      demand: { window_days: windowDays, mean_per_day: stats.mean, deviation_per_day: stats.deviation },
      suggested_safety_stock: levels.safety_stock,
      suggested_reorder_point: levels.reorder_point,
    };
  }
}
