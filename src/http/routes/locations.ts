import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { COUNT_METHODS, LOCATION_TYPES } from '../../domain/locations.js';
import { ValidationError } from '../../domain/errors.js';
import {
  CapacityInput,
  LocationCountInput,
  LocationInput,
  LocationUpdate,
  MeasuresInput,
  PickMinimumInput,
  RelocateInput,
} from '../../services/location-schemas.js';
import { BinCode, PageLimit, ReservationId, Sku, Timestamp, WarehouseCode, parse } from '../../services/schemas.js';
import type { Stockroom } from '../../services/stockroom.js';
import { callOptions } from '../auth.js';
import { LocationAnswers as Answers } from '../location-responses.js';
import { routesTagged } from './route-options.js';
import { QueryFlag, fromQuery, listValues } from './query.js';
import { reservationIdOf } from '../../services/reservations.js';

const ADMIN = ['admin'] as const;
/** The floor's work: warehouse keys read locations, pick lists and replenishments, and move units between locations. */
const FLOOR = ['admin', 'warehouse'] as const;
const route = routesTagged('floor');

const AtWarehouse = Type.Object({ code: WarehouseCode });
const AtLocation = Type.Object({ code: WarehouseCode, location: BinCode });
const LocationQuery = Type.Object(
  {
    type: Type.Optional(Type.Enum(LOCATION_TYPES)),
    active: Type.Optional(QueryFlag()),
  },
  { additionalProperties: false },
);
const PutAwayParams = Type.Object(
  { sku: Sku, qty: Type.String({ pattern: '^[0-9]{1,8}$', description: 'units to put away, 1-10,000,000' }) },
  { additionalProperties: false },
);

const Whole = (description: string) => Type.String({ pattern: '^[0-9]{1,4}$', description });
const CountPlanQuery = Type.Object(
  {
    method: Type.Optional(Type.Enum(COUNT_METHODS, { description: 'abc (default) or oldest' })),
    limit: Type.Optional(PageLimit),
    window_days: Type.Optional(Whole('days of movement ABC classes are taken over, 1-3650 (default 90)')),
  },
  { additionalProperties: false },
);
const VarianceQuery = Type.Object(
  {
    since: Type.Optional(Timestamp),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);
/** A whole number from a query string within bounds, else a validation error at its name. */
function wholeIn(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < 1 || number > max)
    throw ValidationError.field(`/query/${name}`, `must be a whole number from 1 to ${max}`);
  return number;
}

const paramsOf = (req: { params: unknown }) =>
  req.params as { code: string; location: string; sku: string; id: string };

/** The warehouse floor: locations with their type, limits and fill; put-away; pick lists; pick-face replenishment. */
export function locationRoutes(stockroom: Stockroom) {
  return async (app: FastifyInstance): Promise<void> => {
    const locations = stockroom.locations;
    app.post(
      '/warehouses/:code/locations',
      route(ADMIN, 'Add a location (a bin with a type and limits)', {
        operationId: 'createLocation',
        params: AtWarehouse,
        body: LocationInput,
        example: { code: 'P-01-01', type: 'pick_face', max_weight_g: 50000, max_volume_cm3: 120000 },
        answer: { status: 201, schema: Answers.Location },
        refusals: ['not_found', 'already_exists'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply
          .status(201)
          .send(await locations.add(paramsOf(req).code, parse(LocationInput, req.body), callOptions(req))),
    );
    app.get(
      '/warehouses/:code/locations',
      route(FLOOR, "A warehouse's locations with their fill", {
        operationId: 'listLocations',
        params: AtWarehouse,
        querystring: LocationQuery,
        answer: { schema: Answers.LocationList },
        refusals: ['not_found'],
      }),
      async (req) => {
        const query = listValues(LocationQuery, req.query);
        return locations.list(paramsOf(req).code, {
          ...(query.type === undefined
            ? {}
            : { type: parse(LocationQuery.properties.type, query.type, '/query/type') }),
          ...(query.active === undefined ? {} : { active: query.active === 'true' }),
        });
      },
    );
    app.get(
      '/warehouses/:code/locations/:location',
      route(FLOOR, 'A location with its fill', {
        operationId: 'getLocation',
        params: AtLocation,
        answer: { schema: Answers.Location },
        refusals: ['not_found'],
      }),
      async (req) => locations.get(paramsOf(req).code, paramsOf(req).location),
    );
    app.put(
      '/warehouses/:code/locations/:location',
      route(ADMIN, "Change a location's type, limits or active flag", {
        operationId: 'updateLocation',
        params: AtLocation,
        body: LocationUpdate,
        example: { max_weight_g: 40000, max_volume_cm3: null },
        answer: { schema: Answers.Location },
        refusals: ['not_found'],
        idempotent: true,
      }),
      async (req) =>
        locations.update(paramsOf(req).code, paramsOf(req).location, parse(LocationUpdate, req.body), callOptions(req)),
    );
    app.put(
      '/warehouses/:code/locations/:location/minimum',
      route(ADMIN, "Set a pick face's minimum of a SKU (null clears it)", {
        operationId: 'setPickMinimum',
        params: AtLocation,
        body: PickMinimumInput,
        example: { sku: 'TEE-M', min_qty: 10 },
        answer: { schema: Answers.Location },
        refusals: ['not_found', 'unknown_sku', 'already_exists', 'kit_holds_no_stock'],
        idempotent: true,
      }),
      async (req) =>
        locations.setPickMinimum(
          paramsOf(req).code,
          paramsOf(req).location,
          parse(PickMinimumInput, req.body),
          callOptions(req),
        ),
    );
    app.put(
      '/warehouses/:code/capacity',
      route(ADMIN, "Set a warehouse's capacity (null: none stated)", {
        operationId: 'setWarehouseCapacity',
        params: AtWarehouse,
        body: CapacityInput,
        example: { capacity_cm3: 500000000 },
        answer: { schema: Answers.LocationList },
        refusals: ['not_found'],
        idempotent: true,
      }),
      async (req) => locations.setCapacity(paramsOf(req).code, parse(CapacityInput, req.body), callOptions(req)),
    );
    app.get(
      '/warehouses/:code/put-away',
      route(FLOOR, 'Where units of a SKU would be put away now', {
        operationId: 'suggestPutAway',
        params: AtWarehouse,
        querystring: PutAwayParams,
        answer: { schema: Answers.PutAwaySuggestion },
        refusals: ['not_found', 'unknown_sku', 'kit_holds_no_stock'],
      }),
      async (req) => {
        const query = listValues(PutAwayParams, req.query);
        if (query.sku === undefined || query.qty === undefined)
          throw ValidationError.field('/query', 'give sku and qty');
        const { sku, qty } = query;
        // the pattern lets 0 through: the service refuses it, and the place it names is the query's
        return fromQuery(() => locations.suggestPutAway(paramsOf(req).code, { sku, qty: Number(qty) }));
      },
    );
    app.get(
      '/warehouses/:code/replenishments',
      route(FLOOR, 'Pick faces below their minimum, each with the move from bulk that refills it', {
        operationId: 'listReplenishments',
        params: AtWarehouse,
        answer: { schema: Answers.ReplenishmentList },
        refusals: ['not_found'],
      }),
      async (req) => ({ items: await locations.replenishments(paramsOf(req).code) }),
    );
    app.post(
      '/warehouses/:code/relocations',
      route(FLOOR, 'Move units between two locations (a replenishment confirmed)', {
        operationId: 'relocate',
        params: AtWarehouse,
        body: RelocateInput,
        example: { sku: 'TEE-M', from: 'A-01-03', to: 'P-01-01', qty: 12 },
        answer: { status: 201, schema: Answers.Relocation },
        refusals: ['not_found', 'unknown_sku', 'no_room', 'kit_holds_no_stock'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply
          .status(201)
          .send(await locations.relocate(paramsOf(req).code, parse(RelocateInput, req.body), callOptions(req))),
    );
    app.post(
      '/warehouses/:code/locations/:location/counts',
      route(FLOOR, 'Record a cycle count of a SKU in a location (the variance moves on hand)', {
        operationId: 'countLocation',
        params: AtLocation,
        body: LocationCountInput,
        example: { sku: 'TEE-M', counted: 11 },
        answer: { status: 201, schema: Answers.LocationCount },
        refusals: ['not_found', 'unknown_sku', 'archived', 'kit_holds_no_stock', 'money_overflow'],
        idempotent: true,
      }),
      async (req, reply) =>
        reply
          .status(201)
          .send(
            await locations.count(
              paramsOf(req).code,
              paramsOf(req).location,
              parse(LocationCountInput, req.body),
              callOptions(req),
            ),
          ),
    );
    app.get(
      '/warehouses/:code/count-plan',
      route(FLOOR, 'What to count today: ABC by movement, or the oldest count first', {
        operationId: 'getCountPlan',
        params: AtWarehouse,
        querystring: CountPlanQuery,
        answer: { schema: Answers.CountPlan },
        refusals: ['not_found', 'money_overflow'],
      }),
      async (req) => {
        const query = listValues(CountPlanQuery, req.query);
        return locations.countPlan(paramsOf(req).code, {
          ...(query.method === undefined
            ? {}
            : { method: parse(CountPlanQuery.properties.method, query.method, '/query/method') }),
          limit: query.limit,
          windowDays: wholeIn(query.window_days, 'window_days', 3650),
        });
      },
    );
    app.get(
      '/warehouses/:code/counts',
      route(FLOOR, 'The cycle counts of a warehouse and their variance', {
        operationId: 'getVarianceReport',
        params: AtWarehouse,
        querystring: VarianceQuery,
        answer: { schema: Answers.VarianceReport },
        refusals: ['not_found'],
      }),
      async (req) => {
        const query = listValues(VarianceQuery, req.query);
        return locations.varianceReport(paramsOf(req).code, {
          ...(query.since === undefined ? {} : { since: new Date(parse(Timestamp, query.since, '/query/since')) }),
          limit: query.limit,
        });
      },
    );
    app.get(
      '/variants/:sku/measures',
      route(FLOOR, 'What a unit of a SKU weighs and measures', {
        operationId: 'getMeasures',
        params: Type.Object({ sku: Sku }),
        answer: { schema: Answers.Measures },
        refusals: ['unknown_sku'],
      }),
      async (req) => locations.measures(paramsOf(req).sku),
    );
    app.put(
      '/variants/:sku/measures',
      route(ADMIN, 'Set what a unit of a SKU weighs and measures', {
        operationId: 'setMeasures',
        params: Type.Object({ sku: Sku }),
        body: MeasuresInput,
        example: { weight_g: 250, dimensions_mm: { length: 300, width: 200, height: 20 } },
        answer: { schema: Answers.Measures },
        refusals: ['unknown_sku'],
        idempotent: true,
      }),
      async (req) => locations.setMeasures(paramsOf(req).sku, parse(MeasuresInput, req.body), callOptions(req)),
    );
    app.get(
      '/reservations/:id/pick-list',
      route(FLOOR, 'What to pick for a reservation, from which locations, in walking order', {
        operationId: 'getPickList',
        params: Type.Object({ id: ReservationId }),
        answer: { schema: Answers.PickList },
        refusals: ['not_found'],
      }),
      async (req) => locations.pickList(reservationIdOf(paramsOf(req).id, '/params')),
    );
  };
}
