import type { Queryable } from './db.js';

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, prefix, scopes, created_at, revoked_at';

/** @returns the new key, or undefined when a key with that hash exists already */
export async function insertApiKey(
  tx: Queryable,
  k: { name: string; prefix: string; secretHash: string; scopes: readonly string[] },
): Promise<ApiKeyRow | undefined> {
  const { rows } = await tx.query<ApiKeyRow>(
    `INSERT INTO api_keys (name, prefix, secret_hash, scopes) VALUES ($1, $2, $3, $4::text[])
     ON CONFLICT (secret_hash) DO NOTHING RETURNING ${COLUMNS}`,
    [k.name, k.prefix, k.secretHash, k.scopes],
  );
  return rows[0];
}

/** The live key with this hash, if any. */
export async function findApiKey(db: Queryable, secretHash: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, [secretHash]);
  return rows[0];
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY id`);
  return rows;
}

/** @returns the revoked key, or undefined when there is no live key with that id or prefix */
export async function revokeApiKey(tx: Queryable, idOrPrefix: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await tx.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = now()
      WHERE revoked_at IS NULL AND (prefix = $1 OR id::text = $1) RETURNING ${COLUMNS}`,
    [idOrPrefix],
  );
  return rows[0];
}
