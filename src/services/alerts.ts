import { isAlertType } from '../domain/alerts.js';
import { ValidationError } from '../domain/errors.js';
import { listAlerts } from '../store/alerts.js';
import type { Page } from './paging.js';
import { variantBySku, warehouseByCode } from './lookups.js';
import type { ServiceContext } from './context.js';
import { toAlert } from './dto.js';
import type { Alert } from './dto.js';
import { idCursor, pageLimit, pageOf } from './paging.js';

/** Filters and paging of `alerts.list`; a type or SKU that does not exist is refused, not matched by nothing. */
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
    const limit = pageLimit(query.limit);
    const type = query.type;
    if (type !== undefined && !isAlertType(type)) throw ValidationError.field('/type', `unknown alert type ${type}`);
    const before = idCursor(query.cursor);
    // a filter that names nothing is 404, as on every other list, not an empty page that looks like "no alerts"
    if (query.sku !== undefined) await variantBySku(this.ctx.db, query.sku);
    if (query.warehouse !== undefined) await warehouseByCode(this.ctx.db, query.warehouse);
    const rows = await listAlerts(this.ctx.db, {
      type,
      sku: query.sku,
      warehouse: query.warehouse,
      before,
      limit: limit + 1,
    });
    return pageOf(rows, limit, toAlert, (alert) => alert.id);
  }
}
