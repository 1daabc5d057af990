import { isIP } from 'node:net';
import { ValidationError } from '../domain/errors.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_IMPORT_CONCURRENCY,
  DEFAULT_MAX_STREAMS,
  DEFAULT_MAX_STREAMS_PER_CLIENT,
  DEFAULT_PUBLIC_RATE_LIMIT,
} from '../http/limits.js';
import { DEFAULT_IMPORT_MAX_BYTES, DEFAULT_IMPORT_MAX_ERRORS, DEFAULT_PREVIEW_LISTED } from '../services/stock-csv.js';
import { envInt } from './args.js';
import type { ServeLimits } from './serve.js';

/** How long a shutdown waits for requests in flight, unless STOCKROOM_SHUTDOWN_GRACE_MS says otherwise. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** How often a server looks for tables grown to twice the size the planner knows, unless configured otherwise. */
export const DEFAULT_STATISTICS_EVERY_MS = 10_000;

/** What a slow or greedy client may hold, from STOCKROOM_* settings; checked before anything starts. */
export function serveLimits(env: NodeJS.ProcessEnv, heartbeatMs: number): ServeLimits {
  const defaults = DEFAULT_CONNECTION_LIMITS;
  const connections = {
    headersTimeoutMs: envInt(env, 'STOCKROOM_HEADERS_TIMEOUT_MS', defaults.headersTimeoutMs, 1),
    requestTimeoutMs: envInt(env, 'STOCKROOM_REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, 1),
    keepAliveTimeoutMs: envInt(env, 'STOCKROOM_KEEP_ALIVE_TIMEOUT_MS', defaults.keepAliveTimeoutMs, 1),
    idleTimeoutMs: envInt(env, 'STOCKROOM_IDLE_TIMEOUT_MS', defaults.idleTimeoutMs, 1),
    maxConnections: envInt(env, 'STOCKROOM_MAX_CONNECTIONS', defaults.maxConnections, 1),
  };
  // Node refuses a header timeout longer than the request's, and a stream's heartbeat is what keeps it from idling out
  if (connections.headersTimeoutMs > connections.requestTimeoutMs) {
    throw ValidationError.field(
      '/env/STOCKROOM_HEADERS_TIMEOUT_MS',
      `must not be above STOCKROOM_REQUEST_TIMEOUT_MS (${connections.requestTimeoutMs})`,
    );
  }
  if (heartbeatMs >= connections.idleTimeoutMs) {
    throw ValidationError.field(
      '/env/STOCKROOM_SSE_HEARTBEAT_MS',
      `must be below STOCKROOM_IDLE_TIMEOUT_MS (${connections.idleTimeoutMs}), or idle streams are closed`,
    );
  }
  return {
    trustProxy: proxiesFrom(env),
    connections,
    streams: {
      max: envInt(env, 'STOCKROOM_SSE_MAX_STREAMS', DEFAULT_MAX_STREAMS, 1),
      perClient: envInt(env, 'STOCKROOM_SSE_MAX_STREAMS_PER_CLIENT', DEFAULT_MAX_STREAMS_PER_CLIENT, 1),
    },
    imports: importLimits(env),
    publicRate: {
      max: envInt(env, 'STOCKROOM_PUBLIC_RATE_LIMIT', DEFAULT_PUBLIC_RATE_LIMIT.max, 0),
      windowMs: envInt(env, 'STOCKROOM_PUBLIC_RATE_WINDOW_MS', DEFAULT_PUBLIC_RATE_LIMIT.windowMs, 1),
    },
  };
}

/**
 * STOCKROOM_TRUST_PROXY: a comma-separated list of proxy addresses or CIDR ranges. Only exact addresses and ranges
 * are taken: "trust everyone" would let any client pick the address it is counted under.
 */
function proxiesFrom(env: NodeJS.ProcessEnv): string[] | undefined {
  const value = env.STOCKROOM_TRUST_PROXY?.trim();
  if (!value) return undefined;
  const entries = value.split(',').map((entry) => entry.trim());
  const wrong = entries.filter((entry) => {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (wrong.length > 0) {
    throw ValidationError.field(
      '/env/STOCKROOM_TRUST_PROXY',
      `must list proxy addresses or CIDR ranges, comma-separated (not ${wrong.map((entry) => JSON.stringify(entry)).join(', ')})`,
    );
  }
  return entries;
}

/** How large a CSV import may be, how many run at once (server) and at how many row problems one stops; the CLI reads the same. */
export function importLimits(env: NodeJS.ProcessEnv): {
  maxBytes: number;
  concurrency: number;
  maxErrors: number;
  previewListed: number;
} {
  return {
    maxBytes: envInt(env, 'STOCKROOM_IMPORT_MAX_BYTES', DEFAULT_IMPORT_MAX_BYTES, 1),
    concurrency: envInt(env, 'STOCKROOM_IMPORT_CONCURRENCY', DEFAULT_IMPORT_CONCURRENCY, 1),
    maxErrors: envInt(env, 'STOCKROOM_IMPORT_MAX_ERRORS', DEFAULT_IMPORT_MAX_ERRORS, 1),
    previewListed: envInt(env, 'STOCKROOM_IMPORT_PREVIEW_LISTED', DEFAULT_PREVIEW_LISTED, 1),
  };
}
