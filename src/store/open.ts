import { ValidationError } from '../domain/errors.js';
import { parseServerList } from './hosts.js';
import { DEFAULT_EMBEDDED_BUFFERS_MB, openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Db } from './db.js';

/** Which database to open and how; the CLI fills it from STOCKROOM_* and DATABASE_URL. */
export interface OpenOptions {
  /** A postgres:// URL: use a PostgreSQL server. */
  databaseUrl?: string | undefined;
  /** Where the embedded database keeps its files when there is no databaseUrl. */
  dataDir?: string | undefined;
  /** Embedded only: its page cache in MB (default 16). */
  embeddedBuffersMb?: number | undefined;
  /** Server only: prepare statements (default true; off behind a pooler that cannot keep them). */
  prepare?: boolean | undefined;
  /** Server only: the most connections the pool holds (default 10). */
  poolMax?: number | undefined;
  /** Server only: how long a caller waits for a connection before it is refused as unavailable (default 5000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Server only: a query that has not answered in this long is abandoned as unavailable (default 60000 ms; 0: never). */
  queryTimeoutMs?: number | undefined;
  /** Server only, several hosts: the longest wait between two searches for the primary (default 1000 ms). */
  primaryRetryMs?: number | undefined;
}

/** Where the embedded database lives when nothing says otherwise: beside the working directory. */
export const DEFAULT_DATA_DIR = './.stockroom';

/** Opens the database the environment names: DATABASE_URL, else PGlite in STOCKROOM_DATA (default ./.stockroom). */
export function openDb(options: OpenOptions = {}): Promise<Db> {
  if (options.databaseUrl) {
    return openPostgres(options.databaseUrl, {
      ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
      ...(options.poolMax === undefined ? {} : { max: options.poolMax }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
      ...(options.primaryRetryMs === undefined ? {} : { primaryRetryMs: options.primaryRetryMs }),
    });
  }
  return openPglite(
    options.dataDir ?? DEFAULT_DATA_DIR,
    options.embeddedBuffersMb === undefined ? {} : { sharedBuffersMb: options.embeddedBuffersMb },
  );
}

/** Opens the database the process environment names, with every STOCKROOM_PG_* setting read and checked. */
export function openDbFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Db> {
  return openDb({
    databaseUrl: envDatabaseUrl(env),
    dataDir: env.STOCKROOM_DATA || undefined,
    embeddedBuffersMb: envInt(env, 'STOCKROOM_EMBEDDED_BUFFERS_MB', DEFAULT_EMBEDDED_BUFFERS_MB, 1),
    prepare: envFlag(env, 'STOCKROOM_PG_PREPARE'),
    poolMax: envInt(env, 'STOCKROOM_PG_POOL_MAX', 10, 1),
    connectTimeoutMs: envInt(env, 'STOCKROOM_PG_CONNECT_TIMEOUT_MS', 5000, 1),
    queryTimeoutMs: envInt(env, 'STOCKROOM_PG_QUERY_TIMEOUT_MS', 60_000, 0),
    primaryRetryMs: envInt(env, 'STOCKROOM_PG_PRIMARY_RETRY_MS', 1000, 100),
  });
}

/** A URL setting's scheme (`redis:`, `postgres:`), or undefined for text that is no URL. */
export function urlProtocol(text: string): string | undefined {
  try {
    return new URL(text).protocol;
  } catch {
    return undefined;
  }
}

/**
 * DATABASE_URL, when set: a postgres:// or postgresql:// URL. node-postgres reads anything else as a URL relative
 * to a made-up host and then fails to reach it, which would pass a typo off as an outage.
 */
function envDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.DATABASE_URL;
  if (value === undefined || value === '') return undefined;
  // several hosts (h1:5432,h2:5432, as libpq takes them) are no WHATWG URL: parseServerList checks those
  const protocol = urlProtocol(value) ?? (/^postgres(?:ql)?:\/\/[^/?#]*,/i.test(value) ? 'postgres:' : undefined);
  if (protocol !== 'postgres:' && protocol !== 'postgresql:')
    // the value is not repeated: it may hold a password
    throw ValidationError.field(
      '/env/DATABASE_URL',
      'must be a postgres:// or postgresql:// URL, e.g. postgres://user:password@host:5432/database',
    );
  parseServerList(value, '/env/DATABASE_URL');
  return value;
}

const FLAGS: Record<string, boolean> = { '1': true, true: true, on: true, '0': false, false: false, off: false };

/** An on/off setting of the environment: undefined when unset, refused when it is neither. */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const flag = FLAGS[value.toLowerCase()];
  if (flag === undefined)
    throw ValidationError.field(`/env/${name}`, `must be one of 1, 0, true, false, on, off (not "${value}")`);
  return flag;
}

/**
 * The most a whole-number setting takes unless it says otherwise: the longest wait a Node timer keeps (a longer one
 * fires at once, with only a warning), and the most a 32-bit count holds.
 */
export const ENV_INT_MAX = 2_147_483_647;

/**
 * A whole number of the environment, from `min` to `max`, or the default when unset. Written in decimal digits
 * only: `1e300`, `0x10`, `5.0` or ` 5` are refused by name, not read as something else.
 */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = ENV_INT_MAX): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max))
    throw ValidationError.field(`/env/${name}`, `must be a whole number from ${min} to ${max} (not "${value}")`);
  return number;
}
