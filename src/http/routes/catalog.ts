import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import {
  BinBody,
  CategoryPath,
  PageLimit,
  SearchText,
  Sku,
  Tag,
  VariantInput,
  VariantUpdate,
  WarehouseCode,
  WarehouseInput,
  parse,
} from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { bodyOrNone } from '../input.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { QueryFlag, fromQuery, listValues } from './query.js';

const READERS = ['checkout', 'warehouse', 'storefront'] as const;
/** `?archived=true` lists the archived ones instead of those in use. */
const Archived = QueryFlag();
const WarehouseQuery = Type.Object({ archived: Type.Optional(Archived) }, { additionalProperties: false });
const VariantQuery = Type.Object(
  {
    query: Type.Optional(SearchText),
    category: Type.Optional(CategoryPath),
    tag: Type.Optional(Tag),
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Type.String({ ...Sku, description: 'next_cursor of the previous page' })),
    archived: Type.Optional(Archived),
  },
  { additionalProperties: false },
);

const route = routesTagged('catalog');

/** Warehouses, their bins and the variants sold: the catalog the stock is kept against. */
export function catalogRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/warehouses',
      route(['admin'], 'Add a warehouse', {
        operationId: 'createWarehouse',
        body: WarehouseInput,
        example: { code: 'AMS', name: 'Amsterdam', lat: 52.37, lon: 4.9, regions: ['EU'] },
        answer: { status: 201, schema: Answers.Warehouse },
        refusals: ['already_exists'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await stockroom.catalog.addWarehouse(parse(WarehouseInput, req.body), callOptions(req))),
    );
    app.get(
      '/warehouses',
      route(READERS, 'List warehouses', {
        operationId: 'listWarehouses',
        querystring: WarehouseQuery,
        answer: { schema: Answers.WarehouseList },
      }),
      async (req) => ({
        items: await stockroom.catalog.listWarehouses({
          archived: listValues(WarehouseQuery, req.query).archived === 'true',
        }),
        next_cursor: null,
      }),
    );
    app.post(
      '/warehouses/:code/bins',
      route(['admin'], 'Add a bin (aisle-rack-shelf)', {
        operationId: 'createBin',
        params: Type.Object({ code: WarehouseCode }),
        body: BinBody,
        example: { code: 'A-01-03' },
        answer: { status: 201, schema: Answers.Bin },
        refusals: ['not_found', 'already_exists', 'archived'],
        idempotent: true,
      }),
      async (req, reply) => {
        const { code } = req.params as { code: string };
        // the warehouse comes from the path: a body that names one too is refused, not overridden
        const body = parse(BinBody, bodyOrNone(req));
        return reply.status(201).send(await stockroom.catalog.addBin({ ...body, warehouse: code }, callOptions(req)));
      },
    );
    app.post(
      '/variants',
      route(['admin'], 'Add a variant (SKU)', {
        operationId: 'createVariant',
        body: VariantInput,
        example: { sku: 'TEE-M', product: { title: 'T-shirt, M' }, low_stock_threshold: 5 },
        answer: { status: 201, schema: Answers.Variant },
        refusals: ['already_exists', 'not_found'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await stockroom.catalog.addVariant(parse(VariantInput, req.body), callOptions(req))),
    );
    app.put(
      '/variants/:sku',
      route(['admin'], "Change a variant's settings", {
        operationId: 'updateVariant',
        params: Type.Object({ sku: Sku }),
        body: VariantUpdate,
        example: { low_stock_threshold: 10, backorder: { policy: 'backorder', limit: 20, lead_days: 14 } },
        answer: { schema: Answers.Variant },
        refusals: ['unknown_sku', 'not_found', 'quantity_limit', 'archived'],
        idempotent: true,
      }),
      async (req) =>
        stockroom.catalog.updateVariant(
          (req.params as { sku: string }).sku,
          parse(VariantUpdate, req.body),
          callOptions(req),
        ),
    );
    app.get(
      '/variants',
      route(READERS, 'List variants', {
        operationId: 'listVariants',
        querystring: VariantQuery,
        answer: { schema: Answers.VariantPage },
      }),
      async (req) => {
        const query = listValues(VariantQuery, req.query);
        return fromQuery(() => stockroom.catalog.listVariants({ ...query, archived: query.archived === 'true' }));
      },
    );
    app.get(
      '/variants/:sku',
      route(READERS, 'A variant', {
        operationId: 'getVariant',
        params: Type.Object({ sku: Sku }),
        answer: { schema: Answers.Variant },
        refusals: ['unknown_sku'],
      }),
      async (req) => stockroom.catalog.getVariant((req.params as { sku: string }).sku),
    );
  };
}
