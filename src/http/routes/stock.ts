import type { Readable } from 'node:stream';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { PayloadTooLargeError, ValidationError } from '../../domain/errors.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MOVEMENT_TYPES } from '../../domain/movements.js';
import {
  AdjustInput,
  CountInput,
  ReceiveInput,
  Reference,
  ReservationId,
  ReturnInput,
  Sku,
  SyncInput,
  Timestamp,
  TransferInput,
  WarehouseCode,
  parse,
} from '../../services/schemas.js';
import { MoveStateInput } from '../../services/state-schemas.js';
import {
  DEFAULT_IMPORT_MAX_BYTES,
  DEFAULT_IMPORT_MAX_ERRORS,
  DEFAULT_PREVIEW_LISTED,
  stockCsv,
} from '../../services/stock-csv.js';
import type { Stockroom } from '../../services/stockroom.js';
import { SIGNATURE_HEADER } from '../../services/sync.js';
import { callOptions } from '../auth.js';
import { DEFAULT_IMPORT_CONCURRENCY } from '../limits.js';
import { utf8Body } from '../input.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import type { Answer, Contract } from './route-options.js';
import { Slots } from '../slots.js';
import { fromQuery, listQuery, listValues, pageQuery } from './query.js';
import { refuseDuplicateMembers } from '../../services/json-keys.js';

const WAREHOUSE = ['warehouse'] as const;
const MovementQuery = listQuery({
  sku: Type.Optional(Sku),
  warehouse: Type.Optional(WarehouseCode),
  type: Type.Optional(Type.Enum(MOVEMENT_TYPES)),
  since: Type.Optional(Timestamp),
  reservation_id: Type.Optional(ReservationId),
});
const ImportQuery = Type.Object({ reference: Type.Optional(Reference) }, { additionalProperties: false });

const route = routesTagged('stock');
/** The stock take a CSV import reads: a header line, then one line per level. */
const CsvBody = Type.String({
  description: 'CSV with a header line sku,warehouse,on_hand, then one line per level',
  examples: ['sku,warehouse,on_hand\nTEE-M,AMS,12\n'],
});

/** What a CSV stock import may take: bytes, imports at once, row problems before the file is refused. */
export interface ImportLimits {
  /** largest CSV body in bytes (413 past it) */
  maxBytes?: number | undefined;
  /** imports read or applied at once; past it 503 with Retry-After (each holds its rows in memory) */
  concurrency?: number | undefined;
  /** a file is refused at this many row problems, without reading further */
  maxErrors?: number | undefined;
  /** row problems and changes a dry run lists (it counts them all) */
  previewListed?: number | undefined;
}

/** what a refused import is asked to wait: about what a large one takes */
const IMPORT_RETRY_AFTER_SECONDS = 30;

declare module 'fastify' {
  interface FastifyRequest {
    /** the body as received, where a route needs it (signature checks) */
    rawBody?: string;
  }
}

/** The warehouse's stock operations, CSV imports, pushed syncs and the ledger. */
export function stockRoutes(stockroom: Stockroom, limits: ImportLimits = {}) {
  const maxBytes = limits.maxBytes ?? DEFAULT_IMPORT_MAX_BYTES;
  const running = new Slots({
    total: limits.concurrency ?? DEFAULT_IMPORT_CONCURRENCY,
    what: 'stock imports',
    retryAfterSeconds: IMPORT_RETRY_AFTER_SECONDS,
  });
  return async (app: FastifyInstance): Promise<void> => {
    /** A change of stock: idempotent, on a SKU in a warehouse, which may be unknown or archived. */
    const op = <S extends TSchema>(
      path: string,
      summary: string,
      contract: Omit<Contract<S>, 'answer' | 'idempotent' | 'body'> & { body: S; answer: Answer },
      run: (input: Static<S>, options: ReturnType<typeof callOptions>) => Promise<unknown>,
    ) => {
      const refusals = ['unknown_sku', 'not_found', 'archived', ...(contract.refusals ?? [])] as const;
      app.post(path, route(WAREHOUSE, summary, { ...contract, refusals, idempotent: true }), async (req) =>
        run(parse(contract.body, req.body), callOptions(req)),
      );
    };
    op(
      '/stock/receive',
      'Receive units into a warehouse (optionally into a bin)',
      {
        operationId: 'receiveStock',
        body: ReceiveInput,
        example: { sku: 'TEE-M', warehouse: 'AMS', qty: 10, reference: 'delivery note 77', unit_cost: 450 },
        answer: { schema: Answers.Level, description: 'The level after the receipt' },
        refusals: ['quantity_limit', 'no_room', 'money_overflow'],
      },
      (input, options) => stockroom.stock.receive(input, options),
    );
    op(
      '/stock/adjust',
      'Add or remove units for a reason',
      {
        operationId: 'adjustStock',
        body: AdjustInput,
        example: { sku: 'TEE-M', warehouse: 'AMS', delta: -1, reason: 'damaged', reference: 'dropped on the floor' },
        answer: { schema: Answers.LevelChange, description: 'The level after the change' },
        refusals: ['insufficient_stock', 'stale_quantity', 'quantity_limit', 'money_overflow'],
      },
      (input, options) => stockroom.stock.adjust(input, options),
    );
    op(
      '/stock/count',
      'Record a cycle count',
      {
        operationId: 'countStock',
        body: CountInput,
        example: { sku: 'TEE-M', warehouse: 'AMS', counted: 9 },
        answer: { schema: Answers.CountResult, description: 'The level after the count, and the difference found' },
        refusals: ['stale_quantity', 'quantity_limit', 'money_overflow'],
      },
      (input, options) => stockroom.stock.count(input, options),
    );
    op(
      '/stock/transfer',
      'Move available units between warehouses',
      {
        operationId: 'transferStock',
        body: TransferInput,
        example: { sku: 'TEE-M', from: 'AMS', to: 'BER', qty: 2 },
        answer: { schema: Answers.TransferResult, description: 'Both levels after the move' },
        refusals: ['insufficient_stock', 'quantity_limit', 'money_overflow'],
      },
      (input, options) => stockroom.stock.transfer(input, options),
    );
    op(
      '/returns',
      'Record a customer return',
      {
        operationId: 'recordReturn',
        body: ReturnInput,
        example: { sku: 'TEE-M', warehouse: 'AMS', qty: 1, condition: 'resellable', reference: 'order-1001' },
        answer: { schema: Answers.ReturnResult, description: 'The return, and the level after it' },
        refusals: ['quantity_limit', 'money_overflow'],
      },
      (input, options) => stockroom.stock.return(input, options),
    );
    op(
      '/stock/move-state',
      'Move units between stock states (available, damaged, quality_control, safety_stock)',
      {
        operationId: 'moveStockState',
        body: MoveStateInput,
        example: { sku: 'TEE-M', warehouse: 'AMS', qty: 1, from: 'available', to: 'quality_control', reason: 'other' },
        answer: { schema: Answers.StateLevel, description: 'The level and its states after the move' },
        refusals: ['insufficient_stock', 'quantity_limit'],
      },
      (input, options) => stockroom.stock.moveState(input, options),
    );

    app.get(
      '/stock/:sku',
      route(['warehouse', 'checkout'], 'On hand, reserved and available per warehouse (never cached)', {
        operationId: 'getStock',
        params: Type.Object({ sku: Sku }),
        answer: { schema: Answers.Stock },
        refusals: ['unknown_sku'],
      }),
      async (req) => stockroom.stock.get((req.params as { sku: string }).sku),
    );
    app.get(
      '/export/stock.csv',
      route(WAREHOUSE, 'Every level as CSV, streamed', {
        operationId: 'exportStock',
        answer: {
          type: 'text/csv',
          description: 'A header line, then one line per level: sku,warehouse,on_hand,reserved,available',
        },
      }),
      async (_req, reply) => {
        const csv = stockCsv(stockroom.stock.exportLevels());
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="stock.csv"')
          .send(csv);
      },
    );

    // a pushed sync may be signed over its raw body, so this route keeps the body as it came
    await app.register(async (scoped) => {
      scoped.removeContentTypeParser('application/json');
      scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
        try {
          req.rawBody = utf8Body(body as Buffer);
        } catch (error) {
          done(error as Error, undefined);
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(req.rawBody);
        } catch (error) {
          done(
            ValidationError.field('', `the body is not valid JSON: ${error instanceof Error ? error.message : ''}`),
            undefined,
          );
          return;
        }
        try {
          refuseDuplicateMembers(req.rawBody);
        } catch (refusal) {
          done(refusal as Error, undefined);
          return;
        }
        done(null, parsed);
      });
      scoped.post(
        '/stock/sync',
        route(
          WAREHOUSE,
          'Absolute on-hand numbers from a registered external warehouse system; signed (X-Stockroom-Signature: t=...,v1=...) when its source has a secret',
          {
            operationId: 'syncStock',
            body: SyncInput,
            example: { source: 'wms-amsterdam', items: [{ sku: 'TEE-M', warehouse: 'AMS', on_hand: 12 }] },
            answer: { schema: Answers.SyncResult, description: 'Every level the batch set, and those left short' },
            refusals: [
              'invalid_signature',
              'unknown_sku',
              'not_found',
              'stale_quantity',
              'quantity_limit',
              'money_overflow',
              'archived',
              'secrets_unreadable',
            ],
            idempotent: true,
          },
        ),
        async (req) => {
          const header = req.headers[SIGNATURE_HEADER];
          return stockroom.sync.push(
            parse(SyncInput, req.body),
            req.rawBody ?? '',
            Array.isArray(header) ? header[0] : header,
            callOptions(req),
          );
        },
      );
    });

    // a stock take can be large: these routes alone read CSV, as a stream (parsed as it arrives, never held whole)
    await app.register(async (scoped) => {
      scoped.addContentTypeParser('text/csv', (_req, payload, done) => {
        done(null, payload);
      });
      /** Runs one CSV import (or dry run) within the import limits, on the body as it arrives. */
      const readingCsv =
        <T>(run: (source: AsyncIterable<Uint8Array>, req: FastifyRequest) => Promise<T>) =>
        async (req: FastifyRequest): Promise<T> => {
          const body = req.body as Readable | undefined;
          if (typeof body?.iterator !== 'function')
            throw ValidationError.field('/csv', 'send the CSV as the body, with Content-Type: text/csv');
          // refused before the whole file arrived, the rest is read and dropped (errors.ts, lingerForUnreadBody)
          if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new PayloadTooLargeError(maxBytes);
          const free = running.take(req.ip);
          try {
            // stopping early must not destroy the request: that would close the socket before the answer
            return await run(body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>, req);
          } finally {
            free();
          }
        };
      scoped.post(
        '/import/stock',
        route(WAREHOUSE, 'Set on hand from a CSV (sku,warehouse,on_hand): all rows or none', {
          operationId: 'importStock',
          querystring: ImportQuery,
          body: CsvBody,
          consumes: 'text/csv',
          answer: { schema: Answers.ImportResult, description: 'Rows read, levels changed, and those left short' },
          refusals: ['unknown_sku', 'not_found', 'quantity_limit', 'money_overflow', 'archived', 'at_capacity'],
          idempotent: true,
        }),
        readingCsv((source, req) =>
          stockroom.stock.importOnHand(source, {
            ...callOptions(req),
            reference: pageQuery(req.query).string('reference'),
            maxBytes,
            maxErrors: limits.maxErrors ?? DEFAULT_IMPORT_MAX_ERRORS,
          }),
        ),
      );
      scoped.post(
        '/import/stock/preview',
        route(WAREHOUSE, 'Dry run of a CSV import: every row problem by line, and what would change; changes nothing', {
          operationId: 'previewStockImport',
          body: CsvBody,
          consumes: 'text/csv',
          answer: {
            schema: Answers.ImportPreview,
            description: 'Every row problem (the first ones listed, all counted), and what the import would change',
          },
          refusals: ['quantity_limit', 'money_overflow', 'at_capacity'],
        }),
        readingCsv((source, req) =>
          stockroom.stock.previewImport(source, {
            ...callOptions(req),
            maxBytes,
            listed: limits.previewListed ?? DEFAULT_PREVIEW_LISTED,
          }),
        ),
      );
    });

    app.get(
      '/movements',
      route(WAREHOUSE, 'The ledger, newest first', {
        operationId: 'listMovements',
        querystring: MovementQuery,
        answer: { schema: Answers.MovementPage },
        refusals: ['unknown_sku', 'not_found', 'money_overflow'],
      }),
      // what the use case refuses of the query is named as a place in it, as the schema names it (/query/cursor)
      async (req) => fromQuery(() => stockroom.stock.movements(listValues(MovementQuery, req.query))),
    );
  };
}
