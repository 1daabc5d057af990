import { backorderedUnits } from './stock-level.js';

/** A warehouse routing may take units of one variant from: its rank, place and what it can still promise. */
export interface RoutingCandidate {
  warehouse: string;
  priority: number;
  /** available(level) of domain/stock-level.ts; negative when already sold short */
  available: number;
  /** how far below zero this warehouse may go (0 unless backorder/pre-order) */
  backorder_allowance: number;
  lat?: number | null;
  lon?: number | null;
}

/** A place on earth, in degrees: a warehouse's or where an order ships to. */
export interface GeoPoint {
  lat: number;
  lon: number;
}

/** The units of a line one warehouse is to send. */
export interface Allocation {
  warehouse: string;
  qty: number;
  /** units of qty beyond the stock there: they ship when it is restocked */
  backordered: number;
}

/**
 * How an order's lines are spread over the warehouses that can serve it:
 * - priority: higher-priority warehouses first (then nearer to ship_to, then more available)
 * - most_available: the warehouses with most available first, keeping stock even across them
 * - nearest: the warehouses nearest to ship_to first (those without a location last)
 * - fewest_shipments: the fewest warehouses that cover the whole order, ties by priority
 */
export const ALLOCATION_STRATEGIES = ['priority', 'most_available', 'nearest', 'fewest_shipments'] as const;
/** One of ALLOCATION_STRATEGIES. */
export type AllocationStrategy = (typeof ALLOCATION_STRATEGIES)[number];
/** What a store routes by unless it says otherwise: today's rule. */
export const DEFAULT_ALLOCATION: AllocationStrategy = 'priority';

/** Whether a string names an allocation strategy. */
export const isAllocationStrategy = (value: string): value is AllocationStrategy =>
  (ALLOCATION_STRATEGIES as readonly string[]).includes(value);

/** What narrows or orders routing beyond the candidates' own ranks. */
export interface RoutingRequest {
  /** only this warehouse may serve the line */
  warehouse?: string | undefined;
  /** nearer warehouses first among those of equal priority (nearest: nearer first, whatever the priority) */
  ship_to?: GeoPoint | undefined;
  /** the order warehouses are tried in (default priority) */
  strategy?: AllocationStrategy | undefined;
  /** false: the whole line from one warehouse, or not at all */
  split?: boolean | undefined;
}

const EARTH_RADIUS_KM = 6371;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine). */
export function distanceKm(from: GeoPoint, to: GeoPoint): number {
  const dLat = rad(to.lat - from.lat);
  const dLon = rad(to.lon - from.lon);
  const haversine = Math.sin(dLat / 2) ** 2 + Math.cos(rad(from.lat)) * Math.cos(rad(to.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(haversine));
}

/** Units a warehouse can still promise, backorder headroom included. */
const reservable = (candidate: RoutingCandidate): number =>
  Math.max(0, candidate.available + candidate.backorder_allowance);

/** Units the whole set can still promise: what a refusal reports as available. */
export const totalReservable = (candidates: readonly RoutingCandidate[]): number =>
  candidates.reduce((sum, candidate) => sum + reservable(candidate), 0);

const byCode = (first: RoutingCandidate, second: RoutingCandidate): number =>
  first.warehouse < second.warehouse ? -1 : first.warehouse > second.warehouse ? 1 : 0;

/** How far a warehouse is from shipTo; one without a location (or no shipTo) is farther than any that has one. */
const distanceFrom =
  (shipTo: GeoPoint | undefined) =>
  (candidate: RoutingCandidate): number =>
    shipTo && candidate.lat != null && candidate.lon != null
      ? distanceKm(shipTo, { lat: candidate.lat, lon: candidate.lon })
      : Number.POSITIVE_INFINITY;

/** Infinity - Infinity is NaN: two warehouses equally far (both unlocated) compare equal. */
const nearer = (first: number, second: number): number => (first === second ? 0 : first - second);

/**
 * The order warehouses are tried in, by strategy (see ALLOCATION_STRATEGIES); every strategy ends with the
 * warehouse code, so the same inputs always route the same way. fewest_shipments tries the warehouses of the set
 * it chose in priority order.
 */
export function routingOrder(
  candidates: readonly RoutingCandidate[],
  shipTo?: GeoPoint,
  strategy: AllocationStrategy = DEFAULT_ALLOCATION,
): RoutingCandidate[] {
  const distance = distanceFrom(shipTo);
  const byPriority = (first: RoutingCandidate, second: RoutingCandidate): number =>
    second.priority - first.priority ||
    (shipTo ? nearer(distance(first), distance(second)) : 0) ||
    second.available - first.available;
  const compare: Record<AllocationStrategy, (first: RoutingCandidate, second: RoutingCandidate) => number> = {
    priority: byPriority,
    fewest_shipments: byPriority,
    most_available: (first, second) => second.available - first.available || second.priority - first.priority,
    nearest: (first, second) =>
      nearer(distance(first), distance(second)) ||
      second.priority - first.priority ||
      second.available - first.available,
  };
  return [...candidates].sort((first, second) => compare[strategy](first, second) || byCode(first, second));
}

/**
 * Where `qty` units of one variant come from, or null when they cannot be promised. In order: one
 * warehouse that has them all in stock (one parcel); else stock split over warehouses; only then
 * backorder headroom, so nothing is sold short while sellable stock exists elsewhere. With split: false, only
 * one warehouse: the first that has them all in stock, else the first whose backorder headroom covers them.
 */
export function allocate(
  qty: number,
  candidates: readonly RoutingCandidate[],
  request: RoutingRequest = {},
): Allocation[] | null {
  const ordered = routingOrder(
    request.warehouse === undefined
      ? candidates
      : candidates.filter((candidate) => candidate.warehouse === request.warehouse),
    request.ship_to,
    request.strategy,
  );
  const single = ordered.find((candidate) => candidate.available >= qty);
  if (single) return [allocationAt(single, qty)];
  if (request.split === false) {
    const short = ordered.find((candidate) => reservable(candidate) >= qty);
    return short ? [allocationAt(short, qty)] : null;
  }

  /** units taken from each warehouse, by code */
  const taken = new Map<string, number>();
  let rest = qty;
  for (const candidate of ordered) {
    const take = Math.min(rest, Math.max(0, candidate.available));
    if (take > 0) taken.set(candidate.warehouse, take);
    rest -= take;
  }
  for (const candidate of ordered) {
    if (rest === 0) break;
    const already = taken.get(candidate.warehouse) ?? 0;
    const short = Math.min(rest, Math.max(0, candidate.available - already + candidate.backorder_allowance));
    if (short === 0) continue;
    taken.set(candidate.warehouse, already + short);
    rest -= short;
  }
  if (rest > 0) return null;
  return ordered.flatMap((candidate) => {
    const units = taken.get(candidate.warehouse);
    return units === undefined ? [] : [allocationAt(candidate, units)];
  });
}

/** One line of an order to route: its quantity and the warehouses that may serve it. */
export interface OrderLineToRoute {
  qty: number;
  candidates: readonly RoutingCandidate[];
}

/**
 * Routes a whole order: each line's allocation (null where the line cannot be promised), in input order. Every
 * strategy but fewest_shipments routes each line on its own; fewest_shipments first picks the fewest warehouses
 * that can cover every line (in stock if any set can, else with backorder headroom), ties broken by the
 * warehouses' priorities (highest first) and then their codes, and routes each line within that set by priority.
 */
export function routeOrder(lines: readonly OrderLineToRoute[], request: RoutingRequest = {}): (Allocation[] | null)[] {
  const routeEach = (within?: ReadonlySet<string>): (Allocation[] | null)[] =>
    lines.map((line) =>
      allocate(
        line.qty,
        within === undefined ? line.candidates : line.candidates.filter((c) => within.has(c.warehouse)),
        request,
      ),
    );
  if (request.strategy !== 'fewest_shipments') return routeEach();
  const each = routeEach();
  // a line no warehouse can cover refuses the order whatever the set: nothing to choose
  if (each.some((allocation) => allocation === null)) return each;
  const set = fewestWarehouses(lines, request, 'stock') ?? fewestWarehouses(lines, request, 'headroom');
  return set === undefined ? each : routeEach(set);
}

/** Above this many warehouses, the set is chosen greedily rather than by trying every combination. */
const EXACT_SET_LIMIT = 12;

/**
 * The smallest set of warehouses (by code) that can cover every line, counting stock only or stock with
 * backorder headroom; among sets of one size, the one whose priorities, highest first, rank highest.
 */
function fewestWarehouses(
  lines: readonly OrderLineToRoute[],
  request: RoutingRequest,
  counting: 'stock' | 'headroom',
): Set<string> | undefined {
  const byWarehouse = new Map<string, RoutingCandidate>();
  for (const line of lines) for (const candidate of line.candidates) byWarehouse.set(candidate.warehouse, candidate);
  const ranked = routingOrder([...byWarehouse.values()], request.ship_to, 'priority');
  const units = (candidate: RoutingCandidate): number =>
    counting === 'stock' ? Math.max(0, candidate.available) : reservable(candidate);
  const covers = (set: readonly RoutingCandidate[]): boolean =>
    lines.every((line) => {
      const mine = line.candidates.filter((candidate) =>
        set.some((member) => member.warehouse === candidate.warehouse),
      );
      return request.split === false
        ? mine.some((candidate) => units(candidate) >= line.qty)
        : mine.reduce((sum, candidate) => sum + units(candidate), 0) >= line.qty;
    });
  const toSet = (set: readonly RoutingCandidate[]): Set<string> => new Set(set.map((member) => member.warehouse));
  if (ranked.length > EXACT_SET_LIMIT) {
    // greedy: add the warehouse (in rank order) that leaves the fewest units uncovered, until all are
    const chosen: RoutingCandidate[] = [];
    while (!covers(chosen)) {
      const next = ranked
        .filter((candidate) => !chosen.includes(candidate))
        .map((candidate) => ({ candidate, left: uncovered(lines, [...chosen, candidate], units) }))
        .reduce<{ candidate: RoutingCandidate; left: number } | undefined>(
          (best, option) => (best === undefined || option.left < best.left ? option : best),
          undefined,
        );
      if (next === undefined) return undefined;
      chosen.push(next.candidate);
    }
    return toSet(chosen);
  }
  // combinations of `size` warehouses in rank order come out best-ranked first: the first that covers wins
  for (let size = 1; size <= ranked.length; size++) {
    for (const set of combinations(ranked, size)) if (covers(set)) return toSet(set);
  }
  return undefined;
}

/** Units of the order a set of warehouses leaves uncovered. */
function uncovered(
  lines: readonly OrderLineToRoute[],
  set: readonly RoutingCandidate[],
  units: (candidate: RoutingCandidate) => number,
): number {
  return lines.reduce((sum, line) => {
    const covered = line.candidates
      .filter((candidate) => set.some((member) => member.warehouse === candidate.warehouse))
      .reduce((total, candidate) => total + units(candidate), 0);
    return sum + Math.max(0, line.qty - covered);
  }, 0);
}

/** Every choice of `size` items, in lexicographic order of their positions. */
function* combinations<T>(items: readonly T[], size: number, from = 0): Generator<T[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= items.length - size; i++) {
    const head = items[i] as T;
    for (const rest of combinations(items, size - 1, i + 1)) yield [head, ...rest];
  }
}

/** `qty` units from one warehouse, those beyond its stock counted as backordered. */
const allocationAt = (candidate: RoutingCandidate, qty: number): Allocation => ({
  warehouse: candidate.warehouse,
  qty,
  backordered: backorderedUnits(qty, candidate.available - qty),
});
