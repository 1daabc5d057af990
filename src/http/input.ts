import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { ValidationError } from '../domain/errors.js';
import { HttpError } from './errors.js';
import { parse, refuseUnstorableText } from '../services/schemas.js';
import { invalidUtf8At } from '../services/utf8.js';

type QuerySchema = TSchema & { properties?: Record<string, TSchema & { type?: unknown }> };

/**
 * A route's body where no body means an empty one. Fastify gives null for a request without a body, whatever its
 * Content-Type; anything sent, a JSON `null` too, is the body, and its schema checks it (a `null` that read as `{}`
 * would take every default: fulfil everything, create a key with no scopes asked for).
 */
export const bodyOrNone = (req: FastifyRequest): unknown =>
  req.body === undefined ||
  (req.body === null && (req.headers['content-type'] === undefined || Number(req.headers['content-length'] ?? 0) === 0))
    ? {}
    : req.body;

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
  // before the body is read: bytes in a coding or a charset the parsers do not read are refused, not misread
  app.addHook('preParsing', (request, _reply, payload, done) => {
    try {
      checkBodyFraming(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, payload);
  });
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

/**
 * A body comes as UTF-8 and unencoded, or not at all. Nothing here decompresses: a gzip body would be read as JSON
 * ("not valid JSON"), and a coding on a plain body would be ignored. A charset other than UTF-8 would be decoded as
 * UTF-8 anyway, altering the text. Headers on a request without a body are left alone, as Content-Type is (clients
 * set it on every request).
 */
function checkBodyFraming(request: FastifyRequest): void {
  const { headers } = request;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined) {
    const codings = encoding
      .split(',')
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => coding !== '' && coding !== 'identity');
    if (codings.length > 0)
      throw new HttpError(
        'unsupported_media_type',
        `Content-Encoding ${codings.join(', ')} is not supported: send the body unencoded (identity)`,
      );
  }
  // Node keeps the first of two Content-Type headers and drops the other: a body of two types is nobody's to choose
  if (timesGiven(request, 'content-type') > 1)
    throw ValidationError.field('/headers/content-type', 'must be given once');
  const type = headers['content-type'];
  // most bodies name no parameter at all: nothing to split
  const charsets = type?.includes(';') ? charsetsOf(type).filter((charset) => !namesUtf8(charset)) : [];
  if (charsets.length > 0)
    throw new HttpError(
      'unsupported_media_type',
      `charset ${charsets.join(', ')} is not supported: send the body as UTF-8 (charset=utf-8, or no charset)`,
    );
}

/** Whether a charset label names UTF-8 as a browser reads it (utf-8, utf8, unicode-1-1-utf-8, ...: WHATWG's labels). */
function namesUtf8(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === 'utf-8';
  } catch {
    return false;
  }
}

/** The charset parameters of a Content-Type, lower case and unquoted (`text/csv; charset="UTF-8"` is utf-8). */
function charsetsOf(contentType: string): string[] {
  return contentType
    .split(';')
    .slice(1)
    .map((parameter) => parameter.split('='))
    .filter(([name]) => name?.trim().toLowerCase() === 'charset')
    .map(([, value = '']) =>
      value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase(),
    );
}

/**
 * How many times a request carries a header (`name` in lower case), which Node's parsed headers do not tell for
 * those it keeps once. Read from the raw headers (an injected request has no `headersDistinct`), a name compared
 * only when its length matches: every request with a key or a body runs it.
 */
export function timesGiven(request: FastifyRequest, name: string): number {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let at = 0; at < raw.length; at += 2) {
    const header = raw[at];
    if (header?.length === name.length && header.toLowerCase() === name) count++;
  }
  return count;
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
