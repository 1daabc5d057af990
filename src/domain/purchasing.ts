import { InvalidTransitionError } from './errors.js';

/**
 * A purchase order's life:
 *   DRAFT --send--> SENT --confirm--> CONFIRMED --receive--> PARTIAL --receive--> RECEIVED
 *   and cancel from any open state (received units stay received)
 */
export const PO_STATUSES = ['DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL', 'RECEIVED', 'CANCELLED'] as const;
/** Where a purchase order is in its life. */
export type PoStatus = (typeof PO_STATUSES)[number];
/** What can be done to an order; each moves it along PO_STATUSES or is refused. */
export type PoAction = 'send' | 'confirm' | 'receive' | 'cancel';

/**
 * Orders that may still change; a variant with one of these is not ordered again by replenishment. Of these,
 * what SENT, CONFIRMED and PARTIAL orders still owe is `incoming` (the view purchase_incoming, migration 0009).
 */
export const OPEN_PO_STATUSES: readonly PoStatus[] = ['DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL'];

const ALLOWED: Record<PoAction, readonly PoStatus[]> = {
  send: ['DRAFT'],
  confirm: ['SENT'],
  receive: ['CONFIRMED', 'PARTIAL'],
  cancel: ['DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL'],
};

/**
 * The status after `action`, or an invalid_transition error. `complete` tells a receipt that leaves nothing
 * outstanding (RECEIVED) from one that does (PARTIAL).
 */
export function nextPoStatus(current: PoStatus, action: PoAction, complete = false): PoStatus {
  if (!ALLOWED[action].includes(current)) throw new InvalidTransitionError(current, action, 'purchase order');
  switch (action) {
    case 'send':
      return 'SENT';
    case 'confirm':
      return 'CONFIRMED';
    case 'receive':
      return complete ? 'RECEIVED' : 'PARTIAL';
    case 'cancel':
      return 'CANCELLED';
  }
}

/** The date an order placed today arrives, from a lead time in days; none without a lead time. */
export function expectedDateFrom(today: Date, leadTimeDays: number | null): string | null {
  if (leadTimeDays === null) return null;
  const arrival = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + leadTimeDays));
  return arrival.toISOString().slice(0, 10);
}

/** Whole days from today until an expected date (negative once it has passed), for "ships in N days". */
export function daysUntil(today: Date, date: string): number {
  const midnight = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Math.round((Date.parse(`${date}T00:00:00Z`) - midnight) / 86_400_000);
}
