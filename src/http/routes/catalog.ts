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
/** `?archived=true` lists the archived ones instead of those in use. */
const Archived = Type.Union([Type.Literal('true'), Type.Literal('false')]);
const WarehouseQuery = Type.Object({ archived: Type.Optional(Archived) }, { additionalProperties: false });
const VariantQuery = Type.Object(
  {
    query: Type.Optional(SearchText),
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Type.Union([Sku], { description: 'next_cursor of the previous page' })),
    archived: Type.Optional(Archived),
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
    app.get('/warehouses', route(READERS, 'List warehouses', { querystring: WarehouseQuery }), async (req) => ({
      items: await stockroom.catalog.listWarehouses({
        archived: listValues(WarehouseQuery, req.query).archived === 'true',
      }),
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
    app.get('/variants', route(READERS, 'List variants', { querystring: VariantQuery }), async (req) => {
      const query = listValues(VariantQuery, req.query);
      return stockroom.catalog.listVariants({ ...query, archived: query.archived === 'true' });
    });
    app.get('/variants/:sku', route(READERS, 'A variant', { params: Type.Object({ sku: Sku }) }), async (req) =>
      stockroom.catalog.getVariant((req.params as { sku: string }).sku),
    );
  };
}
