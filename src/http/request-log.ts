import { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/** What the request log records in place of a query value that may be a secret. */
export const REDACTED = '[redacted]';

/**
 * Query parameter names that may carry a credential: a token, a key, a secret, a password, a signature, a session
 * or an authorization code. stockroom takes none of them in a query, but clients put keys where they should not
 * (`?api_key=`, `?access_token=`), and a log line must not keep what they sent.
 */
const SECRET_PARAMETER = /token|key|secret|passw|pwd|signature|^sig$|auth|credential|session|^code$|jwt|bearer/i;

/**
 * A generated API key (`sr_<public id>_<secret>`) wherever it is written: a key pasted into a path (`/v1/keys/<key>`
 * for its id) or a parameter of any name. Its public id, which names it in lists, stays.
 */
const GENERATED_KEY = /(sr_[0-9a-f]{6,16}_)[A-Za-z0-9_-]{16,}/g;

/**
 * The target with the secret of every generated key in it replaced by REDACTED, however it is written: the server
 * decodes `%5F` and `%2D` (or any escape) in a path to the key itself, so keys are found in the decoded text, and
 * what each one spans is replaced in the target as it came.
 */
function withoutKeys(target: string): string {
  if (!target.includes('%')) return target.replace(GENERATED_KEY, `$1${REDACTED}`);
  let decoded = '';
  // where each decoded character starts in the target, and its end
  const starts: number[] = [];
  for (let i = 0; i < target.length;) {
    starts.push(i);
    // a key is ASCII, so only escapes of ASCII bytes can hide one
    if (target.charAt(i) === '%' && /^[0-7][0-9a-f]$/i.test(target.slice(i + 1, i + 3))) {
      decoded += String.fromCharCode(Number.parseInt(target.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      decoded += target.charAt(i);
      i += 1;
    }
  }
  starts.push(target.length);
  let redacted = '';
  let done = 0;
  for (const key of decoded.matchAll(GENERATED_KEY)) {
    const secretStart = starts[key.index + (key[1] ?? '').length] ?? target.length;
    redacted += `${target.slice(done, secretStart)}${REDACTED}`;
    done = starts[key.index + key[0].length] ?? target.length;
  }
  return redacted + target.slice(done);
}

/**
 * A request target as it may be logged: every query value whose name may carry a secret, and the secret part of
 * any generated API key in it, replaced by REDACTED.
 */
export function redactedUrl(target: string): string {
  const url = withoutKeys(target);
  const at = url.indexOf('?');
  if (at === -1) return url;
  const query = url.slice(at + 1);
  const parts = query.split('&').map((part) => {
    const equals = part.indexOf('=');
    const rawName = equals === -1 ? part : part.slice(0, equals);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // a name that does not decode is judged as written
      name = rawName;
    }
    return SECRET_PARAMETER.test(name) ? `${rawName}=${REDACTED}` : part;
  });
  return `${url.slice(0, at)}?${parts.join('&')}`;
}

/**
 * The server's pino options with the request serializer that redacts the query (Fastify's own, otherwise). The
 * API key a request was made with is named by id on every line logged after it is checked (see registerAuth).
 */
export function requestLogOptions(
  logger: FastifyServerOptions['logger'] | undefined,
): NonNullable<FastifyServerOptions['logger']> {
  if (!logger) return false;
  const given = logger === true ? {} : logger;
  return {
    ...given,
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactedUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        ...(request.socket.remotePort === undefined ? {} : { remotePort: request.socket.remotePort }),
      }),
      ...given.serializers,
    },
  };
}

/** From now on, this request's log lines (its "request completed" line too) name the API key by its id. */
export function logKeyId(request: FastifyRequest, keyId: number): void {
  // the logger Fastify made for this request (a child with its reqId) is bound in place: one more child per request
  // cost 3% of a reservation's server CPU (bench/README.md). Without a logger there is nothing to bind.
  const log = request.log as FastifyBaseLogger & { setBindings?: (bindings: { key_id: number }) => void };
  log.setBindings?.({ key_id: keyId });
}

/**
 * One line per request, `request completed` (or `request errored`), with the request, the status and the time
 * taken. Fastify's own `incoming request` line is logged at `debug`: two JSON lines per request at the default level
 * were most of what logging cost a checkout (bench/README.md), and the second line says all the first did.
 */
export class RequestLog extends LogController {
  /** A request as it arrives: at debug (the completed line says all it would). */
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  /** A request once answered: its one line at the default level, with the request, the status and the time taken. */
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error)
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
