import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { RESERVATION_STATUSES } from '../../domain/reservation.js';
import {
  AmendInput,
  FulfilInput,
  MoveInput,
  PageLimit,
  Reference,
  ReleaseInput,
  ReservationId,
  ReserveInput,
  Sku,
  Timestamp,
  UnfulfilInput,
  WarehouseCode,
  parse,
} from '../../services/schemas.js';
import { reservationIdOf } from '../../services/reservations.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { bodyOrNone } from '../input.js';
import { Answers } from '../responses.js';
import { routesTagged } from './route-options.js';
import { fromQuery, listValues } from './query.js';

const CHECKOUT = ['checkout'] as const;
const Id = Type.Object({ id: ReservationId });
/** GET /v1/reservations: its filters, and its cursor (the last reservation shown). */
const ReservationQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(RESERVATION_STATUSES)),
    order_ref: Type.Optional(Reference),
    sku: Type.Optional(Sku),
    warehouse: Type.Optional(WarehouseCode),
    created_after: Type.Optional(Timestamp),
    expires_before: Type.Optional(Timestamp),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9a-f-]{36}$', description: 'next_cursor of the previous page' })),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);

const route = routesTagged('reservations');
/**
 * The two-phase reservations of checkout: reserve, commit, fulfil, release, and reading one back; and changing
 * one after checkout: amend, partial release, move, unfulfil.
 */
export function reservationRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    // checked here too, so a refusal names the path parameter (/params/id), as the API names every one
    const id = (params: unknown): string => reservationIdOf((params as { id: string }).id, '/params');
    app.post(
      '/reservations',
      route(CHECKOUT, 'Hold stock for an order: all lines or none', {
        operationId: 'createReservation',
        body: ReserveInput,
        example: { order_ref: 'order-1001', lines: [{ sku: 'TEE-M', qty: 2 }], ttl_seconds: 900 },
        answer: { status: 201, schema: Answers.Reservation, description: 'Held: pending until committed or expired' },
        refusals: ['unknown_sku', 'not_found', 'insufficient_stock', 'already_exists', 'archived'],
        idempotent: true,
      }),
      // the checkout's hot path: reserve checks its input itself (the same schema, the same words), once
      async (req, reply) =>
        reply.status(201).send(await stockroom.reservations.reserve(req.body as ReserveInput, callOptions(req))),
    );
    app.post(
      '/reservations/:id/commit',
      route(CHECKOUT, 'Payment received: no longer expires', {
        operationId: 'commitReservation',
        params: Id,
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) => stockroom.reservations.commit(id(req.params), callOptions(req)),
    );
    app.post(
      '/reservations/:id/cancel',
      route(CHECKOUT, 'Release what is held, or the given units', {
        operationId: 'cancelReservation',
        params: Id,
        body: ReleaseInput,
        bodyOptional: true,
        example: { lines: [{ sku: 'TEE-M', qty: 1 }] },
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) =>
        stockroom.reservations.releaseLines(id(req.params), parse(ReleaseInput, bodyOrNone(req)), callOptions(req)),
    );
    app.patch(
      '/reservations/:id',
      route(CHECKOUT, 'Change lines or the deadline: all or nothing', {
        operationId: 'amendReservation',
        params: Id,
        body: AmendInput,
        example: { lines: [{ sku: 'TEE-M', qty: 3 }], ttl_seconds: 1800 },
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'unknown_sku', 'insufficient_stock', 'invalid_transition', 'archived'],
        idempotent: true,
      }),
      async (req) => stockroom.reservations.amend(id(req.params), parse(AmendInput, req.body), callOptions(req)),
    );
    app.post(
      '/reservations/:id/move',
      route(CHECKOUT, 'Hold a line in another warehouse instead', {
        operationId: 'moveReservationLine',
        params: Id,
        body: MoveInput,
        example: { sku: 'TEE-M', to: 'BER' },
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'insufficient_stock', 'invalid_transition', 'archived'],
        idempotent: true,
      }),
      async (req) => stockroom.reservations.move(id(req.params), parse(MoveInput, req.body), callOptions(req)),
    );
    app.post(
      '/reservations/:id/unfulfil',
      route(CHECKOUT, 'Undo shipments: back on hand, held again', {
        operationId: 'unfulfilReservation',
        params: Id,
        body: UnfulfilInput,
        bodyOptional: true,
        example: { lines: [{ sku: 'TEE-M', qty: 1 }] },
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'invalid_transition', 'quantity_limit', 'money_overflow'],
        idempotent: true,
      }),
      async (req) =>
        stockroom.reservations.unfulfil(id(req.params), parse(UnfulfilInput, bodyOrNone(req)), callOptions(req)),
    );
    app.post(
      '/reservations/:id/fulfil',
      route(CHECKOUT, 'Ship all, or the given lines', {
        operationId: 'fulfilReservation',
        params: Id,
        body: FulfilInput,
        bodyOptional: true,
        example: { lines: [{ sku: 'TEE-M', qty: 2 }] },
        answer: { schema: Answers.Reservation },
        refusals: ['not_found', 'insufficient_stock', 'invalid_transition'],
        idempotent: true,
      }),
      async (req) =>
        stockroom.reservations.fulfil(id(req.params), parse(FulfilInput, bodyOrNone(req)), callOptions(req)),
    );
    app.get(
      '/reservations',
      route(CHECKOUT, 'Reservations newest first, filtered and paged, with the total that match', {
        operationId: 'listReservations',
        querystring: ReservationQuery,
        answer: { schema: Answers.ReservationPage },
        refusals: ['unknown_sku', 'not_found'],
      }),
      async (req) => fromQuery(() => stockroom.reservations.list(listValues(ReservationQuery, req.query))),
    );
    app.get(
      '/reservations/:id',
      route(CHECKOUT, 'A reservation; an expired one holds nothing', {
        operationId: 'getReservation',
        params: Id,
        answer: { schema: Answers.Reservation },
        refusals: ['not_found'],
      }),
      async (req) => stockroom.reservations.get(id(req.params)),
    );
  };
}
