import { NotFoundError, UnknownSkuError } from '../domain/errors.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import type { VariantRow, WarehouseRow } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { findSuppliers } from '../store/suppliers.js';
import type { SupplierRow } from '../store/suppliers.js';

/** For a row or value resolved earlier in the same transaction that is not there: a bug, never bad input. */
export function missing(what: string): never {
  throw new Error(`unreachable: ${what} resolved earlier in this transaction is missing`);
}

/** Variants by SKU; every unknown SKU is named in one error. */
export async function variantsBySku(db: Queryable, skus: readonly string[]): Promise<Map<string, VariantRow>> {
  const rows = await findVariants(db, skus);
  const bySku = new Map(rows.map((variant) => [variant.sku, variant]));
  const unknown = [...new Set(skus)].filter((sku) => !bySku.has(sku));
  if (unknown.length > 0) throw new UnknownSkuError(unknown);
  return bySku;
}

/** One variant by SKU, for use cases that name one; an unknown SKU is an unknown_sku error. */
export async function variantBySku(db: Queryable, sku: string): Promise<VariantRow> {
  return (await variantsBySku(db, [sku])).get(sku) as VariantRow;
}

/** Warehouses by code; an unknown code is a not_found error. */
export async function warehousesByCode(db: Queryable, codes: readonly string[]): Promise<Map<string, WarehouseRow>> {
  const rows = await findWarehouses(db, codes);
  const byCode = new Map(rows.map((warehouse) => [warehouse.code, warehouse]));
  const unknown = [...new Set(codes)].filter((code) => !byCode.has(code));
  if (unknown.length > 0) throw new NotFoundError('warehouse', unknown.join(', '));
  return byCode;
}

/** One warehouse by code, for use cases that name one; an unknown code is a not_found error. */
export async function warehouseByCode(db: Queryable, code: string): Promise<WarehouseRow> {
  return (await warehousesByCode(db, [code])).get(code) as WarehouseRow;
}

/** A supplier by code; an unknown code is a not_found error. */
export async function supplierByCode(db: Queryable, code: string): Promise<SupplierRow> {
  const [row] = await findSuppliers(db, [code]);
  if (!row) throw new NotFoundError('supplier', code);
  return row;
}
