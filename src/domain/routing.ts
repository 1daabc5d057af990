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

/** What narrows or orders routing beyond the candidates' own ranks. */
export interface RoutingRequest {
  /** only this warehouse may serve the line */
  warehouse?: string | undefined;
  /** nearer warehouses first among those of equal priority */
  ship_to?: GeoPoint | undefined;
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

/**
 * The order warehouses are tried in: higher priority first, then nearer to ship_to, then more available,
 * then by code so the same inputs always route the same way.
 */
export function routingOrder(candidates: readonly RoutingCandidate[], shipTo?: GeoPoint): RoutingCandidate[] {
  const distance = (candidate: RoutingCandidate): number =>
    shipTo && candidate.lat != null && candidate.lon != null
      ? distanceKm(shipTo, { lat: candidate.lat, lon: candidate.lon })
      : Number.POSITIVE_INFINITY;
  return [...candidates].sort(
    (first, second) =>
      second.priority - first.priority ||
      (shipTo ? distance(first) - distance(second) : 0) ||
      second.available - first.available ||
      (first.warehouse < second.warehouse ? -1 : first.warehouse > second.warehouse ? 1 : 0),
  );
}

/**
 * Where `qty` units of one variant come from, or null when they cannot be promised. In order: one
 * warehouse that has them all in stock (one parcel); else stock split over warehouses; only then
 * backorder headroom, so nothing is sold short while sellable stock exists elsewhere.
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
  );
  const single = ordered.find((candidate) => candidate.available >= qty);
  if (single) return [allocationAt(single, qty)];

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

/** `qty` units from one warehouse, those beyond its stock counted as backordered. */
const allocationAt = (candidate: RoutingCandidate, qty: number): Allocation => ({
  warehouse: candidate.warehouse,
  qty,
  backordered: backorderedUnits(qty, candidate.available - qty),
});
