import type { BackorderPolicy } from '../domain/backorder.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';
import type { LimitScope } from '../domain/variant-limits.js';
import type { Queryable } from './db.js';
import { anyOf } from './sql.js';

/** A warehouse as stored: its code, place, rank and service area. */
export interface WarehouseRow {
  id: number;
  code: string;
  name: string;
  lat: number | null;
  lon: number | null;
  priority: number;
  regions: string[];
  serves_within_km: number | null;
  created_at: Date;
  /** set while the warehouse is archived: out of routing, the storefront and lists */
  archived_at: Date | null;
}

const WAREHOUSE_COLUMNS = 'id, code, name, lat, lon, priority, regions, serves_within_km, created_at, archived_at';

/** A warehouse to add, as insertWarehouse writes it. */
export interface NewWarehouse {
  code: string;
  name: string;
  lat: number | null;
  lon: number | null;
  priority: number;
  regions: readonly string[];
  servesWithinKm: number | null;
}

/** @returns the new row, or undefined when the code is taken */
export async function insertWarehouse(tx: Queryable, warehouse: NewWarehouse): Promise<WarehouseRow | undefined> {
  const { rows } = await tx.query<WarehouseRow>(
    `INSERT INTO warehouses (code, name, lat, lon, priority, regions, serves_within_km) VALUES ($1, $2, $3, $4, $5, $6::text[], $7)
     ON CONFLICT (code) DO NOTHING RETURNING ${WAREHOUSE_COLUMNS}`,
    [
      warehouse.code,
      warehouse.name,
      warehouse.lat,
      warehouse.lon,
      warehouse.priority,
      warehouse.regions,
      warehouse.servesWithinKm,
    ],
  );
  return rows[0];
}

/** Every warehouse in use (or, with `archived`, every archived one), in routing rank: higher priority first, then by code. */
export async function listWarehouses(db: Queryable, archived = false): Promise<WarehouseRow[]> {
  const { rows } = await db.query<WarehouseRow>(
    `SELECT ${WAREHOUSE_COLUMNS} FROM warehouses WHERE (archived_at IS NOT NULL) = $1 ORDER BY priority DESC, code`,
    [archived],
  );
  return rows;
}

/** The warehouses of these codes that exist. */
export async function findWarehouses(db: Queryable, codes: readonly string[]): Promise<WarehouseRow[]> {
  const { rows } = await db.query<WarehouseRow>(
    `SELECT ${WAREHOUSE_COLUMNS} FROM warehouses WHERE code = ${anyOf('$1::text[]')}`,
    [codes],
  );
  return rows;
}

/** A variant as stored, with its product's title and its supplier's code. */
export interface VariantRow {
  id: number;
  product_id: number;
  product_title: string;
  /** the product's category path (apparel/shirts), if it has one */
  product_category: string | null;
  product_tags: string[];
  sku: string;
  attributes: Record<string, unknown>;
  low_stock_threshold: number;
  safety_stock: number;
  backorder_policy: BackorderPolicy;
  backorder_limit: number;
  backorder_lead_days: number | null;
  reorder_point: number | null;
  reorder_qty: number | null;
  lead_time_days: number | null;
  supplier_id: number | null;
  /** where safety stock and the backorder limit apply: each warehouse, or the variant's sum */
  limit_scope: LimitScope;
  /** false: stock is not counted; reservations are recorded and hold nothing */
  track_inventory: boolean;
  /** the supplier's code */
  supplier: string | null;
  created_at: Date;
  updated_at: Date;
  /** set while the variant is archived: out of routing, the storefront and lists */
  archived_at: Date | null;
}

/** A variant's settings: what adding or updating a variant writes. */
export type VariantFields = Omit<
  VariantRow,
  | 'id'
  | 'product_id'
  | 'product_title'
  | 'product_category'
  | 'product_tags'
  | 'sku'
  | 'supplier'
  | 'created_at'
  | 'updated_at'
  | 'archived_at'
>;

/** A product as adding or updating a variant writes it: the title its variants share, a category and tags. */
export interface ProductFields {
  title: string;
  category: string | null;
  tags: readonly string[];
}

const VARIANT_COLUMNS = `v.*, p.title AS product_title, p.category AS product_category, p.tags AS product_tags, (SELECT s.code FROM suppliers s WHERE s.id = v.supplier_id) AS supplier`;

/** Adds a product (the title variants share, its category and tags); returns its id. */
export async function insertProduct(tx: Queryable, product: ProductFields): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    'INSERT INTO products (title, category, tags) VALUES ($1, $2, $3::text[]) RETURNING id',
    [product.title, product.category, product.tags],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row.id;
}

/** The settings columns of a variant, in the order variantSettings() lists their values. */
const SETTINGS_COLUMNS = [
  'attributes',
  'low_stock_threshold',
  'safety_stock',
  'backorder_policy',
  'backorder_limit',
  'backorder_lead_days',
  'reorder_point',
  'reorder_qty',
  'lead_time_days',
  'supplier_id',
  'limit_scope',
  'track_inventory',
] as const satisfies readonly (keyof VariantFields)[];

const variantSettings = (fields: VariantFields): unknown[] =>
  SETTINGS_COLUMNS.map((column) => (column === 'attributes' ? JSON.stringify(fields.attributes) : fields[column]));

/** @returns the new variant's id, or undefined when the SKU is taken */
export async function insertVariant(
  tx: Queryable,
  productId: number,
  sku: string,
  fields: VariantFields,
): Promise<number | undefined> {
  const placeholders = SETTINGS_COLUMNS.map((_, i) => `$${i + 3}`).join(', ');
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO variants (product_id, sku, ${SETTINGS_COLUMNS.join(', ')}) VALUES ($1, $2, ${placeholders})
     ON CONFLICT (sku) DO NOTHING RETURNING id`,
    [productId, sku, ...variantSettings(fields)],
  );
  return rows[0]?.id;
}

/**
 * Rewrites a variant's settings and copies the ones the database checks reservations against onto its
 * levels, in the caller's transaction.
 */
export async function updateVariant(
  tx: Queryable,
  variantId: number,
  fields: VariantFields,
  product: ProductFields,
): Promise<void> {
  const assignments = SETTINGS_COLUMNS.map((column, i) => `${column} = $${i + 2}`).join(', ');
  await tx.query(`UPDATE variants SET ${assignments}, updated_at = now() WHERE id = $1`, [
    variantId,
    ...variantSettings(fields),
  ]);
  await tx.query(
    'UPDATE products SET title = $2, category = $3, tags = $4::text[] WHERE id = (SELECT product_id FROM variants WHERE id = $1)',
    [variantId, product.title, product.category, product.tags],
  );
  // a variant-wide variant's safety stock is held back from the sum, not in each level (migration 0017); a level
  // given its own safety stock by a state move keeps it (migration 0016); the threshold, policy and tracking are
  // there for the level's status (migration 0021)
  await tx.query(
    `UPDATE stock_levels
        SET safety_stock = CASE WHEN $4 THEN 0 WHEN safety_stock_own THEN safety_stock ELSE $2 END,
            backorder_limit = $3, variant_wide = $4,
            low_stock_threshold = $5, backorder_policy = $6, tracked = $7
      WHERE variant_id = $1`,
    [
      variantId,
      fields.safety_stock,
      fields.backorder_limit,
      fields.limit_scope === 'variant',
      fields.low_stock_threshold,
      fields.backorder_policy,
      fields.track_inventory,
    ],
  );
}

/** The variants of these SKUs that exist. */
export async function findVariants(db: Queryable, skus: readonly string[]): Promise<VariantRow[]> {
  const { rows } = await db.query<VariantRow>(
    `SELECT ${VARIANT_COLUMNS} FROM variants v JOIN products p ON p.id = v.product_id
      WHERE v.sku = ${anyOf('$1::text[]')}`,
    [skus],
  );
  return rows;
}

/**
 * Locks a variant for a settings change, in the order a group commit locks: first every level of the variant
 * in (variant, warehouse) order (the settings are copied onto them, and the alert trigger of migration 0007
 * locks them too), then the variant row. The row is taken FOR NO KEY UPDATE: the ledger, reservation and alert
 * rows a group commit writes take a key-share lock on their variant (foreign keys), which FOR UPDATE would
 * block while this transaction waits for that group's levels: a deadlock.
 */
export async function lockVariant(tx: Queryable, sku: string): Promise<VariantRow | undefined> {
  await tx.query(
    `SELECT 1 FROM stock_levels l JOIN variants v ON v.id = l.variant_id WHERE v.sku = $1
      ORDER BY l.variant_id, l.warehouse_id
        FOR UPDATE OF l`,
    [sku],
  );
  const { rows } = await tx.query<VariantRow>(
    `SELECT ${VARIANT_COLUMNS} FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku = $1 FOR NO KEY UPDATE OF v`,
    [sku],
  );
  return rows[0];
}

/** Which variants listVariants returns, and how many. */
export interface VariantFilter {
  query?: string | undefined;
  /** a category path: its products and those of every category below it */
  category?: string | undefined;
  tag?: string | undefined;
  /** archived ones only (default: only those in use) */
  archived?: boolean | undefined;
  after?: string | undefined;
  limit: number;
}

/**
 * The condition that a category column is the path `parameter` or below it: the path itself, or the range of
 * paths that start with it and a slash ('0' follows '/' in byte order; the column is in the C collation), which a
 * B-tree reads whatever the parameter (migration 0021).
 */
export const IN_CATEGORY = (column: string, parameter: string): string =>
  `(${column} = ${parameter} OR (${column} > ${parameter} || '/' AND ${column} < ${parameter} || '0'))`;

/** Variants by SKU order, keyset-paged after a SKU; `query` matches SKU or product title. */
export async function listVariants(db: Queryable, filter: VariantFilter): Promise<VariantRow[]> {
  const { rows } = await db.query<VariantRow>(
    `SELECT ${VARIANT_COLUMNS} FROM variants v JOIN products p ON p.id = v.product_id
      WHERE ($1::text IS NULL OR v.sku ILIKE '%' || $1 || '%' OR p.title ILIKE '%' || $1 || '%')
        AND ($2::text IS NULL OR v.sku > $2)
        AND (v.archived_at IS NOT NULL) = $4
        AND ($5::text IS NULL OR ${IN_CATEGORY('p.category', '$5')})
        AND ($6::text IS NULL OR p.tags @> ARRAY[$6::text])
      ORDER BY v.sku LIMIT $3`,
    [
      filter.query ?? null,
      filter.after ?? null,
      filter.limit,
      filter.archived ?? false,
      filter.category ?? null,
      filter.tag ?? null,
    ],
  );
  return rows;
}

/**
 * Takes the catalog shape lock (ADVISORY_LOCKS.catalogShape) for this transaction. New variants and new warehouses
 * must each see the other, or a level would be missing: variants take it shared (they may be created side by
 * side), a warehouse takes it exclusively.
 */
export async function lockCatalogShape(tx: Queryable, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.query(mode === 'shared' ? 'SELECT pg_advisory_xact_lock_shared($1)' : 'SELECT pg_advisory_xact_lock($1)', [
    ADVISORY_LOCKS.catalogShape,
  ]);
}

/**
 * What a level copies from its variant (as updateVariant copies it): safety stock, backorder limit, scope, and
 * what its status is worked out from.
 */
const LEVEL_COPIES = `CASE WHEN v.limit_scope = 'variant' THEN 0 ELSE v.safety_stock END, v.backorder_limit,
  v.limit_scope = 'variant', v.low_stock_threshold, v.backorder_policy, v.track_inventory`;
/** The columns LEVEL_COPIES fills, after the level's key. */
const LEVEL_COPY_COLUMNS =
  'safety_stock, backorder_limit, variant_wide, low_stock_threshold, backorder_policy, tracked';

/** A new variant gets a level in every warehouse; a new warehouse gets one for every variant. */
export async function createLevelsForVariant(tx: Queryable, variantId: number): Promise<void> {
  await tx.query(
    `INSERT INTO stock_levels (variant_id, warehouse_id, ${LEVEL_COPY_COLUMNS}, archived)
     SELECT v.id, w.id, ${LEVEL_COPIES}, w.archived_at IS NOT NULL FROM variants v CROSS JOIN warehouses w WHERE v.id = $1
     ON CONFLICT DO NOTHING`,
    [variantId],
  );
}

/** A new warehouse gets a level for every variant (see createLevelsForVariant). */
export async function createLevelsForWarehouse(tx: Queryable, warehouseId: number): Promise<void> {
  await tx.query(
    `INSERT INTO stock_levels (variant_id, warehouse_id, ${LEVEL_COPY_COLUMNS}, archived)
     SELECT v.id, $1, ${LEVEL_COPIES}, v.archived_at IS NOT NULL FROM variants v
     ON CONFLICT DO NOTHING`,
    [warehouseId],
  );
}

/** A bin: a place in a warehouse that received units are put away in. */
export interface BinRow {
  id: number;
  warehouse_id: number;
  code: string;
}

/** @returns the new bin, or undefined when the warehouse already has that code */
export async function insertBin(tx: Queryable, warehouseId: number, code: string): Promise<BinRow | undefined> {
  const { rows } = await tx.query<BinRow>(
    'INSERT INTO bins (warehouse_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id, warehouse_id, code',
    [warehouseId, code],
  );
  return rows[0];
}

/** A warehouse's bins, by code. */
export async function listBins(db: Queryable, warehouseId: number): Promise<BinRow[]> {
  const { rows } = await db.query<BinRow>(
    'SELECT id, warehouse_id, code FROM bins WHERE warehouse_id = $1 ORDER BY code',
    [warehouseId],
  );
  return rows;
}
