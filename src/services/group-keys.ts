import { IdempotencyConflictError } from '../domain/errors.js';
import type { Queryable } from '../store/db.js';
import { claimKeys, settleKeys } from '../store/idempotency.js';
import { idempotencyOf } from './idempotency.js';
import type { CallOptions } from './context.js';
import type { Settled } from './group-commit.js';

/** What a job of a group asks of idempotency: its use case's scope, the caller's options and its request. */
export interface KeyRequest {
  scope: string;
  options: CallOptions;
  request: unknown;
}

/** A key a group claimed for one of its jobs. */
export interface ClaimedKey {
  scope: string;
  key: string;
}

/**
 * Claims the idempotency keys of a group's jobs in one transaction, a statement per scope. Jobs already
 * settled are skipped. A job whose key was used before is settled here: with the stored answer (same request)
 * or an idempotency_conflict (another request). A key met twice in one group is claimed once; the later job
 * waits for the next group, where it replays. Returns, per job, the key claimed for it, if any.
 */
export async function claimGroupKeys<O>(
  tx: Queryable,
  wanted: readonly (KeyRequest | undefined)[],
  settled: (Settled<O> | undefined)[],
): Promise<(ClaimedKey | undefined)[]> {
  const keys = wanted.map((w, i) => {
    if (!w || settled[i]) return undefined;
    const idem = idempotencyOf(w.options, w.request);
    return idem && { scope: w.scope, ...idem, given: w.options.idempotencyKey ?? idem.key };
  });
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (!k) return;
    const id = `${k.scope}\u0000${k.key}`;
    if (seen.has(id)) settled[i] = { retry: true };
    seen.add(id);
  });
  const claimed: (ClaimedKey | undefined)[] = keys.map(() => undefined);
  for (const scope of new Set(keys.flatMap((k) => (k ? [k.scope] : [])))) {
    const mine = keys.flatMap((k, i) => (k && k.scope === scope && !settled[i] ? [{ i, k }] : []));
    const claims = await claimKeys(
      tx,
      scope,
      mine.map(({ k }) => k),
    );
    for (const { i, k } of mine) {
      const claim = claims.get(k.key);
      if (!claim) throw new Error(`idempotency key ${k.key} was neither claimed nor found`);
      if (claim.claimed) claimed[i] = { scope, key: k.key };
      // the stored answer is what this use case answered the first time
      else if (claim.requestHash === k.requestHash) settled[i] = { ok: true, value: claim.response as O };
      else settled[i] = { ok: false, error: new IdempotencyConflictError(k.given) };
    }
  }
  return claimed;
}

/**
 * Stores the answers of the claimed keys whose jobs succeeded, and gives back those whose jobs failed or wait
 * for a later group (which claims the key again).
 */
export async function settleGroupKeys(
  tx: Queryable,
  claimed: readonly (ClaimedKey | undefined)[],
  settled: readonly (Settled<unknown> | undefined)[],
): Promise<void> {
  for (const scope of new Set(claimed.flatMap((c) => (c ? [c.scope] : [])))) {
    const responses: { key: string; response: unknown }[] = [];
    const failed: string[] = [];
    claimed.forEach((c, i) => {
      const s = settled[i];
      if (!c || c.scope !== scope || !s) return;
      if ('retry' in s || !s.ok) failed.push(c.key);
      else responses.push({ key: c.key, response: s.value });
    });
    await settleKeys(tx, scope, responses, failed);
  }
}
