import type { Queryable } from './db.js';

export interface SyncSourceRow {
  name: string;
  secret: string | null;
  last_sync_at: Date | null;
}

export async function upsertSyncSource(tx: Queryable, name: string, secret: string | null): Promise<SyncSourceRow> {
  const { rows } = await tx.query<SyncSourceRow>(
    `INSERT INTO sync_sources (name, secret) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET secret = EXCLUDED.secret RETURNING name, secret, last_sync_at`,
    [name, secret],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return row;
}

export async function findSyncSource(db: Queryable, name: string, forUpdate = false): Promise<SyncSourceRow | undefined> {
  const { rows } = await db.query<SyncSourceRow>(
    `SELECT name, secret, last_sync_at FROM sync_sources WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0];
}

/** Moves the pull cursor; in the batch's transaction, so a failed batch leaves it where it was. */
export async function advanceSyncSource(tx: Queryable, name: string, lastSyncAt: Date): Promise<void> {
  await tx.query(
    `INSERT INTO sync_sources (name, last_sync_at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET last_sync_at = EXCLUDED.last_sync_at`,
    [name, lastSyncAt],
  );
}
