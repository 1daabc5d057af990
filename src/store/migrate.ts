import { readFile, readdir } from 'node:fs/promises';
import { ADVISORY_LOCKS } from './advisory-locks.js';
import type { Db, Queryable } from './db.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** One file of src/store/migrations: its name is its version, applied in name order. */
export interface Migration {
  version: string;
  sql: string;
}

/** Every migration shipped with this version, in the order they apply. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: file.replace(/\.sql$/, ''),
      sql: await readFile(new URL(file, MIGRATIONS_DIR), 'utf8'),
    })),
  );
}

/**
 * Applies the migrations not yet applied, in file-name order, all in one transaction under an advisory lock:
 * several processes may start at once, and a failure leaves the schema as it was.
 * @returns the versions applied by this call
 */
export function migrate(db: Db): Promise<string[]> {
  return db.transaction((tx) => migrateIn(tx));
}

/**
 * migrate's work inside a transaction the caller holds, so that more work can share it (`db copy` migrates an
 * empty database and fills it in one transaction: a failure leaves it empty).
 * @returns the versions applied by this call
 */
export async function migrateIn(tx: Queryable): Promise<string[]> {
  const migrations = await loadMigrations();
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.migration]);
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await tx.query<{ version: string }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((row) => row.version));
  const pending = migrations.filter((migration) => !applied.has(migration.version));
  for (const migration of pending) {
    await tx.exec(migration.sql);
    await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
  }
  return pending.map((migration) => migration.version);
}
