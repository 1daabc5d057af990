import {
  AlreadyExistsError,
  ArchivedError,
  CurrencyMismatchError,
  InvalidTransitionError,
  KitHoldsNoStockError,
  NotFoundError,
  ValidationError,
} from '../domain/errors.js';
import { OPEN_PO_STATUSES, PO_STATUSES, expectedDateFrom, nextPoStatus } from '../domain/purchasing.js';
import type { PoAction, PoStatus } from '../domain/purchasing.js';
import type { Queryable } from '../store/db.js';
import { applyMovements } from '../store/levels.js';
import {
  addReceived,
  insertPurchaseOrder,
  listPurchaseOrders,
  lockPurchaseOrder,
  readPurchaseOrder,
  setLineCosts,
  setPurchaseOrderStatus,
  shareOrderTargets,
} from '../store/purchase-orders.js';
import type { PurchaseOrderRow } from '../store/purchase-orders.js';
import { kitsAmong } from '../store/kits.js';
import { findSuppliers, insertSupplier, listSuppliers } from '../store/suppliers.js';
import type { SupplierRow } from '../store/suppliers.js';
import type { Page } from './paging.js';
import { runIdempotently } from './idempotency.js';
import { refuseArchived } from './archive.js';
import { putAwayReceipt } from './locations.js';
import { supplierByCode, variantBySku, variantsBySku, warehouseByCode } from './lookups.js';
import type { CallOptions, ServiceContext } from './context.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import {
  ConfirmInput,
  PurchaseOrderCostsInput,
  PurchaseOrderInput,
  PurchaseReceiptInput,
  SupplierInput,
  numericId,
  parse,
} from './schemas.js';

/** A supplier as shown: who stock is bought from, how long it takes, where it goes by default. */
export interface Supplier {
  code: string;
  name: string;
  email: string | null;
  lead_time_days: number | null;
  warehouse: string | null;
  /** the ISO 4217 currency it bills in; null: the store's */
  currency: string | null;
  created_at: string;
}

/** One line of an order as shown, with what is still outstanding. */
export interface PurchaseOrderLine {
  sku: string;
  qty: number;
  received_qty: number;
  /** ordered and not yet received, while the order is open (0 once it is received or cancelled) */
  outstanding: number;
  /** what one unit costs, in minor units of the order's currency; null: not given */
  unit_cost: number | null;
}

/** A purchase order as shown: its supplier, warehouse, status, dates and lines. */
export interface PurchaseOrder {
  id: number;
  supplier: string;
  warehouse: string;
  status: PoStatus;
  expected_date: string | null;
  origin: 'manual' | 'replenishment';
  reference: string | null;
  /** the ISO 4217 currency its costs are in; null: an order from before costs were recorded (the store's) */
  currency: string | null;
  lines: PurchaseOrderLine[];
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  confirmed_at: string | null;
  closed_at: string | null;
}

/** Where received units of one SKU went (a line put away in several locations has an entry for each). */
export interface PutAway {
  sku: string;
  qty: number;
  /** where the units went: the bin given, else the suggested one; null when the warehouse has no bin to suggest (or, forced, no room) */
  bin: string | null;
  suggested: boolean;
}

/** What a receipt did: the order after it, and where the units were put away. */
export interface Receipt {
  order: PurchaseOrder;
  put_away: PutAway[];
}

/** Which orders to list: by status, supplier or SKU, a page at a time. */
export interface PurchaseOrderQuery {
  status?: string | undefined;
  supplier?: string | undefined;
  sku?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const iso = (date: Date | null): string | null => (date === null ? null : new Date(date).toISOString());

const toSupplier = (supplier: SupplierRow): Supplier => ({
  code: supplier.code,
  name: supplier.name,
  email: supplier.email,
  lead_time_days: supplier.lead_time_days,
  warehouse: supplier.warehouse,
  currency: supplier.currency,
  created_at: new Date(supplier.created_at).toISOString(),
});

/** A stored order as shown; what a closed order was short is no longer outstanding. */
export const toPurchaseOrder = (order: PurchaseOrderRow): PurchaseOrder => ({
  id: order.id,
  supplier: order.supplier,
  warehouse: order.warehouse,
  status: order.status,
  expected_date: order.expected_date,
  origin: order.origin,
  reference: order.reference,
  currency: order.currency,
  // a closed order expects nothing more, whatever it was short
  lines: order.lines.map((line) => ({
    sku: line.sku,
    qty: line.qty,
    received_qty: line.received_qty,
    outstanding: OPEN_PO_STATUSES.includes(order.status) ? line.qty - line.received_qty : 0,
    unit_cost: line.unit_cost,
  })),
  created_at: new Date(order.created_at).toISOString(),
  updated_at: new Date(order.updated_at).toISOString(),
  sent_at: iso(order.sent_at),
  confirmed_at: iso(order.confirmed_at),
  closed_at: iso(order.closed_at),
});

const orderId = (id: string | number): number => numericId(id, 'purchase order');

/** What a line's SKU appearing twice means is anybody's guess: refused, naming both places. */
function refuseRepeats(lines: readonly { sku: string }[]): void {
  const seen = new Map<string, number>();
  lines.forEach((line, i) => {
    const first = seen.get(line.sku);
    if (first !== undefined) throw ValidationError.field(`/lines/${i}/sku`, `${line.sku} is already on line ${first}`);
    seen.set(line.sku, i);
  });
}

/** Suppliers and purchase orders: stock on its way in, received into bins. */
export class PurchasingService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Adds a supplier; its warehouse, if given, is where its orders go unless an order says otherwise. */
  async addSupplier(input: SupplierInput, options: CallOptions = {}): Promise<Supplier> {
    const supplier = parse(SupplierInput, input);
    // null is what an answer shows for "none" (the store's currency, no warehouse of its own), and means that given
    const currency = supplier.currency ?? null;
    const warehouseCode = supplier.warehouse ?? null;
    if (currency !== null) this.refuseForeign(currency, `supplier ${supplier.code}`);
    return runIdempotently(this.ctx, 'supplier.add', options, supplier, async (tx) => {
      const warehouse = warehouseCode === null ? null : await warehouseByCode(tx, warehouseCode);
      if (warehouse?.archived_at) throw new ArchivedError('warehouse', warehouse.code);
      const row = await insertSupplier(tx, {
        code: supplier.code,
        name: supplier.name,
        email: supplier.email ?? null,
        leadTimeDays: supplier.lead_time_days ?? null,
        warehouseId: warehouse?.id ?? null,
        currency,
      });
      if (!row) throw new AlreadyExistsError('supplier', supplier.code);
      return toSupplier(row);
    });
  }

  /** Every supplier, by code, on one page. */
  async listSuppliers(): Promise<Page<Supplier>> {
    return { items: (await listSuppliers(this.ctx.db)).map(toSupplier), next_cursor: null };
  }

  /** A DRAFT order. Without an expected date, sending it dates it by the supplier's lead time. */
  async create(input: PurchaseOrderInput, options: CallOptions = {}): Promise<PurchaseOrder> {
    const draft = parse(PurchaseOrderInput, input);
    refuseRepeats(draft.lines);
    return runIdempotently(this.ctx, 'purchase_order.create', options, draft, async (tx) => {
      const supplier = await supplierByCode(tx, draft.supplier);
      const currency = draft.currency ?? supplier.currency ?? this.ctx.currency;
      this.refuseForeign(currency, 'the purchase order');
      const warehouse = await warehouseByCode(tx, draft.warehouse);
      const variants = await variantsBySku(
        tx,
        draft.lines.map((line) => line.sku),
      );
      // an order into an archived warehouse, or of an archived variant, could never be received, yet its units would
      // count as incoming and in replenishment's position: judged with their rows share-locked, so an archive racing
      // this order either sees it and is refused, or has committed and is seen here
      const variantId = (sku: string): number => (variants.get(sku) as { id: number }).id;
      const targets = await shareOrderTargets(
        tx,
        warehouse.id,
        draft.lines.map((line) => variantId(line.sku)),
      );
      if (targets.warehouseArchived) throw new ArchivedError('warehouse', warehouse.code);
      const archived = draft.lines.find((line) => targets.archivedVariantIds.includes(variantId(line.sku)));
      if (archived) throw new ArchivedError('variant', archived.sku);
      // nor could a kit's units ever be received (it holds none): its components are ordered. Asked after the share
      // lock, which a kit being defined waits for (and is waited for by: KitService.define)
      const kits = await kitsAmong(
        tx,
        draft.lines.map((line) => variantId(line.sku)),
      );
      const kit = draft.lines.find((line) => kits.includes(variantId(line.sku)));
      if (kit) throw KitHoldsNoStockError.onOrder(kit.sku);
      const id = await insertPurchaseOrder(tx, {
        supplierId: supplier.id,
        warehouseId: warehouse.id,
        expectedDate: draft.expected_date ?? null,
        origin: 'manual',
        reference: draft.reference ?? null,
        at: this.ctx.clock(),
        currency,
        lines: draft.lines.map((line) => ({
          variantId: variantId(line.sku),
          qty: line.qty,
          unitCost: line.unit_cost ?? null,
        })),
      });
      return this.read(tx, id);
    });
  }

  /** One order, with its lines. */
  async get(id: string | number): Promise<PurchaseOrder> {
    return this.read(this.ctx.db, orderId(id));
  }

  /** Newest first, paged by cursor. */
  async list(query: PurchaseOrderQuery = {}): Promise<Page<PurchaseOrder>> {
    const limit = pageLimit(query.limit);
    const status = query.status?.toUpperCase();
    if (status !== undefined && !(PO_STATUSES as readonly string[]).includes(status))
      throw ValidationError.field('/status', `must be one of: ${PO_STATUSES.join(', ')}`);
    const before = idCursor(query.cursor);
    // a filter that names nothing is 404, as on every other list, not an empty page that looks like "no orders"
    if (query.supplier !== undefined) await supplierByCode(this.ctx.db, query.supplier);
    if (query.sku !== undefined) await variantBySku(this.ctx.db, query.sku);
    const rows = await listPurchaseOrders(this.ctx.db, {
      status: status as PoStatus | undefined,
      supplier: query.supplier,
      sku: query.sku,
      before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, toPurchaseOrder, (order) => order.id);
  }

  /**
   * Sets what units of some lines cost (null: not known), while the order is open: units received afterwards come in
   * at the new cost; units already received keep the cost their receipt recorded in the ledger.
   */
  async setCosts(
    id: string | number,
    input: PurchaseOrderCostsInput,
    options: CallOptions = {},
  ): Promise<PurchaseOrder> {
    const costs = parse(PurchaseOrderCostsInput, input);
    refuseRepeats(costs.lines);
    const purchaseOrderId = orderId(id);
    return runIdempotently(this.ctx, 'purchase_order.costs', options, { id: purchaseOrderId, ...costs }, async (tx) => {
      const order = await lockPurchaseOrder(tx, purchaseOrderId);
      if (!order) throw new NotFoundError('purchase order', String(id));
      if (!OPEN_PO_STATUSES.includes(order.status))
        throw new InvalidTransitionError(order.status, 'cost', 'purchase order');
      const bySku = new Map(order.lines.map((line) => [line.sku, line]));
      const lines = costs.lines.map((cost, i) => {
        const line = bySku.get(cost.sku);
        if (!line)
          throw ValidationError.field(`/lines/${i}/sku`, `${cost.sku} is not on purchase order ${purchaseOrderId}`);
        return { lineNo: line.line_no, unitCost: cost.unit_cost };
      });
      await setLineCosts(tx, purchaseOrderId, lines);
      return this.read(tx, purchaseOrderId);
    });
  }

  /** DRAFT to SENT: the supplier has it. */
  send(id: string | number, options: CallOptions = {}): Promise<PurchaseOrder> {
    return this.transition(id, 'send', {}, options);
  }

  /** SENT to CONFIRMED, with the supplier's own date if it gave one. */
  async confirm(id: string | number, input: ConfirmInput = {}, options: CallOptions = {}): Promise<PurchaseOrder> {
    return this.transition(id, 'confirm', parse(ConfirmInput, input), options);
  }

  /** Whatever is still open: nothing more is expected; units already received stay. */
  cancel(id: string | number, options: CallOptions = {}): Promise<PurchaseOrder> {
    return this.transition(id, 'cancel', {}, options);
  }

  /**
   * Receives units of some lines (all of them or part) into the order's warehouse, through the ledger, and puts
   * them away: into the bin given, else the suggested one. The order is PARTIAL until nothing is outstanding.
   */
  async receive(id: string | number, input: PurchaseReceiptInput, options: CallOptions = {}): Promise<Receipt> {
    const receipt = parse(PurchaseReceiptInput, input);
    refuseRepeats(receipt.lines);
    const purchaseOrderId = orderId(id);
    return runIdempotently(
      this.ctx,
      'purchase_order.receive',
      options,
      { id: purchaseOrderId, ...receipt },
      async (tx) => {
        const order = await lockPurchaseOrder(tx, purchaseOrderId);
        if (!order) throw new NotFoundError('purchase order', String(id));
        nextPoStatus(order.status, 'receive'); // a draft or closed order refuses before its lines are looked at
        if (order.currency !== null) this.refuseForeign(order.currency, `purchase order ${purchaseOrderId}`);
        const bySku = new Map(order.lines.map((line) => [line.sku, line]));
        const picks = receipt.lines.map((received, i) => {
          const line = bySku.get(received.sku);
          if (!line)
            throw ValidationError.field(
              `/lines/${i}/sku`,
              `${received.sku} is not on purchase order ${purchaseOrderId}`,
            );
          const outstanding = line.qty - line.received_qty;
          if (received.qty > outstanding)
            throw ValidationError.field(
              `/lines/${i}/qty`,
              `${outstanding} of ${received.sku} outstanding, not ${received.qty}`,
            );
          return { ...received, line };
        });
        // a kit on an order from before orders refused kits: named, rather than refused by the database unnamed
        const kits = await kitsAmong(
          tx,
          picks.map((pick) => pick.line.variant_id),
        );
        const kit = picks.find((pick) => kits.includes(pick.line.variant_id));
        if (kit) throw new KitHoldsNoStockError(kit.sku);
        const complete = order.lines.every(
          (line) => line.qty - line.received_qty === (picks.find((pick) => pick.line === line)?.qty ?? 0),
        );
        const status = nextPoStatus(order.status, 'receive', complete);
        const now = this.ctx.clock();
        const applied = await applyMovements(
          tx,
          options.actor ?? null,
          picks.map((pick) => ({
            variantId: pick.line.variant_id,
            warehouseId: order.warehouse_id,
            type: 'receive' as const,
            deltaOnHand: pick.qty,
            deltaReserved: 0,
            guard: 'none' as const,
            reason: 'received' as const,
            reference: receipt.reference ?? `PO-${purchaseOrderId}`,
            unitCost: pick.unit_cost ?? pick.line.unit_cost,
          })),
          now,
        );
        if (applied.length !== picks.length)
          throw new Error(`stock level missing for a line of purchase order ${purchaseOrderId}`);
        await refuseArchived(
          tx,
          picks.map((pick) => ({
            variantId: pick.line.variant_id,
            warehouseId: order.warehouse_id,
            sku: pick.sku,
            warehouse: order.warehouse,
          })),
        );
        // one line after another: each is put away where the ones before it left room
        const placed: PutAway[] = [];
        for (const pick of picks) {
          const where = await putAwayReceipt(tx, now, {
            warehouse: { id: order.warehouse_id, code: order.warehouse },
            variant: { id: pick.line.variant_id, sku: pick.sku },
            qty: pick.qty,
            location: pick.bin,
            force: receipt.force,
            suggest: true,
          });
          placed.push(
            ...where.map((put) => ({ sku: pick.sku, qty: put.qty, bin: put.location, suggested: put.suggested })),
          );
        }
        await addReceived(
          tx,
          purchaseOrderId,
          picks.map((pick) => ({ lineNo: pick.line.line_no, qty: pick.qty })),
        );
        await setPurchaseOrderStatus(tx, purchaseOrderId, status, now);
        return {
          order: await this.read(tx, purchaseOrderId),
          put_away: placed,
        };
      },
    );
  }

  private async transition(
    id: string | number,
    action: Exclude<PoAction, 'receive'>,
    body: { expected_date?: string },
    options: CallOptions,
  ): Promise<PurchaseOrder> {
    const purchaseOrderId = orderId(id);
    return runIdempotently(
      this.ctx,
      `purchase_order.${action}`,
      options,
      { id: purchaseOrderId, ...body },
      async (tx) => {
        const order = await lockPurchaseOrder(tx, purchaseOrderId);
        if (!order) throw new NotFoundError('purchase order', String(id));
        const status = nextPoStatus(order.status, action);
        const now = this.ctx.clock();
        let expected: string | null | undefined = body.expected_date;
        if (action === 'send' && order.expected_date === null) {
          const [supplier] = await findSuppliers(tx, [order.supplier]);
          expected = expectedDateFrom(now, supplier?.lead_time_days ?? null);
        }
        await setPurchaseOrderStatus(tx, purchaseOrderId, status, now, expected);
        return this.read(tx, purchaseOrderId);
      },
    );
  }

  /** Costs are kept in one currency and never converted: anything in another is refused. */
  private refuseForeign(currency: string, what: string): void {
    if (currency !== this.ctx.currency) throw new CurrencyMismatchError(currency, this.ctx.currency, what);
  }

  private async read(db: Queryable, id: number): Promise<PurchaseOrder> {
    const row = await readPurchaseOrder(db, id);
    if (!row) throw new NotFoundError('purchase order', String(id));
    return toPurchaseOrder(row);
  }
}
