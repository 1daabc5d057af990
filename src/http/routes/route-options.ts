import type { FastifySchema, RouteShorthandOptions } from 'fastify';
import type { Scope } from '../../domain/scopes.js';

/** What a route's schema says besides its tag and summary: its body, params and query. */
export type RouteSchema = Omit<FastifySchema, 'tags' | 'summary'>;

/**
 * Options for the routes of one OpenAPI tag: each route names the scopes of which a key needs one, a summary
 * for the document, and its body, params or query schema.
 */
export const routesTagged =
  (tag: string) =>
  (scopes: readonly Scope[], summary: string, schema: RouteSchema = {}): RouteShorthandOptions => ({
    config: { scopes },
    schema: { tags: [tag], summary, ...schema },
  });
