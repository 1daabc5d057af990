import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync, FastifyServerOptions } from 'fastify';
import { createMetrics } from '../infra/metrics.js';
import { stockroomSources } from './engine-metrics.js';
import type { Metrics } from '../infra/metrics.js';
import type { Stockroom } from '../services/stockroom.js';
import { registerAuth } from './auth.js';
import { RETRY_AFTER_SECONDS } from '../store/failures.js';
import { answerClientError, registerErrorHandling, sendProblem } from './errors.js';
import { registerInputChecks, utf8Body } from './input.js';
import { RequestLog, requestLogOptions } from './request-log.js';
import { UnavailableError, ValidationError } from '../domain/errors.js';
import { adminRoutes } from './routes/admin.js';
import { alertRoutes } from './routes/alerts.js';
import { archiveRoutes } from './routes/archive.js';
import { catalogRoutes } from './routes/catalog.js';
import { kitRoutes } from './routes/kits.js';
import { keyRoutes } from './routes/keys.js';
import { locationRoutes } from './routes/locations.js';
import { purchasingRoutes } from './routes/purchasing.js';
import { valuationRoutes } from './routes/valuation.js';
import { reservationRoutes } from './routes/reservations.js';
import { stockRoutes } from './routes/stock.js';
import { stockListRoutes } from './routes/stock-list.js';
import type { ImportLimits } from './routes/stock.js';
import { storefrontRoutes } from './routes/storefront.js';
import type { StorefrontOptions } from './routes/storefront.js';
import { webRoutes } from './routes/web.js';
import type { WebOptions } from './routes/web.js';
import { ownKeyRoutes } from './routes/own-key.js';
import { registerDocument } from './openapi.js';
import { refuseDuplicateMembers } from '../services/json-keys.js';
import { registerSerializers } from './serializers.js';
import { Answers } from './responses.js';
import { routeOptions } from './routes/route-options.js';
import { registerReplayHeader } from './auth.js';
import { DEFAULT_CONNECTION_LIMITS } from './limits.js';

/** What the API needs, as a server of its own or mounted in another: the stockroom to serve, and its extras. */
export interface ApiOptions {
  stockroom: Stockroom;
  /** where /metrics reads from; a fresh registry when not given */
  metrics?: Metrics;
  /** /metrics without a key (STOCKROOM_METRICS_PUBLIC=1); by default it needs a key with scope metrics or admin */
  metricsPublic?: boolean | undefined;
  /** live availability for GET /v1/availability/stream, and its heartbeat */
  storefront?: StorefrontOptions;
  /** CSV stock imports: size, how many at once, how many row errors before the file is refused */
  imports?: ImportLimits;
  /** the web pages: the demo storefront's checkout key */
  web?: WebOptions;
}

/** What buildServer needs: the API's options, and the bounds of this server. */
export interface ServerOptions extends ApiOptions {
  /** pino options, or false for no request log */
  logger?: FastifyServerOptions['logger'];
  /** largest request body in bytes (413 past it) */
  bodyLimit?: number;
  /**
   * Addresses or CIDR ranges of the reverse proxies in front of the server: a request from one of them is
   * counted against the client address it names in X-Forwarded-For (per-address stream caps, logs). From
   * anyone else the header is ignored, so a client cannot name itself a fresh address per request.
   */
  trustProxy?: readonly string[] | undefined;
  /** how long a client may take, and how many connections it may hold (a slow or hostile client) */
  connections?: ConnectionLimits;
}

/** How long a client may take and how many connections there may be, against slow or hostile clients. */
export interface ConnectionLimits {
  /** from a connection's first byte (or its opening) to the end of a request's headers; 408 and closed past it */
  headersTimeoutMs?: number | undefined;
  /** to receive a whole request, body included (not the response: a stream may stay open); 408 past it */
  requestTimeoutMs?: number | undefined;
  /** how long a connection may wait idle for its next request */
  keepAliveTimeoutMs?: number | undefined;
  /** a connection with nothing read or written this long is closed (a stream's heartbeat keeps it alive) */
  idleTimeoutMs?: number | undefined;
  /** open connections in all; more are closed at once, before the process runs out of files */
  maxConnections?: number | undefined;
}

/** A request id a caller may choose: up to 128 letters, digits and . _ : - (a UUID, a trace id). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Largest JSON request body unless ServerOptions.bodyLimit says otherwise: 1 MiB, far above any real order. */
const DEFAULT_BODY_LIMIT = 1024 * 1024;

const METRICS_READERS = ['metrics'] as const;

/**
 * The HTTP API (docs/api.md) as a server of its own. Route schemas document the API (OpenAPI) and write its
 * answers (src/http/responses.ts); input is checked by the use cases' own schemas (`parse`, services/schemas.ts),
 * so the CLI, the library and HTTP refuse the same things with the same words. A route parses its body with that
 * schema to hand the use case its typed input, which checks it again.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const given = options.connections ?? {};
  const limits = {
    headersTimeoutMs: given.headersTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.headersTimeoutMs,
    requestTimeoutMs: given.requestTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.requestTimeoutMs,
    keepAliveTimeoutMs: given.keepAliveTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs,
    idleTimeoutMs: given.idleTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.idleTimeoutMs,
    maxConnections: given.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
  };
  const requestLog = new RequestLog();
  const app = Fastify({
    logger: requestLogOptions(options.logger),
    logController: requestLog,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node looks for connections past the header and request timeouts on this interval (30 s by default,
    // which would let a short timeout run far over)
    http: {
      // Node answers an HTTP/1.1 request without Host itself, with a bare 400 and no body: the API refuses it (below)
      requireHostHeader: false,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
      ),
    },
    ...(options.trustProxy?.length ? { trustProxy: [...options.trustProxy] } : {}),
    // a caller's own id is kept when it is a sensible one; anything else (15 KB of it, bytes a log line would mangle)
    // is replaced by a fresh one, which the answer carries, so the caller still learns the id its request had
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    requestIdHeader: false,
    // ids in paths are case-sensitive SKUs; trailing slashes are the same route
    routerOptions: { ignoreTrailingSlash: true },
    // the router's own refusals (a malformed %-escape, an over-long path parameter) are problem documents too. Fastify
    // answers them outside a request's lifecycle, where no hook adds the request's id and nothing logs its line: both
    // are done here
    frameworkErrors: (error, request, reply) => {
      reply.raw.once('finish', () => {
        requestLog.requestCompleted(null, request, reply);
      });
      reply.header('x-request-id', request.id);
      sendProblem(error, request, reply);
    },
    clientErrorHandler: answerClientError,
    // a request that arrives while the server shuts down is answered below, as a problem document
    return503OnClosing: false,
  });
  // Fastify leaves GET and HEAD bodies unread, so a body sent there went unnoticed: read it like any other, so that
  // the input checks refuse it the same way (400, or 415 for one that is not JSON)
  for (const method of ['GET', 'HEAD']) app.addHttpMethod(method, { hasBody: true, overrideExisting: true });
  app.server.maxConnections = limits.maxConnections;
  // the API is the whole server: registered on the root itself, so its hooks and error handling cover every request
  await stockroomApi(app, { ...options, web: { home: true, ...options.web } });
  return app;
}

/**
 * The HTTP API as a Fastify plugin, to mount stockroom inside a server of your own (docs/embedding.md):
 * `await host.register(stockroomApi, { stockroom, prefix: '/inventory' })` serves /inventory/v1/..., its
 * document at /inventory/openapi.json and /inventory/docs. The host's own routes, hooks and error handling stay
 * its own; the API's refusals are problem documents as on a stockroom server.
 */
export const stockroomApi: FastifyPluginAsync<ApiOptions> = async (app, options) => {
  const { stockroom } = options;
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  // the API speaks JSON; anything else is refused as 415 rather than read as a string
  app.removeContentTypeParser('text/plain');
  // no body is no body, whatever Content-Type says (clients set it on every request, GET included): the input
  // checks then see none, which every route takes; anything sent is parsed as JSON as before
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8Body(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    void json(request, text, (error, parsed: unknown) => {
      if (error) {
        done(error, undefined);
        return;
      }
      try {
        refuseDuplicateMembers(text);
      } catch (refusal) {
        done(refusal as Error, undefined);
        return;
      }
      done(null, parsed);
    });
  });
  registerErrorHandling(app);
  registerSerializers(app);
  // once shutting down, requests on kept-alive connections are told to go elsewhere (a load balancer retries them)
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // the hooks every request runs take a callback, not a promise: a promise and a turn of the microtask queue each,
  // for work that never waits (bench/README.md)
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      // HTTP/1.1 requires Host (RFC 9112, 3.2); Node's own refusal of it has no problem document
      done(
        request.raw.httpVersion === '1.1' && request.headers.host === undefined
          ? ValidationError.field('/headers/host', 'is required in HTTP/1.1')
          : undefined,
      );
      return;
    }
    void reply.header('connection', 'close');
    done(new UnavailableError('the server is shutting down; try again', RETRY_AFTER_SECONDS));
  });
  registerAuth(app, stockroom);
  registerInputChecks(app);
  registerReplayHeader(app);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  // before any route, so that every route is in the document
  await registerDocument(app);
  const metrics = options.metrics ?? createMetrics(stockroomSources(stockroom));
  app.addHook('onClose', async () => {
    metrics.stop();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      const outcome = reply.statusCode < 400 ? 'ok' : (request.problemCode ?? String(reply.statusCode));
      metrics.requests.inc({ method: request.method, route, outcome });
      metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    }
    done();
  });
  const metricsPublic = options.metricsPublic === true;
  app.get(
    '/metrics',
    (() => {
      const route = routeOptions(
        'operations',
        metricsPublic ? 'public' : METRICS_READERS,
        'Prometheus metrics (a key with scope metrics or admin, unless STOCKROOM_METRICS_PUBLIC=1)',
        { operationId: 'getMetrics', answer: { type: 'text/plain', description: 'The Prometheus text format' } },
      );
      // a database too slow to check the key in time makes a 503, not a scrape that hangs
      return metricsPublic ? route : { ...route, config: { ...route.config, keyCheckMs: metrics.readTimeoutMs } };
    })(),
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  await app.register(catalogRoutes(stockroom), { prefix: '/v1' });
  await app.register(kitRoutes(stockroom), { prefix: '/v1' });
  await app.register(stockRoutes(stockroom, options.imports), { prefix: '/v1' });
  await app.register(stockListRoutes(stockroom), { prefix: '/v1' });
  await app.register(reservationRoutes(stockroom), { prefix: '/v1' });
  await app.register(keyRoutes(stockroom), { prefix: '/v1' });
  await app.register(ownKeyRoutes(), { prefix: '/v1' });
  await app.register(alertRoutes(stockroom), { prefix: '/v1' });
  await app.register(purchasingRoutes(stockroom), { prefix: '/v1' });
  await app.register(locationRoutes(stockroom), { prefix: '/v1' });
  await app.register(valuationRoutes(stockroom), { prefix: '/v1' });
  await app.register(archiveRoutes(stockroom), { prefix: '/v1' });
  await app.register(adminRoutes(stockroom), { prefix: '/v1' });
  const storefront: StorefrontOptions = {
    ...options.storefront,
    onOpenStreams: (open) => {
      metrics.streams.set(open);
    },
  };
  await app.register(storefrontRoutes(stockroom, storefront), { prefix: '/v1' });
  await app.register(webRoutes(options.web));

  app.get(
    '/healthz',
    routeOptions('operations', 'public', 'Liveness and database reachability', {
      operationId: 'getHealth',
      answer: { schema: Answers.Health, description: 'The server is up and its database answers' },
      otherAnswers: { 503: { schema: Answers.Health, description: 'The database does not answer (Retry-After)' } },
    }),
    async (_req, reply) => {
      try {
        await stockroom.db.query('SELECT 1');
        return { status: 'ok', database: stockroom.db.driver };
      } catch {
        return reply
          .status(503)
          .header('retry-after', String(RETRY_AFTER_SECONDS))
          .send({ status: 'unavailable', database: stockroom.db.driver });
      }
    },
  );
};
