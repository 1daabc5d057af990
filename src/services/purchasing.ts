import { AlreadyExistsError, NotFoundError, ValidationError } from '../domain/errors.js';
import {
  OPEN_PO_STATUSES,
  PO_STATUSES,
  expectedDateFrom,
  nextPoStatus,
  putAwaySuggestion,
} from '../domain/purchasing.js';
import type { PoAction, PoStatus } from '../domain/purchasing.js';
import { findBin } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { applyMovements, putAway } from '../store/levels.js';
import {
  addReceived,
  findSuppliers,
  insertPurchaseOrder,
  insertSupplier,
  listPurchaseOrders,
  listSuppliers,
  lockPurchaseOrder,
  readBinHoldings,
  readPurchaseOrder,
  setPurchaseOrderStatus,
} from '../store/purchasing.js';
import type { PurchaseOrderRow, SupplierRow } from '../store/purchasing.js';
import type { Page } from './catalog.js';
import { runOnce, supplierByCode, variantsBySku, warehouseByCode } from './context.js';
import type { CallOptions, ServiceContext } from './context.js';
import { idCursor, pageLimit, pageOf } from './paging.js';
import { ConfirmInput, PurchaseOrderInput, PurchaseReceiptInput, SupplierInput, numericId, parse } from './schemas.js';

export interface Supplier {
  code: string;
  name: string;
  email: string | null;
  lead_time_days: number | null;
  warehouse: string | null;
  created_at: string;
}

export interface PurchaseOrderLine {
  sku: string;
  qty: number;
  received_qty: number;
  /** ordered and not yet received, while the order is open (0 once it is received or cancelled) */
  outstanding: number;
}

export interface PurchaseOrder {
  id: number;
  supplier: string;
  warehouse: string;
  status: PoStatus;
  expected_date: string | null;
  origin: 'manual' | 'replenishment';
  reference: string | null;
  lines: PurchaseOrderLine[];
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  confirmed_at: string | null;
  closed_at: string | null;
}

export interface PutAway {
  sku: string;
  qty: number;
  /** where the units went: the bin given, else the suggested one; null when the warehouse has no bin to suggest */
  bin: string | null;
  suggested: boolean;
}

export interface Receipt {
  order: PurchaseOrder;
  put_away: PutAway[];
}

export interface PurchaseOrderQuery {
  status?: string | undefined;
  supplier?: string | undefined;
  sku?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

const toSupplier = (s: SupplierRow): Supplier => ({
  code: s.code,
  name: s.name,
  email: s.email,
  lead_time_days: s.lead_time_days,
  warehouse: s.warehouse,
  created_at: new Date(s.created_at).toISOString(),
});

export const toPurchaseOrder = (o: PurchaseOrderRow): PurchaseOrder => ({
  id: o.id,
  supplier: o.supplier,
  warehouse: o.warehouse,
  status: o.status,
  expected_date: o.expected_date,
  origin: o.origin,
  reference: o.reference,
  // a closed order expects nothing more, whatever it was short
  lines: o.lines.map((l) => ({
    sku: l.sku,
    qty: l.qty,
    received_qty: l.received_qty,
    outstanding: OPEN_PO_STATUSES.includes(o.status) ? l.qty - l.received_qty : 0,
  })),
  created_at: new Date(o.created_at).toISOString(),
  updated_at: new Date(o.updated_at).toISOString(),
  sent_at: iso(o.sent_at),
  confirmed_at: iso(o.confirmed_at),
  closed_at: iso(o.closed_at),
});

const orderId = (id: string | number): number => numericId(id, 'purchase order');

/** What a line's SKU appearing twice means is anybody's guess: refused, naming both places. */
function refuseRepeats(lines: readonly { sku: string }[]): void {
  const seen = new Map<string, number>();
  lines.forEach((l, i) => {
    const first = seen.get(l.sku);
    if (first !== undefined) throw ValidationError.field(`/lines/${i}/sku`, `${l.sku} is already on line ${first}`);
    seen.set(l.sku, i);
  });
}

/** Suppliers and purchase orders: stock on its way in, received into bins. */
export class PurchasingService {
  constructor(private readonly ctx: ServiceContext) {}

  async addSupplier(input: SupplierInput, options: CallOptions = {}): Promise<Supplier> {
    const s = parse(SupplierInput, input);
    return runOnce(this.ctx, 'supplier.add', options, s, async (tx) => {
      const warehouse = s.warehouse === undefined ? null : await warehouseByCode(tx, s.warehouse);
      const row = await insertSupplier(tx, {
        code: s.code,
        name: s.name,
        email: s.email ?? null,
        leadTimeDays: s.lead_time_days ?? null,
        warehouseId: warehouse?.id ?? null,
      });
      if (!row) throw new AlreadyExistsError('supplier', s.code);
      return toSupplier(row);
    });
  }

  async listSuppliers(): Promise<Page<Supplier>> {
    return { items: (await listSuppliers(this.ctx.db)).map(toSupplier), next_cursor: null };
  }

  /** A DRAFT order. Without an expected date, sending it dates it by the supplier's lead time. */
  async create(input: PurchaseOrderInput, options: CallOptions = {}): Promise<PurchaseOrder> {
    const p = parse(PurchaseOrderInput, input);
    refuseRepeats(p.lines);
    return runOnce(this.ctx, 'purchase_order.create', options, p, async (tx) => {
      const supplier = await supplierByCode(tx, p.supplier);
      const warehouse = await warehouseByCode(tx, p.warehouse);
      const variants = await variantsBySku(
        tx,
        p.lines.map((l) => l.sku),
      );
      const id = await insertPurchaseOrder(tx, {
        supplierId: supplier.id,
        warehouseId: warehouse.id,
        expectedDate: p.expected_date ?? null,
        origin: 'manual',
        reference: p.reference ?? null,
        at: this.ctx.clock(),
        lines: p.lines.map((l) => ({ variantId: (variants.get(l.sku) as { id: number }).id, qty: l.qty })),
      });
      return this.read(tx, id);
    });
  }

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
    const rows = await listPurchaseOrders(this.ctx.db, {
      status: status as PoStatus | undefined,
      supplier: query.supplier,
      sku: query.sku,
      before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, toPurchaseOrder, (o) => o.id);
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
    const r = parse(PurchaseReceiptInput, input);
    refuseRepeats(r.lines);
    const n = orderId(id);
    return runOnce(this.ctx, 'purchase_order.receive', options, { id: n, ...r }, async (tx) => {
      const order = await lockPurchaseOrder(tx, n);
      if (!order) throw new NotFoundError('purchase order', String(id));
      nextPoStatus(order.status, 'receive'); // a draft or closed order refuses before its lines are looked at
      const bySku = new Map(order.lines.map((l) => [l.sku, l]));
      const picks = r.lines.map((l, i) => {
        const line = bySku.get(l.sku);
        if (!line) throw ValidationError.field(`/lines/${i}/sku`, `${l.sku} is not on purchase order ${n}`);
        const outstanding = line.qty - line.received_qty;
        if (l.qty > outstanding)
          throw ValidationError.field(`/lines/${i}/qty`, `${outstanding} of ${l.sku} outstanding, not ${l.qty}`);
        return { ...l, line };
      });
      const complete = order.lines.every((l) => l.qty - l.received_qty === (picks.find((p) => p.line === l)?.qty ?? 0));
      const status = nextPoStatus(order.status, 'receive', complete);
      const now = this.ctx.clock();
      const bins = await Promise.all(
        picks.map((p) => this.binFor(tx, order.warehouse_id, order.warehouse, p.line.variant_id, p.bin)),
      );
      const applied = await applyMovements(
        tx,
        options.actor ?? null,
        picks.map((p) => ({
          variantId: p.line.variant_id,
          warehouseId: order.warehouse_id,
          type: 'receive' as const,
          deltaOnHand: p.qty,
          deltaReserved: 0,
          guard: 'none' as const,
          reason: 'received' as const,
          reference: r.reference ?? `PO-${n}`,
        })),
        now,
      );
      if (applied.length !== picks.length) throw new Error(`stock level missing for a line of purchase order ${n}`);
      for (const [i, p] of picks.entries()) {
        const bin = bins[i];
        if (bin?.id !== undefined) await putAway(tx, bin.id, p.line.variant_id, p.qty);
      }
      await addReceived(
        tx,
        n,
        picks.map((p) => ({ lineNo: p.line.line_no, qty: p.qty })),
      );
      await setPurchaseOrderStatus(tx, n, status, now);
      return {
        order: await this.read(tx, n),
        put_away: picks.map((p, i) => ({
          sku: p.sku,
          qty: p.qty,
          bin: bins[i]?.code ?? null,
          suggested: p.bin === undefined,
        })),
      };
    });
  }

  /** Where a line's units go: the bin asked for (which must exist), else the suggestion, else nowhere yet. */
  private async binFor(
    tx: Queryable,
    warehouseId: number,
    warehouse: string,
    variantId: number,
    asked: string | undefined,
  ): Promise<{ id?: number; code: string } | null> {
    if (asked !== undefined) {
      const bin = await findBin(tx, warehouseId, asked);
      if (!bin) throw new NotFoundError('bin', `${warehouse}/${asked}`);
      return bin;
    }
    const code = putAwaySuggestion(await readBinHoldings(tx, warehouseId, variantId));
    return code === null ? null : ((await findBin(tx, warehouseId, code)) ?? null);
  }

  private async transition(
    id: string | number,
    action: Exclude<PoAction, 'receive'>,
    body: { expected_date?: string },
    options: CallOptions,
  ): Promise<PurchaseOrder> {
    const n = orderId(id);
    return runOnce(this.ctx, `purchase_order.${action}`, options, { id: n, ...body }, async (tx) => {
      const order = await lockPurchaseOrder(tx, n);
      if (!order) throw new NotFoundError('purchase order', String(id));
      const status = nextPoStatus(order.status, action);
      const now = this.ctx.clock();
      let expected: string | null | undefined = body.expected_date;
      if (action === 'send' && order.expected_date === null) {
        const [supplier] = await findSuppliers(tx, [order.supplier]);
        expected = expectedDateFrom(now, supplier?.lead_time_days ?? null);
      }
      await setPurchaseOrderStatus(tx, n, status, now, expected);
      return this.read(tx, n);
    });
  }

  private async read(db: Queryable, id: number): Promise<PurchaseOrder> {
    const row = await readPurchaseOrder(db, id);
    if (!row) throw new NotFoundError('purchase order', String(id));
    return toPurchaseOrder(row);
  }
}
