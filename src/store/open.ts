import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Db } from './db.js';

export interface OpenOptions {
  /** A postgres:// URL: use a PostgreSQL server. */
  databaseUrl?: string | undefined;
  /** Where the embedded database keeps its files when there is no databaseUrl. */
  dataDir?: string | undefined;
  /** Server only: prepare statements (default true; off behind a pooler that cannot keep them). */
  prepare?: boolean | undefined;
}

export const DEFAULT_DATA_DIR = './.stockroom';

/** Opens the database the environment names: DATABASE_URL, else PGlite in STOCKROOM_DATA (default ./.stockroom). */
export function openDb(options: OpenOptions = {}): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.prepare === undefined ? {} : { prepare: options.prepare });
  return openPglite(options.dataDir ?? DEFAULT_DATA_DIR);
}

export function openDbFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Db> {
  return openDb({
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.STOCKROOM_DATA || undefined,
    prepare: env.STOCKROOM_PG_PREPARE === undefined ? undefined : !['0', 'false', 'off'].includes(env.STOCKROOM_PG_PREPARE),
  });
}
