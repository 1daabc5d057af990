import { ALERT_TYPES, alertHeadline } from './alerts.js';
import type { AlertFacts } from './alerts.js';

/**
 * Getting events to people and systems: which events there are, where they can go, the states of a delivery and
 * what a message says. How a receiver knows a webhook came from us is signature.ts.
 */

/** Where a channel sends: the receivers stockroom knows how to talk to. */
export const CHANNEL_KINDS = ['webhook', 'slack', 'telegram', 'email'] as const;
/** One of CHANNEL_KINDS. */
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * Changes of a reservation, named by the database at commit (migration 0018, `stockroom_reservation_event`). A status
 * added later arrives as `reservation.<status>`, which a `reservation.*` subscription takes without a new name here.
 */
export const RESERVATION_EVENTS = [
  'reservation.created',
  'reservation.amended',
  'reservation.committed',
  'reservation.released',
  'reservation.expired',
  'reservation.fulfilled',
  'reservation.unfulfilled',
  'reservation.moved',
] as const;

/** What a channel can subscribe to: the alert types, stock lost under promised orders, every level and reservation change. */
export const EVENT_TYPES = [...ALERT_TYPES, 'stock.shortfall', 'stock.changed', ...RESERVATION_EVENTS] as const;
/** One of EVENT_TYPES: what an outbox row announces (outbox.event, migration 0011). */
export type EventType = (typeof EVENT_TYPES)[number];

/** Families a channel can subscribe to whole: every event whose name starts so, those added later too. */
export const EVENT_FAMILIES = ['stock.*', 'reservation.*'] as const;
/** What a channel's `events` list may hold: an event's name or a family. */
export const SUBSCRIPTIONS = [...EVENT_TYPES, ...EVENT_FAMILIES] as const;
/** One of SUBSCRIPTIONS. */
export type Subscription = (typeof SUBSCRIPTIONS)[number];

/**
 * A delivery is pending (due now or after its backoff), delivered, dead (out of tries until retried by hand), or
 * cancelled (its channel was removed before it got through: never sent again, kept in the log).
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead', 'cancelled'] as const;
/** One of DELIVERY_STATUSES. */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One try of a delivery as the log shows it. */
export interface DeliveryTry {
  attempt: number;
  started_at: string;
  duration_ms: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
}

/** An outbox row as it leaves: `id` is the receiver's key for de-duplication (a retry carries the same id). */
export interface DeliveryEvent {
  id: string;
  type: EventType;
  created_at: string;
  data: Record<string, unknown>;
}

type Numbers = { on_hand?: number; reserved?: number; available?: number } | undefined;

/** "on hand 10 → 8, reserved 2 → 0": the numbers of a level that changed. */
function changedNumbers(before: Numbers, after: Numbers): string {
  const parts = (['on_hand', 'reserved', 'available'] as const)
    .filter((name) => before?.[name] !== after?.[name])
    .map((name) => `${name.replace('_', ' ')} ${String(before?.[name])} → ${String(after?.[name])}`);
  return parts.length > 0 ? parts.join(', ') : 'no change in numbers';
}

/** One line a person reads: Slack and Telegram text, an email's subject. */
export function headline(event: DeliveryEvent): string {
  const facts = event.data;
  if (event.type === 'stock.changed') {
    const movement = facts['movement'] as { type?: string } | null;
    const cause = movement?.type === undefined ? '' : ` (${movement.type})`;
    return `Stock: ${String(facts['sku'])} at ${String(facts['warehouse'])}, ${changedNumbers(facts['before'] as Numbers, facts['after'] as Numbers)}${cause}`;
  }
  if (event.type.startsWith('reservation.')) {
    const change = event.type.slice('reservation.'.length);
    return `Reservation ${String(facts['order_ref'])} ${change}: now ${String(facts['status'])} (${String(facts['id'])})`;
  }
  if (event.type === 'stock.shortfall') {
    return `Shortfall: ${String(facts['sku'])} at ${String(facts['warehouse'])} has ${String(facts['on_hand'])} on hand for ${String(facts['reserved'])} promised (${String(facts['shortfall'])} short)`;
  }
  return alertHeadline(event.data as unknown as AlertFacts);
}

/** A plain-text body with every fact of the event, for email. */
export function details(event: DeliveryEvent): string {
  const facts = Object.entries(event.data).map(
    ([name, value]) =>
      `${name}: ${value === null ? '-' : typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean)}`,
  );
  return [headline(event), '', ...facts, `event: ${event.id}`].join('\n');
}
