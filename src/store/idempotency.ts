import type { Queryable } from './db.js';
import { anyOf, opaque } from './sql.js';

/** Either the key is this transaction's now, or it was taken first: with that request's hash and stored answer. */
export type KeyClaim = { claimed: true } | { claimed: false; requestHash: string; response: unknown };

/**
 * Claims (scope, key) for this transaction. A concurrent claim of the same key waits on the unique index
 * until this transaction ends, then sees the stored response: the key applies once.
 */
export async function claimKey(tx: Queryable, scope: string, key: string, requestHash: string): Promise<KeyClaim> {
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS claimed`,
    [scope, key, requestHash],
  );
  if (inserted.rowCount > 0) return { claimed: true };
  const { rows } = await tx.query<{ request_hash: string; response: unknown }>(
    'SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
    [scope, key],
  );
  const row = rows[0];
  if (!row) throw new Error('idempotency key vanished between claim and read');
  return { claimed: false, requestHash: row.request_hash, response: row.response };
}

/** Keeps the answer given under a claimed key, in the claiming transaction, so a replay gets it byte for byte. */
export async function storeResponse(tx: Queryable, scope: string, key: string, response: unknown): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET response = $3::json WHERE scope = $1 AND key = $2', [
    scope,
    key,
    JSON.stringify(response),
  ]);
}

/**
 * Claims many keys of one scope at once (a group commit). Keys already taken come back with what was stored
 * for them; every other key is claimed for this transaction.
 */
export async function claimKeys(
  tx: Queryable,
  scope: string,
  claims: readonly { key: string; requestHash: string }[],
): Promise<Map<string, KeyClaim>> {
  const result = new Map<string, KeyClaim>();
  if (claims.length === 0) return result;
  const inserted = await tx.query<{ key: string }>(
    `INSERT INTO idempotency_keys (scope, key, request_hash)
     SELECT $1, c.key, c.request_hash FROM jsonb_to_recordset($2::jsonb) AS c(key text, request_hash text)
     ON CONFLICT DO NOTHING RETURNING key`,
    // in key order: two groups claiming the same keys wait on each other in one order, never in a cycle
    [
      scope,
      JSON.stringify(
        [...claims]
          .sort((first, second) => (first.key < second.key ? -1 : first.key > second.key ? 1 : 0))
          .map((claim) => ({ key: claim.key, request_hash: claim.requestHash })),
      ),
    ],
  );
  for (const row of inserted.rows) result.set(row.key, { claimed: true });
  const taken = claims.filter((claim) => !result.has(claim.key)).map((claim) => claim.key);
  if (taken.length === 0) return result;
  const { rows } = await tx.query<{ key: string; request_hash: string; response: unknown }>(
    `SELECT key, request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = ${anyOf('$2::text[]')}`,
    [scope, taken],
  );
  for (const row of rows)
    result.set(row.key, { claimed: false, requestHash: row.request_hash, response: row.response });
  return result;
}

/** Stores the responses of claimed keys, and gives back the keys whose requests failed, in one statement. */
export async function settleKeys(
  tx: Queryable,
  scope: string,
  responses: readonly { key: string; response: unknown }[],
  failed: readonly string[],
): Promise<void> {
  if (responses.length === 0 && failed.length === 0) return;
  await tx.query(
    `WITH stored AS (
       UPDATE idempotency_keys k SET response = r.response::json
         FROM unnest(${opaque('$2::text[]')}, ${opaque('$3::text[]')}) AS r(key, response)
        WHERE k.scope = $1 AND k.key = r.key
     )
     DELETE FROM idempotency_keys WHERE scope = $1 AND key = ${anyOf('$4::text[]')}`,
    // each response as its own JSON text: the json column keeps it byte for byte (jsonb would reorder keys)
    [
      scope,
      responses.map((settled) => settled.key),
      responses.map((settled) => JSON.stringify(settled.response)),
      failed,
    ],
  );
}

/**
 * Forgets up to `limit` keys claimed more than `olderThanMs` ago by the database's clock (the one that stamped
 * them, whatever the clocks of the processes), oldest first; returns how many. Keys another process is forgetting
 * at the same moment are skipped (SKIP LOCKED), so any number of processes may prune at once.
 */
export async function forgetKeysOlderThan(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys
      WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys
                              WHERE created_at < now() - make_interval(secs => $1::bigint / 1000.0)
                              ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    [olderThanMs, limit],
  );
  return rowCount;
}
