import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { KeyInput, parse } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';

const ADMIN = ['admin'] as const;

export function keyRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/keys', { config: { scopes: ADMIN }, schema: { tags: ['keys'], summary: 'Create an API key (the key is in this response only)', body: KeyInput } }, async (req, reply) => {
      return reply.status(201).send(await stockroom.keys.create(parse(KeyInput, req.body ?? {})));
    });
    app.get('/keys', { config: { scopes: ADMIN }, schema: { tags: ['keys'], summary: 'List API keys (never their secrets)' } }, async () => ({
      items: await stockroom.keys.list(),
      next_cursor: null,
    }));
    app.post('/keys/:id/revoke', { config: { scopes: ADMIN }, schema: { tags: ['keys'], summary: 'Revoke an API key', params: Type.Object({ id: Type.String() }) } }, async (req) =>
      stockroom.keys.revoke((req.params as { id: string }).id),
    );
  };
}
