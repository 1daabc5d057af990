import { backorderAllowance } from './backorder.js';
import type { Backorder } from './backorder.js';
import { available } from './stock-level.js';
import type { LevelNumbers } from './stock-level.js';
import { variantHeadroom } from './variant-limits.js';

/** What a shopper is told about a variant. */
export const AVAILABILITY_STATUSES = ['in_stock', 'low_stock', 'out_of_stock', 'preorder', 'backorder'] as const;
/** One of AVAILABILITY_STATUSES. */
export type AvailabilityStatus = (typeof AVAILABILITY_STATUSES)[number];

/** Days past the expected date within which an order ships: a window, not a promise to the day. */
const SHIPPING_WINDOW_DAYS = 2;

/** What the storefront's answer for one variant is worked out from. */
export interface AvailabilityInput {
  /** the variant's levels in the warehouses that serve the shopper */
  levels: readonly LevelNumbers[];
  low_stock_threshold: number;
  backorder: Pick<Backorder, 'policy' | 'limit' | 'lead_days'>;
  /** days until the earliest open purchase order is expected, when one is known: it wins over lead_days */
  incoming_in_days?: number | null;
  /**
   * for a variant whose limits apply to its sum (limit_scope variant): every level of it, serving the shopper or
   * not, and its safety stock; what the shopper may order is then also bounded by what the sum allows
   */
  variant_wide?: { levels: readonly LevelNumbers[]; safety_stock: number } | undefined;
}

/** The storefront's answer for one variant: how many may be ordered, and how to say so. */
export interface Availability {
  /** units a shopper can order now: in stock, or for pre-order/backorder what may still be promised */
  available: number;
  status: AvailabilityStatus;
  label: string;
}

/**
 * Units in stock that can be sold now over these levels: each warehouse counts what it has, from zero up, so
 * one short of stock (or only holding its safety stock back) never lends another its shortage. Backorder
 * headroom is not stock and is not counted.
 */
export const sellable = (levels: readonly LevelNumbers[]): number =>
  levels.reduce((sum, level) => sum + Math.max(0, available(level)), 0);

/**
 * The storefront's answer for one variant. Safety stock is held back (it is part of `available`), and a
 * warehouse short of stock never lends another its shortage: each counts what it has, from zero up.
 * In stock above the threshold; low at or below it; past zero a pre-order or backorder variant is offered
 * while any warehouse may still promise units within its limit; otherwise out of stock.
 */
export function availabilityOf(input: AvailabilityInput): Availability {
  const wide = input.variant_wide;
  const bound = (units: number, allowance: number): number =>
    wide === undefined
      ? units
      : Math.min(
          units,
          variantHeadroom(wide.levels, { safety_stock: wide.safety_stock, backorder_allowance: allowance }),
        );
  const inStock = bound(sellable(input.levels), 0);
  if (inStock > input.low_stock_threshold) return { available: inStock, status: 'in_stock', label: 'In stock' };
  if (inStock > 0) return { available: inStock, status: 'low_stock', label: `Only ${inStock} left` };
  const allowance = backorderAllowance(input.backorder);
  const promisable = bound(
    input.levels.reduce((sum, level) => sum + Math.max(0, available(level) + allowance), 0),
    allowance,
  );
  const policy = input.backorder.policy;
  if (promisable === 0 || policy === 'deny') return { available: 0, status: 'out_of_stock', label: 'Out of stock' };
  const days = input.incoming_in_days ?? input.backorder.lead_days;
  const ships = days === null ? '' : `, ships in ${shippingWindow(days)}`;
  return policy === 'preorder'
    ? { available: promisable, status: 'preorder', label: `Pre-order${ships}` }
    : { available: promisable, status: 'backorder', label: `Backorder${ships}` };
}

/**
 * The storefront's answer for an untracked variant (track_inventory false): in stock, as many as one order may
 * ask for, wherever a warehouse serves the shopper; out of stock where none does (nothing could ship).
 */
export function untrackedAvailability(servedBy: number, orderable: number): Availability {
  return servedBy > 0
    ? { available: orderable, status: 'in_stock', label: 'In stock' }
    : { available: 0, status: 'out_of_stock', label: 'Out of stock' };
}

/** "5-7 days", "1-3 days"; an expected date already passed counts as today. */
function shippingWindow(days: number): string {
  const from = Math.max(0, Math.ceil(days));
  return `${from}-${from + SHIPPING_WINDOW_DAYS} days`;
}
