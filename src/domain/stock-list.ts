import { LONE_SURROGATE } from './text.js';

/**
 * A level's status in the stock list (the `status` column of stock_levels, migration 0021): in_stock above the
 * variant's low-stock threshold, low at or below it, and at or below zero preorder or backorder while the level may
 * still promise units within its limit, else out. An untracked variant is always in_stock.
 */
export const STOCK_LIST_STATUSES = ['in_stock', 'low', 'out', 'preorder', 'backorder'] as const;
/** One of STOCK_LIST_STATUSES. */
export type StockListStatus = (typeof STOCK_LIST_STATUSES)[number];

/** What "low stock now" lists: every level at or below its threshold, whether it may still be sold short or not. */
export const LOW_STATUSES: readonly StockListStatus[] = ['low', 'out', 'preorder', 'backorder'];

/** The columns the stock list sorts by: the SKU, or one of the numbers of a level. */
export const STOCK_SORT_FIELDS = ['sku', 'on_hand', 'reserved', 'committed', 'available', 'incoming'] as const;
/** One of STOCK_SORT_FIELDS. */
export type StockSortField = (typeof STOCK_SORT_FIELDS)[number];

/**
 * The numbers whose sorts read the order kept apart from the levels (stock_list_order, migration 0025), which is
 * brought up to date before each such read: the order is that of the numbers as of the read, the numbers shown live.
 */
export const ORDER_KEPT_SORTS: readonly StockSortField[] = ['on_hand', 'reserved', 'available'];

/** Ascending or descending. */
export const SORT_ORDERS = ['asc', 'desc'] as const;
/** One of SORT_ORDERS. */
export type SortOrder = (typeof SORT_ORDERS)[number];

/**
 * Where a page of the stock list ends, as the next page's cursor carries it: the sort it was read in, the last
 * row's sort value and its level (variant and warehouse ids break ties, so every row has one place).
 */
export interface StockKey {
  sort: StockSortField;
  order: SortOrder;
  /** the last row's SKU (sort by sku) or number */
  value: string | number;
  variantId: number;
  warehouseId: number;
}

const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** The opaque cursor of a key: base64url of a small JSON array. */
export function encodeStockCursor(key: StockKey): string {
  return Buffer.from(JSON.stringify([key.sort, key.order, key.value, key.variantId, key.warehouseId])).toString(
    'base64url',
  );
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The key a cursor carries, when it is one this list handed out for the same sort and order; undefined for
 * anything else (a cursor is only good for the list it came from).
 */
export function decodeStockCursor(cursor: string, sort: StockSortField, order: SortOrder): StockKey | undefined {
  if (cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    // strict: bytes that are not UTF-8 are no cursor this list made, not a SKU with U+FFFD in it
    parsed = JSON.parse(STRICT_UTF8.decode(Buffer.from(cursor, 'base64url')));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) return undefined;
  const [givenSort, givenOrder, value, variantId, warehouseId] = parsed as unknown[];
  if (givenSort !== sort || givenOrder !== order || !isId(variantId) || !isId(warehouseId)) return undefined;
  const valueFits =
    sort === 'sku'
      ? typeof value === 'string' &&
        value.length > 0 &&
        value.length <= 64 &&
        !value.includes('\u0000') &&
        // half a surrogate pair (JSON may spell one, "\ud800"): no SKU holds one
        !LONE_SURROGATE.test(value)
      : // every number the list sorts by is a 32-bit integer (a quantity, or a sum of them cast to one)
        Number.isInteger(value) && (value as number) >= -2_147_483_648 && (value as number) <= 2_147_483_647;
  if (!valueFits) return undefined;
  return { sort, order, value: value as string | number, variantId, warehouseId };
}

/** An attribute filter: the attribute's name and the JSON values its text stands for (one of them must be stored). */
export interface AttributeFilter {
  name: string;
  values: (string | number | boolean)[];
}

/** The most attribute filters one list takes. */
export const MAX_ATTRIBUTE_FILTERS = 10;

/**
 * Reads `name:value` (split at the first colon, so a name holds none; the value may be empty): the variants whose
 * attribute `name` is the text `value`, or the number or boolean it spells ("42" matches 42 and "42", "true" true
 * and "true"), as attributes are stored as given (JSON strings, numbers or booleans). Undefined when there is no
 * colon or no name.
 */
export function parseAttributeFilter(text: string): AttributeFilter | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const name = text.slice(0, colon);
  const value = text.slice(colon + 1);
  const values: (string | number | boolean)[] = [value];
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(value) && Number.isFinite(Number(value)))
    values.push(Number(value));
  if (value === 'true' || value === 'false') values.push(value === 'true');
  return { name, values };
}
