/** What routing knows of one warehouse's stock of one variant. */
export interface WarehouseStock {
  warehouse: string;
  priority: number;
  /** on_hand - reserved - safety_stock; negative when already sold short */
  available: number;
  /** how far below zero this warehouse may go (0 unless backorder/pre-order) */
  backorder_allowance: number;
  lat?: number | null;
  lon?: number | null;
}

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface Allocation {
  warehouse: string;
  qty: number;
  /** units of qty beyond the stock there: they ship when it is restocked */
  backordered: number;
}

export interface RoutingRequest {
  /** only this warehouse may serve the line */
  warehouse?: string | undefined;
  /** nearer warehouses first among those of equal priority */
  ship_to?: GeoPoint | undefined;
}

const EARTH_RADIUS_KM = 6371;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(h));
}

/** Units a warehouse can still promise, backorder headroom included. */
export const reservable = (s: WarehouseStock): number => Math.max(0, s.available + s.backorder_allowance);

/** Units the whole set can still promise: what a refusal reports as available. */
export const totalReservable = (stocks: readonly WarehouseStock[]): number =>
  stocks.reduce((n, s) => n + reservable(s), 0);

/**
 * The order warehouses are tried in: higher priority first, then nearer to ship_to, then more available,
 * then by code so the same inputs always route the same way.
 */
export function routingOrder(stocks: readonly WarehouseStock[], shipTo?: GeoPoint): WarehouseStock[] {
  const distance = (s: WarehouseStock): number =>
    shipTo && s.lat != null && s.lon != null
      ? distanceKm(shipTo, { lat: s.lat, lon: s.lon })
      : Number.POSITIVE_INFINITY;
  return [...stocks].sort(
    (a, b) =>
      b.priority - a.priority ||
      (shipTo ? distance(a) - distance(b) : 0) ||
      b.available - a.available ||
      (a.warehouse < b.warehouse ? -1 : a.warehouse > b.warehouse ? 1 : 0),
  );
}

/**
 * Where `qty` units of one variant come from, or null when they cannot be promised. In order: one
 * warehouse that has them all in stock (one parcel); else stock split over warehouses; only then
 * backorder headroom, so nothing is sold short while sellable stock exists elsewhere.
 */
export function allocate(
  qty: number,
  stocks: readonly WarehouseStock[],
  request: RoutingRequest = {},
): Allocation[] | null {
  const candidates = routingOrder(
    request.warehouse === undefined ? stocks : stocks.filter((s) => s.warehouse === request.warehouse),
    request.ship_to,
  );
  const single = candidates.find((s) => s.available >= qty);
  if (single) return [{ warehouse: single.warehouse, qty, backordered: 0 }];

  const taken = new Map<string, Allocation>();
  let rest = qty;
  for (const s of candidates) {
    const take = Math.min(rest, Math.max(0, s.available));
    if (take > 0) taken.set(s.warehouse, { warehouse: s.warehouse, qty: take, backordered: 0 });
    rest -= take;
  }
  for (const s of candidates) {
    if (rest === 0) break;
    const already = taken.get(s.warehouse)?.qty ?? 0;
    const short = Math.min(rest, Math.max(0, s.available - already + s.backorder_allowance));
    if (short === 0) continue;
    const a = taken.get(s.warehouse) ?? { warehouse: s.warehouse, qty: 0, backordered: 0 };
    taken.set(s.warehouse, { warehouse: s.warehouse, qty: a.qty + short, backordered: a.backordered + short });
    rest -= short;
  }
  if (rest > 0) return null;
  return candidates.flatMap((s) => taken.get(s.warehouse) ?? []);
}
