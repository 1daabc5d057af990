import type {
  CountCandidate,
  LocationType,
  PickAssignment,
  PickHolding,
  PutAwayCandidate,
} from '../domain/locations.js';
import type { Queryable } from './db.js';

/** A location (a row of `bins`) with its limits and what its units weigh and take up now. */
export interface LocationRow {
  id: number;
  warehouse_id: number;
  code: string;
  type: LocationType;
  active: boolean;
  max_weight_g: number | null;
  max_volume_cm3: number | null;
  units: number;
  weight_g: number;
  volume_cm3: number;
  /** what it holds or is assigned (a pick face with a minimum), by SKU */
  contents: LocationContent[];
}

/** A variant in a location: its units, a pick face's minimum, when its units last moved and were last counted. */
export interface LocationContent {
  sku: string;
  qty: number;
  min_qty: number | null;
  last_moved_at: string | null;
  last_counted_at: string | null;
}

/** The settings of a location that can be changed. */
export interface LocationFields {
  type: LocationType;
  active: boolean;
  max_weight_g: number | null;
  max_volume_cm3: number | null;
}

/**
 * What units weigh or take up in all, read as float8. The sum itself is exact (numeric), but it can pass 2^53 - 1
 * (a unit may take up 2,000,000,000 cm3, a bin hold 2,147,483,647 units), where the int8/numeric parser of
 * db.ts refuses a number rather than round it, as money must be. A weight or volume is a measure: past 2^53 it is
 * read as the nearest float8 (exact below, a whole number above), and every limit it is compared with is far
 * below that, so no room is judged otherwise.
 */
const measureSum = (perUnit: string): string => `coalesce(sum(s.qty::bigint * coalesce(${perUnit}, 0)), 0)::float8`;

// one row per location with its fill: units of variants with no weight or volume weigh and take up nothing
const LOCATIONS_WITH_FILL = `
  SELECT b.id, b.warehouse_id, b.code, b.type, b.active, b.max_weight_g, b.max_volume_cm3,
         coalesce(sum(s.qty), 0)::bigint AS units,
         ${measureSum('v.weight_g')} AS weight_g,
         ${measureSum('v.volume_cm3')} AS volume_cm3,
         coalesce(jsonb_agg(jsonb_build_object('sku', v.sku, 'qty', s.qty, 'min_qty', s.min_qty,
                                     'last_moved_at', s.last_moved_at, 'last_counted_at', s.last_counted_at) ORDER BY v.sku)
                    FILTER (WHERE s.qty > 0 OR s.min_qty IS NOT NULL), '[]'::jsonb) AS contents
    FROM bins b
    LEFT JOIN bin_stock s ON s.bin_id = b.id
    LEFT JOIN variants v ON v.id = s.variant_id`;

/** @returns the new location, or undefined when the warehouse already has that code */
export async function insertLocation(
  tx: Queryable,
  warehouseId: number,
  code: string,
  fields: LocationFields,
): Promise<number | undefined> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO bins (warehouse_id, code, type, active, max_weight_g, max_volume_cm3) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING id`,
    [warehouseId, code, fields.type, fields.active, fields.max_weight_g, fields.max_volume_cm3],
  );
  return rows[0]?.id;
}

/** Changes a location's settings. */
export async function updateLocation(tx: Queryable, id: number, fields: LocationFields): Promise<void> {
  await tx.query('UPDATE bins SET type = $2, active = $3, max_weight_g = $4, max_volume_cm3 = $5 WHERE id = $1', [
    id,
    fields.type,
    fields.active,
    fields.max_weight_g,
    fields.max_volume_cm3,
  ]);
}

/** A warehouse's locations with their fill, by code; narrowed by type, active flag or one code. */
export async function readLocations(
  db: Queryable,
  warehouseId: number,
  filter: { type?: LocationType | undefined; active?: boolean | undefined; code?: string | undefined } = {},
): Promise<LocationRow[]> {
  const { rows } = await db.query<LocationRow>(
    `${LOCATIONS_WITH_FILL}
      WHERE b.warehouse_id = $1 AND ($2::text IS NULL OR b.type = $2) AND ($3::boolean IS NULL OR b.active = $3)
        AND ($4::text IS NULL OR b.code = $4)
      GROUP BY b.id ORDER BY b.code`,
    [warehouseId, filter.type ?? null, filter.active ?? null, filter.code ?? null],
  );
  return rows;
}

/**
 * Locks a warehouse's locations, in code order, while room in them is checked and used: two receipts cannot both
 * count on the same room. NO KEY UPDATE, so ledger rows and bin_stock rows naming a location (foreign keys, which
 * take KEY SHARE) are never held up by it. Taken after the levels, as every stock change takes them.
 */
export async function lockLocations(tx: Queryable, warehouseId: number): Promise<void> {
  await tx.query('SELECT id FROM bins WHERE warehouse_id = $1 ORDER BY code FOR NO KEY UPDATE', [warehouseId]);
}

/** Sets (or with null clears) the minimum a pick face keeps of a variant; the row stays while it holds units. */
export async function setPickMinimum(
  tx: Queryable,
  binId: number,
  variantId: number,
  minQty: number | null,
): Promise<void> {
  await tx.query(
    `INSERT INTO bin_stock (bin_id, variant_id, qty, min_qty) VALUES ($1, $2, 0, $3)
     ON CONFLICT (bin_id, variant_id) DO UPDATE SET min_qty = EXCLUDED.min_qty`,
    [binId, variantId, minQty],
  );
}

/** The pick faces of a warehouse assigned to a variant (a minimum set for it there), in code and SKU order. */
export async function readPickAssignments(db: Queryable, warehouseId: number): Promise<PickAssignment[]> {
  const { rows } = await db.query<PickAssignment>(
    `SELECT b.code AS location, v.sku
       FROM bin_stock s JOIN bins b ON b.id = s.bin_id JOIN variants v ON v.id = s.variant_id
      WHERE b.warehouse_id = $1 AND b.type = 'pick_face' AND s.min_qty IS NOT NULL
      ORDER BY b.code, v.sku`,
    [warehouseId],
  );
  return rows;
}

/** Clears every minimum a location keeps (it is no pick face any more); its units stay where they are. */
export async function clearPickMinimums(tx: Queryable, binId: number): Promise<void> {
  await tx.query('UPDATE bin_stock SET min_qty = NULL WHERE bin_id = $1 AND min_qty IS NOT NULL', [binId]);
}

/** What a unit of a variant weighs and measures, as stored. */
export interface MeasuresRow {
  weight_g: number | null;
  length_mm: number | null;
  width_mm: number | null;
  height_mm: number | null;
  volume_cm3: number | null;
}

/** A variant's measures. */
export async function readMeasures(db: Queryable, variantId: number): Promise<MeasuresRow> {
  const { rows } = await db.query<MeasuresRow>(
    'SELECT weight_g, length_mm, width_mm, height_mm, volume_cm3 FROM variants WHERE id = $1',
    [variantId],
  );
  return rows[0] as MeasuresRow;
}

/** Replaces a variant's measures. */
export async function writeMeasures(tx: Queryable, variantId: number, measures: MeasuresRow): Promise<void> {
  await tx.query(
    `UPDATE variants SET weight_g = $2, length_mm = $3, width_mm = $4, height_mm = $5, volume_cm3 = $6, updated_at = now()
      WHERE id = $1`,
    [variantId, measures.weight_g, measures.length_mm, measures.width_mm, measures.height_mm, measures.volume_cm3],
  );
}

/** A warehouse's stated capacity and the volume of all its units on hand (in locations or not). */
export async function readWarehouseFill(
  db: Queryable,
  warehouseId: number,
): Promise<{ capacity_cm3: number | null; volume_cm3: number }> {
  const { rows } = await db.query<{ capacity_cm3: number | null; volume_cm3: number }>(
    `SELECT w.capacity_cm3,
            -- float8 for what measureSum says
            coalesce((SELECT sum(l.on_hand::bigint * coalesce(v.volume_cm3, 0))
                        FROM stock_levels l JOIN variants v ON v.id = l.variant_id
                       WHERE l.warehouse_id = w.id), 0)::float8 AS volume_cm3
       FROM warehouses w WHERE w.id = $1`,
    [warehouseId],
  );
  return rows[0] as { capacity_cm3: number | null; volume_cm3: number };
}

/** Sets (or with null clears) a warehouse's capacity. */
export async function writeWarehouseCapacity(
  tx: Queryable,
  warehouseId: number,
  capacity: number | null,
): Promise<void> {
  await tx.query('UPDATE warehouses SET capacity_cm3 = $2 WHERE id = $1', [warehouseId, capacity]);
}

/** Every location of a warehouse as put-away weighs it for one variant (see planPutAway). */
export async function readPutAwayCandidates(
  db: Queryable,
  warehouseId: number,
  variantId: number,
): Promise<(PutAwayCandidate & { id: number })[]> {
  const { rows } = await db.query<PutAwayCandidate & { id: number }>(
    `SELECT b.id, b.code AS location, b.type, b.active, b.max_weight_g, b.max_volume_cm3,
            coalesce(sum(s.qty) FILTER (WHERE s.variant_id = $2), 0)::bigint AS sku_qty,
            coalesce(sum(s.qty) FILTER (WHERE s.variant_id <> $2), 0)::bigint AS other_qty,
            coalesce(bool_or(s.variant_id = $2 AND s.min_qty IS NOT NULL), false) AS assigned,
            ${measureSum('v.weight_g')} AS weight_g,
            ${measureSum('v.volume_cm3')} AS volume_cm3
       FROM bins b
       LEFT JOIN bin_stock s ON s.bin_id = b.id
       LEFT JOIN variants v ON v.id = s.variant_id
      WHERE b.warehouse_id = $1
      GROUP BY b.id ORDER BY b.code`,
    [warehouseId, variantId],
  );
  return rows;
}

/** Units of one variant in one location, for picking, with the level they belong to. */
export interface LocationHolding extends PickHolding {
  bin_id: number;
  variant_id: number;
  warehouse_id: number;
  min_qty: number | null;
}

/** What the locations of these levels hold (pick faces assigned but empty included), in code order. */
export async function readLocationHoldings(
  db: Queryable,
  levels: readonly { variantId: number; warehouseId: number }[],
): Promise<LocationHolding[]> {
  if (levels.length === 0) return [];
  const { rows } = await db.query<LocationHolding>(
    `WITH k AS (SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb) AS k(variant_id bigint, warehouse_id bigint))
     SELECT s.bin_id, s.variant_id, b.warehouse_id, b.code AS location, b.type, s.qty, s.min_qty
       FROM k JOIN bins b ON b.warehouse_id = k.warehouse_id
       JOIN bin_stock s ON s.bin_id = b.id AND s.variant_id = k.variant_id
      WHERE s.qty > 0 OR s.min_qty IS NOT NULL
      ORDER BY b.code`,
    [JSON.stringify(levels.map((level) => ({ variant_id: level.variantId, warehouse_id: level.warehouseId })))],
  );
  return rows;
}

/** Units of a variant going into (positive) or out of (negative) a location. */
export interface LocationChange {
  binId: number;
  variantId: number;
  qty: number;
}

/**
 * Moves units into and out of locations, stamping last_moved_at. Called with the variant's levels locked (the
 * rule for every change of bin_stock, the trim trigger's included), so no two of them race. A location would
 * never go below zero (bin_stock's CHECK refuses it).
 */
export async function changeLocations(tx: Queryable, changes: readonly LocationChange[], at: Date): Promise<void> {
  if (changes.length === 0) return;
  // an existing row is updated (a proposed row with a negative qty would fail the CHECK before ON CONFLICT
  // looked at it); a new one can only be coming in
  await tx.query(
    `WITH c AS (
       SELECT bin_id, variant_id, sum(qty)::int AS qty
         FROM jsonb_to_recordset($1::jsonb) AS c(bin_id bigint, variant_id bigint, qty int)
        GROUP BY bin_id, variant_id
     ),
     upd AS (
       UPDATE bin_stock s SET qty = s.qty + c.qty, last_moved_at = $2
         FROM c WHERE s.bin_id = c.bin_id AND s.variant_id = c.variant_id
     )
     INSERT INTO bin_stock (bin_id, variant_id, qty, last_moved_at)
     SELECT c.bin_id, c.variant_id, c.qty, $2 FROM c
      WHERE NOT EXISTS (SELECT 1 FROM bin_stock s WHERE s.bin_id = c.bin_id AND s.variant_id = c.variant_id)`,
    [
      JSON.stringify(
        changes.map((change) => ({ bin_id: change.binId, variant_id: change.variantId, qty: change.qty })),
      ),
      at,
    ],
  );
}

/** Each variant's units in each location of a warehouse, with its last count and how much it moved since `since`. */
export async function readCountCandidates(db: Queryable, warehouseId: number, since: Date): Promise<CountCandidate[]> {
  const { rows } = await db.query<CountCandidate>(
    `WITH moved AS (
       -- a row without a cost (before the level had one) moves no value, as valuation counts it
       SELECT variant_id, sum(abs(delta_on_hand))::bigint AS units, coalesce(sum(abs(value_delta)), 0)::bigint AS value
         FROM stock_movements WHERE warehouse_id = $1 AND created_at >= $2 AND delta_on_hand <> 0 GROUP BY variant_id
     )
     SELECT b.code AS location, v.sku, s.qty, s.last_counted_at, coalesce(m.units, 0) AS moved,
            coalesce(m.value, 0) AS moved_value
       FROM bin_stock s JOIN bins b ON b.id = s.bin_id JOIN variants v ON v.id = s.variant_id
       LEFT JOIN moved m ON m.variant_id = s.variant_id
      WHERE b.warehouse_id = $1 AND (s.qty > 0 OR s.min_qty IS NOT NULL)`,
    [warehouseId, since],
  );
  return rows;
}

/** Records a count of a variant in a location and stamps the location's last_counted_at. */
export async function recordLocationCount(
  tx: Queryable,
  count: { binId: number; variantId: number; expected: number; counted: number; actor: string | null; at: Date },
): Promise<void> {
  await tx.query(
    `WITH counted AS (
       INSERT INTO bin_stock (bin_id, variant_id, qty, last_counted_at) VALUES ($1, $2, $4, $6)
       ON CONFLICT (bin_id, variant_id) DO UPDATE SET last_counted_at = EXCLUDED.last_counted_at
     )
     INSERT INTO location_counts (bin_id, variant_id, expected, counted, actor, counted_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [count.binId, count.variantId, count.expected, count.counted, count.actor, count.at],
  );
}

/** A recorded count, as the variance report lists it. */
export interface LocationCountRow {
  location: string;
  sku: string;
  expected: number;
  counted: number;
  variance: number;
  actor: string | null;
  counted_at: Date;
}

/** A warehouse's counts since a time, newest first. */
export async function readLocationCounts(
  db: Queryable,
  warehouseId: number,
  since: Date,
  limit: number,
): Promise<LocationCountRow[]> {
  const { rows } = await db.query<LocationCountRow>(
    `SELECT b.code AS location, v.sku, c.expected, c.counted, c.variance, c.actor, c.counted_at
       FROM location_counts c JOIN bins b ON b.id = c.bin_id JOIN variants v ON v.id = c.variant_id
      WHERE b.warehouse_id = $1 AND c.counted_at >= $2
      ORDER BY c.counted_at DESC, c.id DESC LIMIT $3`,
    [warehouseId, since, limit],
  );
  return rows;
}
