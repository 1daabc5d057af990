import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { KeyInput, NumericId, parse } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { bodyOrNone } from '../input.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';

const ADMIN = ['admin'] as const;

const route = routesTagged('keys');

/** API keys for admins: created (the secret shown once), listed without secrets, revoked by id. */
export function keyRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/keys',
      route(
        ADMIN,
        'Create an API key (the key is in this response only; a replay of its Idempotency-Key answers the key without it)',
        {
          operationId: 'createApiKey',
          body: KeyInput,
          example: { name: 'checkout service', scopes: ['checkout'] },
          answer: {
            status: 201,
            schema: Answers.CreatedApiKey,
            description: 'The key, with its secret `key`: shown here only, stored as a salted hash',
          },
          otherAnswers: {
            200: {
              schema: Answers.ReplayedApiKey,
              description: 'A replay of the Idempotency-Key: the key made first, without its secret (replayed: true)',
            },
          },
          idempotent: true,
        },
      ),
      async (req, reply) => {
        const created = await stockroom.keys.createOnce(parse(KeyInput, bodyOrNone(req)), callOptions(req));
        return reply.status('replayed' in created ? 200 : 201).send(created);
      },
    );
    app.get(
      '/keys',
      route(ADMIN, 'List API keys (never their secrets)', {
        operationId: 'listApiKeys',
        answer: { schema: Answers.ApiKeyList },
      }),
      async () => ({
        items: await stockroom.keys.list(),
        next_cursor: null,
      }),
    );
    app.post(
      '/keys/:id/revoke',
      route(ADMIN, 'Revoke an API key, by its id', {
        operationId: 'revokeApiKey',
        params: Type.Object({ id: NumericId }),
        answer: { schema: Answers.ApiKey, description: 'The key, revoked' },
        refusals: ['not_found'],
      }),
      async (req) => stockroom.keys.revoke((req.params as { id: string }).id),
    );
  };
}
