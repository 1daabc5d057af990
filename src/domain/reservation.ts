import { InvalidTransitionError, ValidationError } from './errors.js';

/**
 * A reservation is a two-phase transfer (as in TigerBeetle): pending holds stock with a deadline; committed
 * is paid and holds without one; fulfilled posts it (stock leaves the building); released voids it;
 * expired is the timeout. partially_fulfilled has shipped some lines and still holds the rest.
 */
export const RESERVATION_STATUSES = [
  'pending',
  'committed',
  'partially_fulfilled',
  'fulfilled',
  'released',
  'expired',
] as const;
/** One of RESERVATION_STATUSES: where a reservation is in its life. */
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** What can be done to a reservation: the three calls, and expiry (by the sweeper or whoever finds it due). */
export const RESERVATION_ACTIONS = ['commit', 'fulfil', 'release', 'expire'] as const;
/** One of the reservation actions, as nextStatus takes it. */
export type ReservationAction = (typeof RESERVATION_ACTIONS)[number];

/** How long a pending reservation holds stock when the order names no ttl_seconds: 15 minutes. */
export const DEFAULT_TTL_SECONDS = 900;
/** The longest ttl_seconds an order may ask for (a week): beyond it a hold is refused as invalid input. */
export const MAX_TTL_SECONDS = 7 * 24 * 3600;

const HOLDING: readonly ReservationStatus[] = ['pending', 'committed', 'partially_fulfilled'];

/** True while the reservation still holds stock. */
const isHolding = (status: ReservationStatus): boolean => HOLDING.includes(status);

/** A pending reservation whose deadline has passed holds nothing, whether or not the sweeper has run. */
export function isDue(
  reservation: { status: ReservationStatus; expires_at: string | Date | null },
  now: Date,
): boolean {
  return (
    reservation.status === 'pending' &&
    reservation.expires_at !== null &&
    new Date(reservation.expires_at).getTime() <= now.getTime()
  );
}

/**
 * The status after `action`, or InvalidTransitionError. Committing twice is harmless and answers the
 * same; everything else out of a final state is refused.
 * @param fullyFulfilled for 'fulfil': whether nothing is left to ship afterwards
 */
export function nextStatus(
  from: ReservationStatus,
  action: ReservationAction,
  fullyFulfilled = false,
): ReservationStatus {
  switch (action) {
    case 'commit':
      if (from === 'pending' || from === 'committed') return 'committed';
      break;
    case 'fulfil':
      if (isHolding(from)) return fullyFulfilled ? 'fulfilled' : 'partially_fulfilled';
      break;
    case 'release':
      if (isHolding(from)) return 'released';
      break;
    case 'expire':
      if (from === 'pending') return 'expired';
      break;
  }
  throw new InvalidTransitionError(from, action);
}

/** A reservation line as fulfilment planning sees it: what is left of it to ship. */
export interface OpenLine {
  line_no: number;
  sku: string;
  warehouse: string;
  /** qty - fulfilled - released */
  remaining: number;
}

/** One line of a fulfil request: this many units of a SKU, from a warehouse if named. */
export interface FulfilRequestLine {
  sku: string;
  qty: number;
  warehouse?: string | undefined;
}

/** How many units of one reservation line ship. */
export interface LinePick {
  line_no: number;
  qty: number;
}

/**
 * Which reservation lines ship how much. Without a request, everything still held ships. A requested SKU
 * that was split across warehouses is taken from its lines in line order unless a warehouse is named.
 * Asking for a SKU that is not on the reservation, or for more than is left, is refused whole.
 * @param action what the picked units are for ('release' and 'unfulfil' pick the same way), as refusals say it
 */
export function planFulfilment(
  lines: readonly OpenLine[],
  request?: readonly FulfilRequestLine[],
  action = 'fulfil',
): LinePick[] {
  if (!request)
    return lines.filter((line) => line.remaining > 0).map((line) => ({ line_no: line.line_no, qty: line.remaining }));
  const left = new Map(lines.map((line) => [line.line_no, line.remaining]));
  const picked = new Map<number, number>();
  request.forEach((want, i) => {
    const candidates = lines.filter(
      (line) => line.sku === want.sku && (want.warehouse === undefined || line.warehouse === want.warehouse),
    );
    if (candidates.length === 0) {
      const where = want.warehouse === undefined ? '' : ` at warehouse ${want.warehouse}`;
      throw ValidationError.field(`/lines/${i}/sku`, `${want.sku}${where} is not on this reservation`);
    }
    const open = candidates.reduce((sum, line) => sum + (left.get(line.line_no) ?? 0), 0);
    // a line that was shipped or released in full is past fulfilling, as a settled reservation is: a conflict
    // with its state, not a malformed request
    if (candidates.every((line) => line.remaining === 0))
      throw new InvalidTransitionError('settled', action, `line of ${want.sku}`);
    if (want.qty > open) {
      throw ValidationError.field(
        `/lines/${i}/qty`,
        `${want.qty} exceeds the ${open} unit${open === 1 ? '' : 's'} of ${want.sku} left to ${action}`,
      );
    }
    let rest = want.qty;
    for (const line of candidates) {
      const take = Math.min(rest, left.get(line.line_no) ?? 0);
      if (take === 0) continue;
      left.set(line.line_no, (left.get(line.line_no) ?? 0) - take);
      picked.set(line.line_no, (picked.get(line.line_no) ?? 0) + take);
      rest -= take;
      if (rest === 0) break;
    }
  });
  return [...picked]
    .map(([line_no, qty]) => ({ line_no, qty }))
    .sort((first, second) => first.line_no - second.line_no);
}
