import type { AlertRow } from '../store/alerts.js';
import type { Backorder } from '../domain/backorder.js';
import type { ReservationStatus } from '../domain/reservation.js';
import { available } from '../domain/stock-level.js';
import type { VariantRow, WarehouseRow } from '../store/catalog.js';
import type { MovementRow } from '../store/movements.js';
import type { ReservationLineRow, ReservationRow } from '../store/reservations.js';

/** What use cases return: plain JSON in the API's snake_case, timestamps as ISO strings. */

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export interface Warehouse {
  code: string;
  name: string;
  lat: number | null;
  lon: number | null;
  priority: number;
  regions: string[];
  serves_within_km: number | null;
  created_at: string;
}

export const toWarehouse = (w: WarehouseRow): Warehouse => ({
  code: w.code,
  name: w.name,
  lat: w.lat,
  lon: w.lon,
  priority: w.priority,
  regions: w.regions,
  serves_within_km: w.serves_within_km,
  created_at: iso(w.created_at) as string,
});

export interface Variant {
  sku: string;
  product: { title: string };
  attributes: Record<string, unknown>;
  low_stock_threshold: number;
  safety_stock: number;
  backorder: Backorder;
  reorder_point: number | null;
  reorder_qty: number | null;
  lead_time_days: number | null;
  supplier: string | null;
  created_at: string;
  updated_at: string;
}

export const toVariant = (v: VariantRow): Variant => ({
  sku: v.sku,
  product: { title: v.product_title },
  attributes: v.attributes,
  low_stock_threshold: v.low_stock_threshold,
  safety_stock: v.safety_stock,
  backorder: { policy: v.backorder_policy, limit: v.backorder_limit, lead_days: v.backorder_lead_days },
  reorder_point: v.reorder_point,
  reorder_qty: v.reorder_qty,
  lead_time_days: v.lead_time_days,
  supplier: v.supplier,
  created_at: iso(v.created_at) as string,
  updated_at: iso(v.updated_at) as string,
});

export interface Level {
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
  available: number;
}

export const toLevel = (
  sku: string,
  warehouse: string,
  n: { on_hand: number; reserved: number; safety_stock: number },
): Level => ({
  sku,
  warehouse,
  on_hand: n.on_hand,
  reserved: n.reserved,
  available: available(n),
});

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
  created_at: string;
}

export const toMovement = (m: MovementRow): Movement => ({ ...m, created_at: iso(m.created_at) as string });

export interface ReservationLine {
  sku: string;
  warehouse: string;
  qty: number;
  /** units promised beyond stock (backorder / pre-order): they ship when stock arrives */
  backordered: number;
  fulfilled: number;
  released: number;
}

export interface Reservation {
  id: string;
  order_ref: string;
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

export const toReservation = (r: ReservationRow, lines: readonly ReservationLineRow[]): Reservation => ({
  id: r.id,
  order_ref: r.order_ref,
  status: r.status,
  expires_at: iso(r.expires_at),
  created_at: iso(r.created_at) as string,
  committed_at: iso(r.committed_at),
  closed_at: iso(r.closed_at),
  backordered: lines.some((l) => l.backordered > 0),
  lines: lines.map((l) => ({
    sku: l.sku,
    warehouse: l.warehouse,
    qty: l.qty,
    backordered: l.backordered,
    fulfilled: l.fulfilled_qty,
    released: l.released_qty,
  })),
});

/** An alert as raised (store/alerts.ts), its time as an ISO string. */
export type Alert = Omit<AlertRow, 'created_at'> & { created_at: string };

export const toAlert = (a: AlertRow): Alert => ({ ...a, created_at: iso(a.created_at) as string });
