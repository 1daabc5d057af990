import type { FastifyInstance } from 'fastify';
import { SCOPES } from '../../domain/scopes.js';
import { HttpError } from '../errors.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';

const route = routesTagged('keys');

/**
 * The key a caller is using, whatever its scopes: a client (the admin console) reads what it may do from it and
 * hides what it may not, instead of learning it from 403s.
 */
export function ownKeyRoutes() {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/keys/me',
      route(SCOPES, 'The API key of this request: its name and scopes (never its secret)', {
        operationId: 'getOwnApiKey',
        answer: { schema: Answers.ApiKey, description: 'The key that signed this request' },
      }),
      async (req) => {
        // the auth hook set it: every scope is allowed here, so a request without a valid key never gets this far
        if (!req.apiKey) throw new HttpError('unauthorized', 'send an API key as Authorization: Bearer <key>');
        return req.apiKey;
      },
    );
  };
}
