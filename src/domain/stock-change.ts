/** What changed: these SKUs, or anything at all (a batch too large to list, or notices missed). */
export type StockChange = { skus: string[] } | { all: true };

/** Reads an announcement: SKUs one per line, or '*'. */
export function parseStockChange(payload: string): StockChange {
  const skus = payload.split('\n').filter((line) => line !== '');
  return payload === '*' || skus.length === 0 ? { all: true } : { skus };
}

/**
 * What a stock list read announces on the same channel to learn that every change before it has been heard (its
 * order's upkeep, services/stock-list.ts): this prefix and a UUID. A SKU holds no whitespace, so none is taken for
 * one.
 */
export const ORDER_MARKER_PREFIX = 'stockroom stock list order ';

/** A change without the stock list's markers (no SKU), for what caches or streams SKUs; undefined if nothing is left. */
export function withoutMarkers(change: StockChange): StockChange | undefined {
  if ('all' in change) return change;
  const skus = change.skus.filter((sku) => !sku.startsWith(ORDER_MARKER_PREFIX));
  if (skus.length === change.skus.length) return change;
  return skus.length > 0 ? { skus } : undefined;
}
