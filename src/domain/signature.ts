import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Signed requests, both ways: the webhooks stockroom sends and the sync batches a warehouse system pushes carry
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 */

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
