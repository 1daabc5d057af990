import { createHmac, timingSafeEqual } from 'node:crypto';
import { ALERT_TYPES, alertHeadline } from './alerts.js';
import type { AlertFacts } from './alerts.js';

/**
 * Getting events to people and systems: which events there are, how long to wait before trying again, what
 * a message says, and how a webhook receiver knows a request came from us and is fresh.
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

/** Seconds a signed webhook stays acceptable: older ones are refused as replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed with the body, so an
 * old request cannot be replayed with a new time.
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

/** What a signature header says about a body: signed and fresh (with its timestamp and MAC), or why not. */
export type SignatureCheck =
  { ok: true; timestamp: number; mac: string } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * Reads `t=<unix seconds>,v1=<hex>` against a body: the MAC must be the secret's over "<t>.<body>" (compared in
 * constant time) and t within `toleranceSeconds` of now. Outgoing webhooks and pushed sync batches share it.
 */
export function checkSignature(
  secret: string,
  body: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  const parts = new Map(
    header
      .split(',')
      .map((part) => [part.slice(0, part.indexOf('=')).trim(), part.slice(part.indexOf('=') + 1).trim()]),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!/^\d+$/.test(parts.get('t') ?? '') || !Number.isSafeInteger(timestamp) || given === undefined)
    return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmac(secret, timestamp, body));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: 'mismatch' };
  return { ok: true, timestamp, mac: given };
}

/** What a receiver runs (it is exported for them): true if the header signs this body and is fresh. */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  return checkSignature(secret, body, header, nowSeconds, toleranceSeconds).ok;
}
