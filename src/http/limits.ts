// The server's limits unless configured, apart from the modules that apply them: the CLI checks its settings against
// these on every command, and a command that serves nothing should not load Fastify to read five numbers.
import type { PublicRateLimit } from './rate-limits.js';
import type { ConnectionLimits } from './server.js';

/** Connection timeouts and the connection cap unless configured (STOCKROOM_*_TIMEOUT_MS, STOCKROOM_MAX_CONNECTIONS). */
export const DEFAULT_CONNECTION_LIMITS = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 120_000,
  // above the 60 s idle timeout of common load balancers, so they close first (Fastify's default)
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 60_000,
  maxConnections: 10_000,
} as const satisfies Required<ConnectionLimits>;

/**
 * 600 a minute per address (STOCKROOM_PUBLIC_RATE_LIMIT, STOCKROOM_PUBLIC_RATE_WINDOW_MS): far above what a shopper's
 * pages ask, far below what a scraper would. Behind a reverse proxy set STOCKROOM_TRUST_PROXY, or all shoppers
 * share one address and one budget.
 */
export const DEFAULT_PUBLIC_RATE_LIMIT: PublicRateLimit = { max: 600, windowMs: 60_000 };

/** Open streams in all unless configured (STOCKROOM_SSE_MAX_STREAMS); each holds a socket and a file of the process. */
export const DEFAULT_MAX_STREAMS = 2_000;
/** Open streams from one client address unless configured (STOCKROOM_SSE_MAX_STREAMS_PER_CLIENT): a shop's tabs, not a flood. */
export const DEFAULT_MAX_STREAMS_PER_CLIENT = 20;

/** Imports read or applied at once unless configured (STOCKROOM_IMPORT_CONCURRENCY): each holds its rows in memory. */
export const DEFAULT_IMPORT_CONCURRENCY = 2;
