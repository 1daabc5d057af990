import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { SHARED_ANSWERS } from './responses.js';

/** The tags of the document, each with what its operations are for. */
const TAGS = [
  { name: 'catalog', description: 'Warehouses, their bins and the variants (SKUs) stock is kept against' },
  { name: 'stock', description: "The warehouse's operations on stock levels, CSV imports and exports, the ledger" },
  { name: 'reservations', description: 'Two-phase reservations of checkout: reserve, commit, fulfil, release, amend' },
  { name: 'keys', description: 'API keys: created (the secret shown once), listed, revoked' },
  { name: 'alerts', description: 'Threshold alerts and the channels events are delivered to, with their log' },
  { name: 'purchasing', description: 'Suppliers, purchase orders and replenishment' },
  { name: 'floor', description: 'Locations with their limits and fill, put-away, pick lists, pick-face refills' },
  { name: 'valuation', description: 'The value of stock on hand at moving-average cost, as of any date' },
  { name: 'storefront', description: 'Public, keyless: availability for shoppers, its live stream, the widget' },
  { name: 'operations', description: 'Health, metrics and the ledger check, for operators' },
];

/** Operations whose body may be left out: Fastify's schema says a body is required, the document says otherwise. */
const BODY_OPTIONAL = 'x-body-optional';

type Operation = Record<string, unknown> & { requestBody?: { required?: boolean } };

/** The finished document: bodies that may be left out are marked so, and the marker is taken out. */
function finish(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const methods of Object.values(paths)) {
    for (const operation of Object.values(methods)) {
      if (!(BODY_OPTIONAL in operation)) continue;
      Reflect.deleteProperty(operation, BODY_OPTIONAL);
      if (operation.requestBody) operation.requestBody.required = false;
    }
  }
  return document;
}

/**
 * The OpenAPI 3.1 document (GET /openapi.json, and /docs to read and try it): the shared response shapes as
 * components, named by their `$id`s, one server (the one the document was read from, so Try it out calls it
 * whatever its address or the prefix it is mounted under), and the API key as a bearer token.
 */
export async function registerDocument(app: FastifyInstance): Promise<void> {
  for (const schema of SHARED_ANSWERS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'stockroom',
        version: '1',
        description:
          'Inventory engine for online stores: stock levels, two-phase reservations and an append-only ledger. ' +
          'Every refusal is an RFC 9457 problem document (application/problem+json) with a stable `code`. Writes ' +
          'take an `Idempotency-Key` header: a retry with the same key and request answers the first answer again, ' +
          'with `Idempotent-Replayed: true`. There is no `If-Match`: a stock change that must not race another carries ' +
          '`expected_on_hand` in its body and is refused with 409 `stale_quantity` when the level moved on.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'the server this document was read from' }],
      tags: TAGS,
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'sr_...',
            description:
              'An API key (POST /v1/keys, or STOCKROOM_ADMIN_KEY) as `Authorization: Bearer <key>`. Each route needs a key with one of the scopes it names; keyless routes say `security: []`.',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    refResolver: {
      // components named as the shapes are ($id), not def-0, def-1...
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (documents) =>
      'openapiObject' in documents
        ? finish(documents.openapiObject as Record<string, unknown>)
        : documents.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
