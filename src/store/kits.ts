import type { Kit } from '../domain/kits.js';
import type { Queryable } from './db.js';

/** Whether a variant is a kit now: asked in the caller's transaction, whatever a process's registry remembers. */
export async function isKit(db: Queryable, variantId: number): Promise<boolean> {
  return (await kitsAmong(db, [variantId])).length > 0;
}

/** Which of these variants are kits now (their ids), asked in the caller's transaction as isKit is. */
export async function kitsAmong(db: Queryable, variantIds: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT DISTINCT kit_variant_id AS id FROM kit_components WHERE kit_variant_id = ANY($1::bigint[])',
    [variantIds],
  );
  return rows.map((row) => row.id);
}

/** Every kit with its components (SKUs and quantities), kits and components in SKU order. */
export async function readKits(db: Queryable, skus?: readonly string[]): Promise<Kit[]> {
  const { rows } = await db.query<Kit>(
    `SELECT kv.sku, json_agg(json_build_object('sku', cv.sku, 'qty', k.qty) ORDER BY cv.sku) AS components
       FROM kit_components k
       JOIN variants kv ON kv.id = k.kit_variant_id
       JOIN variants cv ON cv.id = k.component_variant_id
      WHERE $1::text[] IS NULL OR kv.sku = ANY($1::text[])
      GROUP BY kv.sku
      ORDER BY kv.sku`,
    [skus ?? null],
  );
  return rows;
}

/** What a kit's definition needs to know of the SKUs it names: id, whether tracked, whether a kit. */
export interface KitVariantRow {
  id: number;
  sku: string;
  track_inventory: boolean;
  /** 'variant': its limits apply to its sum over warehouses */
  limit_scope: string;
  kit: boolean;
  /** what the variant's levels hold, over every warehouse */
  on_hand: number;
  reserved: number;
}

/**
 * The variants of these SKUs, their levels locked (in (variant, warehouse) order, as every writer of levels
 * locks them), with whether each is a kit and what it holds.
 */
export async function lockKitVariants(tx: Queryable, skus: readonly string[]): Promise<KitVariantRow[]> {
  await tx.query(
    `SELECT 1 FROM stock_levels l WHERE l.variant_id IN (SELECT id FROM variants WHERE sku = ANY($1::text[]))
      ORDER BY l.variant_id, l.warehouse_id FOR UPDATE`,
    [skus],
  );
  const { rows } = await tx.query<KitVariantRow>(
    `SELECT v.id, v.sku, v.track_inventory, v.limit_scope,
            EXISTS (SELECT 1 FROM kit_components k WHERE k.kit_variant_id = v.id) AS kit,
            coalesce((SELECT sum(l.on_hand) FROM stock_levels l WHERE l.variant_id = v.id), 0)::bigint AS on_hand,
            coalesce((SELECT sum(l.reserved) FROM stock_levels l WHERE l.variant_id = v.id), 0)::bigint AS reserved
       FROM variants v WHERE v.sku = ANY($1::text[])`,
    [skus],
  );
  return rows;
}

/** Sets a kit's components (replacing any it had) and marks its levels as a kit's, which then hold nothing. */
export async function writeKit(
  tx: Queryable,
  kitVariantId: number,
  components: readonly { variantId: number; qty: number }[],
): Promise<void> {
  await tx.query('DELETE FROM kit_components WHERE kit_variant_id = $1', [kitVariantId]);
  await tx.query(
    `INSERT INTO kit_components (kit_variant_id, component_variant_id, qty)
     SELECT $1, c.variant_id, c.qty FROM jsonb_to_recordset($2::jsonb) AS c(variant_id bigint, qty int)`,
    [
      kitVariantId,
      JSON.stringify(components.map((component) => ({ variant_id: component.variantId, qty: component.qty }))),
    ],
  );
  await tx.query('UPDATE stock_levels SET kit = true WHERE variant_id = $1 AND NOT kit', [kitVariantId]);
}

/** Makes a kit a plain variant again: no components, its levels may hold stock. */
export async function deleteKit(tx: Queryable, kitVariantId: number): Promise<boolean> {
  const { rows } = await tx.query<{ kit_variant_id: number }>(
    'DELETE FROM kit_components WHERE kit_variant_id = $1 RETURNING kit_variant_id',
    [kitVariantId],
  );
  await tx.query('UPDATE stock_levels SET kit = false WHERE variant_id = $1 AND kit', [kitVariantId]);
  return rows.length > 0;
}
