import { availabilityOf } from '../domain/availability.js';
import type { AvailabilityStatus } from '../domain/availability.js';
import { UnknownSkuError } from '../domain/errors.js';
import { readAvailability } from '../store/availability.js';
import type { ServiceContext } from './context.js';
import { AvailabilityInput, parse } from './schemas.js';

/** One SKU as the storefront shows it. */
export interface AvailabilityItem {
  sku: string;
  available: number;
  status: AvailabilityStatus;
  label: string;
}

/** What shoppers are told: a status and a label per SKU, never the numbers behind them. */
export class AvailabilityService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Up to 100 SKUs, in the order asked (each once); an unknown SKU refuses the call, naming it. */
  async get(input: unknown): Promise<{ items: AvailabilityItem[] }> {
    const skus = [...new Set(parse(AvailabilityInput, input).sku)];
    const rows = new Map((await readAvailability(this.ctx.db, skus)).map((r) => [r.sku, r]));
    const unknown = skus.filter((sku) => !rows.has(sku));
    if (unknown.length > 0) throw new UnknownSkuError(unknown);
    return {
      items: skus.map((sku) => {
        const r = rows.get(sku);
        if (!r) throw new UnknownSkuError([sku]);
        const a = availabilityOf({
          levels: r.levels,
          low_stock_threshold: r.low_stock_threshold,
          backorder: { policy: r.backorder_policy, limit: r.backorder_limit, lead_days: r.backorder_lead_days },
        });
        return { sku, ...a };
      }),
    };
  }
}
