import { backorderAllowance } from '../domain/backorder.js';
import type { BackorderPolicy } from '../domain/backorder.js';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../domain/errors.js';
import {
  createLevelsForVariant,
  createLevelsForWarehouse,
  findVariants,
  insertBin,
  insertProduct,
  insertVariant,
  insertWarehouse,
  listBins,
  listVariants,
  listWarehouses,
  lockCatalogShape,
  lockVariant,
  updateVariant,
} from '../store/catalog.js';
import type { VariantFields, VariantRow } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { archiveVariant, archiveWarehouse, unarchiveVariant, unarchiveWarehouse } from './archive.js';
import { pageLimit, pageOf } from './paging.js';
import type { Page } from './paging.js';
import { runIdempotently } from './idempotency.js';
import { supplierByCode, variantBySku, warehouseByCode } from './lookups.js';
import type { CallOptions, ServiceContext } from './context.js';
import { toVariant, toWarehouse } from './dto.js';
import type { Variant, Warehouse } from './dto.js';
import { BinInput, VariantInput, VariantUpdate, WarehouseInput, parse } from './schemas.js';

/** Warehouses, variants and bins: the shape of the catalog that stock lives in. */
export class CatalogService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Adds a warehouse, with a level for every variant; lat and lon go together, and a delivery radius needs them. */
  async addWarehouse(input: WarehouseInput, options: CallOptions = {}): Promise<Warehouse> {
    const warehouse = parse(WarehouseInput, input);
    if ((warehouse.lat === undefined) !== (warehouse.lon === undefined))
      throw ValidationError.field('/lat', 'lat and lon go together');
    if (warehouse.serves_within_km !== undefined && warehouse.lat === undefined)
      throw ValidationError.field('/serves_within_km', 'a delivery radius needs lat and lon');
    return runIdempotently(this.ctx, 'warehouse.add', options, warehouse, async (tx) => {
      await lockCatalogShape(tx, 'exclusive');
      const row = await insertWarehouse(tx, {
        code: warehouse.code,
        name: warehouse.name,
        lat: warehouse.lat ?? null,
        lon: warehouse.lon ?? null,
        priority: warehouse.priority ?? 0,
        regions: [...new Set((warehouse.regions ?? []).map((region) => region.toUpperCase()))],
        servesWithinKm: warehouse.serves_within_km ?? null,
      });
      if (!row) throw new AlreadyExistsError('warehouse', warehouse.code);
      await createLevelsForWarehouse(tx, row.id);
      return toWarehouse(row);
    });
  }

  /** Every warehouse in use; with `archived: true`, every archived one instead. */
  async listWarehouses(filter: { archived?: boolean | undefined } = {}): Promise<Warehouse[]> {
    return (await listWarehouses(this.ctx.db, filter.archived ?? false)).map(toWarehouse);
  }

  /** Archives a warehouse (see archiveWarehouse): refused with in_use while it holds stock or open reservations. */
  archiveWarehouse(code: string, options: CallOptions = {}): Promise<Warehouse> {
    return archiveWarehouse(this.ctx, code, options);
  }

  /** Takes an archived warehouse back into use. */
  unarchiveWarehouse(code: string, options: CallOptions = {}): Promise<Warehouse> {
    return unarchiveWarehouse(this.ctx, code, options);
  }

  /** Archives a variant (see archiveVariant): refused with in_use while it holds stock or open reservations. */
  archiveVariant(sku: string, options: CallOptions = {}): Promise<Variant> {
    return archiveVariant(this.ctx, sku, options);
  }

  /** Takes an archived variant back into use. */
  unarchiveVariant(sku: string, options: CallOptions = {}): Promise<Variant> {
    return unarchiveVariant(this.ctx, sku, options);
  }

  /** Adds a variant (and its product), with a level in every warehouse. */
  async addVariant(input: VariantInput, options: CallOptions = {}): Promise<Variant> {
    const variant = parse(VariantInput, input);
    return runIdempotently(this.ctx, 'variant.add', options, variant, async (tx) => {
      const fields = variantFields(variant, undefined, await supplierIdOf(tx, variant.supplier));
      await lockCatalogShape(tx, 'shared');
      const productId = await insertProduct(tx, {
        title: variant.product.title,
        category: variant.product.category ?? null,
        tags: variant.product.tags ?? [],
      });
      const id = await insertVariant(tx, productId, variant.sku, fields);
      if (id === undefined) throw new AlreadyExistsError('variant', variant.sku);
      await createLevelsForVariant(tx, id);
      return toVariant(await variantBySku(tx, variant.sku));
    });
  }

  /** Changes a variant's settings; what is not given stays as it was. */
  async updateVariant(sku: string, input: VariantUpdate, options: CallOptions = {}): Promise<Variant> {
    const patch = parse(VariantUpdate, input);
    return runIdempotently(this.ctx, 'variant.update', options, { sku, ...patch }, async (tx) => {
      const current = await lockVariant(tx, sku);
      if (!current) throw new NotFoundError('variant', sku);
      const supplierId = patch.supplier === undefined ? current.supplier_id : await supplierIdOf(tx, patch.supplier);
      await updateVariant(tx, current.id, variantFields(patch, current, supplierId), {
        title: patch.product?.title ?? current.product_title,
        category: patch.product?.category === undefined ? current.product_category : patch.product.category,
        tags: patch.product?.tags ?? current.product_tags,
      });
      return toVariant(await variantBySku(tx, sku));
    });
  }

  /** One variant by SKU. */
  async getVariant(sku: string): Promise<Variant> {
    return toVariant(await variantBySku(this.ctx.db, sku));
  }

  /**
   * Variants by SKU, optionally matching a query, a category (with those below it) or a tag, a page at a time:
   * those in use, or with `archived: true` the archived ones.
   */
  async listVariants(
    filter: {
      query?: string | undefined;
      category?: string | undefined;
      tag?: string | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
      archived?: boolean | undefined;
    } = {},
  ): Promise<Page<Variant>> {
    const limit = pageLimit(filter.limit);
    // a cursor is the SKU of the last variant a page showed: variants are never deleted, so a SKU that names none
    // was never handed out
    if (filter.cursor !== undefined && (await findVariants(this.ctx.db, [filter.cursor])).length === 0)
      throw ValidationError.field('/cursor', 'not a cursor this endpoint returned');
    const rows = await listVariants(this.ctx.db, {
      query: filter.query,
      category: filter.category,
      tag: filter.tag,
      after: filter.cursor,
      limit: limit + 1,
      archived: filter.archived,
    });
    return pageOf(rows, limit, toVariant, (variant) => variant.sku);
  }

  /** Adds a storage bin to a warehouse. */
  async addBin(input: BinInput, options: CallOptions = {}): Promise<{ warehouse: string; code: string }> {
    const bin = parse(BinInput, input);
    return runIdempotently(this.ctx, 'bin.add', options, bin, async (tx) => {
      const warehouse = await warehouseByCode(tx, bin.warehouse);
      const row = await insertBin(tx, warehouse.id, bin.code);
      if (!row) throw new AlreadyExistsError('bin', `${bin.warehouse}/${bin.code}`);
      return { warehouse: warehouse.code, code: row.code };
    });
  }

  /** A warehouse's bins. */
  async listBins(warehouseCode: string): Promise<{ warehouse: string; code: string }[]> {
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    return (await listBins(this.ctx.db, warehouse.id)).map((bin) => ({ warehouse: warehouse.code, code: bin.code }));
  }
}

/**
 * The stored settings from an input, over the current ones (or the defaults). A backorder or pre-order
 * policy needs a limit: "unbounded" is not a number stock can be checked against.
 */
function variantFields(
  input: VariantUpdate,
  current: VariantRow | undefined,
  supplierId: number | null,
): VariantFields {
  const policy: BackorderPolicy = input.backorder?.policy ?? current?.backorder_policy ?? 'deny';
  const limit = input.backorder ? input.backorder.limit : current?.backorder_limit;
  if (policy !== 'deny' && (limit === undefined || limit === 0)) {
    throw ValidationError.field(
      '/backorder/limit',
      `a ${policy} policy needs a limit of at least 1 (units per warehouse)`,
    );
  }
  return {
    attributes: input.attributes ?? current?.attributes ?? {},
    low_stock_threshold: input.low_stock_threshold ?? current?.low_stock_threshold ?? 5,
    safety_stock: input.safety_stock ?? current?.safety_stock ?? 0,
    backorder_policy: policy,
    backorder_limit: backorderAllowance({ policy, limit: limit ?? 0 }),
    backorder_lead_days: input.backorder ? (input.backorder.lead_days ?? null) : (current?.backorder_lead_days ?? null),
    reorder_point: input.reorder_point === undefined ? (current?.reorder_point ?? null) : input.reorder_point,
    reorder_qty: input.reorder_qty === undefined ? (current?.reorder_qty ?? null) : input.reorder_qty,
    lead_time_days: input.lead_time_days === undefined ? (current?.lead_time_days ?? null) : input.lead_time_days,
    supplier_id: supplierId,
    limit_scope: input.limit_scope ?? current?.limit_scope ?? 'warehouse',
    track_inventory: input.track_inventory ?? current?.track_inventory ?? true,
  };
}

async function supplierIdOf(tx: Queryable, code: string | null | undefined): Promise<number | null> {
  return code === undefined || code === null ? null : (await supplierByCode(tx, code)).id;
}
