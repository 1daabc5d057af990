import type { AlertRow } from '../store/alerts.js';
import type { Backorder } from '../domain/backorder.js';
import type { ReservationStatus } from '../domain/reservation.js';
import { available } from '../domain/stock-level.js';
import type { LevelNumbers } from '../domain/stock-level.js';
import type { VariantRow, WarehouseRow } from '../store/catalog.js';
import type { LimitScope } from '../domain/variant-limits.js';
import type { MovementRow } from '../store/movements.js';
import type { ReservationLineRow, ReservationRow } from '../store/reservations.js';

/** What use cases return: plain JSON in the API's snake_case, timestamps as ISO strings. */

const iso = (time: Date | string | null): string | null =>
  time === null ? null : time instanceof Date ? time.toISOString() : new Date(time).toISOString();

/** A warehouse as the API shows it: the stored row without its internal id, its time as an ISO string. */
export type Warehouse = Omit<WarehouseRow, 'id' | 'created_at' | 'archived_at'> & {
  created_at: string;
  /** when it was archived; null while in use */
  archived_at: string | null;
};

/** A stored warehouse as the API shows it. */
export const toWarehouse = (warehouse: WarehouseRow): Warehouse => ({
  code: warehouse.code,
  name: warehouse.name,
  lat: warehouse.lat,
  lon: warehouse.lon,
  priority: warehouse.priority,
  regions: warehouse.regions,
  serves_within_km: warehouse.serves_within_km,
  created_at: iso(warehouse.created_at) as string,
  archived_at: iso(warehouse.archived_at),
});

/** A variant as the API shows it: its product's title, settings, and backorder terms together. */
export interface Variant {
  sku: string;
  /** the product: its title, its category path (null: none) and its tags */
  product: { title: string; category: string | null; tags: string[] };
  attributes: Record<string, unknown>;
  low_stock_threshold: number;
  safety_stock: number;
  backorder: Backorder;
  reorder_point: number | null;
  reorder_qty: number | null;
  lead_time_days: number | null;
  supplier: string | null;
  limit_scope: LimitScope;
  track_inventory: boolean;
  created_at: string;
  updated_at: string;
  /** when it was archived; null while in use */
  archived_at: string | null;
}

/** A stored variant as the API shows it. */
export const toVariant = (variant: VariantRow): Variant => ({
  sku: variant.sku,
  product: { title: variant.product_title, category: variant.product_category, tags: variant.product_tags },
  attributes: variant.attributes,
  low_stock_threshold: variant.low_stock_threshold,
  safety_stock: variant.safety_stock,
  backorder: {
    policy: variant.backorder_policy,
    limit: variant.backorder_limit,
    lead_days: variant.backorder_lead_days,
  },
  reorder_point: variant.reorder_point,
  reorder_qty: variant.reorder_qty,
  lead_time_days: variant.lead_time_days,
  supplier: variant.supplier,
  limit_scope: variant.limit_scope,
  track_inventory: variant.track_inventory,
  created_at: iso(variant.created_at) as string,
  updated_at: iso(variant.updated_at) as string,
  archived_at: iso(variant.archived_at),
});

/** One variant's stock in one warehouse: on hand, promised, and what may still be sold. */
export interface Level {
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
  available: number;
}

/** A level's numbers as the API shows them, available worked out. */
export const toLevel = (sku: string, warehouse: string, numbers: LevelNumbers): Level => ({
  sku,
  warehouse,
  on_hand: numbers.on_hand,
  reserved: numbers.reserved,
  available: available(numbers),
});

/** A ledger row as the API shows it. */
export interface Movement {
  id: number;
  sku: string;
  warehouse: string;
  type: MovementRow['type'];
  delta_on_hand: number;
  delta_reserved: number;
  on_hand_after: number;
  reserved_after: number;
  reason: MovementRow['reason'];
  reference: string | null;
  actor: string | null;
  reservation_id: string | null;
  /** a 'state' row: the states its units moved between and how many (null on every other row) */
  state_from: MovementRow['state_from'];
  state_to: MovementRow['state_to'];
  state_qty: number | null;
  /** the location the row's units left (negative location_delta) or entered (null: none named) */
  location: string | null;
  location_delta: number | null;
  /**
   * minor units of the store currency: what one unit came in or left at (on a fulfilment, the cost of goods sold
   * per unit), what the row added to or took from the level's value, and the value after it; null: not costed
   */
  unit_cost: number | null;
  value_delta: number | null;
  value_after: number | null;
  /** a kit component's row: the kit its units moved for */
  kit: string | null;
  created_at: string;
}

/** A stored ledger row as the API shows it. */
export const toMovement = (movement: MovementRow): Movement => ({
  ...movement,
  created_at: iso(movement.created_at) as string,
});

/** One line of a reservation: where its units are held and how far they have got. */
export interface ReservationLine {
  sku: string;
  warehouse: string;
  qty: number;
  /** units promised beyond stock (backorder / pre-order): they ship when stock arrives */
  backordered: number;
  fulfilled: number;
  released: number;
  /** a kit's line: its components' units, held, shipped and given back with it (the kit itself holds nothing) */
  components?: ReservationComponent[];
}

/** The units of one component a kit line holds. */
export interface ReservationComponent {
  sku: string;
  warehouse: string;
  qty: number;
  fulfilled: number;
  released: number;
}

/** A reservation as the API shows it, with its lines. */
export interface Reservation {
  id: string;
  order_ref: string;
  /** false when the caller opted out of one open reservation per order_ref */
  unique_order_ref: boolean;
  status: ReservationStatus;
  /** only a pending reservation has a deadline */
  expires_at: string | null;
  created_at: string;
  committed_at: string | null;
  closed_at: string | null;
  /** true when some units are promised beyond stock */
  backordered: boolean;
  lines: ReservationLine[];
}

/** A stored reservation and its lines as the API shows them. */
export const toReservation = (reservation: ReservationRow, lines: readonly ReservationLineRow[]): Reservation => ({
  id: reservation.id,
  order_ref: reservation.order_ref,
  unique_order_ref: reservation.unique_order_ref,
  status: reservation.status,
  expires_at: iso(reservation.expires_at),
  created_at: iso(reservation.created_at) as string,
  committed_at: iso(reservation.committed_at),
  closed_at: iso(reservation.closed_at),
  backordered: lines.some((line) => line.backordered > 0),
  lines: lines.some((line) => line.kit_line_no !== null)
    ? lines.filter((line) => line.kit_line_no === null).map((line) => toReservationLine(line, lines))
    : lines.map((line) => toReservationLine(line, [])),
});

/** A stored line as shown: a kit's line with its components nested; component lines are shown only there. */
function toReservationLine(line: ReservationLineRow, lines: readonly ReservationLineRow[]): ReservationLine {
  const shown: ReservationLine = {
    sku: line.sku,
    warehouse: line.warehouse,
    qty: line.qty,
    backordered: line.backordered,
    fulfilled: line.fulfilled_qty,
    released: line.released_qty,
  };
  const components = lines.filter((other) => other.kit_line_no === line.line_no);
  if (components.length === 0) return shown;
  return {
    ...shown,
    components: components.map((component) => ({
      sku: component.sku,
      warehouse: component.warehouse,
      qty: component.qty,
      fulfilled: component.fulfilled_qty,
      released: component.released_qty,
    })),
  };
}

/** An alert as raised (store/alerts.ts), its time as an ISO string. */
export type Alert = Omit<AlertRow, 'created_at'> & { created_at: string };

/** A stored alert as the API shows it. */
export const toAlert = (alert: AlertRow): Alert => ({ ...alert, created_at: iso(alert.created_at) as string });
