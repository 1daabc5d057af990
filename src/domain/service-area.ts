import { distanceKm } from './routing.js';
import type { GeoPoint } from './routing.js';

/** Where a warehouse ships: regions (none: every region) and a delivery radius around it (none: any distance). */
export interface ServiceArea {
  regions: readonly string[];
  serves_within_km: number | null;
  lat: number | null;
  lon: number | null;
}

/** Who is asking: a region code and/or where the order would ship to. */
export interface Shopper {
  region?: string | undefined;
  ship_to?: GeoPoint | undefined;
}

/** Whether a warehouse can serve this shopper; a shopper who says nothing is served by every warehouse. */
export function serves(area: ServiceArea, shopper: Shopper): boolean {
  const region = shopper.region?.toUpperCase();
  if (
    region !== undefined &&
    area.regions.length > 0 &&
    !area.regions.some((served) => served.toUpperCase() === region)
  )
    return false;
  if (shopper.ship_to && area.serves_within_km !== null && area.lat !== null && area.lon !== null) {
    return distanceKm(shopper.ship_to, { lat: area.lat, lon: area.lon }) <= area.serves_within_km;
  }
  return true;
}
