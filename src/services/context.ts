import { createHash } from 'node:crypto';
import { IdempotencyConflictError, NotFoundError, QuantityLimitError, UnknownSkuError } from '../domain/errors.js';
import { findVariants, findWarehouses } from '../store/catalog.js';
import type { VariantRow, WarehouseRow } from '../store/catalog.js';
import { sqlState } from '../store/db.js';
import type { Db, Queryable } from '../store/db.js';
import { claimKey, storeResponse } from '../store/idempotency.js';
import { findSuppliers } from '../store/purchasing.js';
import type { SupplierRow } from '../store/purchasing.js';

/** What every use case runs against. The clock is injectable so deadlines can be tested without waiting. */
export interface ServiceContext {
  db: Db;
  clock: () => Date;
}

/** Per call: who is acting (recorded on ledger rows) and an optional idempotency key. */
export interface CallOptions {
  actor?: string | undefined;
  idempotencyKey?: string | undefined;
  /** whose key it is (e.g. an API key id): keys of different clients never meet */
  idempotencyScope?: string | undefined;
}

/** Canonical JSON: object keys sorted, so equal requests hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const requestHash = (request: unknown): string => createHash('sha256').update(canonical(request)).digest('hex');

/** The key as stored (scoped to its client) and the request's hash, or undefined without a key. */
export function idempotencyOf(
  options: CallOptions,
  request: unknown,
): { key: string; requestHash: string } | undefined {
  const key = options.idempotencyKey;
  if (key === undefined) return undefined;
  return {
    key: options.idempotencyScope === undefined ? key : `${options.idempotencyScope}:${key}`,
    requestHash: requestHash(request),
  };
}

/**
 * Runs a use case in one transaction, at most once per idempotency key: a replay with the same request
 * returns the first result and changes nothing; the same key with another request is refused. Results
 * must be plain JSON (they are stored and replayed as such). A failed attempt stores nothing, so the key
 * can be retried.
 */
export async function runOnce<T>(
  ctx: ServiceContext,
  scope: string,
  options: CallOptions,
  request: unknown,
  run: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const work = ctx.db.transaction(async (tx) => {
    const idem = idempotencyOf(options, request);
    if (idem === undefined) return run(tx);
    const claim = await claimKey(tx, scope, idem.key, idem.requestHash);
    if (!claim.claimed) {
      if (claim.requestHash !== idem.requestHash)
        throw new IdempotencyConflictError(options.idempotencyKey ?? idem.key);
      return claim.response as T;
    }
    const result = await run(tx);
    await storeResponse(tx, scope, idem.key, result);
    return result;
  });
  return work.catch((error: unknown) => {
    // numeric_value_out_of_range: many in-range operations can add up past an integer column; the transaction
    // is rolled back, so the caller learns the limit and that nothing changed
    throw sqlState(error) === '22003' ? new QuantityLimitError() : error;
  });
}

/** For a row or value resolved earlier in the same transaction that is not there: a bug, never bad input. */
export function missing(what: string): never {
  throw new Error(`unreachable: ${what} resolved earlier in this transaction is missing`);
}

/** Variants by SKU; every unknown SKU is named in one error. */
export async function variantsBySku(db: Queryable, skus: readonly string[]): Promise<Map<string, VariantRow>> {
  const rows = await findVariants(db, skus);
  const bySku = new Map(rows.map((v) => [v.sku, v]));
  const missing = [...new Set(skus)].filter((s) => !bySku.has(s));
  if (missing.length > 0) throw new UnknownSkuError(missing);
  return bySku;
}

export async function variantBySku(db: Queryable, sku: string): Promise<VariantRow> {
  return (await variantsBySku(db, [sku])).get(sku) as VariantRow;
}

/** Warehouses by code; an unknown code is a not_found error. */
export async function warehousesByCode(db: Queryable, codes: readonly string[]): Promise<Map<string, WarehouseRow>> {
  const rows = await findWarehouses(db, codes);
  const byCode = new Map(rows.map((w) => [w.code, w]));
  const missing = [...new Set(codes)].filter((c) => !byCode.has(c));
  if (missing.length > 0) throw new NotFoundError('warehouse', missing.join(', '));
  return byCode;
}

export async function warehouseByCode(db: Queryable, code: string): Promise<WarehouseRow> {
  return (await warehousesByCode(db, [code])).get(code) as WarehouseRow;
}

export async function supplierByCode(db: Queryable, code: string): Promise<SupplierRow> {
  const [row] = await findSuppliers(db, [code]);
  if (!row) throw new NotFoundError('supplier', code);
  return row;
}
