import { ValidationError } from '../domain/errors.js';
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
    prepare: envFlag(env, 'STOCKROOM_PG_PREPARE'),
  });
}

const FLAGS: Record<string, boolean> = { '1': true, true: true, on: true, '0': false, false: false, off: false };

/** An on/off setting of the environment: undefined when unset, refused when it is neither. */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const flag = FLAGS[value.toLowerCase()];
  if (flag === undefined) throw ValidationError.field(`/env/${name}`, `must be one of 1, 0, true, false, on, off (not "${value}")`);
  return flag;
}
