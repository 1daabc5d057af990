import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { QuantityLimitError, StockroomError, UnavailableError } from '../domain/errors.js';
import { isContention, isUnavailable, sqlState } from '../store/db.js';

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
  uri_too_long: 'A part of the URL is too long',
  headers_too_large: 'The request headers are too large',
  request_timeout: 'The request took too long to arrive',
  quantity_limit: 'A stock number would pass its limit',
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

/** Statuses of Fastify's and Node's own refusals that are not a 400 validation_failed. */
const FRAMEWORK_CODES: Record<number, string> = {
  404: 'not_found',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/** The one place errors become responses. */
export function toProblem(error: unknown): Problem {
  if (error instanceof StockroomError) return problem(error.status, error.code, error.message, error.extra);
  // numeric_value_out_of_range: sums of many in-range operations can pass an integer column
  if (sqlState(error) === '22003') return toProblem(new QuantityLimitError());
  if (isUnavailable(error))
    return toProblem(new UnavailableError('the database cannot be reached; try again', RETRY_AFTER_SECONDS));
  // the transaction was already run again several times: the contention passes, the request was fine
  if (isContention(error))
    return toProblem(
      new UnavailableError('the database is busy with conflicting changes; try again', RETRY_AFTER_SECONDS),
    );
  // Fastify's own refusals (FST_ERR_CTP_*, FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, bad JSON): the request is at fault
  const f = error as Partial<FastifyError>;
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    const detail = f.message || 'invalid request';
    const code = FRAMEWORK_CODES[f.statusCode];
    if (code) return problem(f.statusCode, code, detail);
    return problem(400, 'validation_failed', detail, { errors: [{ path: '', message: detail }] });
  }
  return problem(500, 'internal_error', 'something went wrong on our side; it has been logged');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the code of the problem this request was answered with, for metrics */
    problemCode?: string;
  }
}

/** Answers a request with the problem an error maps to. */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = toProblem(error);
  request.problemCode = p.code;
  if (error instanceof StockroomError && error.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(error.retryAfterSeconds));
  if (p.code === 'unavailable') {
    // an outage or contention passes by itself: worth a line, not an error per request
    request.log.warn({ err: error }, 'request answered unavailable');
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  } else if (p.status >= 500 && p.code !== 'at_capacity') request.log.error({ err: error }, 'request failed');
  return reply.status(p.status).type('application/problem+json').send(p);
}

/**
 * A request Node could not parse as HTTP (headers too large, malformed): no route ever sees it, so the
 * answer is written to the socket here, still as a problem document.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const p =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? problem(431, 'headers_too_large', 'the request line and headers are larger than this server accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem(408, 'request_timeout', 'the request did not arrive in time')
        : problem(400, 'validation_failed', 'the request is not well-formed HTTP', {
            errors: [{ path: '', message: 'malformed HTTP request' }],
          });
  const body = JSON.stringify(p);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error, request, reply) => sendProblem(error, request, reply));
  app.setNotFoundHandler(async (request, reply) => {
    request.problemCode = 'not_found';
    return reply
      .status(404)
      .type('application/problem+json')
      .send(problem(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}
