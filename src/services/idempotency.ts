import { hash } from 'node:crypto';
import { IdempotencyConflictError, ValidationError } from '../domain/errors.js';
import type { Queryable } from '../store/db.js';
import { asStockroomError } from '../store/failures.js';
import { claimKey, forgetKeysOlderThan, storeResponse } from '../store/idempotency.js';
import type { CallOptions, ServiceContext } from './context.js';

/** Canonical JSON: object keys sorted, so equal requests hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonical(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const requestHash = (request: unknown): string => hash('sha256', canonical(request));

/** The longest idempotency key taken, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * The one rule for an idempotency key, wherever it is given (the Idempotency-Key header, the CLI's --key, a library
 * call's options; `at` names the place): one given but empty or blank is a mistake, not a call without a key, and
 * is refused rather than stored; at most MAX_IDEMPOTENCY_KEY_LENGTH characters.
 */
export function checkIdempotencyKey(key: string, at: string): string {
  if (key.trim() === '') throw ValidationError.field(at, 'must not be empty');
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw ValidationError.field(at, `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  return key;
}

/** The key as stored (scoped to its client) and the request's hash, or undefined without a key. */
export function idempotencyOf(
  options: CallOptions,
  request: unknown,
): { key: string; requestHash: string } | undefined {
  const key = options.idempotencyKey;
  if (key === undefined) return undefined;
  // HTTP and the CLI checked it where it was given; a library caller's is checked here, before it is claimed
  checkIdempotencyKey(key, '/idempotency_key');
  return {
    key: options.idempotencyScope === undefined ? key : `${options.idempotencyScope}:${key}`,
    requestHash: requestHash(request),
  };
}

/**
 * Runs a use case in one transaction, at most once per idempotency key: a replay with the same request
 * returns the first result and changes nothing; the same key with another request is refused. Results
 * must be plain JSON (they are stored and replayed as such). A failed attempt stores nothing, so the key
 * can be retried.
 */
export async function runIdempotently<T>(
  context: ServiceContext,
  scope: string,
  options: CallOptions,
  request: unknown,
  run: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const work = context.db.transaction(async (tx) => {
    const idempotency = idempotencyOf(options, request);
    if (idempotency === undefined) return run(tx);
    const claim = await claimKey(tx, scope, idempotency.key, idempotency.requestHash);
    if (!claim.claimed) {
      if (claim.requestHash !== idempotency.requestHash)
        throw new IdempotencyConflictError(options.idempotencyKey ?? idempotency.key);
      options.onReplay?.();
      return claim.response as T;
    }
    const result = await run(tx);
    await storeResponse(tx, scope, idempotency.key, result);
    return result;
  });
  // a library caller learns what a database failure means (a sum past a column's limit, an outage), as HTTP and
  // the CLI do; the transaction was rolled back, so nothing changed
  return work.catch((error: unknown) => {
    throw asStockroomError(error) ?? error;
  });
}

/** How many keys one statement forgets: a pass over a large backlog is many short statements, not one long lock. */
const FORGET_BATCH = 5000;

/** The default retention of idempotency keys (STOCKROOM_IDEMPOTENCY_RETENTION_HOURS), as Stripe's and Shopify's. */
export const DEFAULT_IDEMPOTENCY_RETENTION_HOURS = 24;

/** The longest retention taken (a century): past it, "before" would fall off the calendar a date can hold. */
export const MAX_IDEMPOTENCY_RETENTION_HOURS = 876_000;

/**
 * Forgets the idempotency keys claimed more than `olderThanMs` ago, a batch per statement (each its own
 * transaction), until none is left; returns how many. A request sent again with a forgotten key is a new request.
 */
export async function forgetIdempotencyKeys(
  db: Queryable,
  olderThanMs: number,
  /** aborted: the pass stops after the batch it is in (a shutdown does not wait for a whole backlog) */
  signal?: AbortSignal,
): Promise<number> {
  let forgotten = 0;
  for (;;) {
    const batch = await forgetKeysOlderThan(db, olderThanMs, FORGET_BATCH);
    forgotten += batch;
    if (batch < FORGET_BATCH || signal?.aborted === true) return forgotten;
  }
}
