import Type from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import type { FastifyInstance } from 'fastify';
import { MOVEMENT_TYPES } from '../../domain/movements.js';
import { AdjustInput, CountInput, ReceiveInput, Reference, ReservationId, ReturnInput, Sku, SyncInput, Timestamp, TransferInput, WarehouseCode, parse } from '../../services/schemas.js';
import { stockCsv } from '../../services/stock-csv.js';
import type { Stockroom } from '../../services/stockroom.js';
import { SIGNATURE_HEADER } from '../../services/sync.js';
import { callOptions } from '../auth.js';
import { listQuery, pageQuery } from './query.js';

const WAREHOUSE = ['warehouse'] as const;
const MovementQuery = listQuery({
  sku: Type.Optional(Sku),
  warehouse: Type.Optional(WarehouseCode),
  type: Type.Optional(Type.Enum(MOVEMENT_TYPES)),
  since: Type.Optional(Timestamp),
  reservation_id: Type.Optional(ReservationId),
});
const ImportQuery = Type.Object({ reference: Type.Optional(Reference) }, { additionalProperties: false });
/** 64 MiB: about two million CSV rows */
export const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** the body as received, where a route needs it (signature checks) */
    rawBody?: string;
  }
}

export function stockRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    const op = (path: string, summary: string, body: object, run: (input: unknown, o: ReturnType<typeof callOptions>) => Promise<unknown>) => {
      app.post(path, { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary, body } }, async (req) => run(req.body, callOptions(req)));
    };
    op('/stock/receive', 'Receive units into a warehouse (optionally into a bin)', ReceiveInput, (i, o) => stockroom.stock.receive(i, o));
    op('/stock/adjust', 'Add or remove units for a reason', AdjustInput, (i, o) => stockroom.stock.adjust(i, o));
    op('/stock/count', 'Record a cycle count', CountInput, (i, o) => stockroom.stock.count(i, o));
    op('/stock/transfer', 'Move available units between warehouses', TransferInput, (i, o) => stockroom.stock.transfer(i, o));
    op('/returns', 'Record a customer return', ReturnInput, (i, o) => stockroom.stock.return(i, o));

    app.get('/stock/:sku', { config: { scopes: ['warehouse', 'checkout'] }, schema: { tags: ['stock'], summary: 'On hand, reserved and available per warehouse (never cached)', params: Type.Object({ sku: Sku }) } }, async (req) =>
      stockroom.stock.get((req.params as { sku: string }).sku),
    );
    app.get('/export/stock.csv', { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary: 'Every level as CSV, streamed' } }, async (_req, reply) => {
      const csv = stockCsv(stockroom.stock.exportLevels());
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="stock.csv"').send(csv);
    });

    // a pushed sync may be signed over its raw body, so this route keeps the body as it came
    await app.register(async (scoped) => {
      scoped.removeContentTypeParser('application/json');
      scoped.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
        req.rawBody = String(body);
        try {
          done(null, JSON.parse(req.rawBody));
        } catch (error) {
          done(ValidationError.field('', `the body is not valid JSON: ${error instanceof Error ? error.message : ''}`), undefined);
        }
      });
      scoped.post(
        '/stock/sync',
        { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary: 'Absolute on-hand numbers from an external warehouse system; signed with X-Stockroom-Signature when its source has a secret', body: SyncInput } },
        async (req) => {
          const source = (req.body as { source?: unknown } | null)?.source;
          const header = req.headers[SIGNATURE_HEADER];
          // the source is looked up before the body is validated: it must be text the database can hold
          if (typeof source === 'string') await stockroom.sync.verify(parse(SyncInput.properties.source, source, '/source'), req.rawBody ?? '', Array.isArray(header) ? header[0] : header);
          return stockroom.stock.sync(req.body, callOptions(req));
        },
      );
    });

    // a stock take can be large: this route alone reads CSV, and up to IMPORT_BODY_LIMIT of it
    await app.register(async (scoped) => {
      scoped.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => {
        done(null, body);
      });
      scoped.post(
        '/import/stock',
        { config: { scopes: WAREHOUSE }, bodyLimit: IMPORT_BODY_LIMIT, schema: { tags: ['stock'], summary: 'Set on hand from a CSV (sku,warehouse,on_hand): all rows or none', querystring: ImportQuery } },
        async (req) => {
          if (typeof req.body !== 'string') throw ValidationError.field('/csv', 'send the CSV as the body, with Content-Type: text/csv');
          return stockroom.stock.importOnHand(req.body, { ...callOptions(req), reference: pageQuery(req.query).string('reference') });
        },
      );
    });

    app.get('/movements', { config: { scopes: WAREHOUSE }, schema: { tags: ['stock'], summary: 'The ledger, newest first', querystring: MovementQuery } }, async (req) => {
      const q = pageQuery(req.query);
      return stockroom.stock.movements({
        sku: q.string('sku'),
        warehouse: q.string('warehouse'),
        type: q.string('type'),
        since: q.string('since'),
        reservation_id: q.string('reservation_id'),
        cursor: q.string('cursor'),
        limit: q.limit(),
      });
    });
  };
}
