import { availabilityOf } from '../domain/availability.js';
import type { AvailabilityStatus } from '../domain/availability.js';
import { UnknownSkuError } from '../domain/errors.js';
import { readAvailability } from '../store/availability.js';
import { missing } from './context.js';
import type { ServiceContext } from './context.js';
import { AvailabilityInput, parse } from './schemas.js';

/** One SKU as the storefront shows it. */
export interface AvailabilityItem {
  sku: string;
  available: number;
  status: AvailabilityStatus;
  label: string;
}

/**
 * Where answers may be kept between reads (the server's cache, emptied as the database announces changes).
 * `begin` marks the start of a read of the database; `set` keeps its answers except for SKUs that changed
 * since; `end` says the read is over.
 */
export interface AvailabilityCache {
  get(skus: readonly string[]): Map<string, AvailabilityItem> | Promise<Map<string, AvailabilityItem>>;
  begin(): number;
  set(items: ReadonlyMap<string, AvailabilityItem>, since: number): void | Promise<void>;
  end(since: number): void;
}

/**
 * What shoppers are told: a status and a label per SKU, never the numbers behind them. Only this reads the
 * cache: reservations, commits and stock reads always read the database.
 */
export class AvailabilityService {
  private cache: AvailabilityCache | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  /** Answers from this cache from now on (the server sets one up; the library reads the database). */
  useCache(cache: AvailabilityCache | undefined): void {
    this.cache = cache;
  }

  /** Up to 100 SKUs, in the order asked (each once); an unknown SKU refuses the call, naming it. */
  async get(input: unknown): Promise<{ items: AvailabilityItem[] }> {
    const skus = [...new Set(parse(AvailabilityInput, input).sku)];
    const cache = this.cache;
    // the cache is a help, not a dependency: if it cannot answer (Redis away), the database does
    const known = (await Promise.resolve(cache?.get(skus)).catch(() => undefined)) ?? new Map<string, AvailabilityItem>();
    const wanted = skus.filter((sku) => !known.has(sku));
    if (wanted.length > 0) {
      const since = cache?.begin();
      try {
        const fresh = await this.read(wanted);
        if (cache && since !== undefined) await Promise.resolve(cache.set(fresh, since)).catch(() => undefined);
        for (const [sku, item] of fresh) known.set(sku, item);
      } finally {
        if (cache && since !== undefined) cache.end(since);
      }
    }
    return { items: skus.map((sku) => known.get(sku) ?? missing(`availability of ${sku}`)) };
  }

  private async read(skus: readonly string[]): Promise<Map<string, AvailabilityItem>> {
    const rows = new Map((await readAvailability(this.ctx.db, skus)).map((r) => [r.sku, r]));
    const unknown = skus.filter((sku) => !rows.has(sku));
    if (unknown.length > 0) throw new UnknownSkuError(unknown);
    return new Map(
      [...rows.values()].map((r) => {
        const a = availabilityOf({
          levels: r.levels,
          low_stock_threshold: r.low_stock_threshold,
          backorder: { policy: r.backorder_policy, limit: r.backorder_limit, lead_days: r.backorder_lead_days },
        });
        return [r.sku, { sku: r.sku, ...a }];
      }),
    );
  }
}
