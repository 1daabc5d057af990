import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { PO_STATUSES } from '../../domain/purchasing.js';
import {
  ConfirmInput,
  NumericId,
  PurchaseOrderCostsInput,
  PurchaseOrderInput,
  PurchaseReceiptInput,
  Sku,
  SupplierInput,
  WarehouseCode,
  parse,
} from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { bodyOrNone } from '../input.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { fromQuery, listQuery, listValues } from './query.js';

const ADMIN = ['admin'] as const;
const route = routesTagged('purchasing');

/** Receiving is the dock's work: warehouse keys may do it, and read the orders they receive against. */
const RECEIVERS = ['admin', 'warehouse'] as const;
const Id = Type.Object({ id: NumericId });
const OrderQuery = listQuery({
  status: Type.Optional(Type.String({ maxLength: 32, description: PO_STATUSES.join(', ') })),
  supplier: Type.Optional(WarehouseCode),
  sku: Type.Optional(Sku),
});
const SuggestionQuery = listQuery({
  sku: Type.Optional(Type.Array(Sku, { maxItems: 500, description: 'the SKUs to ask about, repeated: ?sku=A&sku=B' })),
  window_days: Type.Optional(Type.String({ maxLength: 16, description: 'days of demand history, 1-365' })),
  service_level: Type.Optional(
    Type.String({ maxLength: 16, description: 'a probability from 0.5 up to 1, e.g. 0.95' }),
  ),
});
const idOf = (req: { params: unknown }): string => (req.params as { id: string }).id;

/** Suppliers, purchase orders and replenishment. */
export function purchasingRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    const purchasing = stockroom.purchasing;
    app.post(
      '/suppliers',
      route(ADMIN, 'Add a supplier', {
        operationId: 'createSupplier',
        body: SupplierInput,
        example: { code: 'ACME', name: 'Acme Textiles', lead_time_days: 14, warehouse: 'AMS', currency: 'USD' },
        answer: { status: 201, schema: Answers.Supplier },
        refusals: ['not_found', 'already_exists', 'archived', 'currency_mismatch'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await purchasing.addSupplier(parse(SupplierInput, req.body), callOptions(req))),
    );
    app.get(
      '/suppliers',
      route(RECEIVERS, 'Suppliers', { operationId: 'listSuppliers', answer: { schema: Answers.SupplierPage } }),
      async () => purchasing.listSuppliers(),
    );

    app.post(
      '/purchase-orders',
      route(ADMIN, 'Draft a purchase order', {
        operationId: 'createPurchaseOrder',
        body: PurchaseOrderInput,
        example: {
          supplier: 'ACME',
          warehouse: 'AMS',
          lines: [{ sku: 'TEE-M', qty: 100, unit_cost: 450 }],
          reference: 'PO-2026-001',
        },
        answer: { status: 201, schema: Answers.PurchaseOrder, description: 'The order, as DRAFT' },
        refusals: ['not_found', 'unknown_sku', 'archived', 'kit_holds_no_stock', 'currency_mismatch'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply.status(201).send(await purchasing.create(parse(PurchaseOrderInput, req.body), callOptions(req))),
    );
    app.get(
      '/purchase-orders',
      route(RECEIVERS, `Purchase orders, newest first (status: ${PO_STATUSES.join(', ')})`, {
        operationId: 'listPurchaseOrders',
        querystring: OrderQuery,
        answer: { schema: Answers.PurchaseOrderPage },
        refusals: ['not_found', 'unknown_sku'],
      }),
      async (req) => fromQuery(() => purchasing.list(listValues(OrderQuery, req.query))),
    );
    app.get(
      '/purchase-orders/:id',
      route(RECEIVERS, 'A purchase order', {
        operationId: 'getPurchaseOrder',
        params: Id,
        answer: { schema: Answers.PurchaseOrder },
        refusals: ['not_found'],
      }),
      async (req) => purchasing.get(idOf(req)),
    );
    app.post(
      '/purchase-orders/:id/costs',
      route(ADMIN, 'Set what units of some lines cost (minor units; null: not known) while the order is open', {
        operationId: 'setPurchaseOrderCosts',
        params: Id,
        body: PurchaseOrderCostsInput,
        example: { lines: [{ sku: 'TEE-M', unit_cost: 475 }] },
        answer: { schema: Answers.PurchaseOrder, description: 'The order with its new costs' },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) => purchasing.setCosts(idOf(req), parse(PurchaseOrderCostsInput, req.body), callOptions(req)),
    );
    app.post(
      '/purchase-orders/:id/send',
      route(ADMIN, 'DRAFT to SENT (dated by the lead time if undated)', {
        operationId: 'sendPurchaseOrder',
        params: Id,
        answer: { schema: Answers.PurchaseOrder },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) => purchasing.send(idOf(req), callOptions(req)),
    );
    app.post(
      '/purchase-orders/:id/confirm',
      route(ADMIN, "SENT to CONFIRMED, with the supplier's date", {
        operationId: 'confirmPurchaseOrder',
        params: Id,
        body: ConfirmInput,
        bodyOptional: true,
        example: { expected_date: '2026-12-15' },
        answer: { schema: Answers.PurchaseOrder },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) => purchasing.confirm(idOf(req), parse(ConfirmInput, bodyOrNone(req)), callOptions(req)),
    );
    app.post(
      '/purchase-orders/:id/receive',
      route(RECEIVERS, 'Receive units of some lines into bins (put away where suggested unless a bin is given)', {
        operationId: 'receivePurchaseOrder',
        params: Id,
        body: PurchaseReceiptInput,
        example: { lines: [{ sku: 'TEE-M', qty: 40, bin: 'A-01-03' }], reference: 'delivery note 88' },
        answer: { schema: Answers.Receipt, description: 'The order as it now stands, and where each line was put' },
        refusals: [
          'not_found',
          'unknown_sku',
          'invalid_transition',
          'quantity_limit',
          'money_overflow',
          'archived',
          'no_room',
          'kit_holds_no_stock',
          'currency_mismatch',
        ],
        idempotent: true,
      }),
      async (req) => purchasing.receive(idOf(req), parse(PurchaseReceiptInput, req.body), callOptions(req)),
    );
    app.post(
      '/purchase-orders/:id/cancel',
      route(ADMIN, 'Cancel what is still open', {
        operationId: 'cancelPurchaseOrder',
        params: Id,
        answer: { schema: Answers.PurchaseOrder },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) => purchasing.cancel(idOf(req), callOptions(req)),
    );

    app.get(
      '/replenishment/suggestions',
      route(
        ADMIN,
        'Variants at or below their reorder point (or the SKUs asked for), with what to order and demand-based suggestions',
        {
          operationId: 'listReplenishmentSuggestions',
          querystring: SuggestionQuery,
          answer: { schema: Answers.SuggestionPage },
          refusals: ['unknown_sku'],
        },
      ),
      async (req) => fromQuery(() => stockroom.replenishment.suggestions(listValues(SuggestionQuery, req.query))),
    );
    app.post(
      '/replenishment/run',
      route(ADMIN, 'Run the replenishment job now: draft purchase orders for what is due', {
        operationId: 'runReplenishment',
        answer: { schema: Answers.ReplenishResult, description: 'The drafts made or added to, and what was skipped' },
      }),
      async () => stockroom.replenishment.replenish(),
    );
  };
}
