import { afterAll, beforeAll } from 'vitest';
import type { StockChange } from '../../src/domain/stock-change.js';
import { StockChanges } from '../../src/infra/stock-changes.js';
import type {
  StockListOrderOptions,
  StockListOrderRefresh,
  StockListOrderUpkeep,
} from '../../src/services/stock-list.js';
import type { Harness } from './harness.js';

/**
 * The harness's stock list following the announced changes of its database as a server's does (serve.ts): every
 * change is handed to the order's upkeep, and every refresh it runs is recorded (`refreshes`). `follow` starts
 * again with other options; `hold` keeps the changes heard from the upkeep until the function it returns is called.
 */
export function useStockOrder(h: Harness) {
  const ctx = { refreshes: [] as StockListOrderRefresh[] } as {
    changes: StockChanges;
    upkeep: StockListOrderUpkeep;
    refreshes: StockListOrderRefresh[];
    held: StockChange[] | undefined;
  };
  const follow = (options: StockListOrderOptions = {}): StockListOrderUpkeep => {
    ctx.upkeep = h.s.stockList.follow({
      ...options,
      onRefreshed: (refresh) => {
        ctx.refreshes.push(refresh);
      },
    });
    return ctx.upkeep;
  };
  const hold = (): (() => void) => {
    ctx.held = [];
    return () => {
      const held = ctx.held ?? [];
      ctx.held = undefined;
      for (const change of held) ctx.upkeep.onChange(change);
    };
  };
  beforeAll(async () => {
    ctx.changes = await StockChanges.follow(h.s.db);
    follow();
    ctx.changes.subscribe((change) => {
      if (ctx.held) ctx.held.push(change);
      else ctx.upkeep.onChange(change);
    });
  });
  afterAll(async () => {
    await h.s.stockList.unfollow();
    await ctx.changes.close();
  });
  return { ctx, follow, hold };
}
