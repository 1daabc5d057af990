import { OPEN_PO_STATUSES } from '../domain/purchasing.js';
import type { PoStatus } from '../domain/purchasing.js';
import type { Queryable } from './db.js';

/** One line of a purchase order: what was ordered and what has arrived. */
export interface PoLineRow {
  line_no: number;
  variant_id: number;
  sku: string;
  qty: number;
  received_qty: number;
  /** minor units of the order's currency per unit; null: not given */
  unit_cost: number | null;
}

/** A purchase order as stored, with its supplier's and warehouse's codes and its lines. */
export interface PurchaseOrderRow {
  id: number;
  supplier: string;
  warehouse_id: number;
  warehouse: string;
  status: PoStatus;
  /** YYYY-MM-DD */
  expected_date: string | null;
  origin: 'manual' | 'replenishment';
  reference: string | null;
  /** ISO 4217; null: an order from before costs were recorded (the store's) */
  currency: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  confirmed_at: Date | null;
  closed_at: Date | null;
  lines: PoLineRow[];
}

const ORDER = `SELECT o.id, s.code AS supplier, o.warehouse_id, w.code AS warehouse, o.status, o.expected_date::text AS expected_date,
                      o.origin, o.reference, o.currency, o.created_at, o.updated_at, o.sent_at, o.confirmed_at, o.closed_at,
                      (SELECT jsonb_agg(jsonb_build_object('line_no', l.line_no, 'variant_id', l.variant_id, 'sku', v.sku,
                                                           'qty', l.qty, 'received_qty', l.received_qty,
                                                           'unit_cost', l.unit_cost) ORDER BY l.line_no)
                         FROM purchase_order_lines l JOIN variants v ON v.id = l.variant_id
                        WHERE l.purchase_order_id = o.id) AS lines
                 FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id JOIN warehouses w ON w.id = o.warehouse_id`;

/** What a new DRAFT order is made of. */
export interface NewPurchaseOrder {
  supplierId: number;
  warehouseId: number;
  expectedDate: string | null;
  origin: 'manual' | 'replenishment';
  reference: string | null;
  at: Date;
  lines: readonly NewPurchaseOrderLine[];
  /** ISO 4217, checked against the store's by the caller */
  currency?: string | null;
}

/** A line of a new order: what, how many, and (if known) what one unit costs in minor units. */
export interface NewPurchaseOrderLine {
  variantId: number;
  qty: number;
  unitCost?: number | null;
}

/** A new DRAFT order with its lines. @returns its id */
export async function insertPurchaseOrder(tx: Queryable, order: NewPurchaseOrder): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO purchase_orders (supplier_id, warehouse_id, status, expected_date, origin, reference, created_at, updated_at,
                                  currency)
     VALUES ($1, $2, 'DRAFT', $3::date, $4, $5, $6, $6, $7) RETURNING id`,
    [
      order.supplierId,
      order.warehouseId,
      order.expectedDate,
      order.origin,
      order.reference,
      order.at,
      order.currency ?? null,
    ],
  );
  const id = (rows[0] as { id: number }).id;
  await addPurchaseOrderLines(tx, id, order.lines);
  return id;
}

/** Appends lines to an order, numbered after its last one. */
export async function addPurchaseOrderLines(
  tx: Queryable,
  id: number,
  lines: readonly NewPurchaseOrderLine[],
): Promise<void> {
  await tx.query(
    `INSERT INTO purchase_order_lines (purchase_order_id, line_no, variant_id, qty, unit_cost)
     SELECT $1, coalesce((SELECT max(line_no) FROM purchase_order_lines WHERE purchase_order_id = $1), 0) + r.n, r.variant_id, r.qty,
            r.unit_cost
       FROM jsonb_to_recordset($2::jsonb) AS r(variant_id bigint, qty int, n int, unit_cost bigint)`,
    [
      id,
      JSON.stringify(
        lines.map((line, i) => ({
          variant_id: line.variantId,
          qty: line.qty,
          n: i + 1,
          unit_cost: line.unitCost ?? null,
        })),
      ),
    ],
  );
}

/** Sets what one unit of some lines costs (minor units; null: not known), by line number. */
export async function setLineCosts(
  tx: Queryable,
  id: number,
  lines: readonly { lineNo: number; unitCost: number | null }[],
): Promise<void> {
  await tx.query(
    `UPDATE purchase_order_lines l SET unit_cost = r.unit_cost
       FROM jsonb_to_recordset($2::jsonb) AS r(line_no int, unit_cost bigint)
      WHERE l.purchase_order_id = $1 AND l.line_no = r.line_no`,
    [id, JSON.stringify(lines.map((line) => ({ line_no: line.lineNo, unit_cost: line.unitCost })))],
  );
}

/** One order with its lines, or undefined if there is none with this id. */
export async function readPurchaseOrder(db: Queryable, id: number): Promise<PurchaseOrderRow | undefined> {
  return (await db.query<PurchaseOrderRow>(`${ORDER} WHERE o.id = $1`, [id])).rows[0];
}

/** Locks an order for a change of status or a receipt; concurrent changes of one order queue here. */
export async function lockPurchaseOrder(tx: Queryable, id: number): Promise<PurchaseOrderRow | undefined> {
  await tx.query('SELECT 1 FROM purchase_orders WHERE id = $1 FOR UPDATE', [id]);
  return readPurchaseOrder(tx, id);
}

/** Which orders to list: by status, supplier or SKU, a page before a cursor. */
export interface PurchaseOrderFilter {
  status?: PoStatus | undefined;
  supplier?: string | undefined;
  sku?: string | undefined;
  before?: number | undefined;
  limit: number;
}

/** Orders, newest first, with their lines. */
export async function listPurchaseOrders(db: Queryable, filter: PurchaseOrderFilter): Promise<PurchaseOrderRow[]> {
  const { rows } = await db.query<PurchaseOrderRow>(
    `${ORDER}
      WHERE ($1::text IS NULL OR o.status = $1)
        AND ($2::text IS NULL OR s.code = $2)
        AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM purchase_order_lines l JOIN variants v ON v.id = l.variant_id
                                          WHERE l.purchase_order_id = o.id AND v.sku = $3))
        AND ($4::bigint IS NULL OR o.id < $4)
      ORDER BY o.id DESC LIMIT $5`,
    [filter.status ?? null, filter.supplier ?? null, filter.sku ?? null, filter.before ?? null, filter.limit],
  );
  return rows;
}

/** Moves an order to a status, stamping when it was sent, confirmed or closed; optionally sets its expected date. */
export async function setPurchaseOrderStatus(
  tx: Queryable,
  id: number,
  status: PoStatus,
  at: Date,
  expectedDate?: string | null,
): Promise<void> {
  await tx.query(
    `UPDATE purchase_orders SET status = $2, updated_at = $3,
            sent_at = CASE WHEN $2 = 'SENT' THEN $3 ELSE sent_at END,
            confirmed_at = CASE WHEN $2 = 'CONFIRMED' THEN $3 ELSE confirmed_at END,
            closed_at = CASE WHEN $2 IN ('RECEIVED', 'CANCELLED') THEN $3 END,
            expected_date = CASE WHEN $4::boolean THEN $5::date ELSE expected_date END
      WHERE id = $1`,
    [id, status, at, expectedDate !== undefined, expectedDate ?? null],
  );
}

/** Units received against one line of an order, by its number. */
export interface ReceivedLine {
  lineNo: number;
  qty: number;
}

/** Counts received units against an order's lines, by line number. */
export async function addReceived(tx: Queryable, id: number, lines: readonly ReceivedLine[]): Promise<void> {
  await tx.query(
    `UPDATE purchase_order_lines l SET received_qty = l.received_qty + r.qty
       FROM jsonb_to_recordset($2::jsonb) AS r(line_no int, qty int)
      WHERE l.purchase_order_id = $1 AND l.line_no = r.line_no`,
    [id, JSON.stringify(lines.map((line) => ({ line_no: line.lineNo, qty: line.qty })))],
  );
}

/** Units on their way to one warehouse for one variant, and when the first of them is due. */
export interface IncomingRow {
  variant_id: number;
  warehouse_id: number;
  incoming: number;
  /** the earliest expected date among the orders bringing it, YYYY-MM-DD */
  earliest: string | null;
}

/** Units ordered and not yet received, per variant and warehouse, from orders the supplier has. */
export async function readIncoming(db: Queryable, variantIds: readonly number[]): Promise<IncomingRow[]> {
  const { rows } = await db.query<IncomingRow>(
    `SELECT variant_id, warehouse_id, sum(qty)::bigint AS incoming, min(expected_date)::text AS earliest
       FROM purchase_incoming WHERE variant_id = ANY($1::bigint[])
      GROUP BY variant_id, warehouse_id`,
    [variantIds],
  );
  return rows;
}

/**
 * How many open orders (any status that can still be received, a draft included) have units still to come into a
 * warehouse, or of a variant: what archiving either would strand, and what makes a variant no kit.
 */
export async function countOpenPurchaseOrders(
  db: Queryable,
  into: { warehouseId: number } | { variantId: number },
): Promise<number> {
  const { rows } = await db.query<{ orders: number }>(
    `SELECT count(DISTINCT o.id)::int AS orders
       FROM purchase_orders o JOIN purchase_order_lines l ON l.purchase_order_id = o.id
      WHERE o.status = ANY($1::text[]) AND l.qty > l.received_qty
        AND ($2::bigint IS NULL OR o.warehouse_id = $2) AND ($3::bigint IS NULL OR l.variant_id = $3)`,
    [OPEN_PO_STATUSES, 'warehouseId' in into ? into.warehouseId : null, 'variantId' in into ? into.variantId : null],
  );
  return rows[0]?.orders ?? 0;
}

/** Which of the rows an order is placed against are archived, read once they are locked (shareOrderTargets). */
export interface OrderTargets {
  warehouseArchived: boolean;
  archivedVariantIds: number[];
}

/**
 * Takes a share lock on the warehouse an order goes into and on the variants it names (in id order), and says which
 * are archived as they are once locked. Archiving one locks its row (FOR NO KEY UPDATE, which waits for a share lock
 * and is waited for by one) before it counts the open orders, so an order and an archive never both go ahead blind to
 * each other: one of them sees the other and is refused. The orders' foreign keys take only a key-share lock, which
 * an archive does not wait for. Defining a kit locks its variant's row the same way.
 */
export async function shareOrderTargets(
  tx: Queryable,
  warehouseId: number,
  variantIds: readonly number[],
): Promise<OrderTargets> {
  const warehouse = await tx.query<{ archived: boolean }>(
    'SELECT archived_at IS NOT NULL AS archived FROM warehouses WHERE id = $1 FOR SHARE',
    [warehouseId],
  );
  const variants = await tx.query<{ id: number; archived: boolean }>(
    'SELECT id, archived_at IS NOT NULL AS archived FROM variants WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE',
    [variantIds],
  );
  return {
    warehouseArchived: warehouse.rows[0]?.archived === true,
    archivedVariantIds: variants.rows.filter((row) => row.archived).map((row) => row.id),
  };
}
