import { ValidationError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import {
  DEFAULT_REPLICA_CHECK_MS,
  DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
  DEFAULT_REPLICA_MAX_LAG_MS,
  DEFAULT_REPLICA_POOL_MAX,
  ReplicaSet,
} from '../store/replicas.js';
import type { ReplicaOptions } from '../store/replicas.js';
import { envFlag, envInt, urlProtocol } from './args.js';

/** The read replicas the environment names, and how they are used. */
export interface ReplicaSettings {
  urls: string[];
  options: ReplicaOptions;
}

/**
 * DATABASE_REPLICA_URL (one or more postgres:// URLs, comma separated) and the STOCKROOM_REPLICA_* settings,
 * checked before anything is opened; undefined when no replica is named.
 */
export function replicaSettingsFromEnv(env: NodeJS.ProcessEnv): ReplicaSettings | undefined {
  const value = env.DATABASE_REPLICA_URL?.trim();
  if (!value) return undefined;
  if (!env.DATABASE_URL)
    throw ValidationError.field(
      '/env/DATABASE_REPLICA_URL',
      'needs DATABASE_URL: replicas are streaming copies of a PostgreSQL primary, not of the embedded database',
    );
  const urls = value.split(',').map((url) => url.trim());
  urls.forEach((url, index) => {
    const protocol = urlProtocol(url);
    // the value is not repeated: it may hold a password
    if (protocol !== 'postgres:' && protocol !== 'postgresql:')
      throw ValidationError.field(
        '/env/DATABASE_REPLICA_URL',
        `replica ${index + 1} of ${urls.length} must be a postgres:// or postgresql:// URL (several: comma separated)`,
      );
  });
  const queryTimeoutMs = envInt(env, 'STOCKROOM_PG_QUERY_TIMEOUT_MS', 60_000, 0);
  const prepare = envFlag(env, 'STOCKROOM_PG_PREPARE');
  return {
    urls,
    options: {
      maxLagMs: envInt(env, 'STOCKROOM_REPLICA_MAX_LAG_MS', DEFAULT_REPLICA_MAX_LAG_MS, 0),
      checkEveryMs: envInt(env, 'STOCKROOM_REPLICA_CHECK_MS', DEFAULT_REPLICA_CHECK_MS, 10),
      poolMax: envInt(env, 'STOCKROOM_REPLICA_POOL_MAX', DEFAULT_REPLICA_POOL_MAX, 1),
      connectTimeoutMs: envInt(env, 'STOCKROOM_REPLICA_CONNECT_TIMEOUT_MS', DEFAULT_REPLICA_CONNECT_TIMEOUT_MS, 1),
      queryTimeoutMs,
      ...(prepare === undefined ? {} : { prepare }),
    },
  };
}

/** Opens the replicas of the primary `db` as the settings say (each measured once before it is read from). */
export function openReplicas(db: Db, settings: ReplicaSettings): Promise<ReplicaSet> {
  return ReplicaSet.open(db, settings.urls, settings.options);
}
