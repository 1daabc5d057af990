import Type from 'typebox';
import type { Static } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Kit } from '../../domain/kits.js';
import { KitInput } from '../../services/kits.js';
import { Sku, parse } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { routesTagged } from './route-options.js';

const READERS = ['checkout', 'warehouse', 'storefront'] as const;

/** A kit as the API shows it: its SKU and components. Its stock and availability are read as any SKU's. */
const KitSchema = Type.Object({
  sku: Type.String(),
  components: Type.Array(
    Type.Object({
      sku: Type.String(),
      qty: Type.Integer({ description: 'units of the component in one kit' }),
    }),
  ),
});
const KitListSchema = Type.Object({ items: Type.Array(KitSchema), next_cursor: Type.Null() });
// the shape and the service's type cannot drift apart without the type check failing (as in responses.ts)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
type _Kit = Check<Same<Static<typeof KitSchema>, Kit>>;

const Params = Type.Object({ sku: Sku });
const route = routesTagged('catalog');

/** Kits: SKUs sold as a set of other SKUs, holding no stock of their own. */
export function kitRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.put(
      '/kits/:sku',
      route(['admin'], 'Make a variant a kit of components (GIFT-BOX), or change its components', {
        operationId: 'defineKit',
        params: Params,
        body: KitInput,
        example: {
          components: [
            { sku: 'MUG', qty: 2 },
            { sku: 'COFFEE-250', qty: 1 },
          ],
        },
        answer: { schema: KitSchema },
        refusals: ['unknown_sku', 'kit_holds_no_stock'],
        idempotent: true,
      }),
      async (req) =>
        stockroom.kits.define((req.params as { sku: string }).sku, parse(KitInput, req.body), callOptions(req)),
    );
    app.get(
      '/kits',
      route([...READERS], 'List kits with their components', {
        operationId: 'listKits',
        answer: { schema: KitListSchema },
      }),
      async () => ({ items: await stockroom.kits.list(), next_cursor: null }),
    );
    app.get(
      '/kits/:sku',
      route([...READERS], 'A kit with its components', {
        operationId: 'getKit',
        params: Params,
        answer: { schema: KitSchema },
        refusals: ['not_found'],
      }),
      async (req) => stockroom.kits.get((req.params as { sku: string }).sku),
    );
    app.delete(
      '/kits/:sku',
      route(['admin'], 'Make a kit a plain variant again', {
        operationId: 'deleteKit',
        params: Params,
        answer: {},
        refusals: ['not_found'],
        idempotent: true,
      }),
      async (req, reply) => {
        await stockroom.kits.remove((req.params as { sku: string }).sku, callOptions(req));
        return reply.status(204).send();
      },
    );
  };
}
