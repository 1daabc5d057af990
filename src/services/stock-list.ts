import { randomUUID } from 'node:crypto';
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
import { ORDER_MARKER_PREFIX } from '../domain/stock-change.js';
import type { StockChange } from '../domain/stock-change.js';
import type { StockKey, StockListStatus } from '../domain/stock-list.js';
import type { Queryable } from '../store/db.js';
import {
  announceMarker,
  countStockList,
  readStockList,
  readsStockListOrder,
  databaseNow,
  refreshStockListOrder,
  refreshStockListOrderUnlessComparedSince,
} from '../store/stock-list.js';
import type { StockListFilter, StockListRow } from '../store/stock-list.js';
import { staleReads } from './context.js';
import type { ServiceContext } from './context.js';
import { supplierByCode, warehouseByCode } from './lookups.js';
import { pageLimit } from './paging.js';
import { DEFAULT_LIST_TOTAL_MAX } from './reservation-search.js';
import { expireDueNow } from './reservations.js';
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
  staleReads(ctx).transaction(async (tx) => {
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
  ) {
    this.order = new StockListOrderUpkeep(ctx, false);
  }

  /** The upkeep of the order number sorts read: following announced changes, or comparing every level. */
  private order: StockListOrderUpkeep;

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
    // the list shows reserved as the levels store it: holds past their deadline are released first, not counted
    await expireDueNow(this.ctx, { wait: true });
    const sorted: Sorted = { sort: query.sort ?? 'sku', order: query.order ?? 'asc' };
    const after = query.cursor === undefined ? undefined : cursorKey(query.cursor, sorted);
    const limit = pageLimit(query.limit);
    if (readsStockListOrder(filter, sorted.sort)) await this.order.ready();
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
    yield* this.rowsOf(this.exportQuery(input), chunk);
  }

  /** What is low or out right now (as `low`), every matching level, read as `rows` reads them: its exports. */
  async *lowRows(
    input: Omit<StockListInput, 'limit' | 'cursor' | 'status'> = {},
    chunk: number = EXPORT_CHUNK,
  ): AsyncGenerator<StockListItem> {
    const query = this.exportQuery(input);
    if (query.status !== undefined) throw ValidationError.field('/status', 'the low-stock list has its own statuses');
    yield* this.rowsOf({ ...query, sort: query.sort ?? 'available' }, chunk, LOW_STATUSES);
  }

  private exportQuery(input: Omit<StockListInput, 'limit' | 'cursor'>): StockListInput {
    const query = parse(StockListInput, input);
    if (query.limit !== undefined || query.cursor !== undefined)
      throw ValidationError.field(
        query.limit === undefined ? '/cursor' : '/limit',
        'an export reads every matching level',
      );
    return query;
  }

  private async *rowsOf(
    query: StockListInput,
    chunk: number,
    statuses?: readonly StockListStatus[],
  ): AsyncGenerator<StockListItem> {
    const filter = await this.filterOf(query, statuses);
    await expireDueNow(this.ctx, { wait: true });
    const sorted: Sorted = { sort: query.sort ?? 'sku', order: query.order ?? 'asc' };
    if (readsStockListOrder(filter, sorted.sort)) await this.order.ready();
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
   * Follows the announced changes from now on (a server process hands each to the upkeep returned): a read sorted
   * by a number then refreshes only what changed. Until then (and after `unfollow`) such a read compares every level.
   */
  follow(options: StockListOrderOptions = {}): StockListOrderUpkeep {
    // an upkeep followed before is let go (its refresh running ends by itself)
    void this.order.close();
    this.order = new StockListOrderUpkeep(this.ctx, true, options);
    return this.order;
  }

  /** Stops following: reads sorted by a number compare every level again. */
  async unfollow(): Promise<void> {
    const followed = this.order;
    this.order = new StockListOrderUpkeep(this.ctx, false);
    await followed.close();
  }

  /**
   * Brings the order number sorts read (stock_list_order) up to every change committed so far: what the followed
   * announcements listed, or every level (about a second at a million) when not following.
   */
  async refreshOrder(): Promise<void> {
    await this.order.refresh();
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

/** Changed SKUs an order's upkeep lists before it takes "anything may have changed" instead (STOCKROOM_STOCK_ORDER_MAX_SKUS). */
export const DEFAULT_ORDER_MAX_SKUS = 50_000;
/** How long a read sorted by a number waits for the order to be brought up to date (STOCKROOM_STOCK_ORDER_WAIT_MS). */
export const DEFAULT_ORDER_WAIT_MS = 5_000;

/** What one refresh of the order did. */
export interface StockListOrderRefresh {
  all: boolean;
  skus: number;
  levels: number;
  /**
   * the comparison of every level this process owed at start was left out: another process (a worker, a host) began
   * one after this one was following, so it covered every change made before
   */
  covered?: boolean;
}

/** How the order of number sorts is kept: what a follower lists, how long a read waits, what it is told. */
export interface StockListOrderOptions {
  /** changed SKUs listed at most; past that every level is compared at the next read (default 50,000) */
  maxSkus?: number | undefined;
  /** how long a read waits for the refresh before it reads the order as it stands (default 5 s) */
  waitMs?: number | undefined;
  /** told of a refresh that failed or took longer than `waitMs` (the read goes on; what it had is kept) */
  onError?: ((error: unknown) => void) | undefined;
  /**
   * told of each refresh: whether it compared every level, how many SKUs it refreshed otherwise (0: nothing had
   * changed, no statement ran), how many levels' order it changed
   */
  onRefreshed?: ((refresh: StockListOrderRefresh) => void) | undefined;
}

/**
 * Keeps the order of number sorts (stock_list_order) up to date on read, never on a timer, so it costs nothing
 * while no one reads it. Following (a server: `follow`), it is handed every announced change and lists the changed
 * SKUs (at most `maxSkus`; past that, at a '*' or a lost connection, "anything may have changed"); a read first
 * announces a marker and waits to hear it (every change committed before the read is then listed), then refreshes
 * the listed SKUs in one statement, or compares every level. Not following (the library, the CLI), every read
 * compares every level. Reads arriving while a refresh waits to start share it; a refresh that runs takes every
 * read arriving after it began into the next one. A failed refresh keeps what it had for the next.
 */
export class StockListOrderUpkeep {
  private readonly changed = new Set<string>();
  // what changed before this process listened is not known
  private all = true;
  // when it began to follow, by the database's clock: a comparison of every level begun since then by any process
  // makes this one's first unnecessary (several workers start at once; one compares, the others need not)
  private readonly followingSince: Promise<Date | undefined>;
  private firstComparison = true;
  private readonly markers = new Map<string, () => void>();
  // the refresh reads may still join (not begun), and the last one begun
  private next: Promise<void> | undefined;
  private last: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxSkus: number;
  private readonly waitMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    /** whether announced changes are handed to it (else every refresh compares every level) */
    private readonly following: boolean,
    private readonly options: StockListOrderOptions = {},
  ) {
    this.maxSkus = options.maxSkus ?? DEFAULT_ORDER_MAX_SKUS;
    this.waitMs = options.waitMs ?? DEFAULT_ORDER_WAIT_MS;
    // asked now, once the process hears announcements (a server follows the changes before it follows this)
    this.followingSince = following ? databaseNow(ctx.db).catch(() => undefined) : Promise.resolve(undefined);
  }

  /** Takes an announced change into the next refresh (and hears this process's markers). */
  onChange(change: StockChange): void {
    if ('all' in change) {
      this.everything();
      return;
    }
    for (const sku of change.skus) {
      if (sku.startsWith(ORDER_MARKER_PREFIX)) this.markers.get(sku)?.();
      else if (!this.all) this.changed.add(sku);
    }
    if (this.changed.size > this.maxSkus) this.everything();
  }

  /**
   * Resolves once the order holds every change committed before the call, or after `waitMs` (the order as it
   * stands; the refresh goes on, and the next read joins it or the one after). Never rejects: a failed refresh is
   * told to `onError` and the read goes on.
   */
  async ready(): Promise<void> {
    const onError = this.options.onError ?? (() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        resolve(true);
      }, this.waitMs);
    });
    try {
      if (await Promise.race([this.refresh().then(() => false), late]))
        onError(new Error(`the stock list's order was not brought up to date within ${this.waitMs} ms`));
    } catch (error) {
      onError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The refresh a read waits for: the one not begun yet, else a new one after the one running. */
  refresh(): Promise<void> {
    if (this.next) return this.next;
    const next = this.last.then(() => {
      this.next = undefined;
      return this.run();
    });
    this.next = next;
    this.last = next.catch(() => {});
    return next;
  }

  /** Stops: markers waited for are let go, and it resolves when a refresh running now has ended. */
  async close(): Promise<void> {
    this.closed = true;
    for (const heard of this.markers.values()) heard();
    await this.last;
  }

  private everything(): void {
    this.all = true;
    this.changed.clear();
    // a lost connection or too many changes: not what was missed before following, so no one else's comparison covers it
    this.firstComparison = false;
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    if (this.following && !(await this.heard())) this.everything();
    const since = this.firstComparison ? await this.followingSince : undefined;
    const all = this.all || !this.following;
    const skus = [...this.changed];
    this.all = false;
    this.changed.clear();
    try {
      if (all && since) {
        const levels = await this.ctx.db.transaction((tx) => refreshStockListOrderUnlessComparedSince(tx, since));
        this.firstComparison = false;
        this.options.onRefreshed?.({
          all,
          skus: 0,
          levels: levels ?? 0,
          ...(levels === undefined ? { covered: true } : {}),
        });
        return;
      }
      const levels = all || skus.length > 0 ? await refreshOrder(this.ctx, all ? 'all' : skus) : 0;
      this.options.onRefreshed?.({ all, skus: skus.length, levels });
    } catch (error) {
      if (all) this.everything();
      else for (const sku of skus) this.onChange({ skus: [sku] });
      throw error;
    }
  }

  /** Announces a marker and waits to hear it: true once heard, false if not within `waitMs` (or when closed). */
  private async heard(): Promise<boolean> {
    if (this.closed) return false;
    const marker = `${ORDER_MARKER_PREFIX}${randomUUID()}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<boolean>((resolve, reject) => {
        this.markers.set(marker, () => {
          resolve(!this.closed);
        });
        timer = setTimeout(() => {
          resolve(false);
        }, this.waitMs);
        announceMarker(this.ctx.db, marker).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      this.markers.delete(marker);
    }
  }
}

/**
 * Brings the order number sorts read (stock_list_order) up to the live numbers of these SKUs' levels, or of every
 * level (one read of both tables, about a second at a million), writing only what differs; the SKUs in chunks, each
 * its own short transaction. Returns how many levels' order it changed.
 */
async function refreshOrder(ctx: ServiceContext, skus: readonly string[] | 'all'): Promise<number> {
  if (skus === 'all') return ctx.db.transaction((tx) => refreshStockListOrder(tx, 'all'));
  let written = 0;
  for (let i = 0; i < skus.length; i += ORDER_REFRESH_CHUNK) {
    const chunk = skus.slice(i, i + ORDER_REFRESH_CHUNK);
    written += await ctx.db.transaction((tx) => refreshStockListOrder(tx, chunk));
  }
  return written;
}

function cursorKey(cursor: string, sorted: Sorted): StockKey {
  const key = decodeStockCursor(cursor, sorted.sort, sorted.order);
  if (!key) throw ValidationError.field('/cursor', 'not a cursor this list returned for this sort and order');
  return key;
}
