import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { ValidationError } from '../domain/errors.js';
import { parse, refuseUnstorableText } from '../services/schemas.js';
import { invalidUtf8At } from '../services/utf8.js';

type QuerySchema = TSchema & { properties?: Record<string, TSchema & { type?: unknown }> };

const NO_QUERY: QuerySchema = { type: 'object', properties: {} } as QuerySchema;

/**
 * What every API request is checked for before its route reads it. Bodies are the use cases' to validate;
 * the URL is HTTP's own: path parameters must be text a database can hold, and the query may carry only
 * what the route's querystring schema names, each value as that schema says. A parameter a route does not
 * understand is refused, never ignored (a filter that silently does nothing returns the wrong rows). A
 * route without a body schema takes no body.
 */
export function registerInputChecks(app: FastifyInstance): void {
  // under the prefix the API is mounted at, when it is (docs/embedding.md)
  const api = `${app.prefix}/v1/`;
  // the operational routes take no query either (the interactive docs' static files are left alone)
  const operations = new Set(['/metrics', '/healthz', '/openapi.json'].map((path) => `${app.prefix}${path}`));
  // a callback, not a promise: it never waits, and every request runs it (bench/README.md)
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      checkRequest(request, api, operations);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
}

function checkRequest(request: FastifyRequest, api: string, operations: ReadonlySet<string>): void {
  const url = request.routeOptions.url;
  if (url === undefined || !(url.startsWith(api) || operations.has(url))) return;
  const schema = request.routeOptions.schema;
  refuseUnstorableText(request.params, '/params');
  checkQuery(request, (schema?.querystring as QuerySchema | undefined) ?? NO_QUERY);
  if (!schema?.body && hasContent(request.body)) {
    throw ValidationError.field('', 'this endpoint takes no body; send none (or {})');
  }
}

function checkQuery(request: FastifyRequest, schema: QuerySchema): void {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const known = schema.properties ?? {};
  refuseUnstorableText(query, '/query');
  const unknown = Object.keys(query).filter((name) => !Object.hasOwn(known, name));
  if (unknown.length > 0) {
    const takes = Object.keys(known).join(', ') || 'none';
    throw new ValidationError(
      unknown.map((name) => ({
        path: `/query/${name}`,
        message: `unknown query parameter (this endpoint takes: ${takes})`,
      })),
    );
  }
  // a parameter that may not repeat says so, rather than be checked as a list against what one value must be
  const repeated = Object.keys(query).filter((name) => Array.isArray(query[name]) && known[name]?.type !== 'array');
  if (repeated.length > 0)
    throw new ValidationError(repeated.map((name) => ({ path: `/query/${name}`, message: 'must be given once' })));
  // a parameter that may repeat (?sku=A&sku=B) is an array in the schema, and a single one is a list of one
  const given = Object.fromEntries(
    Object.entries(query).map(([name, value]) => [
      name,
      known[name]?.type === 'array' && !Array.isArray(value) ? [value] : value,
    ]),
  );
  parse(schema, given, '/query');
}

/**
 * A body was sent: anything but none or an empty object (a JSON string or null is a body too). Streamed bodies
 * come only through a route's own parser (CSV), which reads them.
 */
const hasContent = (body: unknown): boolean =>
  body !== undefined &&
  !(body instanceof Readable) &&
  !(typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);

/**
 * A body's bytes as text, or a 400 where they are not UTF-8: decoded anyway, each bad byte would become U+FFFD and a
 * text the client never sent would be stored (and the append-only ledger keeps it).
 */
export function utf8Body(body: Buffer): string {
  const at = invalidUtf8At(body);
  if (at !== undefined) {
    const byte = (body[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    throw ValidationError.field('', `the body is not valid UTF-8: byte 0x${byte} at offset ${at}; send text as UTF-8`);
  }
  return body.toString('utf8');
}
