import { isAlertType } from '../domain/alerts.js';
import { ValidationError } from '../domain/errors.js';
import { listAlerts } from '../store/alerts.js';
import { DEFAULT_PAGE, MAX_PAGE } from './catalog.js';
import type { Page } from './catalog.js';
import { variantBySku } from './context.js';
import type { ServiceContext } from './context.js';
import { toAlert } from './dto.js';
import type { Alert } from './dto.js';

export interface AlertQuery {
  type?: string | undefined;
  sku?: string | undefined;
  warehouse?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Low-stock, out-of-stock and back-in-stock alerts, as the database raised them with each stock change. */
export class AlertService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Newest first, paged by cursor. */
  async list(query: AlertQuery = {}): Promise<Page<Alert>> {
    const limit = Math.min(Math.max(query.limit ?? DEFAULT_PAGE, 1), MAX_PAGE);
    const type = query.type;
    if (type !== undefined && !isAlertType(type)) throw ValidationError.field('/type', `unknown alert type ${type}`);
    const before = query.cursor === undefined ? undefined : Number(query.cursor);
    if (before !== undefined && !Number.isSafeInteger(before)) throw ValidationError.field('/cursor', 'not a cursor this endpoint returned');
    if (query.sku !== undefined) await variantBySku(this.ctx.db, query.sku);
    const rows = await listAlerts(this.ctx.db, { type, sku: query.sku, warehouse: query.warehouse, before, limit: limit + 1 });
    const items = rows.slice(0, limit).map(toAlert);
    return { items, next_cursor: rows.length > limit ? String(items.at(-1)?.id) : null };
  }
}
