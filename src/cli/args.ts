import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../domain/errors.js';
import { checkIdempotencyKey } from '../services/idempotency.js';
import { Actor, parse } from '../services/schemas.js';
import { MAX_PAGE } from '../services/paging.js';

/** An integer argument; anything else is passed on as written, so the use case reports it with the field's name. */
export function int(value: string): number | string {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

/** For options that must be integers before anything else can happen. */
export function intOption(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** A count of hours, days or the like: a whole number from 0 to `max`, refused past it rather than cut to it. */
export function countUpTo(max: number): (value: string) => number {
  return (value) => {
    const count = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(count <= max)) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}`);
    return count;
  };
}

/** A page size (--limit), refused outside 1..MAX_PAGE as the API refuses it, rather than quietly clamped. */
export function pageSizeOption(value: string): number {
  const size = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(size >= 1 && size <= MAX_PAGE)) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_PAGE}`);
  return size;
}

/** An idempotency key (--key), refused before anything is opened by the rule the Idempotency-Key header has. */
export const idempotencyKeyOption = (value: string): string => checkIdempotencyKey(value, '/key');

/** Who acts (--actor), refused before anything is opened by the rule every actor has (schemas.ts, Actor). */
export const actorOption = (value: string): string => parse(Actor, value, '/actor');

/** A TCP port to listen on: 0 (any free one) to 65535. */
export function portOption(value: string): number {
  const port = intOption(value);
  if (port < 0 || port > 65_535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return port;
}

/**
 * An address to listen on. An empty one is refused: Node reads it as "every interface", so a blank variable in a
 * unit file (`--host "$HOST"`) would open the server to every network the machine is on.
 */
export function hostOption(value: string): string {
  const host = value.trim();
  if (host === '')
    throw new InvalidArgumentError('must be an address such as 127.0.0.1, or 0.0.0.0 or :: for every interface');
  return host;
}

/** A comma-separated option as its items, blanks dropped: `--events a, b` or `--scopes a,b`. */
export const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A point as `LAT,LON` (`--ship-to 52.52,13.40`); the numbers are checked where the field is, with its name. */
export function geoPointOption(value: string): { lat: number | string; lon: number | string } {
  const parts = value.split(',');
  if (parts.length !== 2) throw new InvalidArgumentError('must be LAT,LON such as 52.52,13.40');
  const number = (part: string): number | string => (/^\s*-?\d+(\.\d+)?\s*$/.test(part) ? Number(part) : part);
  return { lat: number(parts[0] ?? ''), lon: number(parts[1] ?? '') };
}

/** `SKU:QTY` pairs for reserve and fulfil. */
export function skuQty(field: string) {
  return (pairs: readonly string[]): { sku: string; qty: number | string }[] =>
    pairs.map((pair, i) => {
      const at = pair.lastIndexOf(':');
      if (at <= 0) throw ValidationError.field(`/${field}/${i}`, `"${pair}" is not SKU:QTY`);
      return { sku: pair.slice(0, at), qty: int(pair.slice(at + 1)) };
    });
}

// read where the database settings are read too (store/open.ts), one rule for every STOCKROOM_* setting
export { ENV_INT_MAX, envFlag, envInt, urlProtocol } from '../store/open.js';
