import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { ERROR_CODES, StockroomError } from '../domain/errors.js';
import type { ErrorCode } from '../domain/errors.js';
import { asStockroomError } from '../store/failures.js';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extra: string]: unknown;
}

/** The problem document for a code: its status and title come from the code's one entry in ERROR_CODES. */
export function problem(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  const { status, title } = ERROR_CODES[code];
  return { type: `urn:stockroom:problem:${code}`, title, status, detail, code, ...extra };
}

/** An error the HTTP layer raises itself (auth), under a code of ERROR_CODES like the domain's. */
export class HttpError extends StockroomError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The codes of Fastify's and Node's own refusals that are not a 400 validation_failed, found by their status. */
const FRAMEWORK_CODES: readonly ErrorCode[] = [
  'not_found',
  'payload_too_large',
  'uri_too_long',
  'unsupported_media_type',
  'headers_too_large',
];

/** The one place errors become responses. */
export function toProblem(error: unknown): Problem {
  const known = asStockroomError(error);
  if (known) return problem(known.code, known.message, known.extra);
  // Fastify's own refusals (FST_ERR_CTP_*, FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, bad JSON): the request is at fault
  const refusal = error as Partial<FastifyError>;
  if (typeof refusal.statusCode === 'number' && refusal.statusCode >= 400 && refusal.statusCode < 500) {
    const detail = refusal.message || 'invalid request';
    const code = FRAMEWORK_CODES.find((candidate) => ERROR_CODES[candidate].status === refusal.statusCode);
    if (code) return problem(code, detail);
    return problem('validation_failed', detail, { errors: [{ path: '', message: detail }] });
  }
  return problem('internal_error', 'something went wrong on our side; it has been logged');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the code of the problem this request was answered with, for metrics */
    problemCode?: string;
  }
}

/** Answers a request with the problem an error maps to. */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = asStockroomError(error);
  const answer = toProblem(known ?? error);
  request.problemCode = answer.code;
  if (known?.retryAfterSeconds !== undefined) void reply.header('retry-after', String(known.retryAfterSeconds));
  if (bodyUnread(request)) {
    // a server shutting down asks the client to close (server.ts): it may, once the body is in
    const shuttingDown = answer.code === 'unavailable' && reply.getHeader('connection') === 'close';
    lingerForUnreadBody(request, reply, shuttingDown);
  }
  // an outage or contention passes by itself: worth a line, not an error per request
  if (answer.code === 'unavailable') request.log.warn({ err: error }, 'request answered unavailable');
  else if (answer.status >= 500 && answer.code !== 'at_capacity') request.log.error({ err: error }, 'request failed');
  return reply.status(answer.status).type('application/problem+json').send(answer);
}

/** Whether the request has a body (RFC 9112, 6.3) that has not all arrived yet. */
function bodyUnread(request: FastifyRequest): boolean {
  if (request.raw.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * How long a body refused unread may go quiet before the connection is cut (nginx's lingering_timeout); however
 * long it keeps arriving, the request timeout ends it (STOCKROOM_REQUEST_TIMEOUT_MS), with no second answer.
 */
export const LINGER_MS = 5_000;

/**
 * A body refused before all of it was read (too large, a bad row early in a CSV, a key refused) is still on its
 * way. Closing at once, Fastify's way, resets the connection while the client writes, and most clients then report
 * a broken pipe, never the answer sent them. So the connection stays until the body is in, its rest read and
 * dropped: kept for the next request, or ended then for a client that asked to close (or spoke HTTP/1.0) and when
 * `closeAfterBody`. A body that stops arriving for LINGER_MS is cut off there.
 */
function lingerForUnreadBody(request: FastifyRequest, reply: FastifyReply, closeAfterBody: boolean): void {
  const body = request.raw;
  const socket = body.socket;
  // a request injected into the app (light-my-request) has no connection to keep or cut
  if (!(socket instanceof Socket)) return;
  // Node closes on the answer when the answer or the request says so; without the header it keeps the connection
  // (and, told it was removed, promises nothing either way)
  void reply.removeHeader('connection');
  reply.raw.removeHeader('connection');
  const close = closeAfterBody || !reply.raw.shouldKeepAlive;
  reply.raw.shouldKeepAlive = true;
  answeredUnread.add(socket);
  let cut: NodeJS.Timeout | undefined;
  // each piece of the body starts the quiet period again
  const quiet = (): void => {
    if (cut) cut.refresh();
    else cut = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const done = (): void => {
    clearTimeout(cut);
    answeredUnread.delete(socket);
    body.off('data', quiet);
    socket.off('close', done);
  };
  const bodyIn = (): void => {
    done();
    if (close) socket.end();
  };
  reply.raw.once('finish', () => {
    if (body.complete) bodyIn();
    else {
      quiet();
      body.on('data', quiet);
      body.once('end', bodyIn);
    }
  });
  socket.once('close', done);
  body.resume();
}

/**
 * Connections whose request is answered while its body still arrives: a request timeout or a bad chunk there cuts
 * the connection, with no second answer after the first.
 */
const answeredUnread = new WeakSet<Socket>();

/**
 * A request Node could not parse as HTTP (headers too large, malformed): no route ever sees it, so the
 * answer is written to the socket here, still as a problem document.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (answeredUnread.has(socket)) {
    socket.destroy();
    return;
  }
  const answer =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? problem('headers_too_large', 'the request line and headers are larger than this server accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem('request_timeout', 'the request did not arrive in time')
        : problem('validation_failed', 'the request is not well-formed HTTP', {
            errors: [{ path: '', message: 'malformed HTTP request' }],
          });
  const body = JSON.stringify(answer);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Makes every refusal of the app, the router's "no such route" included, a problem document. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error, request, reply) => sendProblem(error, request, reply));
  app.setNotFoundHandler(async (request, reply) => {
    request.problemCode = 'not_found';
    return reply
      .status(404)
      .type('application/problem+json')
      .send(problem('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}
