import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnavailableError, ValidationError } from '../domain/errors.js';
import { allows } from '../domain/scopes.js';
import type { Scope } from '../domain/scopes.js';
import type { CallOptions } from '../services/context.js';
import { checkIdempotencyKey } from '../services/idempotency.js';
import type { ApiKey } from '../services/keys.js';
import type { Stockroom } from '../services/stockroom.js';
import { RETRY_AFTER_SECONDS } from '../store/failures.js';
import { HttpError } from './errors.js';
import { timesGiven } from './input.js';
import { logKeyId } from './request-log.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** scopes of which a key needs one; absent: the route is public */
    scopes?: readonly Scope[];
    /** how long checking the key may take before the request is answered 503 (a route that must not hang: /metrics) */
    keyCheckMs?: number;
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
    /** the answer is the stored one of an earlier request with this Idempotency-Key */
    replayed?: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** 401 without a valid key, 403 with a key lacking the route's scope. Public routes pass untouched. */
export function registerAuth(app: FastifyInstance, stockroom: Stockroom): void {
  // a callback hook: a key this process knows is checked without a promise or a microtask; only a lookup waits
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    const needed = request.routeOptions.config.scopes;
    if (!needed) {
      done();
      return;
    }
    // Node keeps the first of two Authorization headers and drops the other: which key acts is not its to choose
    if (timesGiven(request, 'authorization') > 1) {
      done(ValidationError.field('/headers/authorization', 'must be given once: send one API key'));
      return;
    }
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!presented) {
      done(new HttpError('unauthorized', 'send an API key as Authorization: Bearer <key>'));
      return;
    }
    const known = stockroom.keys.remembered(presented);
    if (known) {
      done(admit(request, known, needed));
      return;
    }
    // the answer is worked out first and handed to done once: whatever throws on the way is the request's error,
    // never an unhandled rejection (fatal to the process) with the request left hanging
    withinMs(stockroom.keys.authenticate(presented), request.routeOptions.config.keyCheckMs)
      .then((key) =>
        key
          ? admit(request, key, needed)
          : new HttpError('unauthorized', 'the API key is not valid (unknown or revoked)'),
      )
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
      .then(done)
      .catch((error: unknown) => {
        request.log.error({ err: error }, 'answering after the key check failed');
      });
  });
}

/** The request is made with `key`: named in its log lines, and its key if the key may use the route (else 403). */
function admit(request: FastifyRequest, key: ApiKey, needed: readonly Scope[]): HttpError | undefined {
  logKeyId(request, key.id);
  const refused = refusal(key, needed);
  if (!refused) request.apiKey = key;
  return refused;
}

/** Why a request with `key` is refused: 403 when the key has none of the scopes the route takes; else undefined. */
function refusal(key: ApiKey, needed: readonly Scope[]): HttpError | undefined {
  if (allows(key.scopes, needed)) return undefined;
  return new HttpError(
    'forbidden',
    `this needs a key with scope ${needed.join(' or ')}; this key has ${key.scopes.join(', ')}`,
  );
}

/**
 * The key check, or 503 `unavailable` once `ms` have passed without it (the database is slow or away): a route with
 * a bound answers in time, without the key's answer. The check goes on and fills the key cache when it comes.
 */
async function withinMs<T>(check: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return check;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(
        new UnavailableError(
          'the API key could not be checked in time: the database is slow; try again',
          RETRY_AFTER_SECONDS,
        ),
      );
    }, ms);
  });
  // a check that fails after the answer was given has no one left to tell
  void check.catch(() => undefined);
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The Idempotency-Key header. Keys are scoped per API key (callOptions): clients never replay each other's answers. */
export function idempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  // Node joins a header given twice into one value ("a, b"): that would be a key neither request meant
  if (timesGiven(request, 'idempotency-key') > 1 || Array.isArray(header))
    throw ValidationError.field('/headers/idempotency-key', 'must be given once');
  // a key that is sent but empty is a client's mistake, not a request without one: it is refused, not ignored
  return checkIdempotencyKey(header, '/headers/idempotency-key');
}

/** Who is acting (recorded on ledger rows) and the request's idempotency key. */
export function callOptions(request: FastifyRequest): CallOptions {
  return {
    actor: request.apiKey ? `key:${request.apiKey.name}` : 'public',
    idempotencyKey: idempotencyKey(request),
    idempotencyScope: `key:${String(request.apiKey?.id ?? 'public')}`,
    onReplay: () => {
      request.replayed = true;
    },
  };
}

/** A replayed answer says so (Idempotent-Replayed: true), so a client can tell a retry from a first success. */
export function registerReplayHeader(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.replayed && reply.statusCode < 400) void reply.header('idempotent-replayed', 'true');
    done(null, payload);
  });
}
