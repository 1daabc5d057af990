import type { Queryable } from './db.js';

/**
 * An external system that syncs on-hand numbers: its signing secret (as given, or sealed with the server's key:
 * migration 0033; at most one of the two), whether it takes unsigned pushes (registered without a secret: migration
 * 0038) and its pull cursor.
 */
export interface SyncSourceRow {
  name: string;
  secret: string | null;
  secret_sealed: string | null;
  takes_unsigned: boolean;
  last_sync_at: Date | null;
}

const SYNC_SOURCE_COLUMNS = 'name, secret, secret_sealed, takes_unsigned, last_sync_at';

/** Registers a source, or changes its secret (both null: unsigned batches are taken, registered so on purpose). */
export async function upsertSyncSource(
  tx: Queryable,
  name: string,
  secret: { plain: string | null; sealed: string | null },
): Promise<SyncSourceRow> {
  const { rows } = await tx.query<SyncSourceRow>(
    `INSERT INTO sync_sources (name, secret, secret_sealed, takes_unsigned)
     VALUES ($1, $2, $3, $2::text IS NULL AND $3::text IS NULL)
     ON CONFLICT (name) DO UPDATE
       SET secret = EXCLUDED.secret, secret_sealed = EXCLUDED.secret_sealed, takes_unsigned = EXCLUDED.takes_unsigned
     RETURNING ${SYNC_SOURCE_COLUMNS}`,
    [name, secret.plain, secret.sealed],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row;
}

/** A source by name, locked for the batch's transaction with `forUpdate`. */
export async function findSyncSource(
  db: Queryable,
  name: string,
  forUpdate = false,
): Promise<SyncSourceRow | undefined> {
  const { rows } = await db.query<SyncSourceRow>(
    `SELECT ${SYNC_SOURCE_COLUMNS} FROM sync_sources WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0];
}

/**
 * Moves the pull cursor of a registered source (locked by findSyncSource); in the batch's transaction, so a failed
 * batch leaves it where it was. It never registers one: a source is registered by upsertSyncSource only.
 */
export async function advanceSyncSource(tx: Queryable, name: string, lastSyncAt: Date): Promise<void> {
  await tx.query('UPDATE sync_sources SET last_sync_at = $2 WHERE name = $1', [name, lastSyncAt]);
}

/**
 * Remembers a pushed batch's signature. @returns false if it was seen before (a replay); a concurrent push of the
 * same batch waits on the primary key for the first to end, so only one of them is taken, whichever process.
 */
export async function rememberSignature(
  tx: Queryable,
  source: string,
  signature: string,
  signedAt: Date,
): Promise<boolean> {
  const { rows } = await tx.query(
    'INSERT INTO sync_signatures (source, signature, signed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS remembered',
    [source, signature, signedAt],
  );
  return rows.length > 0;
}

/** Forgets signatures signed before `before`: their timestamps alone refuse them now. */
export async function forgetSignatures(tx: Queryable, before: Date): Promise<void> {
  await tx.query('DELETE FROM sync_signatures WHERE signed_at < $1', [before]);
}

/** Every sync source with a secret, as stored (one of the two columns), locked for re-sealing; in name order. */
export async function lockSyncSecrets(
  tx: Queryable,
): Promise<Pick<SyncSourceRow, 'name' | 'secret' | 'secret_sealed'>[]> {
  const { rows } = await tx.query<Pick<SyncSourceRow, 'name' | 'secret' | 'secret_sealed'>>(
    `SELECT name, secret, secret_sealed FROM sync_sources
      WHERE secret IS NOT NULL OR secret_sealed IS NOT NULL ORDER BY name FOR NO KEY UPDATE`,
  );
  return rows;
}

/** Stores a sync source's secret sealed (re-sealed: see lockSyncSecrets); the column as given is emptied. */
export async function setSyncSecretSealed(tx: Queryable, name: string, sealed: string): Promise<void> {
  await tx.query('UPDATE sync_sources SET secret = NULL, secret_sealed = $2 WHERE name = $1', [name, sealed]);
}
