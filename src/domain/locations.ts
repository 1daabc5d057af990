import { ValidationError } from './errors.js';

/**
 * What a location is for: a pick face holds the units picked from (one place per variant, near the path), bulk the
 * reserve stock behind it, overflow what does not fit in either. Put-away and picking both go in this order.
 */
export const LOCATION_TYPES = ['pick_face', 'bulk', 'overflow'] as const;
/** One of LOCATION_TYPES. */
export type LocationType = (typeof LOCATION_TYPES)[number];

/** What one unit of a variant weighs (grams) and takes up (cubic centimetres); null is not known, and limits nothing. */
export interface UnitMeasures {
  weight_g: number | null;
  volume_cm3: number | null;
}

/** The most a unit of a variant may take up (cm³), given or derived from its dimensions. */
export const MAX_UNIT_VOLUME_CM3 = 2_000_000_000;

/** A unit's volume from its dimensions in millimetres, rounded up to whole cubic centimetres: room is never overstated. */
export function volumeOf(dimensions: { length_mm: number; width_mm: number; height_mm: number }): number {
  return Math.ceil((dimensions.length_mm * dimensions.width_mm * dimensions.height_mm) / 1000);
}

/** A location's limits (null: none) and what its units weigh and take up now. */
export interface LocationFill {
  max_weight_g: number | null;
  max_volume_cm3: number | null;
  weight_g: number;
  volume_cm3: number;
}

/** Which of a location's limits stops more units going in. */
export type RoomLimit = 'weight' | 'volume';

/** How many more units of a variant a location takes, and what decides it. */
export interface Room {
  /** null: no limit applies (none stated, or the unit's measure is not known) */
  units: number | null;
  /** the limit that decides `units`; null when none applies */
  limit: RoomLimit | null;
  /** what is left of each limit (null: no such limit) */
  weight_left_g: number | null;
  volume_left_cm3: number | null;
}

/** How many units of a variant fit in a location by weight and by volume: the smaller of the two. */
export function roomFor(location: LocationFill, unit: UnitMeasures): Room {
  const weightLeft = location.max_weight_g === null ? null : Math.max(0, location.max_weight_g - location.weight_g);
  const volumeLeft =
    location.max_volume_cm3 === null ? null : Math.max(0, location.max_volume_cm3 - location.volume_cm3);
  const byWeight = weightLeft === null || !unit.weight_g ? null : Math.floor(weightLeft / unit.weight_g);
  const byVolume = volumeLeft === null || !unit.volume_cm3 ? null : Math.floor(volumeLeft / unit.volume_cm3);
  const [units, limit]: [number | null, RoomLimit | null] =
    byWeight === null
      ? byVolume === null
        ? [null, null]
        : [byVolume, 'volume']
      : byVolume === null || byWeight <= byVolume
        ? [byWeight, 'weight']
        : [byVolume, 'volume'];
  return { units, limit, weight_left_g: weightLeft, volume_left_cm3: volumeLeft };
}

/** Why units do not fit, for a person: `room for 3 units by weight (1200 g of 5000 g left)`. */
export function roomText(room: Room, unit: UnitMeasures): string {
  if (room.units === null || room.limit === null) return 'no limit';
  const units = `room for ${room.units} unit${room.units === 1 ? '' : 's'}`;
  return room.limit === 'weight'
    ? `${units} by weight (${room.weight_left_g} g left, ${unit.weight_g} g a unit)`
    : `${units} by volume (${room.volume_left_cm3} cm³ left, ${unit.volume_cm3} cm³ a unit)`;
}

/** A location as put-away weighs it for one variant. */
export interface PutAwayCandidate extends LocationFill {
  location: string;
  type: LocationType;
  active: boolean;
  /** units of the variant being put away already here */
  sku_qty: number;
  /** units of any other variant here */
  other_qty: number;
  /** a pick face the variant is assigned to (a minimum is set for it), whether or not it holds any yet */
  assigned: boolean;
}

/** Units to put in one location. */
export interface Stop {
  location: string;
  qty: number;
}

/** Where received units go, and how many fit nowhere. */
export interface PutAwayPlan {
  stops: Stop[];
  unplaced: number;
}

const byCode = (left: { location: string }, right: { location: string }): number =>
  left.location < right.location ? -1 : left.location > right.location ? 1 : 0;

/**
 * Where `qty` received units of a variant go, each location taking what it has room for: the variant's pick face
 * first, then bulk, then overflow. Within bulk and overflow a location already holding the variant comes first
 * (the fullest: a variant stays together), then empty ones in code order; a location holding only other variants
 * is never chosen (no mixing by suggestion), nor an inactive one. What fits nowhere is `unplaced`.
 */
export function planPutAway(candidates: readonly PutAwayCandidate[], unit: UnitMeasures, qty: number): PutAwayPlan {
  const usable = candidates.filter((candidate) => candidate.active).sort(byCode);
  const holdingFirst = (type: LocationType) => [
    ...usable
      .filter((candidate) => candidate.type === type && candidate.sku_qty > 0)
      .sort((left, right) => right.sku_qty - left.sku_qty),
    ...usable.filter((candidate) => candidate.type === type && candidate.sku_qty === 0 && candidate.other_qty === 0),
  ];
  const faces = [
    ...usable.filter((candidate) => candidate.type === 'pick_face' && candidate.sku_qty > 0),
    ...usable.filter((candidate) => candidate.type === 'pick_face' && candidate.sku_qty === 0 && candidate.assigned),
  ].sort((left, right) => right.sku_qty - left.sku_qty);
  const stops: Stop[] = [];
  let rest = qty;
  for (const candidate of [...faces, ...holdingFirst('bulk'), ...holdingFirst('overflow')]) {
    if (rest === 0) break;
    const take = Math.min(rest, roomFor(candidate, unit).units ?? rest);
    if (take <= 0) continue;
    stops.push({ location: candidate.location, qty: take });
    rest -= take;
  }
  return { stops, unplaced: rest };
}

/** What a location holds of the variant being picked. */
export interface PickHolding {
  location: string;
  type: LocationType;
  qty: number;
}

/** Where `qty` units are picked from, in walking order, and how many come from units not put away anywhere. */
export interface PickPlan {
  stops: Stop[];
  /** units taken from stock on hand that is in no location (received without one) */
  unlocated: number;
}

/**
 * Which locations `qty` units are picked from: pick faces first, then bulk, then overflow; within each, one
 * location that holds all that is still needed (the first in aisle order) when there is one, else the fullest
 * first, so the list has as few stops as it can. The stops come in aisle order (location codes sort as
 * aisle-bay-level), the path a picker walks. What the locations do not hold is taken from units in none.
 */
export function planPick(holdings: readonly PickHolding[], qty: number): PickPlan {
  const chosen: Stop[] = [];
  let rest = qty;
  for (const tier of [['pick_face'], ['bulk', 'overflow']] as const) {
    if (rest === 0) break;
    const pool = holdings
      .filter((holding) => (tier as readonly string[]).includes(holding.type) && holding.qty > 0)
      .sort(byCode);
    const single = pool.find((holding) => holding.qty >= rest);
    const order = single ? [single] : [...pool].sort((left, right) => right.qty - left.qty || byCode(left, right));
    for (const holding of order) {
      if (rest === 0) break;
      const take = Math.min(rest, holding.qty);
      chosen.push({ location: holding.location, qty: take });
      rest -= take;
    }
  }
  return { stops: chosen.sort(byCode), unlocated: rest };
}

/**
 * Checks the locations a caller names to pick `qty` units from: each must hold what is asked of it, named once,
 * and together they must make `qty`. Refusals point at `path` (the request line).
 */
export function checkNamedPick(
  holdings: readonly PickHolding[],
  named: readonly Stop[],
  qty: number,
  path: string,
): Stop[] {
  const seen = new Set<string>();
  named.forEach((stop, i) => {
    if (seen.has(stop.location))
      throw ValidationError.field(`${path}/locations/${i}/location`, `${stop.location} is named twice`);
    seen.add(stop.location);
    const held = holdings.find((holding) => holding.location === stop.location)?.qty ?? 0;
    if (stop.qty > held)
      throw ValidationError.field(
        `${path}/locations/${i}/qty`,
        `${stop.location} holds ${held} unit${held === 1 ? '' : 's'} of this SKU, not ${stop.qty}`,
      );
  });
  const total = named.reduce((sum, stop) => sum + stop.qty, 0);
  if (total !== qty)
    throw ValidationError.field(`${path}/locations`, `the locations add up to ${total} units, the line ships ${qty}`);
  return [...named].sort(byCode);
}

/** A pick face of one variant as replenishment sees it. */
export interface PickFaceState {
  location: string;
  qty: number;
  min_qty: number;
  /** how many more units it takes (null: no limit applies) */
  room: number | null;
}

/** A move from reserve stock to a pick face. */
export interface Replenishment {
  to: string;
  from: Stop[];
  qty: number;
}

/**
 * The move that refills a pick face that is below its minimum: to as much as it has room for, or to twice its
 * minimum when no limit applies, from bulk then overflow with as few stops as possible. None when the face is at
 * or above its minimum, or no reserve stock is there to move.
 */
export function planReplenishment(face: PickFaceState, reserve: readonly PickHolding[]): Replenishment | null {
  if (face.qty >= face.min_qty) return null;
  const wanted = face.room === null ? 2 * face.min_qty - face.qty : face.room;
  const { stops } = planPick(
    reserve.filter((holding) => holding.type !== 'pick_face' && holding.location !== face.location),
    Math.min(
      wanted,
      reserve.reduce((sum, holding) => sum + (holding.type === 'pick_face' ? 0 : holding.qty), 0),
    ),
  );
  const qty = stops.reduce((sum, stop) => sum + stop.qty, 0);
  return qty === 0 ? null : { to: face.location, from: stops, qty };
}

/** A pick face of a warehouse assigned to a variant: a minimum is set for it there. */
export interface PickAssignment {
  location: string;
  sku: string;
}

/**
 * The assignment that keeps the pick face `location` from being assigned to `sku`. A pick face is one place per
 * SKU: a SKU has one face in a warehouse (put-away and picking go to it), and a face is one SKU's (its minimum and
 * its room are that SKU's). Setting the minimum of the SKU a face is already assigned to is no conflict.
 */
export function pickFaceConflict(
  assignments: readonly PickAssignment[],
  location: string,
  sku: string,
): PickAssignment | undefined {
  return assignments.find(
    (assigned) =>
      (assigned.sku === sku && assigned.location !== location) ||
      (assigned.location === location && assigned.sku !== sku),
  );
}

/**
 * The assignment that keeps units of `sku` out of `location`: the location is a pick face assigned to another SKU.
 * Units go there only by a decision (a receipt naming it, a relocation), and a face is one SKU's: a second SKU in it
 * would be picked from where nobody looks for it. A count records what it finds, wherever it is.
 */
export function faceOfAnother(
  assignments: readonly PickAssignment[],
  location: string,
  sku: string,
): PickAssignment | undefined {
  return assignments.find((assigned) => assigned.location === location && assigned.sku !== sku);
}

/** A pick face's minimum of one variant, with what planning its refill needs. */
export interface FaceMinimum {
  location: string;
  sku: string;
  /** an inactive face takes no more units (a move into it is refused), so it is never refilled */
  active: boolean;
  /** units of the variant on the face now */
  qty: number;
  min_qty: number;
  unit: UnitMeasures;
}

/** A refill of one face, with the variant and the numbers that called for it. */
export interface PlannedRefill extends Replenishment {
  sku: string;
  on_face: number;
  min_qty: number;
}

/**
 * The refills of a warehouse's pick faces, in the order given, each as planReplenishment plans one face: from what
 * the reserve holds less what the refills before it take, so two faces of a SKU never count on the same units, and
 * into the room a face has left after the refills before it, so two SKUs of one face never count on the same room
 * (neither is allowed now, but either may be left from before). Inactive faces are left out.
 * @param fills each pick face's limits and fill now, by location
 * @param reserve what each SKU's locations hold, by SKU
 */
export function planReplenishments(
  minimums: readonly FaceMinimum[],
  fills: ReadonlyMap<string, LocationFill>,
  reserve: ReadonlyMap<string, readonly PickHolding[]>,
): PlannedRefill[] {
  const taken = new Map<string, number>();
  const takenKey = (sku: string, location: string): string => JSON.stringify([sku, location]);
  const filled = new Map([...fills].map(([location, fill]) => [location, { ...fill }]));
  const planned: PlannedRefill[] = [];
  for (const face of minimums) {
    const fill = filled.get(face.location);
    if (!face.active || !fill) continue;
    const left = (reserve.get(face.sku) ?? []).map((holding) => ({
      ...holding,
      qty: holding.qty - (taken.get(takenKey(face.sku, holding.location)) ?? 0),
    }));
    const move = planReplenishment(
      { location: face.location, qty: face.qty, min_qty: face.min_qty, room: roomFor(fill, face.unit).units },
      left,
    );
    if (!move) continue;
    for (const stop of move.from) {
      const key = takenKey(face.sku, stop.location);
      taken.set(key, (taken.get(key) ?? 0) + stop.qty);
    }
    fill.weight_g += move.qty * (face.unit.weight_g ?? 0);
    fill.volume_cm3 += move.qty * (face.unit.volume_cm3 ?? 0);
    planned.push({ ...move, sku: face.sku, on_face: face.qty, min_qty: face.min_qty });
  }
  return planned;
}

/** How a count plan chooses what to count: ABC classes by movement value first, or simply the oldest count first. */
export const COUNT_METHODS = ['abc', 'oldest'] as const;
/** One of COUNT_METHODS. */
export type CountMethod = (typeof COUNT_METHODS)[number];

/** A class of ABC analysis: A moves most value (the first 80% of all movement), B the next 15%, C the rest. */
export type AbcClass = 'A' | 'B' | 'C';

/**
 * ABC classes by movement: sorted by how much each moved, those making up the first 80% of the total are A, up to
 * 95% B, the rest C. Nothing moved at all is C.
 */
export function abcClasses<Key>(items: readonly { key: Key; moved: number }[]): Map<Key, AbcClass> {
  const total = items.reduce((sum, item) => sum + item.moved, 0);
  const classes = new Map<Key, AbcClass>();
  let before = 0;
  for (const item of [...items].sort((left, right) => right.moved - left.moved)) {
    // a share is judged by where the item starts: the one that crosses 80% is still A
    const share = total === 0 || item.moved === 0 ? 1 : before / total;
    classes.set(item.key, share < 0.8 ? 'A' : share < 0.95 ? 'B' : 'C');
    before += item.moved;
  }
  return classes;
}

/** A location's units of one variant, as a count plan weighs them. */
export interface CountCandidate {
  location: string;
  sku: string;
  qty: number;
  last_counted_at: Date | null;
  /** units that moved in and out */
  moved: number;
  /** the value of those units, in minor units (uncosted units at none) */
  moved_value: number;
}

/** What to count, in the order to count it, with each one's class (ABC by the value of what moved). */
export function planCounts(
  candidates: readonly CountCandidate[],
  method: CountMethod,
  limit: number,
): (CountCandidate & { class: AbcClass })[] {
  const classes = abcClasses(candidates.map((candidate) => ({ key: candidate.sku, moved: candidate.moved_value })));
  const age = (candidate: CountCandidate): number => candidate.last_counted_at?.getTime() ?? -Infinity;
  const rank = (candidate: CountCandidate): number =>
    method === 'abc' ? 'ABC'.indexOf(classes.get(candidate.sku) ?? 'C') : 0;
  return candidates
    .map((candidate) => ({ ...candidate, class: classes.get(candidate.sku) ?? ('C' as const) }))
    .sort(
      (left, right) =>
        rank(left) - rank(right) ||
        age(left) - age(right) ||
        (left.location < right.location ? -1 : left.location > right.location ? 1 : left.sku < right.sku ? -1 : 1),
    )
    .slice(0, limit);
}
