import { ORDER_KEPT_SORTS, STOCK_LIST_STATUSES } from '../domain/stock-list.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';
import type { AttributeFilter, SortOrder, StockKey, StockListStatus, StockSortField } from '../domain/stock-list.js';
import { IN_CATEGORY } from './catalog.js';
import type { Queryable } from './db.js';

/** Which levels the stock list reads: each field given narrows it (ids resolved from codes by the caller). */
export interface StockListFilter {
  warehouseId?: number | undefined;
  /** levels in any of these statuses */
  statuses?: readonly StockListStatus[] | undefined;
  /** a category path: its products and those below it */
  category?: string | undefined;
  tag?: string | undefined;
  supplierId?: number | undefined;
  /** only variants at or below their reorder point (on hand less reserved and unsellable, plus incoming) */
  belowReorderPoint?: boolean | undefined;
  /** a substring of the SKU or of the product title, case-insensitive */
  text?: string | undefined;
  /** variants with every one of these attributes (AttributeFilter: the JSON values each may be stored as) */
  attributes?: readonly AttributeFilter[] | undefined;
}

/** A level as the stock list shows it, with its ids (the keyset). */
export interface StockListRow {
  variant_id: number;
  warehouse_id: number;
  sku: string;
  /** the product's title */
  title: string;
  /** the product's id */
  product: number;
  category: string | null;
  tags: string[];
  warehouse: string;
  on_hand: number;
  reserved: number;
  /** of reserved, held by committed and partly fulfilled reservations */
  committed: number;
  available: number;
  /** units on purchase orders the supplier has, not yet received here */
  incoming: number;
  safety_stock: number;
  low_stock_threshold: number;
  reorder_point: number | null;
  status: StockListStatus;
  supplier: string | null;
  /** the value the row was ordered by (a sort by a number outside the fence: the order's, which may lag the live one) */
  sort_value: number | string;
}

/** A statement's WHERE conditions and their parameters, built together so the placeholders stay numbered. */
class Conditions {
  // a kit's levels hold nothing (its components do): listed, they would read 0 available and "out" while it sells
  readonly parts: string[] = [
    'NOT l.archived',
    'NOT EXISTS (SELECT 1 FROM kit_components kc WHERE kc.kit_variant_id = l.variant_id)',
  ];
  readonly params: unknown[] = [];
  /** which joined tables the conditions read */
  variants = false;
  products = false;

  /** The next placeholder, bound to value. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.parts.push(condition);
  }
}

/** `%text%` for ILIKE, the pattern characters of the text taken literally. */
const containing = (text: string): string => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** Units on purchase orders the supplier has, not yet received, for the level `l`. */
const INCOMING = `coalesce((SELECT sum(i.qty) FROM purchase_incoming i
                     WHERE i.variant_id = l.variant_id AND i.warehouse_id = l.warehouse_id), 0)::int`;
/** Units held by committed and partly fulfilled reservations at the level `l` (as readCommitted sums them). */
const COMMITTED = `coalesce((SELECT sum(rl.qty - rl.fulfilled_qty - rl.released_qty)
                      FROM reservation_lines rl JOIN reservations r ON r.id = rl.reservation_id
                     WHERE rl.variant_id = l.variant_id AND rl.warehouse_id = l.warehouse_id AND rl.holds_stock
                       AND r.status IN ('committed', 'partially_fulfilled')), 0)::int`;

function conditionsOf(filter: StockListFilter): Conditions {
  const where = new Conditions();
  if (filter.warehouseId !== undefined) where.add(`l.warehouse_id = ${where.param(filter.warehouseId)}`);
  if (filter.statuses !== undefined) {
    // statuses are a closed set: written into the statement, so the planner sees which (their counts differ a lot)
    const statuses = filter.statuses.filter((status) => STOCK_LIST_STATUSES.includes(status));
    where.add(statuses.length === 0 ? 'false' : `l.status IN (${statuses.map((status) => `'${status}'`).join(', ')})`);
  }
  if (filter.supplierId !== undefined) {
    where.variants = true;
    where.add(`v.supplier_id = ${where.param(filter.supplierId)}`);
  }
  if (filter.category !== undefined) {
    where.variants = where.products = true;
    where.add(IN_CATEGORY('p.category', where.param(filter.category)));
  }
  if (filter.tag !== undefined) {
    where.variants = where.products = true;
    where.add(`p.tags @> ARRAY[${where.param(filter.tag)}::text]`);
  }
  if (filter.text !== undefined) {
    // two sets the trigram indexes each find (migration 0021); an OR across the join would read every row
    const pattern = where.param(containing(filter.text));
    where.add(`l.variant_id IN (SELECT sv.id FROM variants sv WHERE sv.sku ILIKE ${pattern}
                                UNION SELECT tv.id FROM products tp JOIN variants tv ON tv.product_id = tp.id
                                 WHERE tp.title ILIKE ${pattern})`);
  }
  for (const attribute of filter.attributes ?? []) {
    // containment, which the variants' attributes index reads (migration 0025): one test per JSON value the text
    // may stand for ("42" the string or the number)
    where.variants = true;
    const tests = attribute.values.map(
      (value) => `v.attributes @> ${where.param(JSON.stringify({ [attribute.name]: value }))}::jsonb`,
    );
    where.add(`(${tests.join(' OR ')})`);
  }
  if (filter.belowReorderPoint === true) {
    // the variant's position as replenishment reads it (store/replenishment.ts): over every warehouse
    where.variants = true;
    where.add(`v.reorder_point IS NOT NULL
      AND coalesce((SELECT sum(n.on_hand - n.reserved - n.damaged - n.quality_control) FROM stock_levels n
                     WHERE n.variant_id = v.id), 0)
        + coalesce((SELECT sum(i.qty) FROM purchase_incoming i WHERE i.variant_id = v.id), 0) <= v.reorder_point`);
  }
  return where;
}

/** The levels `l`, with their variants `v` and products `p` when the conditions (or the caller) read them. */
const FROM_LEVELS = (where: Conditions, variants = false, from = 'stock_levels l'): string =>
  `${from}${where.variants || variants ? ' JOIN variants v ON v.id = l.variant_id' : ''}${
    where.products ? ' JOIN products p ON p.id = v.product_id' : ''
  }`;

/**
 * How many levels match the filter, counted up to `max` + 1 (past it the caller says "at least"): a count of a
 * million levels is not worth its time on every page. Only the tables the filter reads are joined: a count by
 * warehouse and status reads one index of stock_levels.
 */
export async function countStockList(db: Queryable, filter: StockListFilter, max: number): Promise<number> {
  const { text, values } = stockCountStatement(filter, max);
  const { rows } = await db.query<{ total: number }>(text, values);
  return rows[0]?.total ?? 0;
}

/** A statement and its parameters (what the plan tests explain). */
export interface Statement {
  text: string;
  values: unknown[];
}

/** The statement countStockList runs. */
export function stockCountStatement(filter: StockListFilter, max: number): Statement {
  const where = conditionsOf(filter);
  const text = `SELECT count(*)::int AS total FROM (SELECT 1 FROM ${FROM_LEVELS(where)} WHERE ${where.parts.join(' AND ')}
      LIMIT ${where.param(max + 1)}) matching`;
  return { text, values: where.params };
}

/** The columns a stock list row shows, over `l` and its variant `v`, product `p` and warehouse `w`. */
const SHOWN = `l.variant_id, l.warehouse_id, v.sku, p.title, p.id AS product, p.category, p.tags, w.code AS warehouse,
  l.on_hand, l.reserved, l.available, l.safety_stock, v.low_stock_threshold, v.reorder_point, l.status,
  (SELECT s.code FROM suppliers s WHERE s.id = v.supplier_id) AS supplier`;

/**
 * One page of the stock list in the given order, after a key (keyset paging): `limit` rows at most. Ties are
 * broken by (variant, warehouse) in the same direction, so every row has one place in the order. By SKU the
 * variants' SKU index is walked with each variant's levels. By on_hand, reserved or available an index of
 * stock_list_order (migration 0025): the order is that of the numbers as last refreshed (refreshStockListOrder),
 * the numbers shown are live. Levels below in_stock only (a status filter without in_stock) are few: sorted by
 * their live numbers. Committed and incoming are worked out per level, so a sort by them reads every level the
 * filter matches.
 */
export async function readStockList(
  db: Queryable,
  filter: StockListFilter,
  sort: StockSortField,
  order: SortOrder,
  after: StockKey | undefined,
  limit: number,
): Promise<StockListRow[]> {
  const { text, values } = stockPageStatement(filter, sort, order, after, limit);
  const { rows } = await db.query<StockListRow>(text, values);
  return rows;
}

/** Levels below in_stock only, sorted by a number kept on the level: read from the status index and sorted. */
const isFenced = (filter: StockListFilter, sort: StockSortField): boolean =>
  filter.statuses !== undefined && !filter.statuses.includes('in_stock') && sort !== 'committed' && sort !== 'incoming';

/** Whether a page or export with this filter and sort walks stock_list_order (so its order must be brought up first). */
export const readsStockListOrder = (filter: StockListFilter, sort: StockSortField): boolean =>
  !isFenced(filter, sort) && ORDER_KEPT_SORTS.includes(sort);

/** The statement readStockList runs. */
export function stockPageStatement(
  filter: StockListFilter,
  sort: StockSortField,
  order: SortOrder,
  after: StockKey | undefined,
  limit: number,
): Statement {
  const where = conditionsOf(filter);
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const beyond = order === 'asc' ? '>' : '<';
  const computed = sort === 'committed' || sort === 'incoming';
  // Levels below in_stock are few, and they sit at one end of every number's order: walking a number's index (or
  // the SKUs) for them, as the planner would (it takes matches to be spread evenly), can read every level before
  // the first one. Fenced, the order is no index's (`+ 0`; the SKU looked up per level), so they are read from the
  // status index, which carries the numbers, and sorted.
  const fenced = isFenced(filter, sort);
  // by a number's index of stock_list_order `o`, joined to its level for the filter
  const ordered = readsStockListOrder(filter, sort);
  // the sorted column as the page's keys are read and ordered, and as the rows shown are
  const shown = sort === 'sku' ? 'v.sku' : computed ? `t.${sort}` : `l.${sort}`;
  // fenced by SKU with no variant in the filter: each level's SKU is looked up once, by the variant's key, in a
  // derived table the planner keeps as it is (OFFSET 0), rather than a join it would make a scan of every variant
  const lookedUp = fenced && sort === 'sku' && !where.variants;
  const column = ordered
    ? `o.${sort}`
    : !fenced
      ? shown
      : sort !== 'sku'
        ? `l.${sort} + 0`
        : lookedUp
          ? 'l.sku'
          : `v.sku || ''`;
  const tieBreak =
    sort === 'sku'
      ? ['l.warehouse_id']
      : computed
        ? ['t.variant_id', 't.warehouse_id']
        : ordered
          ? ['o.variant_id', 'o.warehouse_id']
          : ['l.variant_id', 'l.warehouse_id'];
  const keyset: string[] = [];
  if (after !== undefined) {
    const value = where.param(after.value);
    const ids =
      sort === 'sku'
        ? [where.param(after.warehouseId)]
        : [where.param(after.variantId), where.param(after.warehouseId)];
    keyset.push(`(${[column, ...tieBreak].join(', ')}) ${beyond} (${[value, ...ids].join(', ')})`);
    // the same bound on the SKU alone, which the SKU index reads (a row comparison across two tables is not an
    // index condition)
    if (sort === 'sku' && !fenced) keyset.push(`v.sku ${beyond}= ${value}`);
  }
  const orderOf = (first: string, ties = tieBreak): string =>
    [first, ...ties].map((name) => `${name} ${direction}`).join(', ');
  const limitParam = where.param(limit);
  const keysFrom = lookedUp
    ? `(SELECT l.variant_id, l.warehouse_id, (SELECT sv.sku FROM variants sv WHERE sv.id = l.variant_id) AS sku
          FROM stock_levels l WHERE ${where.parts.join(' AND ')} OFFSET 0) l`
    : ordered
      ? FROM_LEVELS(
          where,
          false,
          // the level's warehouse is the order row's: a warehouse filter is read from the order's index too
          'stock_list_order o JOIN stock_levels l ON l.variant_id = o.variant_id AND l.warehouse_id = o.warehouse_id',
        )
      : FROM_LEVELS(where, sort === 'sku' && !fenced);
  const keysWhere = lookedUp ? keyset : [...where.parts, ...keyset];
  // what a level `l` is shown with
  const shownWith = `JOIN variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
                     JOIN warehouses w ON w.id = l.warehouse_id`;
  const sql = computed
    ? `SELECT t.*, t.${sort} AS sort_value
         FROM (SELECT ${SHOWN}, ${COMMITTED} AS committed, ${INCOMING} AS incoming
                 FROM stock_levels l ${shownWith} WHERE ${where.parts.join(' AND ')}) t
        ${keyset.length > 0 ? `WHERE ${keyset.join(' AND ')}` : ''}
        ORDER BY ${orderOf(column)} LIMIT ${limitParam}`
    : // the page's keys first, from as few tables and columns as the filter and the order need (an index alone,
      // when it covers them), then the rows of only those keys
      `SELECT ${SHOWN}, ${COMMITTED} AS committed, ${INCOMING} AS incoming, ${ordered ? 'k.sort_value' : shown} AS sort_value
         FROM (SELECT l.variant_id, l.warehouse_id${ordered ? `, ${column} AS sort_value` : ''} FROM ${keysFrom}
                ${keysWhere.length > 0 ? `WHERE ${keysWhere.join(' AND ')}` : ''}
                ORDER BY ${orderOf(column)} LIMIT ${limitParam}) k
         JOIN stock_levels l ON l.variant_id = k.variant_id AND l.warehouse_id = k.warehouse_id ${shownWith}
        ORDER BY ${ordered ? orderOf('k.sort_value', ['k.variant_id', 'k.warehouse_id']) : orderOf(shown)}`;
  return { text: sql, values: where.params };
}

/**
 * Brings stock_list_order (migration 0025) up to the live numbers of the levels of these SKUs, or of every level:
 * only rows whose numbers differ are written. Refreshes take turns (an advisory lock held to the end of the
 * transaction, taken before the statement that reads the levels), so a refresh never writes numbers older than
 * another's it waited for. Runs in the caller's transaction; returns how many rows it wrote.
 */
export async function refreshStockListOrder(tx: Queryable, skus: readonly string[] | 'all'): Promise<number> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.stockListOrder]);
  if (skus === 'all') await markEveryLevelCompared(tx);
  // the SKUs as a relation joined by the SKU index: `sku = ANY($1)` under a generic plan (the driver prepares
  // statements) is a linear search of the whole array for every variant, seconds for a batch of thousands
  const { rowCount } = await tx.query(
    `UPDATE stock_list_order o SET on_hand = l.on_hand, reserved = l.reserved, available = l.available
       FROM ${
         skus === 'all'
           ? 'stock_levels l'
           : `(SELECT DISTINCT s.sku FROM unnest($1::text[]) AS s(sku)) s
              JOIN variants v ON v.sku = s.sku JOIN stock_levels l ON l.variant_id = v.id`
       }
      WHERE o.variant_id = l.variant_id AND o.warehouse_id = l.warehouse_id
        AND (o.on_hand, o.reserved, o.available) IS DISTINCT FROM (l.on_hand, l.reserved, l.available)`,
    skus === 'all' ? [] : [skus],
  );
  return rowCount;
}

/** The scheduled_jobs row that says when the last comparison of every level began (its snapshot is later). */
const EVERY_LEVEL_COMPARED = 'stock_list_order';

/** Records that a comparison of every level begins now: its statement's snapshot is taken after this. */
async function markEveryLevelCompared(tx: Queryable): Promise<void> {
  await tx.query(
    `INSERT INTO scheduled_jobs (name, last_run_at) VALUES ($1, clock_timestamp())
     ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at`,
    [EVERY_LEVEL_COMPARED],
  );
}

/**
 * Compares every level as refreshStockListOrder does, unless a comparison of every level began at or after `since`
 * (another server process's, which took its turn first): that one read every change committed before `since`.
 * Returns the rows written, or undefined when it was left out for that reason.
 */
export async function refreshStockListOrderUnlessComparedSince(
  tx: Queryable,
  since: Date,
): Promise<number | undefined> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.stockListOrder]);
  const { rows } = await tx.query<{ covered: boolean }>(
    'SELECT last_run_at >= $2 AS covered FROM scheduled_jobs WHERE name = $1',
    [EVERY_LEVEL_COMPARED, since],
  );
  if (rows[0]?.covered) return undefined;
  return refreshStockListOrder(tx, 'all');
}

/** The database server's clock now: the clock every process on it shares, unlike their own. */
export async function databaseNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  const now = rows[0]?.now;
  if (!now) throw new Error('the database did not tell its time');
  return now;
}

/**
 * Announces a marker on the channel of stock changes (migration 0005): heard by a follower after every change
 * committed before it, since notices arrive in commit order.
 */
export async function announceMarker(db: Queryable, marker: string): Promise<void> {
  await db.query('SELECT stockroom_announce($1)', [marker]);
}
