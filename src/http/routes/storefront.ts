import type { FastifyInstance } from 'fastify';
import { AvailabilityInput } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { pageQuery } from './query.js';

/** The public storefront routes: no key needed. */
export function storefrontRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/availability',
      { schema: { tags: ['storefront'], summary: 'Status and label of up to 100 SKUs, for shoppers', querystring: AvailabilityInput, security: [] } },
      // sku may be given once or repeated; anything else in the query is checked (and refused) by the schema
      async (req) => stockroom.availability.get({ ...(req.query as object), sku: pageQuery(req.query).all('sku') }),
    );
  };
}
