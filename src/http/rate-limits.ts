import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimitedError } from '../domain/errors.js';

/** Requests one client address may send to the public (keyless) routes per window. */
export interface PublicRateLimit {
  /** requests per window per client address; 0: no limit */
  max: number;
  windowMs: number;
}

/** Where the counts are kept in Redis: one key per client address, gone when its window ends. */
const REDIS_COUNTS_PREFIX = 'stockroom:public-rate:';

/**
 * Limits every route registered after it in this plugin's scope: past `max` requests in a window from one client
 * address (as the trusted proxies name it), 429 `rate_limited` with Retry-After until the window has passed. The
 * counts are kept in `counts` (Redis), shared by every server process, or else in this process, so that N server
 * processes behind a balancer let a client have up to N times as many. A count Redis cannot give lets the request
 * through (see RedisConnection), and its X-RateLimit headers then show a full budget.
 */
export async function limitPublicRoutes(app: FastifyInstance, limit: PublicRateLimit, counts?: Redis): Promise<void> {
  if (limit.max === 0) return;
  await app.register(rateLimit, {
    global: true,
    ...(counts ? { redis: counts, nameSpace: REDIS_COUNTS_PREFIX, skipOnError: true } : {}),
    max: limit.max,
    timeWindow: limit.windowMs,
    // the Retry-After of the refusal is the problem document's (see RateLimitedError); the counts stay informative
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': false,
    },
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `at most ${context.max} requests in ${limit.windowMs / 1000} s from one address to the public routes; try again in ${context.after}`,
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  });
}
