import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { Sku, WarehouseCode } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';

const route = routesTagged('catalog');
const ByCode = { params: Type.Object({ code: WarehouseCode }) };
const BySku = { params: Type.Object({ sku: Sku }) };

/** Archiving warehouses and variants (admin): out of routing, the storefront and lists; history stays. */
export function archiveRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/warehouses/:code/archive',
      route(['admin'], 'Archive a warehouse (refused while it holds stock or open reservations)', {
        ...ByCode,
        operationId: 'archiveWarehouse',
        answer: { schema: Answers.Warehouse },
        refusals: ['not_found', 'in_use'],
        idempotent: true,
      }),
      async (req) => stockroom.catalog.archiveWarehouse((req.params as { code: string }).code, callOptions(req)),
    );
    app.post(
      '/warehouses/:code/unarchive',
      route(['admin'], 'Take an archived warehouse back into use', {
        ...ByCode,
        operationId: 'unarchiveWarehouse',
        answer: { schema: Answers.Warehouse },
        refusals: ['not_found'],
        idempotent: true,
      }),
      (req) => stockroom.catalog.unarchiveWarehouse((req.params as { code: string }).code, callOptions(req)),
    );
    app.post(
      '/variants/:sku/archive',
      route(['admin'], 'Archive a variant (refused while it holds stock or open reservations)', {
        ...BySku,
        operationId: 'archiveVariant',
        answer: { schema: Answers.Variant },
        refusals: ['unknown_sku', 'in_use'],
        idempotent: true,
      }),
      async (req) => stockroom.catalog.archiveVariant((req.params as { sku: string }).sku, callOptions(req)),
    );
    app.post(
      '/variants/:sku/unarchive',
      route(['admin'], 'Take an archived variant back into use', {
        ...BySku,
        operationId: 'unarchiveVariant',
        answer: { schema: Answers.Variant },
        refusals: ['unknown_sku'],
        idempotent: true,
      }),
      (req) => stockroom.catalog.unarchiveVariant((req.params as { sku: string }).sku, callOptions(req)),
    );
  };
}
