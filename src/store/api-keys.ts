import { ADVISORY_LOCKS } from './advisory-locks.js';
import type { Queryable } from './db.js';

/** generated: the key reads sr_<public_id>_<secret>; operator: a key given from outside (STOCKROOM_ADMIN_KEY) */
export type KeyOrigin = 'generated' | 'operator';
/** hmac-sha256: HMAC-SHA256 of the key under the row's salt; sha256: a plain hash from before (rehashed on use) */
export type HashScheme = 'hmac-sha256' | 'sha256';

/** An API key as it may be shown: who it is for and what it may do, never what verifies it. */
export interface ApiKeyRow {
  id: number;
  name: string;
  public_id: string;
  origin: KeyOrigin;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
}

/** A row with what verifies a presented key: read only to authenticate, never returned to anyone. */
export interface ApiKeySecretRow extends ApiKeyRow {
  salt: string | null;
  secret_hash: string;
  hash_scheme: HashScheme;
}

const COLUMNS = 'id, name, public_id, origin, scopes, created_at, revoked_at';
const SECRET_COLUMNS = `${COLUMNS}, salt, secret_hash, hash_scheme`;

/** Takes, for this transaction, the lock servers starting with one operator key take turns on to add it once. */
export async function lockOperatorKeys(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.operatorKey]);
}

/** @returns the new key, or undefined when its public id or hash is taken already */
export async function insertApiKey(
  tx: Queryable,
  key: {
    name: string;
    publicId: string;
    origin: KeyOrigin;
    salt: string;
    secretHash: string;
    scopes: readonly string[];
  },
): Promise<ApiKeyRow | undefined> {
  const { rows } = await tx.query<ApiKeyRow>(
    `INSERT INTO api_keys (name, public_id, origin, salt, secret_hash, hash_scheme, scopes) VALUES ($1, $2, $3, $4, $5, 'hmac-sha256', $6::text[])
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [key.name, key.publicId, key.origin, key.salt, key.secretHash, key.scopes],
  );
  return rows[0];
}

/** The live generated key with this public id, if any. */
export async function findApiKeyByPublicId(db: Queryable, publicId: string): Promise<ApiKeySecretRow | undefined> {
  const { rows } = await db.query<ApiKeySecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM api_keys WHERE public_id = $1 AND origin = 'generated' AND revoked_at IS NULL`,
    [publicId],
  );
  return rows[0];
}

/** The live key from before salted hashes whose plain SHA-256 this is, if any. */
export async function findLegacyApiKey(db: Queryable, sha256: string): Promise<ApiKeySecretRow | undefined> {
  const { rows } = await db.query<ApiKeySecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM api_keys WHERE secret_hash = $1 AND hash_scheme = 'sha256' AND revoked_at IS NULL`,
    [sha256],
  );
  return rows[0];
}

/** Live operator-supplied keys with salted hashes: a handful, tried one by one (their value carries no id). */
export async function listOperatorApiKeys(db: Queryable): Promise<ApiKeySecretRow[]> {
  const { rows } = await db.query<ApiKeySecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM api_keys WHERE origin = 'operator' AND hash_scheme = 'hmac-sha256' AND revoked_at IS NULL ORDER BY id`,
  );
  return rows;
}

/**
 * Revoked keys an operator-supplied value may be: salted operator keys, and a plain-hash key with this SHA-256
 * (from before salted hashes). A revoked STOCKROOM_ADMIN_KEY must not be made again at the next start.
 */
export async function listRevokedOperatorApiKeys(db: Queryable, sha256: string): Promise<ApiKeySecretRow[]> {
  const { rows } = await db.query<ApiKeySecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM api_keys
      WHERE revoked_at IS NOT NULL AND ((origin = 'operator' AND hash_scheme = 'hmac-sha256') OR (hash_scheme = 'sha256' AND secret_hash = $1))
      ORDER BY id`,
    [sha256],
  );
  return rows;
}

/** Replaces a legacy plain hash by a salted one, once the key has proved to match it. */
export async function rehashApiKey(tx: Queryable, id: number, salt: string, secretHash: string): Promise<void> {
  await tx.query(
    `UPDATE api_keys SET salt = $2, secret_hash = $3, hash_scheme = 'hmac-sha256' WHERE id = $1 AND hash_scheme = 'sha256'`,
    [id, salt, secretHash],
  );
}

/** Every key, live and revoked, oldest first. */
export async function listApiKeys(db: Queryable): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY id`);
  return rows;
}

/** @returns the revoked key, or undefined when there is no live key with that id */
export async function revokeApiKey(tx: Queryable, id: number): Promise<ApiKeyRow | undefined> {
  const { rows } = await tx.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0];
}
