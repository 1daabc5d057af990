import type { Queryable } from './db.js';

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

export async function storeResponse(tx: Queryable, scope: string, key: string, response: unknown): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET response = $3::json WHERE scope = $1 AND key = $2', [scope, key, JSON.stringify(response)]);
}
