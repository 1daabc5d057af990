import { AlreadyExistsError, NoRoomError, NotFoundError, ValidationError } from '../domain/errors.js';
import {
  faceOfAnother,
  pickFaceConflict,
  planCounts,
  planPutAway,
  planReplenishments,
  roomFor,
  roomText,
  volumeOf,
  MAX_UNIT_VOLUME_CM3,
} from '../domain/locations.js';
import type { AbcClass, CountMethod, LocationType, PickHolding, Stop, UnitMeasures } from '../domain/locations.js';
import type { Queryable } from '../store/db.js';
import { applyMovements, lockLevels } from '../store/levels.js';
import {
  changeLocations,
  clearPickMinimums,
  insertLocation,
  lockLocations,
  readLocationHoldings,
  readLocations,
  readMeasures,
  readCountCandidates,
  readLocationCounts,
  readPickAssignments,
  readPutAwayCandidates,
  readWarehouseFill,
  recordLocationCount,
  setPickMinimum,
  updateLocation,
  writeMeasures,
  writeWarehouseCapacity,
} from '../store/locations.js';
import type { LocationContent, LocationRow, MeasuresRow } from '../store/locations.js';
import { readLinesOf, readReservation } from '../store/reservations.js';
import type { CallOptions, ServiceContext } from './context.js';
import { refuseArchived } from './archive.js';
import { runIdempotently } from './idempotency.js';
import { refuseKit } from './kits.js';
import {
  CapacityInput,
  LocationCountInput,
  LocationInput,
  LocationUpdate,
  MeasuresInput,
  PickMinimumInput,
  PutAwayQuery,
  RelocateInput,
} from './location-schemas.js';
import { missing, variantBySku, variantsBySku, warehouseByCode } from './lookups.js';
import { Picking } from './picking.js';
import { MAX_PAGE } from './paging.js';
import { parse } from './schemas.js';
import { reservationIdOf } from './reservations.js';

/** A location as the API shows it: its settings, its fill against its limits, and what it holds. */
export interface Location {
  warehouse: string;
  code: string;
  type: LocationType;
  active: boolean;
  max_weight_g: number | null;
  max_volume_cm3: number | null;
  /** what its units weigh and take up now (units of variants without measures count for nothing) */
  fill: { units: number; weight_g: number; volume_cm3: number };
  /** by SKU: units here, a pick face's minimum (null: none), when they last moved and were last counted */
  contents: LocationContent[];
}

/** A warehouse's locations, with its capacity and the volume of all its units on hand. */
export interface LocationList {
  warehouse: string;
  capacity_cm3: number | null;
  volume_cm3: number;
  items: Location[];
}

/** What a unit of a variant weighs and measures. */
export interface Measures {
  sku: string;
  weight_g: number | null;
  dimensions_mm: { length: number; width: number; height: number } | null;
  volume_cm3: number | null;
}

/** Where units of a variant would be put away now, and how many would fit nowhere. */
export interface PutAwaySuggestion {
  sku: string;
  warehouse: string;
  qty: number;
  stops: Stop[];
  unplaced: number;
}

/** Where received units went: a location, or none (null: the warehouse has no location, or `force` put them nowhere). */
export interface Placed {
  location: string | null;
  qty: number;
  suggested: boolean;
}

/** One line of a pick list: the units of a reservation line still to ship, and where they are picked from. */
export interface PickListLine {
  line_no: number;
  sku: string;
  warehouse: string;
  qty: number;
  stops: Stop[];
  /** units on hand in no location (received without one): picked wherever they wait */
  unlocated: number;
}

/** What to pick for a reservation, line by line, and every stop in the order a picker walks them. */
export interface PickList {
  reservation_id: string;
  order_ref: string;
  lines: PickListLine[];
  /** every stop of every line, by warehouse and then aisle order */
  walk: { warehouse: string; location: string; sku: string; qty: number }[];
}

/** A suggested move from reserve stock to a pick face below its minimum. */
export interface ReplenishmentSuggestion {
  warehouse: string;
  sku: string;
  to: string;
  on_face: number;
  min_qty: number;
  qty: number;
  from: Stop[];
}

/** A confirmed move between two locations: on hand unchanged, the ledger rows naming both. */
export interface Relocation {
  warehouse: string;
  sku: string;
  from: string;
  to: string;
  qty: number;
}

/** A cycle count of a SKU in a location: what was thought to be there, what was found. */
export interface LocationCount {
  warehouse: string;
  location: string;
  sku: string;
  expected: number;
  counted: number;
  variance: number;
  actor: string | null;
  counted_at: string;
}

/** What to count today, in order. */
export interface CountPlan {
  warehouse: string;
  method: CountMethod;
  /** the store currency `moved_value` is in */
  currency: string;
  /** the days of movement the ABC classes are taken over */
  window_days: number;
  items: {
    location: string;
    sku: string;
    qty: number;
    class: AbcClass;
    /** units that moved in and out in the window */
    moved: number;
    /** the value of those units (what classes them), in minor units of `currency`; uncosted units at none */
    moved_value: number;
    last_counted_at: string | null;
  }[];
}

/** The counts of a warehouse since a time, and their variance in all. */
export interface VarianceReport {
  warehouse: string;
  since: string;
  counts: number;
  /** units found more (positive) or fewer, in all */
  net_variance: number;
  /** units off either way, in all */
  absolute_variance: number;
  items: LocationCount[];
}

const toLocation = (warehouse: string, row: LocationRow): Location => ({
  warehouse,
  code: row.code,
  type: row.type,
  active: row.active,
  max_weight_g: row.max_weight_g,
  max_volume_cm3: row.max_volume_cm3,
  fill: { units: row.units, weight_g: row.weight_g, volume_cm3: row.volume_cm3 },
  // jsonb gives the times as PostgreSQL writes them: written out again as every other time of the API is
  contents: row.contents.map((held) => ({
    ...held,
    last_moved_at: held.last_moved_at === null ? null : new Date(held.last_moved_at).toISOString(),
    last_counted_at: held.last_counted_at === null ? null : new Date(held.last_counted_at).toISOString(),
  })),
});

const toMeasures = (sku: string, row: MeasuresRow): Measures => ({
  sku,
  weight_g: row.weight_g,
  dimensions_mm:
    row.length_mm === null || row.width_mm === null || row.height_mm === null
      ? null
      : { length: row.length_mm, width: row.width_mm, height: row.height_mm },
  volume_cm3: row.volume_cm3,
});

/** The warehouse floor: locations with their type and limits, put-away, pick lists and pick-face replenishment. */
export class LocationService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Adds a location to a warehouse: bulk unless told, active, with no limits unless given. */
  async add(warehouseCode: string, input: LocationInput, options: CallOptions = {}): Promise<Location> {
    const location = parse(LocationInput, input);
    return runIdempotently(this.ctx, 'location.add', options, { warehouseCode, ...location }, async (tx) => {
      const warehouse = await warehouseByCode(tx, warehouseCode);
      const id = await insertLocation(tx, warehouse.id, location.code, {
        type: location.type ?? 'bulk',
        active: location.active ?? true,
        max_weight_g: location.max_weight_g ?? null,
        max_volume_cm3: location.max_volume_cm3 ?? null,
      });
      if (id === undefined) throw new AlreadyExistsError('bin', `${warehouseCode}/${location.code}`);
      return this.one(tx, warehouse.id, warehouse.code, location.code);
    });
  }

  /**
   * Changes a location's settings; what is not given stays. Lowering a limit under what it holds is allowed (the
   * units are there): it only takes no more.
   */
  async update(
    warehouseCode: string,
    code: string,
    input: LocationUpdate,
    options: CallOptions = {},
  ): Promise<Location> {
    const patch = parse(LocationUpdate, input);
    return runIdempotently(this.ctx, 'location.update', options, { warehouseCode, code, ...patch }, async (tx) => {
      const warehouse = await warehouseByCode(tx, warehouseCode);
      await lockLocations(tx, warehouse.id);
      const current = await this.one(tx, warehouse.id, warehouse.code, code);
      const id = await this.idOf(tx, warehouse.id, warehouse.code, code);
      const type = patch.type ?? current.type;
      await updateLocation(tx, id, {
        type,
        active: patch.active ?? current.active,
        max_weight_g: patch.max_weight_g === undefined ? current.max_weight_g : patch.max_weight_g,
        max_volume_cm3: patch.max_volume_cm3 === undefined ? current.max_volume_cm3 : patch.max_volume_cm3,
      });
      // only a pick face keeps a minimum: one that stops being a face is no SKU's any more (its units stay). Under
      // the locations' lock, which an assignment takes too; a minimum is no stock number, so no level lock is needed
      if (type !== 'pick_face') await clearPickMinimums(tx, id);
      return this.one(tx, warehouse.id, warehouse.code, code);
    });
  }

  /** A warehouse's locations with their fill, by code; `type` and `active` narrow the list. */
  async list(warehouseCode: string, filter: { type?: LocationType; active?: boolean } = {}): Promise<LocationList> {
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    const [rows, fill] = [
      await readLocations(this.ctx.db, warehouse.id, filter),
      await readWarehouseFill(this.ctx.db, warehouse.id),
    ];
    return { warehouse: warehouse.code, ...fill, items: rows.map((row) => toLocation(warehouse.code, row)) };
  }

  /** One location with its fill. */
  async get(warehouseCode: string, code: string): Promise<Location> {
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    return this.one(this.ctx.db, warehouse.id, warehouse.code, code);
  }

  /** Sets a pick face's minimum of a variant (assigning the face to it), or with null clears it. */
  async setPickMinimum(
    warehouseCode: string,
    code: string,
    input: PickMinimumInput,
    options: CallOptions = {},
  ): Promise<Location> {
    const minimum = parse(PickMinimumInput, input);
    return runIdempotently(this.ctx, 'location.minimum', options, { warehouseCode, code, ...minimum }, async (tx) => {
      const warehouse = await warehouseByCode(tx, warehouseCode);
      const variant = await variantBySku(tx, minimum.sku);
      // bin_stock of a variant changes under its levels' locks (see changeLocations)
      await lockLevels(tx, [{ variantId: variant.id, warehouseId: warehouse.id }]);
      // a face is assigned to a SKU so units of it are put there; clearing one a kit kept from before stays possible
      if (minimum.min_qty !== null) await refuseKit(tx, variant.id, minimum.sku);
      // then the locations, as every stock change takes them: two assignments of one face (of different SKUs, so
      // under different level locks), or one racing a change of its type, are judged one after the other
      await lockLocations(tx, warehouse.id);
      const location = await this.one(tx, warehouse.id, warehouse.code, code);
      if (minimum.min_qty !== null) {
        if (location.type !== 'pick_face')
          throw ValidationError.field(
            '/min_qty',
            `${code} is ${location.type.replace('_', ' ')}: only a pick face keeps a minimum`,
          );
        const taken = pickFaceConflict(await readPickAssignments(tx, warehouse.id), code, minimum.sku);
        if (taken)
          throw new AlreadyExistsError(
            'pick face',
            `${warehouse.code}/${taken.location}`,
            taken.sku === minimum.sku
              ? `${minimum.sku} has its pick face there, and a SKU has one: clear its minimum there (null) first`
              : `it is ${taken.sku}'s, and a pick face is one SKU's: clear ${taken.sku}'s minimum there (null) first`,
          );
      }
      await setPickMinimum(tx, await this.idOf(tx, warehouse.id, warehouse.code, code), variant.id, minimum.min_qty);
      return this.one(tx, warehouse.id, warehouse.code, code);
    });
  }

  /** Sets what a unit of a variant weighs and measures (all of it: what is left out is not known). */
  async setMeasures(sku: string, input: MeasuresInput, options: CallOptions = {}): Promise<Measures> {
    const measures = parse(MeasuresInput, input);
    const dimensions = measures.dimensions_mm ?? null;
    const row: MeasuresRow = {
      weight_g: measures.weight_g ?? null,
      length_mm: dimensions?.length ?? null,
      width_mm: dimensions?.width ?? null,
      height_mm: dimensions?.height ?? null,
      volume_cm3:
        measures.volume_cm3 !== undefined
          ? measures.volume_cm3
          : dimensions === null
            ? null
            : volumeOf({ length_mm: dimensions.length, width_mm: dimensions.width, height_mm: dimensions.height }),
    };
    // each side may be up to 100 m, but a volume derived from them obeys the limit a given one does (the schema's)
    if (row.volume_cm3 !== null && row.volume_cm3 > MAX_UNIT_VOLUME_CM3)
      throw ValidationError.field(
        '/dimensions_mm',
        `these dimensions make a unit of ${row.volume_cm3} cm³, more than the ${MAX_UNIT_VOLUME_CM3} cm³ a unit may take up`,
      );
    return runIdempotently(this.ctx, 'variant.measures', options, { sku, ...measures }, async (tx) => {
      const variant = await variantBySku(tx, sku);
      await writeMeasures(tx, variant.id, row);
      return toMeasures(sku, row);
    });
  }

  /** What a unit of a variant weighs and measures. */
  async measures(sku: string): Promise<Measures> {
    const variant = await variantBySku(this.ctx.db, sku);
    return toMeasures(sku, await readMeasures(this.ctx.db, variant.id));
  }

  /** Sets (or with null clears) a warehouse's capacity; answers its locations. */
  async setCapacity(warehouseCode: string, input: CapacityInput, options: CallOptions = {}): Promise<LocationList> {
    const capacity = parse(CapacityInput, input);
    await runIdempotently(this.ctx, 'warehouse.capacity', options, { warehouseCode, ...capacity }, async (tx) => {
      await writeWarehouseCapacity(tx, (await warehouseByCode(tx, warehouseCode)).id, capacity.capacity_cm3);
      return null;
    });
    return this.list(warehouseCode);
  }

  /** Where `qty` units of a SKU would be put away in a warehouse now (what a receipt without a location does). */
  async suggestPutAway(warehouseCode: string, query: PutAwayQuery): Promise<PutAwaySuggestion> {
    const { sku, qty } = parse(PutAwayQuery, query);
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    const variant = await variantBySku(this.ctx.db, sku);
    // a receipt of a kit is refused, so no place is suggested for one
    await refuseKit(this.ctx.db, variant.id, sku);
    const plan = planPutAway(
      await readPutAwayCandidates(this.ctx.db, warehouse.id, variant.id),
      unitOf(await readMeasures(this.ctx.db, variant.id)),
      qty,
    );
    return { sku, warehouse: warehouse.code, qty, ...plan };
  }

  /**
   * The pick list of a reservation: for each line still to ship, the locations its units come from (pick faces
   * first, as few stops as can be, in aisle order), exactly what fulfilling it without naming locations takes.
   */
  async pickList(reservationId: string): Promise<PickList> {
    reservationIdOf(reservationId);
    const reservation = await readReservation(this.ctx.db, reservationId);
    if (!reservation) throw new NotFoundError('reservation', reservationId);
    const lines = (await readLinesOf(this.ctx.db, [reservationId])).get(reservationId) ?? [];
    const open = lines
      .filter((line) => line.holds_stock)
      .map((line) => ({ ...line, remaining: line.qty - line.fulfilled_qty - line.released_qty }))
      .filter((line) => line.remaining > 0);
    const picking = await Picking.read(
      this.ctx.db,
      open.map((line) => ({ variantId: line.variant_id, warehouseId: line.warehouse_id })),
    );
    const parts = picking.plan(
      open.map((line) => ({ line, qty: line.remaining })),
      undefined,
      open,
    );
    const listed = open.map((line, i) => {
      const picked = parts[i] ?? [];
      return {
        line_no: line.line_no,
        sku: line.sku,
        warehouse: line.warehouse,
        qty: line.remaining,
        stops: picked.flatMap((part) => (part.location === null ? [] : [{ location: part.location, qty: part.qty }])),
        unlocated: picked.reduce((sum, part) => sum + (part.location === null ? part.qty : 0), 0),
      };
    });
    const walk = listed
      .flatMap((line) =>
        line.stops.map((stop) => ({
          warehouse: line.warehouse,
          location: stop.location,
          sku: line.sku,
          qty: stop.qty,
        })),
      )
      .sort((left, right) =>
        left.warehouse === right.warehouse
          ? left.location < right.location
            ? -1
            : left.location > right.location
              ? 1
              : 0
          : left.warehouse < right.warehouse
            ? -1
            : 1,
      );
    return { reservation_id: reservation.id, order_ref: reservation.order_ref, lines: listed, walk };
  }

  /**
   * Pick faces of a warehouse below their minimum, each with the move from bulk (then overflow) that refills it,
   * in code order; no source is planned to give more than it holds, whatever the moves before took of it.
   */
  async replenishments(warehouseCode: string): Promise<ReplenishmentSuggestion[]> {
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    const faces = await readLocations(this.ctx.db, warehouse.id, { type: 'pick_face' });
    const below = faces.flatMap((face) =>
      face.contents.flatMap((held) =>
        held.min_qty !== null && held.qty < held.min_qty
          ? [{ location: face.code, active: face.active, sku: held.sku, qty: held.qty, min_qty: held.min_qty }]
          : [],
      ),
    );
    if (below.length === 0) return [];
    const variants = await variantsBySku(this.ctx.db, [...new Set(below.map((face) => face.sku))]);
    const holdings = await readLocationHoldings(
      this.ctx.db,
      [...variants.values()].map((variant) => ({ variantId: variant.id, warehouseId: warehouse.id })),
    );
    const units = new Map<string, UnitMeasures>();
    for (const [sku, variant] of variants) units.set(sku, unitOf(await readMeasures(this.ctx.db, variant.id)));
    const planned = planReplenishments(
      below.map((face) => ({ ...face, unit: units.get(face.sku) ?? missing('measures') })),
      new Map(faces.map((face) => [face.code, face])),
      new Map(
        [...variants].map(([sku, variant]) => [sku, holdings.filter((holding) => holding.variant_id === variant.id)]),
      ),
    );
    return planned.map((move) => ({
      warehouse: warehouse.code,
      sku: move.sku,
      to: move.to,
      on_face: move.on_face,
      min_qty: move.min_qty,
      qty: move.qty,
      from: move.from,
    }));
  }

  /**
   * Moves units of a variant from one location to another in the same warehouse (a replenishment confirmed): on
   * hand stays as it is, and the ledger gets two `relocate` rows, out of one location and into the other. Refused
   * when the source does not hold them, or the destination has no room (room as put-away counts it).
   */
  async relocate(warehouseCode: string, input: RelocateInput, options: CallOptions = {}): Promise<Relocation> {
    const move = parse(RelocateInput, input);
    if (move.from === move.to) throw ValidationError.field('/to', 'the same location as from');
    return runIdempotently(this.ctx, 'location.relocate', options, { warehouseCode, ...move }, async (tx) => {
      const warehouse = await warehouseByCode(tx, warehouseCode);
      const variant = await variantBySku(tx, move.sku);
      const [level] = await lockLevels(tx, [{ variantId: variant.id, warehouseId: warehouse.id }]);
      await refuseKit(tx, variant.id, move.sku);
      if (!level) throw new NotFoundError('stock level', `${move.sku}/${warehouseCode}`);
      await lockLocations(tx, warehouse.id);
      const from = await this.idOf(tx, warehouse.id, warehouse.code, move.from);
      const to = await this.idOf(tx, warehouse.id, warehouse.code, move.to);
      const held: PickHolding[] = await readLocationHoldings(tx, [
        { variantId: variant.id, warehouseId: warehouse.id },
      ]);
      const there = held.find((holding) => holding.location === move.from)?.qty ?? 0;
      if (there < move.qty)
        throw ValidationError.field(
          '/qty',
          `${move.from} holds ${there} unit${there === 1 ? '' : 's'} of ${move.sku}, not ${move.qty}`,
        );
      await refuseOthersFace(tx, warehouse, move.sku, move.to);
      await refuseWithoutRoom(tx, warehouse, variant, move.to, move.qty);
      const at = this.ctx.clock();
      await changeLocations(
        tx,
        [
          { binId: from, variantId: variant.id, qty: -move.qty },
          { binId: to, variantId: variant.id, qty: move.qty },
        ],
        at,
      );
      const common = {
        variantId: variant.id,
        warehouseId: warehouse.id,
        type: 'relocate' as const,
        deltaOnHand: 0,
        deltaReserved: 0,
        guard: 'none' as const,
        reference: move.reference ?? `${move.from} -> ${move.to}`,
      };
      const applied = await applyMovements(
        tx,
        options.actor ?? null,
        [
          { ...common, binId: from, binDelta: -move.qty },
          { ...common, binId: to, binDelta: move.qty },
        ],
        at,
      );
      if (applied.length !== 2) throw new Error(`the level of ${move.sku} in ${warehouseCode} did not take the move`);
      return { warehouse: warehouse.code, sku: move.sku, from: move.from, to: move.to, qty: move.qty };
    });
  }

  /**
   * Records a cycle count of a SKU in a location: the location is set to what was found, on hand moves by the
   * variance (a `count` ledger row, reason cycle_count, naming the location), the count and its variance are kept
   * for the report, and the location's last_counted_at is stamped.
   */
  async count(
    warehouseCode: string,
    code: string,
    input: LocationCountInput,
    options: CallOptions = {},
  ): Promise<LocationCount> {
    const count = parse(LocationCountInput, input);
    return runIdempotently(this.ctx, 'location.count', options, { warehouseCode, code, ...count }, async (tx) => {
      const warehouse = await warehouseByCode(tx, warehouseCode);
      const variant = await variantBySku(tx, count.sku);
      await lockLevels(tx, [{ variantId: variant.id, warehouseId: warehouse.id }]);
      // refused even at 0, as a count of the level is: a kit is counted as its components
      await refuseKit(tx, variant.id, count.sku);
      const binId = await this.idOf(tx, warehouse.id, warehouse.code, code);
      const held = await readLocationHoldings(tx, [{ variantId: variant.id, warehouseId: warehouse.id }]);
      const expected = held.find((holding) => holding.location === code)?.qty ?? 0;
      const variance = count.counted - expected;
      const at = this.ctx.clock();
      if (variance !== 0) {
        // out of (or into) the location before the level moves, so the trim takes nothing from another
        await changeLocations(tx, [{ binId, variantId: variant.id, qty: variance }], at);
        const applied = await applyMovements(
          tx,
          options.actor ?? null,
          [
            {
              variantId: variant.id,
              warehouseId: warehouse.id,
              type: 'count',
              deltaOnHand: variance,
              deltaReserved: 0,
              guard: 'none',
              reason: 'cycle_count',
              reference: count.reference ?? `count ${code}`,
              binId,
              binDelta: variance,
            },
          ],
          at,
        );
        if (applied.length !== 1)
          throw new Error(`the level of ${count.sku} in ${warehouseCode} did not take the count`);
        // units found in an archived warehouse, or of an archived variant, are refused as a count of the level
        // refuses them (checked now the level is locked); a count that finds fewer, or as many, goes on
        if (variance > 0)
          await refuseArchived(tx, [
            { variantId: variant.id, warehouseId: warehouse.id, sku: count.sku, warehouse: warehouse.code },
          ]);
      }
      await recordLocationCount(tx, {
        binId,
        variantId: variant.id,
        expected,
        counted: count.counted,
        actor: options.actor ?? null,
        at,
      });
      return {
        warehouse: warehouse.code,
        location: code,
        sku: count.sku,
        expected,
        counted: count.counted,
        variance,
        actor: options.actor ?? null,
        counted_at: at.toISOString(),
      };
    });
  }

  /**
   * What to count today: by ABC class of movement value over the last `windowDays` (A first, each class oldest count
   * first), or simply the oldest count first; `limit` of them.
   */
  async countPlan(
    warehouseCode: string,
    query: { method?: CountMethod | undefined; limit?: number | undefined; windowDays?: number | undefined } = {},
  ): Promise<CountPlan> {
    // refused as the API refuses them, not read as written: a limit of 0 or -1 would slice the plan to nothing or
    // to all but its last rows
    const limit = wholeWithin(query.limit ?? 20, 1, MAX_PAGE, '/limit');
    const windowDays = wholeWithin(query.windowDays ?? 90, 1, 3650, '/windowDays');
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    const method = query.method ?? 'abc';
    const since = new Date(this.ctx.clock().getTime() - windowDays * 86_400_000);
    const planned = planCounts(await readCountCandidates(this.ctx.db, warehouse.id, since), method, limit);
    return {
      warehouse: warehouse.code,
      method,
      currency: this.ctx.currency,
      window_days: windowDays,
      items: planned.map((item) => ({
        location: item.location,
        sku: item.sku,
        qty: item.qty,
        class: item.class,
        moved: item.moved,
        moved_value: item.moved_value,
        last_counted_at: item.last_counted_at === null ? null : new Date(item.last_counted_at).toISOString(),
      })),
    };
  }

  /** The counts of a warehouse since a time (newest first, up to `limit`), with their variance in all. */
  async varianceReport(
    warehouseCode: string,
    query: { since?: Date | undefined; limit?: number | undefined } = {},
  ): Promise<VarianceReport> {
    const limit = wholeWithin(query.limit ?? 100, 1, MAX_PAGE, '/limit');
    const warehouse = await warehouseByCode(this.ctx.db, warehouseCode);
    const since = query.since ?? new Date(this.ctx.clock().getTime() - 30 * 86_400_000);
    const rows = await readLocationCounts(this.ctx.db, warehouse.id, since, limit);
    return {
      warehouse: warehouse.code,
      since: since.toISOString(),
      counts: rows.length,
      net_variance: rows.reduce((sum, row) => sum + row.variance, 0),
      absolute_variance: rows.reduce((sum, row) => sum + Math.abs(row.variance), 0),
      items: rows.map((row) => ({
        ...row,
        warehouse: warehouse.code,
        counted_at: new Date(row.counted_at).toISOString(),
      })),
    };
  }

  private async one(db: Queryable, warehouseId: number, warehouse: string, code: string): Promise<Location> {
    const [row] = await readLocations(db, warehouseId, { code });
    if (!row) throw new NotFoundError('bin', `${warehouse}/${code}`);
    return toLocation(warehouse, row);
  }

  private async idOf(db: Queryable, warehouseId: number, warehouse: string, code: string): Promise<number> {
    const [row] = await readLocations(db, warehouseId, { code });
    if (!row) throw new NotFoundError('bin', `${warehouse}/${code}`);
    return row.id;
  }
}

/** A whole number a caller gave within bounds, else a validation error at `path`. */
function wholeWithin(value: number, min: number, max: number, path: string): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw ValidationError.field(path, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** A unit's weight and volume from a variant's stored measures. */
const unitOf = (row: MeasuresRow): UnitMeasures => ({ weight_g: row.weight_g, volume_cm3: row.volume_cm3 });

/** Refuses putting units of a SKU into a pick face assigned to another SKU (409 already_exists, as its minimum is). */
async function refuseOthersFace(
  tx: Queryable,
  warehouse: { id: number; code: string },
  sku: string,
  code: string,
): Promise<void> {
  const other = faceOfAnother(await readPickAssignments(tx, warehouse.id), code, sku);
  if (other)
    throw new AlreadyExistsError(
      'pick face',
      `${warehouse.code}/${code}`,
      `it is ${other.sku}'s, and a pick face is one SKU's: put ${sku} elsewhere, or clear ${other.sku}'s minimum there (null) first`,
    );
}

/** Refuses `qty` units into a location that is inactive or lacks room for them (NoRoomError, with the reason). */
async function refuseWithoutRoom(
  tx: Queryable,
  warehouse: { id: number; code: string },
  variant: { id: number; sku: string },
  code: string,
  qty: number,
): Promise<void> {
  const unit = unitOf(await readMeasures(tx, variant.id));
  const candidate = (await readPutAwayCandidates(tx, warehouse.id, variant.id)).find((row) => row.location === code);
  if (!candidate) throw new NotFoundError('bin', `${warehouse.code}/${code}`);
  const base = { sku: variant.sku, warehouse: warehouse.code, location: code, requested: qty };
  if (!candidate.active)
    throw new NoRoomError({ ...base, room: 0, limit: 'inactive', why: 'the location is inactive' });
  const room = roomFor(candidate, unit);
  if (room.units !== null && room.limit !== null && room.units < qty)
    throw new NoRoomError({ ...base, room: room.units, limit: room.limit, why: roomText(room, unit) });
}

/**
 * Puts received units away, in the receipt's transaction, after its ledger rows (the levels are locked): into
 * the location named (refused without room unless forced), else, when `suggest`, where put-away finds room
 * (refused when there is room for them nowhere, unless forced: what fits nowhere then waits in no location).
 * Without a location named and without `suggest`, the units wait in none, as before locations had limits.
 */
export async function putAwayReceipt(
  tx: Queryable,
  at: Date,
  receipt: {
    warehouse: { id: number; code: string };
    variant: { id: number; sku: string };
    qty: number;
    location?: string | undefined;
    force?: boolean | undefined;
    suggest: boolean;
  },
): Promise<Placed[]> {
  const { warehouse, variant, qty } = receipt;
  if (receipt.location === undefined && !receipt.suggest) return [];
  await lockLocations(tx, warehouse.id);
  const candidates = await readPutAwayCandidates(tx, warehouse.id, variant.id);
  if (receipt.location !== undefined) {
    const code = receipt.location;
    const location = candidates.find((candidate) => candidate.location === code);
    if (!location) throw new NotFoundError('bin', `${warehouse.code}/${code}`);
    // forcing overrides a location's room, not whose face it is
    await refuseOthersFace(tx, warehouse, variant.sku, code);
    if (receipt.force !== true) await refuseWithoutRoom(tx, warehouse, variant, code, qty);
    await changeLocations(tx, [{ binId: location.id, variantId: variant.id, qty }], at);
    return [{ location: code, qty, suggested: false }];
  }
  if (!candidates.some((candidate) => candidate.active)) return [{ location: null, qty, suggested: true }];
  const unit = unitOf(await readMeasures(tx, variant.id));
  const plan = planPutAway(candidates, unit, qty);
  if (plan.unplaced > 0 && receipt.force !== true) {
    const room = qty - plan.unplaced;
    throw new NoRoomError({
      sku: variant.sku,
      warehouse: warehouse.code,
      location: null,
      requested: qty,
      room,
      limit: 'locations',
      why: `its locations (the SKU's pick face, bulk, overflow; none holding other SKUs only) have room for ${room}`,
    });
  }
  const ids = new Map(candidates.map((candidate) => [candidate.location, candidate.id]));
  await changeLocations(
    tx,
    plan.stops.map((stop) => ({ binId: ids.get(stop.location) as number, variantId: variant.id, qty: stop.qty })),
    at,
  );
  const placed: Placed[] = plan.stops.map((stop) => ({ location: stop.location, qty: stop.qty, suggested: true }));
  return plan.unplaced > 0 ? [...placed, { location: null, qty: plan.unplaced, suggested: true }] : placed;
}
