/** What changed: these SKUs, or anything at all (a batch too large to list, or notices missed). */
export type StockChange = { skus: string[] } | { all: true };

/** Reads an announcement: SKUs one per line, or '*'. */
export function parseStockChange(payload: string): StockChange {
  const skus = payload.split('\n').filter((line) => line !== '');
  return payload === '*' || skus.length === 0 ? { all: true } : { skus };
}
