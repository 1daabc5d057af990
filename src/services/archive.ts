import { ArchivedError, InUseError, NotFoundError } from '../domain/errors.js';
import type { StockInUse } from '../domain/errors.js';
import {
  firstArchived,
  lockWarehouseStock,
  setVariantArchived,
  setWarehouseArchived,
  variantStock,
} from '../store/archive.js';
import { lockVariant } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { countOpenPurchaseOrders } from '../store/purchase-orders.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toVariant, toWarehouse } from './dto.js';
import type { Variant, Warehouse } from './dto.js';
import { runIdempotently } from './idempotency.js';
import { variantBySku, warehouseByCode } from './lookups.js';
import { Sku, WarehouseCode, parse } from './schemas.js';

/** A level a write brings units into, with the SKU and warehouse code a refusal names. */
interface ArchivableLevel {
  variantId: number;
  warehouseId: number;
  sku: string;
  warehouse: string;
}

const inUse = (holding: StockInUse): boolean =>
  holding.on_hand > 0 || holding.reserved > 0 || holding.open_reservations > 0 || holding.open_purchase_orders > 0;

/**
 * Archives a warehouse: it leaves routing, the storefront and lists, and nothing is received into it; its ledger
 * and reservations stay readable. Refused (in_use) while it holds units or open reservations, judged on its
 * levels locked in the order every stock change locks them, so a receipt or reservation racing it either lands
 * first (and the archive is refused) or finds the warehouse archived; and while an open purchase order has units to
 * come into it (they could never be received, yet would count as incoming), judged with its row locked, which an
 * order being placed into it holds a share lock on. Archiving an archived one changes nothing.
 */
export function archiveWarehouse(ctx: ServiceContext, code: string, options: CallOptions = {}): Promise<Warehouse> {
  parse(WarehouseCode, code, '/code');
  return runIdempotently(ctx, 'warehouse.archive', options, { code }, async (tx) => {
    const warehouse = await warehouseByCode(tx, code);
    const levels = await lockWarehouseStock(tx, warehouse.id);
    if (warehouse.archived_at === null) {
      const holding = {
        ...levels,
        open_purchase_orders: await countOpenPurchaseOrders(tx, { warehouseId: warehouse.id }),
      };
      if (inUse(holding)) throw new InUseError('warehouse', code, holding);
      await setWarehouseArchived(tx, warehouse.id, ctx.clock());
    }
    return toWarehouse(await warehouseByCode(tx, code));
  });
}

/** Takes an archived warehouse back into use (routing, the storefront, lists, receipts). */
export function unarchiveWarehouse(ctx: ServiceContext, code: string, options: CallOptions = {}): Promise<Warehouse> {
  parse(WarehouseCode, code, '/code');
  return runIdempotently(ctx, 'warehouse.unarchive', options, { code }, async (tx) => {
    const warehouse = await warehouseByCode(tx, code);
    await lockWarehouseStock(tx, warehouse.id);
    if (warehouse.archived_at !== null) await setWarehouseArchived(tx, warehouse.id, null);
    return toWarehouse(await warehouseByCode(tx, code));
  });
}

/**
 * Archives a variant, as archiveWarehouse does a warehouse: refused while any warehouse holds it, an order does, or
 * an open purchase order has units of it to come (judged with its levels and row locked: lockVariant).
 */
export function archiveVariant(ctx: ServiceContext, sku: string, options: CallOptions = {}): Promise<Variant> {
  parse(Sku, sku, '/sku');
  return runIdempotently(ctx, 'variant.archive', options, { sku }, async (tx) => {
    const variant = await lockVariant(tx, sku);
    if (!variant) throw new NotFoundError('variant', sku);
    if (variant.archived_at === null) {
      const holding = {
        ...(await variantStock(tx, variant.id)),
        open_purchase_orders: await countOpenPurchaseOrders(tx, { variantId: variant.id }),
      };
      if (inUse(holding)) throw new InUseError('variant', sku, holding);
      await setVariantArchived(tx, variant.id, ctx.clock());
    }
    return toVariant(await variantBySku(tx, sku));
  });
}

/** Takes an archived variant back into use. */
export function unarchiveVariant(ctx: ServiceContext, sku: string, options: CallOptions = {}): Promise<Variant> {
  parse(Sku, sku, '/sku');
  return runIdempotently(ctx, 'variant.unarchive', options, { sku }, async (tx) => {
    const variant = await lockVariant(tx, sku);
    if (!variant) throw new NotFoundError('variant', sku);
    if (variant.archived_at !== null) await setVariantArchived(tx, variant.id, null);
    return toVariant(await variantBySku(tx, sku));
  });
}

/**
 * Refuses a write that brings units into an archived warehouse or of an archived variant. Called once the
 * level is locked (after applyMovements), so an archive that committed while the write waited is seen and the
 * write rolls back with its transaction.
 */
export async function refuseArchived(tx: Queryable, levels: readonly ArchivableLevel[]): Promise<void> {
  const archived = await firstArchived(tx, levels);
  const level = archived && levels[archived.idx];
  if (!archived || !level) return;
  if (archived.warehouse) throw new ArchivedError('warehouse', level.warehouse);
  throw new ArchivedError('variant', level.sku);
}
