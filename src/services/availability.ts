import { availabilityOf, untrackedAvailability } from '../domain/availability.js';
import type { AvailabilityStatus } from '../domain/availability.js';
import { UnknownSkuError, ValidationError } from '../domain/errors.js';
import { daysUntil } from '../domain/purchasing.js';
import { serves } from '../domain/service-area.js';
import type { Shopper } from '../domain/service-area.js';
import { readAvailability } from '../store/availability.js';
import type { ReadSource } from '../store/replicas.js';
import { missing } from './lookups.js';
import { staleReads, staleness } from './context.js';
import type { ServiceContext } from './context.js';
import { AvailabilityQuery, MAX_QTY, parse } from './schemas.js';
import { KitRegistry, kitAvailabilityRow } from './kits.js';
import { componentSkus, kitsNamed } from './kit-holds.js';

/** Who asks, when they say: their region and where they would ship to. */
function shopperOf(req: AvailabilityQuery): Shopper | undefined {
  if (req.region === undefined && req.ship_to === undefined) return undefined;
  const [lat = NaN, lon = NaN] = req.ship_to?.split(',').map(Number) ?? [];
  if (req.ship_to !== undefined && (Math.abs(lat) > 90 || Math.abs(lon) > 180)) {
    throw ValidationError.field('/ship_to', 'must be lat,lon within -90..90 and -180..180');
  }
  return { region: req.region, ship_to: req.ship_to === undefined ? undefined : { lat, lon } };
}

/** One SKU as the storefront shows it. */
export interface AvailabilityItem {
  sku: string;
  available: number;
  status: AvailabilityStatus;
  label: string;
}

/**
 * Where answers may be kept between reads (the server's cache, emptied as the database announces changes).
 * `begin` marks the start of a read of the database (of a replica's read: `lookbackMs` earlier, as it may lack
 * what was committed since); `set` keeps its answers except for SKUs that changed since, each for at most its
 * time to live, and no longer than `lifetimes` says (ms) where it says; `end` says the read is over.
 */
export interface AvailabilityCache {
  /** how long an answer is kept at most, in ms */
  readonly ttlMs: number;
  get(skus: readonly string[]): Map<string, AvailabilityItem> | Promise<Map<string, AvailabilityItem>>;
  begin(lookbackMs?: number): number;
  set(
    items: ReadonlyMap<string, AvailabilityItem>,
    since: number,
    lifetimes?: ReadonlyMap<string, number>,
  ): void | Promise<void>;
  end(since: number): void;
}

/**
 * What shoppers are told: a status and a label per SKU, never the numbers behind them. Only this reads the
 * cache: reservations, commits and stock reads always read the database.
 */
export class AvailabilityService {
  private cache: AvailabilityCache | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    /** the kits: a kit shows what its components make */
    private readonly kits: KitRegistry = new KitRegistry(ctx.db),
  ) {}

  /** Answers from this cache from now on (the server sets one up; the library reads the database). */
  useCache(cache: AvailabilityCache | undefined): void {
    this.cache = cache;
    // with replicas, the cache remembers changes for their look-back from now on, not from the first read
    if (cache && staleness(this.ctx) > 0) cache.end(cache.begin(staleness(this.ctx)));
  }

  /**
   * Up to 100 SKUs, in the order asked (each once); an unknown SKU refuses the call, naming it. With a region
   * or a ship-to point, only the warehouses that serve it count (such answers are not cached). What the cache does
   * not hold is read from a replica when there are any, unless `primary` (a live stream, which is told only of
   * later changes, must not start from or settle on an answer older than a change it heard of).
   */
  async get(input: AvailabilityQuery, options: { primary?: boolean } = {}): Promise<{ items: AvailabilityItem[] }> {
    const req = parse(AvailabilityQuery, input);
    const skus = [...new Set(req.sku)];
    const shopper = shopperOf(req);
    const cache = shopper ? undefined : this.cache;
    // the cache is a help, not a dependency: if it cannot answer (Redis away), the database does
    const known =
      (await Promise.resolve(cache?.get(skus)).catch(() => undefined)) ?? new Map<string, AvailabilityItem>();
    const wanted = skus.filter((sku) => !known.has(sku));
    if (wanted.length > 0) {
      // a replica's answer may miss changes announced up to its staleness ago: those are not cached from it
      const since = cache?.begin(options.primary ? 0 : staleness(this.ctx));
      try {
        const source = options.primary ? this.ctx.db : staleReads(this.ctx);
        const { items: fresh, lifetimes } = await this.read(source, wanted, shopper ?? {}, cache?.ttlMs);
        if (cache && since !== undefined)
          await Promise.resolve(cache.set(fresh, since, lifetimes)).catch(() => undefined);
        for (const [sku, item] of fresh) known.set(sku, item);
      } finally {
        if (cache && since !== undefined) cache.end(since);
      }
    }
    return { items: skus.map((sku) => known.get(sku) ?? missing(`availability of ${sku}`)) };
  }

  /**
   * The answers from the database, and for those to be kept up to `keepMs`, how long each stays true: a hold
   * that runs out changes the answer without any change being announced.
   */
  private async read(
    source: ReadSource,
    skus: readonly string[],
    shopper: Shopper,
    keepMs?: number,
  ): Promise<{ items: Map<string, AvailabilityItem>; lifetimes: Map<string, number> }> {
    const now = this.ctx.clock();
    const horizon = keepMs === undefined ? null : new Date(now.getTime() + keepMs);
    const kits = kitsNamed(
      skus.map((sku) => ({ sku })),
      await this.kits.current(),
    );
    const asked = kits ? [...new Set([...skus, ...componentSkus(kits)])] : skus;
    const rows = new Map((await readAvailability(source, asked, now, horizon)).map((row) => [row.sku, row]));
    for (const kit of kits?.values() ?? []) {
      const row = rows.get(kit.sku);
      if (row) rows.set(kit.sku, kitAvailabilityRow(kit, row, rows));
    }
    const unknown = skus.filter((sku) => !rows.has(sku));
    if (unknown.length > 0) throw new UnknownSkuError(unknown);
    const lifetimes = new Map(
      [...rows.values()].flatMap((row) =>
        row.next_deadline === null ? [] : [[row.sku, new Date(row.next_deadline).getTime() - now.getTime()] as const],
      ),
    );
    const items = new Map(
      [...rows.values()].map((row) => {
        const levels = row.levels.filter((level) => serves(level, shopper));
        const incoming = levels
          .map((level) => level.incoming_date)
          .filter((date) => date !== null)
          .sort()[0];
        const shown = row.track_inventory
          ? availabilityOf({
              levels,
              incoming_in_days: incoming === undefined ? null : daysUntil(now, incoming),
              low_stock_threshold: row.low_stock_threshold,
              backorder: {
                policy: row.backorder_policy,
                limit: row.backorder_limit,
                lead_days: row.backorder_lead_days,
              },
              variant_wide:
                row.limit_scope === 'variant'
                  ? { levels: row.levels, safety_stock: row.variant_safety_stock }
                  : undefined,
            })
          : untrackedAvailability(levels.length, MAX_QTY);
        return [row.sku, { sku: row.sku, ...shown }];
      }),
    );
    return { items, lifetimes };
  }
}
