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

/** What claiming a group's keys found, per job: the key claimed for it, or the answer its key already settles. */
export interface GroupKeyClaims<O> {
  /** per job, the key claimed for it, if any: settleGroupKeys stores or gives it back */
  claimed: (ClaimedKey | undefined)[];
  /** per job, how its key settles it, if it does: a replay, an idempotency_conflict, or a retry in a later group */
  settled: (Settled<O> | undefined)[];
}

/**
 * Claims the idempotency keys of a group's jobs in one transaction, a statement per scope. Jobs with nothing
 * wanted (undefined) are skipped. A job whose key was used before is settled here: with the stored answer (same
 * request) or an idempotency_conflict (another request). A key met twice in one group is claimed once; the later
 * job waits for the next group, where it replays. The caller keeps the settlements as the group's answers.
 */
export async function claimGroupKeys<O>(
  tx: Queryable,
  wanted: readonly (KeyRequest | undefined)[],
): Promise<GroupKeyClaims<O>> {
  const settled: (Settled<O> | undefined)[] = wanted.map(() => undefined);
  const jobKeys = wanted.map((want, i) => {
    if (!want) return undefined;
    let idempotency: ReturnType<typeof idempotencyOf>;
    try {
      idempotency = idempotencyOf(want.options, want.request);
    } catch (error) {
      // a key that is no key (empty, too long) settles its own job here: thrown, it would fail the group's
      // transaction, and every job of it would be run again alone
      settled[i] = { ok: false, error };
      return undefined;
    }
    return idempotency && { scope: want.scope, ...idempotency, given: want.options.idempotencyKey ?? idempotency.key };
  });
  const seen = new Set<string>();
  jobKeys.forEach((jobKey, i) => {
    if (!jobKey) return;
    const id = `${jobKey.scope}\u0000${jobKey.key}`;
    if (seen.has(id)) settled[i] = { retry: true };
    seen.add(id);
  });
  const claimed: (ClaimedKey | undefined)[] = jobKeys.map(() => undefined);
  for (const scope of new Set(jobKeys.flatMap((jobKey) => (jobKey ? [jobKey.scope] : [])))) {
    const mine = jobKeys.flatMap((jobKey, i) =>
      jobKey && jobKey.scope === scope && !settled[i] ? [{ i, jobKey }] : [],
    );
    const claims = await claimKeys(
      tx,
      scope,
      mine.map(({ jobKey }) => jobKey),
    );
    for (const { i, jobKey } of mine) {
      const claim = claims.get(jobKey.key);
      if (!claim) throw new Error(`idempotency key ${jobKey.key} was neither claimed nor found`);
      if (claim.claimed) claimed[i] = { scope, key: jobKey.key };
      // the stored answer is what this use case answered the first time
      else if (claim.requestHash === jobKey.requestHash) {
        settled[i] = { ok: true, value: claim.response as O };
        wanted[i]?.options.onReplay?.();
      } else settled[i] = { ok: false, error: new IdempotencyConflictError(jobKey.given) };
    }
  }
  return { claimed, settled };
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
  // every scope's statement sent at once, none waiting for another: a caller may send them with its COMMIT
  const scopes = [...new Set(claimed.flatMap((claim) => (claim ? [claim.scope] : [])))];
  await Promise.all(
    scopes.map((scope) => {
      const responses: { key: string; response: unknown }[] = [];
      const failed: string[] = [];
      claimed.forEach((claim, i) => {
        const settlement = settled[i];
        if (!claim || claim.scope !== scope || !settlement) return;
        if ('retry' in settlement || !settlement.ok) failed.push(claim.key);
        else responses.push({ key: claim.key, response: settlement.value });
      });
      return settleKeys(tx, scope, responses, failed);
    }),
  );
}
