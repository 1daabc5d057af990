import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import {
  BinBody,
  PageLimit,
  SearchText,
  Sku,
  VariantInput,
  VariantUpdate,
  WarehouseCode,
  WarehouseInput,
  parse,
} from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { routesTagged } from './route-options.js';
import { listValues } from './query.js';

const READERS = ['checkout', 'warehouse', 'storefront'] as const;
const VariantQuery = Type.Object(
  {
    query: Type.Optional(SearchText),
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Type.Union([Sku], { description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

const route = routesTagged('catalog');

/** Warehouses, their bins and the variants sold: the catalog the stock is kept against. */
export function catalogRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/warehouses', route(['admin'], 'Add a warehouse', { body: WarehouseInput }), async (req, reply) =>
      reply.status(201).send(await stockroom.catalog.addWarehouse(parse(WarehouseInput, req.body), callOptions(req))),
    );
    app.get('/warehouses', route(READERS, 'List warehouses'), async () => ({
      items: await stockroom.catalog.listWarehouses(),
      next_cursor: null,
    }));
    app.post(
      '/warehouses/:code/bins',
      route(['admin'], 'Add a bin (aisle-rack-shelf)', { params: Type.Object({ code: WarehouseCode }), body: BinBody }),
      async (req, reply) => {
        const { code } = req.params as { code: string };
        // the warehouse comes from the path: a body that names one too is refused, not overridden
        const body = parse(BinBody, req.body ?? {});
        return reply.status(201).send(await stockroom.catalog.addBin({ ...body, warehouse: code }, callOptions(req)));
      },
    );
    app.post('/variants', route(['admin'], 'Add a variant (SKU)', { body: VariantInput }), async (req, reply) =>
      reply.status(201).send(await stockroom.catalog.addVariant(parse(VariantInput, req.body), callOptions(req))),
    );
    app.put(
      '/variants/:sku',
      route(['admin'], "Change a variant's settings", { params: Type.Object({ sku: Sku }), body: VariantUpdate }),
      async (req) =>
        stockroom.catalog.updateVariant(
          (req.params as { sku: string }).sku,
          parse(VariantUpdate, req.body),
          callOptions(req),
        ),
    );
    app.get('/variants', route(READERS, 'List variants', { querystring: VariantQuery }), async (req) =>
      stockroom.catalog.listVariants(listValues(VariantQuery, req.query)),
    );
    app.get('/variants/:sku', route(READERS, 'A variant', { params: Type.Object({ sku: Sku }) }), async (req) =>
      stockroom.catalog.getVariant((req.params as { sku: string }).sku),
    );
  };
}
