import type { FastifyError, FastifyInstance } from 'fastify';
import { StockroomError } from '../domain/errors.js';
import { isContention, isUnavailable } from '../store/db.js';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

const TITLES: Record<string, string> = {
  validation_failed: 'The request is not valid',
  unauthorized: 'An API key is required',
  forbidden: 'The API key may not do this',
  unknown_sku: 'Unknown SKU',
  not_found: 'Not found',
  already_exists: 'Already exists',
  insufficient_stock: 'Not enough stock',
  invalid_transition: 'Not possible in this state',
  stale_quantity: 'The stock level moved on',
  idempotency_conflict: 'Idempotency key reused with a different request',
  payload_too_large: 'The request body is too large',
  unsupported_media_type: 'Unsupported content type',
  unavailable: 'The database is unavailable',
  too_many_requests: 'Too many at once from this client',
  at_capacity: 'The server is at capacity',
  internal_error: 'Internal error',
};

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `urn:stockroom:problem:${code}`, title: TITLES[code] ?? code, status, detail, code, ...extra };
}

/** An error the HTTP layer raises itself (auth), mapped like the domain's. */
export class HttpError extends StockroomError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Seconds a client is asked to wait (Retry-After) before trying a 503 again. */
export const RETRY_AFTER_SECONDS = 1;

/** The one place errors become responses. */
export function toProblem(error: unknown): Problem {
  if (error instanceof StockroomError) return problem(error.status, error.code, error.message, error.extra);
  if (isUnavailable(error)) return problem(503, 'unavailable', 'the database cannot be reached; try again');
  // the transaction was already run again several times: the contention passes, the request was fine
  if (isContention(error)) return problem(503, 'unavailable', 'the database is busy with conflicting changes; try again');
  const f = error as Partial<FastifyError>;
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    if (f.statusCode === 413) return problem(413, 'payload_too_large', f.message ?? 'too large');
    if (f.statusCode === 415) return problem(415, 'unsupported_media_type', f.message ?? 'unsupported content type');
    if (f.statusCode === 404) return problem(404, 'not_found', f.message ?? 'not found');
    return problem(400, 'validation_failed', f.message ?? 'invalid request', { errors: [{ path: '', message: f.message ?? 'invalid request' }] });
  }
  return problem(500, 'internal_error', 'something went wrong on our side; it has been logged');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the code of the problem this request was answered with, for metrics */
    problemCode?: string;
  }
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error, request, reply) => {
    const p = toProblem(error);
    request.problemCode = p.code;
    if (error instanceof StockroomError && error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
    if (p.code === 'unavailable') {
      // an outage or contention passes by itself: worth a line, not an error per request
      request.log.warn({ err: error }, 'request answered unavailable');
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    } else if (p.status >= 500 && p.code !== 'at_capacity') request.log.error({ err: error }, 'request failed');
    return reply.status(p.status).type('application/problem+json').send(p);
  });
  app.setNotFoundHandler(async (request, reply) => {
    request.problemCode = 'not_found';
    return reply.status(404).type('application/problem+json').send(problem(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}
