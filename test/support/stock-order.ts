import { afterAll, beforeAll } from 'vitest';
import type { StockChange } from '../../src/domain/stock-change.js';
import { StockChanges } from '../../src/infra/stock-changes.js';
import { StockListOrderRefresher } from '../../src/services/stock-list.js';
import type { Harness } from './harness.js';
import { uniq } from './harness.js';

/**
 * The order of the stock list's number sorts following the announced changes of the harness's database as a
 * server's does (serve.ts): a refresher handed every change, which waits `everyMs` (a minute unless told) before it
 * refreshes by itself, so a test says when (`settled`) and sees both sides of a refresh.
 */
export function useStockOrder(h: Harness, everyMs = 60_000) {
  const ctx = {} as { changes: StockChanges; refresher: StockListOrderRefresher };
  const heard = new Set<(change: StockChange) => void>();
  beforeAll(async () => {
    ctx.changes = await StockChanges.follow(h.s.db);
    ctx.refresher = new StockListOrderRefresher(h.s.stockList, everyMs);
    ctx.changes.subscribe((change) => {
      ctx.refresher.onChange(change);
      for (const listener of heard) listener(change);
    });
  });
  afterAll(async () => {
    await ctx.refresher.close();
    await ctx.changes.close();
  });
  /**
   * Every change committed so far heard and refreshed: a marker announced now is heard after them (notices come in
   * commit order), then the refresher is flushed.
   */
  const settled = async (): Promise<void> => {
    const marker = uniq('MARK');
    await new Promise<void>((resolve, reject) => {
      const listener = (change: StockChange): void => {
        if ('skus' in change && change.skus.includes(marker)) {
          heard.delete(listener);
          resolve();
        }
      };
      heard.add(listener);
      h.s.db.query('SELECT stockroom_announce($1)', [marker]).catch(reject);
    });
    await ctx.refresher.flush();
  };
  return { ctx, settled };
}
