import type { FastifySchema, RouteShorthandOptions } from 'fastify';
import type { Static, TSchema } from 'typebox';
import { ERROR_CODES } from '../../domain/errors.js';
import type { ErrorCode } from '../../domain/errors.js';
import type { Scope } from '../../domain/scopes.js';

/** What a route's schema says besides its tag and summary: its body, params and query. */
export type RouteSchema = Omit<FastifySchema, 'tags' | 'summary'>;

/** The header that makes a write safe to retry, and the one that says an answer is a replay. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set (to `true`) on the answer to a request whose Idempotency-Key was used before with the same request. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** What a route answers when it succeeds: its status, and the shape of its body (none: no body). */
export interface Answer {
  /** 200 unless given */
  status?: number;
  /** the JSON body; left out, the answer has no body (204) */
  schema?: TSchema;
  /** what the answer means, for the document */
  description?: string;
  /** the body's media type when it is not JSON (CSV, text, HTML, a stream): documented as a string */
  type?: string;
}

/**
 * The contract of one route, as the OpenAPI document states it: its operationId (camelCase, named after what it
 * does), its input, the answer it gives, and the refusals it may give beyond those every route can.
 */
export interface Contract<Body extends TSchema = TSchema> {
  operationId: string;
  body?: Body;
  /** a body that works as it is (Try it out in /docs) */
  example?: Static<Body>;
  /** the body may be left out (it defaults to {}); the document marks it optional */
  bodyOptional?: boolean;
  /** the body's media type when it is not JSON; its schema is then the form of that text */
  consumes?: string;
  params?: TSchema;
  querystring?: TSchema;
  description?: string;
  answer: Answer;
  /** refusals beyond those of every route (400, 413, 415, 500, 503; 401, 403 with a key; 422 if idempotent) */
  refusals?: readonly ErrorCode[];
  /** answers besides the success one that are not problem documents, by status */
  otherAnswers?: Record<number, Answer>;
  /** takes an Idempotency-Key: a replay answers the first answer again, with Idempotent-Replayed: true */
  idempotent?: boolean;
}

/**
 * Refusals every route can give: a malformed request, a body too large or of another type, headers too large (the
 * HTTP parser's, before any route is known), a failure, an outage.
 */
const EVERY_ROUTE: readonly ErrorCode[] = [
  'validation_failed',
  'payload_too_large',
  'unsupported_media_type',
  'headers_too_large',
  'internal_error',
  'unavailable',
];
const WITH_A_KEY: readonly ErrorCode[] = ['unauthorized', 'forbidden'];

/** Every refusal's body: one shape, one serializer compiled for it (src/http/responses.ts). */
const PROBLEM = { $ref: 'Problem#' };

/** The statuses of refusals that pass (429, 503): every one says when to try again (a RetryLaterError). */
const RETRY_LATER_STATUSES = new Set([429, 503]);
const RETRY_AFTER = {
  headers: {
    // as @fastify/swagger takes a header: its schema, which it wraps in the document's `schema`
    'Retry-After': {
      type: 'integer',
      minimum: 1,
      description: 'seconds to wait before sending the request again (with the same Idempotency-Key, for a write)',
    },
  },
};

/** The problem documents of these codes, one response per status (its codes named, the first as the example). */
function problemResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, named]) => {
      return [
        status,
        {
          description: `${named.map((code) => ERROR_CODES[code].title).join('; ')} (${named.map((code) => `\`${code}\``).join(', ')})`,
          ...(RETRY_LATER_STATUSES.has(status) ? RETRY_AFTER : {}),
          content: { 'application/problem+json': { schema: PROBLEM } },
        },
      ];
    }),
  );
}

/** The success answer as the document and the serializer read it. */
function answerResponse(answer: Answer, idempotent: boolean, given?: number): Record<string, unknown> {
  const status = given ?? answer.status ?? (answer.schema || answer.type ? 200 : 204);
  const description = answer.description ?? (status === 201 ? 'Created' : status === 204 ? 'Done' : 'OK');
  const headers = idempotent
    ? {
        headers: {
          [REPLAYED_HEADER]: {
            type: 'string',
            enum: ['true'],
            description: `present when this is the stored answer to an earlier request with the same ${IDEMPOTENCY_HEADER}: nothing was done again`,
          },
        },
      }
    : // an answer that is not a problem document but says "not now" (a health check's 503) says when to ask again
      RETRY_LATER_STATUSES.has(status)
      ? RETRY_AFTER
      : {};
  if (answer.type) {
    return { [status]: { description, ...headers, content: { [answer.type]: { schema: { type: 'string' } } } } };
  }
  if (!answer.schema) return { [status]: { description, ...headers, type: 'null' } };
  return { [status]: { description, ...headers, content: { 'application/json': { schema: answer.schema } } } };
}

/** Route options from a contract: who may call it (scopes; none: public, no key), its schema and its responses. */
export function routeOptions<Body extends TSchema>(
  tag: string,
  scopes: readonly Scope[] | 'public',
  summary: string,
  contract: Contract<Body>,
): RouteShorthandOptions {
  const idempotent = contract.idempotent === true;
  const refusals = [
    ...EVERY_ROUTE,
    ...(scopes === 'public' ? [] : WITH_A_KEY),
    ...(idempotent ? (['idempotency_conflict'] as const) : []),
    ...(contract.refusals ?? []),
  ].sort((a, b) => ERROR_CODES[a].status - ERROR_CODES[b].status);
  const body =
    contract.body &&
    (contract.consumes
      ? { content: { [contract.consumes]: { schema: contract.body } } }
      : contract.example === undefined
        ? contract.body
        : { ...contract.body, examples: [contract.example] });
  return {
    config: scopes === 'public' ? {} : { scopes },
    schema: {
      tags: [tag],
      summary,
      operationId: contract.operationId,
      ...(contract.description ? { description: contract.description } : {}),
      ...(scopes === 'public' ? { security: [] } : {}),
      ...(body ? { body } : {}),
      ...(contract.bodyOptional ? { 'x-body-optional': true } : {}),
      ...(contract.params ? { params: contract.params } : {}),
      ...(contract.querystring ? { querystring: contract.querystring } : {}),
      ...(idempotent
        ? {
            headers: {
              type: 'object',
              properties: {
                [IDEMPOTENCY_HEADER]: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 200,
                  description: `Makes the request safe to retry: the first answer is stored for this key (per API key); a retry with the same request gets it again with ${REPLAYED_HEADER}: true and changes nothing; the same key with another request is 422 idempotency_conflict.`,
                  examples: ['order-1001-reserve'],
                },
              },
            },
          }
        : {}),
      response: {
        ...answerResponse(contract.answer, idempotent),
        ...problemResponses(refusals),
        ...Object.assign(
          {},
          ...Object.entries(contract.otherAnswers ?? {}).map(([status, answer]) =>
            answerResponse(answer, idempotent && Number(status) < 300, Number(status)),
          ),
        ),
      },
    },
  };
}

/** Options for the routes of one OpenAPI tag: each names the scopes of which a key needs one, a summary, a contract. */
export const routesTagged =
  (tag: string) =>
  <Body extends TSchema>(scopes: readonly Scope[], summary: string, contract: Contract<Body>): RouteShorthandOptions =>
    routeOptions(tag, scopes, summary, contract);
