import type { Stockroom } from '../src/services/stockroom.js';
import type { Db } from '../src/store/db.js';
import { applyMovements } from '../src/store/levels.js';

export const WAREHOUSES = [
  { code: 'AMS', name: 'Amsterdam', lat: 52.37, lon: 4.9, priority: 1 },
  { code: 'BER', name: 'Berlin', lat: 52.52, lon: 13.4, priority: 0 },
] as const;

export const benchSku = (n: number): string => `BENCH-${String(n).padStart(7, '0')}`;

const VARIANTS_PER_PRODUCT = 10;
/** Products are spread over this many top categories, each with this many below it, and this many tags. */
const CATEGORIES = 20;
const SUBCATEGORIES = 7;
const TAGS = 50;
/** A top category of the seeded products (1 in 20 of them), or with `sub` one below it (1 in 140). */
export const benchCategory = (n: number, sub?: number): string =>
  `cat-${n % CATEGORIES}${sub === undefined ? '' : `/sub-${sub % SUBCATEGORIES}`}`;
/** A tag of the seeded products (1 in 50 carry each). */
export const benchTag = (n: number): string => `tag-${n % TAGS}`;
const RECEIVE_CHUNK = 5000;
const LEVEL_CHUNK = 100_000;

export interface SeedResult {
  variants: number;
  levels: number;
  seconds: number;
  /** VACUUM ANALYZE and CHECKPOINT after it, so every scenario starts from a database at rest */
  settleSeconds: number;
}

/**
 * A catalog of `variants` SKUs (BENCH-0000001...) in both warehouses, each level stocked with `onHand` units.
 * Catalog rows are written set-based (the API has no bulk catalog import); stock is received through the same
 * statement every stock change uses (applyMovements), so each level has its ledger row and reconcile holds.
 */
export async function seedCatalog(s: Stockroom, db: Db, variants: number, onHand: number): Promise<SeedResult> {
  const started = performance.now();
  for (const w of WAREHOUSES) await s.catalog.addWarehouse(w);
  await db.transaction(async (tx) => {
    // categories benchCategory(n) and tags benchTag(n) for the stock list's filters (bench/scenarios/stock-list.ts)
    await tx.query(
      `INSERT INTO products (title, category, tags)
       SELECT 'Bench product ' || g, 'cat-' || g % $2 || '/sub-' || g % $3, ARRAY['tag-' || g % $4]
         FROM generate_series(1, $1::int) g`,
      [Math.ceil(variants / VARIANTS_PER_PRODUCT), CATEGORIES, SUBCATEGORIES, TAGS],
    );
    await tx.query(
      `INSERT INTO variants (product_id, sku, attributes)
       SELECT p.first + (g - 1) / $2, 'BENCH-' || lpad(g::text, 7, '0'), jsonb_build_object('size', (g - 1) % $2)
         FROM generate_series(1, $1::int) g, (SELECT min(id) AS first FROM products WHERE title LIKE 'Bench product %') p`,
      [variants, VARIANTS_PER_PRODUCT],
    );
    // a statement per LEVEL_CHUNK variants: each level is also written into the order of the stock list's number
    // sorts (migration 0025), and one statement of every level would outlast the driver's query timeout
    const { rows: span } = await tx.query<{ first: number; last: number }>(
      `SELECT min(id)::int AS first, max(id)::int AS last FROM variants WHERE sku LIKE 'BENCH-%'`,
    );
    for (let from = span[0]?.first ?? 1; from <= (span[0]?.last ?? 0); from += LEVEL_CHUNK)
      await tx.query(
        `INSERT INTO stock_levels (variant_id, warehouse_id)
         SELECT v.id, w.id FROM variants v CROSS JOIN warehouses w
          WHERE v.sku LIKE 'BENCH-%' AND v.id >= $1 AND v.id < $2`,
        [from, from + LEVEL_CHUNK],
      );
  });
  const { rows } = await db.query<{ variant_id: number; warehouse_id: number }>(
    `SELECT l.variant_id, l.warehouse_id FROM stock_levels l JOIN variants v ON v.id = l.variant_id
      WHERE v.sku LIKE 'BENCH-%' ORDER BY 1, 2`,
  );
  for (let i = 0; i < rows.length; i += RECEIVE_CHUNK) {
    const chunk = rows.slice(i, i + RECEIVE_CHUNK);
    await db.transaction((tx) =>
      applyMovements(
        tx,
        'bench-seed',
        chunk.map((r) => ({
          variantId: r.variant_id,
          warehouseId: r.warehouse_id,
          type: 'receive',
          deltaOnHand: onHand,
          deltaReserved: 0,
          guard: 'none',
          reason: 'received',
        })),
      ),
    );
  }
  // the order of the stock list's number sorts, as a server would have refreshed it from the announcements (in
  // chunks, for the driver's query timeout)
  for (let i = 0; i < rows.length; i += LEVEL_CHUNK * 2) {
    const chunk = rows.slice(i, i + LEVEL_CHUNK * 2).map((row) => row.variant_id);
    await db.query(
      `UPDATE stock_list_order o SET on_hand = l.on_hand, reserved = l.reserved, available = l.available
         FROM stock_levels l
        WHERE l.variant_id = o.variant_id AND l.warehouse_id = o.warehouse_id
          AND o.variant_id >= $1 AND o.variant_id <= $2`,
      [chunk[0], chunk.at(-1)],
    );
  }
  const seeded = performance.now();
  // a store's database at rest: dead row versions of the seed cleaned up, statistics fresh, dirty pages written
  await db.exec('VACUUM ANALYZE');
  await db.exec('CHECKPOINT');
  return {
    variants,
    levels: rows.length,
    seconds: (seeded - started) / 1000,
    settleSeconds: (performance.now() - seeded) / 1000,
  };
}
