import type { ShortLine } from '../domain/errors.js';
import { kitsAvailable } from '../domain/kits.js';
import type { Kit } from '../domain/kits.js';
import { routeOrder, totalReservable } from '../domain/routing.js';
import type { AllocationStrategy, GeoPoint, RoutingCandidate } from '../domain/routing.js';
import { serves } from '../domain/service-area.js';
import type { Shopper } from '../domain/service-area.js';
import { available } from '../domain/stock-level.js';
import type { RoutingRow } from '../store/levels.js';

/** The kits of an order that are kits, by SKU; undefined when it names none (the plain order's only cost: this look). */
export function kitsNamed(
  lines: readonly { sku: string }[],
  kits: ReadonlyMap<string, Kit>,
): ReadonlyMap<string, Kit> | undefined {
  if (kits.size === 0) return undefined;
  let named: Map<string, Kit> | undefined;
  for (const line of lines) {
    const kit = kits.get(line.sku);
    if (kit) (named ??= new Map()).set(kit.sku, kit);
  }
  return named;
}

/** The SKUs whose levels an order of these kits must lock: their components'. */
export const componentSkus = (kits: ReadonlyMap<string, Kit>): string[] =>
  [...kits.values()].flatMap((kit) => kit.components.map((component) => component.sku));

/** Kits held at one warehouse: the kit's level, how many kits, and the units of each component's level. */
export interface KitPart {
  kit: RoutingRow;
  kits: number;
  components: { level: RoutingRow; qty: number }[];
}

/** What planKitHolds asks of the order beyond its kits. */
export interface KitOrder {
  shopper: Shopper;
  warehouse?: string | undefined;
  ship_to?: GeoPoint | undefined;
  strategy: AllocationStrategy;
  split?: boolean | undefined;
}

/**
 * Routes an order's kits to warehouses, each kit whole from one warehouse: a warehouse can send as many kits as
 * its components there make (the least of available ÷ quantity), after what the order's other lines and earlier
 * kits already take there (`taken`, by level, which this adds to). A kit is never backordered. Returns the parts
 * to hold and, for kits that cannot be covered, the shortage in kits.
 */
export function planKitHolds(
  wanted: ReadonlyMap<string, number>,
  kits: ReadonlyMap<string, Kit>,
  levels: readonly RoutingRow[],
  taken: Map<RoutingRow, number>,
  order: KitOrder,
): { parts: KitPart[]; short: ShortLine[] } {
  const parts: KitPart[] = [];
  const short: ShortLine[] = [];
  for (const [sku, qty] of wanted) {
    const kit = kits.get(sku);
    if (!kit) continue;
    const componentAt = (component: string, warehouse: string): RoutingRow | undefined =>
      levels.find((level) => level.sku === component && level.warehouse === warehouse);
    const mine = levels.filter(
      (level) => level.sku === sku && (order.warehouse === undefined || level.warehouse === order.warehouse),
    );
    const candidates: RoutingCandidate[] = mine
      .filter((level) => serves(level, order.shopper))
      .map((level) => ({
        warehouse: level.warehouse,
        priority: level.priority,
        lat: level.lat,
        lon: level.lon,
        backorder_allowance: 0,
        available: kitsAvailable(kit.components, (component) => {
          const at = componentAt(component, level.warehouse);
          return at ? available(at) - (taken.get(at) ?? 0) : 0;
        }),
      }));
    const [allocation] = routeOrder([{ qty, candidates }], {
      ship_to: order.ship_to,
      strategy: order.strategy,
      split: order.split,
    });
    if (!allocation) {
      short.push({
        sku,
        requested: qty,
        available: totalReservable(candidates),
        ...(order.split === false && totalReservable(candidates) >= qty
          ? { reason: `no single warehouse has all ${qty} and split is false` }
          : {}),
      });
      continue;
    }
    for (const part of allocation) {
      const kitLevel = mine.find((level) => level.warehouse === part.warehouse);
      if (!kitLevel) continue;
      const components = kit.components.map((component) => {
        const level = componentAt(component.sku, part.warehouse) as RoutingRow;
        const units = component.qty * part.qty;
        taken.set(level, (taken.get(level) ?? 0) + units);
        return { level, qty: units };
      });
      parts.push({ kit: kitLevel, kits: part.qty, components });
    }
  }
  return { parts, short };
}
