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

/** What a channel can subscribe to: the alert types, and stock lost under promised orders. */
export const EVENT_TYPES = [...ALERT_TYPES, 'stock.shortfall'] as const;
/** One of EVENT_TYPES: what an outbox row announces (outbox.event, migration 0011). */
export type EventType = (typeof EVENT_TYPES)[number];

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

/** One line a person reads: Slack and Telegram text, an email's subject. */
export function headline(event: DeliveryEvent): string {
  if (event.type === 'stock.shortfall') {
    const facts = event.data;
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
