import Type from 'typebox';
import type { Static } from 'typebox';
import { ValidationError } from '../domain/errors.js';
import {
  LOW_STATUSES,
  MAX_ATTRIBUTE_FILTERS,
  SORT_ORDERS,
  STOCK_LIST_STATUSES,
  STOCK_SORT_FIELDS,
  decodeStockCursor,
  encodeStockCursor,
  parseAttributeFilter,
} from '../domain/stock-list.js';
import type { StockChange } from '../domain/stock-change.js';
import type { StockKey, StockListStatus } from '../domain/stock-list.js';
import type { Queryable } from '../store/db.js';
import { countStockList, readStockList, refreshStockListOrder } from '../store/stock-list.js';
import type { StockListFilter, StockListRow } from '../store/stock-list.js';
import type { ServiceContext } from './context.js';
import { supplierByCode, warehouseByCode } from './lookups.js';
import { pageLimit } from './paging.js';
import { DEFAULT_LIST_TOTAL_MAX } from './reservation-search.js';
import { CategoryPath, SearchText, Tag, WarehouseCode, parse } from './schemas.js';

/**
 * An attribute filter as given: `name:value`, split at the first colon (a name of 1-64 characters without one, a
 * value of up to 200 characters, possibly empty). The value matches the attribute's text, or the number or boolean
 * it spells.
 */
export const AttributeFilterText = Type.String({
  maxLength: 265,
  pattern: '^[^:]{1,64}:[\\s\\S]{0,200}$',
  description: 'name:value; "42" matches the number 42 or the text "42", "true" the boolean or the text',
});

/** Which levels a stock list or export shows, and in which order: every field narrows it or orders it. */
export const StockListInput = Type.Object(
  {
    warehouse: Type.Optional(WarehouseCode),
    status: Type.Optional(Type.Enum(STOCK_LIST_STATUSES)),
    category: Type.Optional(CategoryPath),
    tag: Type.Optional(Tag),
    supplier: Type.Optional(WarehouseCode),
    below_reorder_point: Type.Optional(Type.Boolean()),
    q: Type.Optional(SearchText),
    attribute: Type.Optional(
      Type.Array(AttributeFilterText, {
        maxItems: MAX_ATTRIBUTE_FILTERS,
        description: `name:value, once per attribute (at most ${MAX_ATTRIBUTE_FILTERS}, all must match)`,
      }),
    ),
    sort: Type.Optional(Type.Enum(STOCK_SORT_FIELDS)),
    order: Type.Optional(Type.Enum(SORT_ORDERS)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
  },
  { additionalProperties: false },
);
/** What `stockList.list` takes (`limit` and `cursor` are for pages; an export reads every matching level). */
export type StockListInput = Static<typeof StockListInput>;

/** A level in the stock list: its variant, product, warehouse, numbers, settings and status (a row without its ids). */
export type StockListItem = Omit<StockListRow, 'variant_id' | 'warehouse_id' | 'sort_value'>;

/** The columns of a stock list item, in the order the exports write them. */
export const STOCK_LIST_COLUMNS = [
  'sku',
  'title',
  'product',
  'category',
  'tags',
  'warehouse',
  'on_hand',
  'reserved',
  'committed',
  'available',
  'incoming',
  'safety_stock',
  'low_stock_threshold',
  'reorder_point',
  'status',
  'supplier',
] as const satisfies readonly (keyof StockListItem)[];

/** One page of the stock list, the cursor of the next (null on the last) and how many levels match in all. */
export interface StockListPage {
  items: StockListItem[];
  next_cursor: string | null;
  /** how many levels match, counted up to the list's total limit (STOCKROOM_LIST_TOTAL_MAX) */
  total: number;
  /** false when more than `total` match: counting stopped at the limit */
  total_exact: boolean;
}

/** Rows an export reads per statement: each read is its own short statement, so memory stays flat. */
export const EXPORT_CHUNK = 2000;

const toItem = ({
  variant_id: _variant,
  warehouse_id: _warehouse,
  sort_value: _sortValue,
  ...item
}: StockListRow): StockListItem => item;

const keyOf = (row: StockListRow, input: Sorted): StockKey => ({
  sort: input.sort,
  order: input.order,
  // the value the row was ordered by: a number sort's order may lag the number shown
  value: row.sort_value,
  variantId: row.variant_id,
  warehouseId: row.warehouse_id,
});

type Sorted = Required<Pick<StockListInput, 'sort' | 'order'>>;

/**
 * Runs a read with custom plans only: the list's statements differ in which filters they carry, and a generic
 * plan (which the PostgreSQL driver's prepared statements settle on) cannot tell a category of ten products from
 * one of half the catalog, nor a warehouse of many levels from one of few.
 */
const withCustomPlans = <T>(ctx: ServiceContext, read: (tx: Queryable) => Promise<T>): Promise<T> =>
  ctx.db.transaction(async (tx) => {
    await tx.query('SET LOCAL plan_cache_mode = force_custom_plan');
    return read(tx);
  });

/**
 * The admin console's stock list: every level (variant x warehouse in use) filtered by warehouse, status, category
 * (with those below it), tag, supplier, reorder point and text, sorted by SKU or a number, keyset-paged with an
 * opaque cursor; "low stock now"; and every matching level, read in chunks, for the exports.
 */
export class StockListService {
  constructor(
    private readonly ctx: ServiceContext,
    /** how many matches a list counts at most (STOCKROOM_LIST_TOTAL_MAX) */
    private readonly totalMax: number = DEFAULT_LIST_TOTAL_MAX,
  ) {}

  /** A page of the stock list and the total of matching levels. */
  async list(input: StockListInput = {}): Promise<StockListPage> {
    return this.page(parse(StockListInput, input));
  }

  /**
   * What is low or out right now: every level at or below its variant's low-stock threshold (low, out, and
   * preorder or backorder ones sold past zero), with the list's other filters, sort and paging; by available,
   * lowest first, unless sorted otherwise.
   */
  async low(input: Omit<StockListInput, 'status'> = {}): Promise<StockListPage> {
    const query = parse(StockListInput, input);
    if (query.status !== undefined) throw ValidationError.field('/status', 'the low-stock list has its own statuses');
    return this.page({ ...query, sort: query.sort ?? 'available' }, LOW_STATUSES);
  }

  private async page(query: StockListInput, statuses?: readonly StockListStatus[]): Promise<StockListPage> {
    const filter = await this.filterOf(query, statuses);
    const sorted: Sorted = { sort: query.sort ?? 'sku', order: query.order ?? 'asc' };
    const after = query.cursor === undefined ? undefined : cursorKey(query.cursor, sorted);
    const limit = pageLimit(query.limit);
    // two reads side by side (on a pool, two connections): the page and the count
    const [rows, total] = await Promise.all([
      withCustomPlans(this.ctx, (tx) => readStockList(tx, filter, sorted.sort, sorted.order, after, limit + 1)),
      withCustomPlans(this.ctx, (tx) => countStockList(tx, filter, this.totalMax)),
    ]);
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return {
      items: shown.map(toItem),
      next_cursor: rows.length > limit && last !== undefined ? encodeStockCursor(keyOf(last, sorted)) : null,
      total: Math.min(total, this.totalMax),
      total_exact: total <= this.totalMax,
    };
  }

  /**
   * Every level the filter matches, in the list's order, read EXPORT_CHUNK at a time by keyset (each chunk its own
   * short read): an export of any size in constant memory. `limit` and `cursor` are not taken.
   */
  async *rows(
    input: Omit<StockListInput, 'limit' | 'cursor'> = {},
    chunk: number = EXPORT_CHUNK,
  ): AsyncGenerator<StockListItem> {
    const query = parse(StockListInput, input);
    if (query.limit !== undefined || query.cursor !== undefined)
      throw ValidationError.field(
        query.limit === undefined ? '/cursor' : '/limit',
        'an export reads every matching level',
      );
    const filter = await this.filterOf(query);
    const sorted: Sorted = { sort: query.sort ?? 'sku', order: query.order ?? 'asc' };
    let after: StockKey | undefined;
    for (;;) {
      const rows = await withCustomPlans(this.ctx, (tx) =>
        readStockList(tx, filter, sorted.sort, sorted.order, after, chunk),
      );
      for (const row of rows) yield toItem(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < chunk) return;
      after = keyOf(last, sorted);
    }
  }

  /**
   * Brings the order number sorts read (stock_list_order) up to the live numbers of these SKUs' levels, or of
   * every level: a refresh of them all reads every level once (about a second at a million), writing only what
   * differs. Returns how many levels' order it changed.
   */
  async refreshOrder(skus: readonly string[] | 'all'): Promise<number> {
    if (skus === 'all') return this.ctx.db.transaction((tx) => refreshStockListOrder(tx, 'all'));
    let written = 0;
    for (let i = 0; i < skus.length; i += ORDER_REFRESH_CHUNK) {
      const chunk = skus.slice(i, i + ORDER_REFRESH_CHUNK);
      written += await this.ctx.db.transaction((tx) => refreshStockListOrder(tx, chunk));
    }
    return written;
  }

  /** The store's filter from a query: codes resolved (an unknown warehouse or supplier is not found). */
  private async filterOf(query: StockListInput, statuses?: readonly StockListStatus[]): Promise<StockListFilter> {
    return {
      warehouseId: query.warehouse === undefined ? undefined : (await warehouseByCode(this.ctx.db, query.warehouse)).id,
      statuses: statuses ?? (query.status === undefined ? undefined : [query.status]),
      category: query.category,
      tag: query.tag,
      supplierId: query.supplier === undefined ? undefined : (await supplierByCode(this.ctx.db, query.supplier)).id,
      belowReorderPoint: query.below_reorder_point,
      text: query.q,
      attributes: query.attribute?.map((text, index) => {
        const attribute = parseAttributeFilter(text);
        if (!attribute) throw ValidationError.field(`/attribute/${index}`, 'must be name:value');
        return attribute;
      }),
    };
  }
}

/** SKUs one refresh statement of the order takes (each chunk its own short transaction). */
const ORDER_REFRESH_CHUNK = 10_000;

/** How long announced changes are gathered before the order is refreshed, unless told (STOCKROOM_STOCK_ORDER_MS). */
export const DEFAULT_ORDER_REFRESH_MS = 1000;

/**
 * Keeps the order of number sorts (stock_list_order) following the levels, off the transactions that change them:
 * it is handed every announced change (StockChanges), gathers the SKUs, and refreshes them together `everyMs`
 * after the first of a batch, one refresh at a time. A level changed many times in that while is written once.
 * "Anything may have changed" (a lost connection, a batch too large to list, the start) refreshes every level. A
 * failed refresh keeps its SKUs for the next turn. So, while a server runs, a level's place in a number sort lags
 * its live numbers by `everyMs` plus the refresh's own time.
 */
export class StockListOrderRefresher {
  private readonly pending = new Set<string>();
  private all = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly stockList: StockListService,
    private readonly everyMs: number = DEFAULT_ORDER_REFRESH_MS,
    /** told of a refresh that failed (its SKUs are tried again in the next turn) */
    private readonly onError: (error: unknown) => void = () => {},
    /** told of each refresh that ran: how many levels' order it changed */
    private readonly onRefreshed: (written: number) => void = () => {},
  ) {}

  /** Takes an announced change into the next refresh. */
  onChange(change: StockChange): void {
    if (this.closed) return;
    if ('all' in change) this.all = true;
    else for (const sku of change.skus) this.pending.add(sku);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.everyMs);
  }

  /** Refreshes what has been gathered now (after a refresh already running); resolves when it is written. */
  flush(): Promise<void> {
    this.running = this.running.then(async () => {
      const all = this.all;
      const skus = [...this.pending];
      this.all = false;
      this.pending.clear();
      if (!all && skus.length === 0) return;
      try {
        this.onRefreshed(await this.stockList.refreshOrder(all ? 'all' : skus));
      } catch (error) {
        // kept for the next turn, which a later change or this retry starts
        if (all) this.all = true;
        for (const sku of skus) this.pending.add(sku);
        if (!this.closed) this.onChange({ skus: [] });
        this.onError(error);
      }
    });
    return this.running;
  }

  /** Stops gathering; resolves when a refresh running now has ended. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

function cursorKey(cursor: string, sorted: Sorted): StockKey {
  const key = decodeStockCursor(cursor, sorted.sort, sorted.order);
  if (!key) throw ValidationError.field('/cursor', 'not a cursor this list returned for this sort and order');
  return key;
}
