import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { ALERT_TYPES } from '../domain/alerts.js';
import { AVAILABILITY_STATUSES } from '../domain/availability.js';
import { BACKORDER_POLICIES } from '../domain/backorder.js';
import { CHANNEL_KINDS, DELIVERY_STATUSES } from '../domain/delivery.js';
import { ERROR_CODES } from '../domain/errors.js';
import { MOVEMENT_TYPES, REASONS } from '../domain/movements.js';
import { PO_STATUSES } from '../domain/purchasing.js';
import { RESERVATION_STATUSES } from '../domain/reservation.js';
import { SCOPES } from '../domain/scopes.js';
import { STOCK_STATES } from '../domain/stock-state.js';
import { LIMIT_SCOPES } from '../domain/variant-limits.js';
import type { AvailabilityItem } from '../services/availability.js';
import type { Channel, Delivery } from '../services/channels.js';
import type { Alert, Level, Movement, Reservation, Variant, Warehouse } from '../services/dto.js';
import type { ApiKey, CreatedApiKey, ReplayedApiKey } from '../services/keys.js';
import type { Page } from '../services/paging.js';
import type { PurchaseOrder, Receipt, Supplier } from '../services/purchasing.js';
import type { ReconcileReport } from '../services/reconcile.js';
import type { ReplenishResult, Suggestion } from '../services/replenishment.js';
import type { ReservationPage } from '../services/reservation-search.js';
import type {
  CountResult,
  ImportPreview,
  LevelChange,
  ReturnResult,
  StateLevel,
  Stock,
  SyncResult,
} from '../services/stock.js';
import type { StockListItem, StockListPage } from '../services/stock-list.js';
import type { Valuation } from '../services/valuation.js';
import { VALUATION_GROUPS } from '../domain/valuation.js';
import { STOCK_LIST_STATUSES } from '../domain/stock-list.js';

/**
 * The shapes of what the API answers: they document every response (OpenAPI) and serialize it (Fastify's
 * fast-json-stringify writes exactly the fields named here, so a field missing here would be dropped from the
 * answer; test/openapi-conformance.test.ts compares every route's live answer with what its handler returned).
 * The `$id`s are the document's components. Each shape is checked against the service type it describes
 * (`Same` below), so the two cannot drift apart without the type check failing.
 */

/** A value of one of these strings. */
export const OneOf = <const Values extends readonly string[]>(values: Values, description?: string) =>
  Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
/** A primitive schema that may also be null (one JSON type list: serialized without trying each branch). */
export const OrNull = <S extends TSchema & { type: string }>(schema: S) =>
  Type.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] });
const Text = Type.String();
const Int = Type.Integer();
const Time = Type.String({ format: 'date-time' });
/** A shared shape, named by its `$id` (a component of the document). */
const ref = <S extends TSchema>(schema: S) => {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new Error('only a shape with an $id is shared');
  return Type.Unsafe<Static<S>>({ $ref: `${id}#` });
};
/** A page of a list: its items and the cursor of the next page (null on the last). */
const PageOf = <S extends TSchema>(item: S) => ({ items: Type.Array(item), next_cursor: OrNull(Text) });

/** Holds only when A and B are the same type, each assignable to the other. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails the type check unless given true: every shape below is checked against its service type with it. */
export type Check<T extends true> = T;

/** An RFC 9457 problem document: every refusal and failure, with a stable `code`. */
const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:stockroom:problem:<code>', examples: ['urn:stockroom:problem:not_found'] }),
    title: Type.String({ description: 'the same for every problem of a code' }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'what went wrong this time, for a person' }),
    code: OneOf(Object.keys(ERROR_CODES), 'stable: what a program branches on'),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Text, message: Text }), {
        description: 'validation_failed: every problem of the input at once, each at a JSON pointer',
      }),
    ),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    examples: [
      {
        type: 'urn:stockroom:problem:insufficient_stock',
        title: 'Not enough stock',
        status: 409,
        detail: 'not enough stock for TEE-M: 2 asked, 1 available',
        code: 'insufficient_stock',
      },
    ],
    description: 'Some codes add members (e.g. insufficient_stock names the short lines); a client ignores others.',
  },
);

const WarehouseSchema = Type.Object(
  {
    code: Text,
    name: Text,
    lat: OrNull(Type.Number()),
    lon: OrNull(Type.Number()),
    priority: Int,
    regions: Type.Array(Text),
    serves_within_km: OrNull(Int),
    created_at: Time,
    archived_at: OrNull(Time),
  },
  { $id: 'Warehouse' },
);
type _Warehouse = Check<Same<Static<typeof WarehouseSchema>, Warehouse>>;

const VariantSchema = Type.Object(
  {
    sku: Text,
    product: Type.Object({ title: Text, category: OrNull(Text), tags: Type.Array(Text) }),
    attributes: Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    }),
    low_stock_threshold: Int,
    safety_stock: Int,
    backorder: Type.Object({ policy: OneOf(BACKORDER_POLICIES), limit: Int, lead_days: OrNull(Int) }),
    reorder_point: OrNull(Int),
    reorder_qty: OrNull(Int),
    lead_time_days: OrNull(Int),
    supplier: OrNull(Text),
    limit_scope: OneOf(LIMIT_SCOPES),
    track_inventory: Type.Boolean(),
    created_at: Time,
    updated_at: Time,
    archived_at: OrNull(Time),
  },
  { $id: 'Variant' },
);
type _Variant = Check<Same<Static<typeof VariantSchema>, Variant>>;

const WarehouseListSchema = Type.Object(PageOf(ref(WarehouseSchema)));
const VariantPageSchema = Type.Object(PageOf(ref(VariantSchema)));
type _VariantPage = Check<Same<Static<typeof VariantPageSchema>, Page<Variant>>>;

const BinSchema = Type.Object({ warehouse: Text, code: Text });

const levelFields = { sku: Text, warehouse: Text, on_hand: Int, reserved: Int, available: Int };
const LevelSchema = Type.Object(levelFields, { $id: 'Level' });
type _Level = Check<Same<Static<typeof LevelSchema>, Level>>;

const levelChangeFields = {
  ...levelFields,
  shortfall: Type.Integer({ description: 'units promised to orders beyond what is on hand' }),
};
const LevelChangeSchema = Type.Object(levelChangeFields, { $id: 'LevelChange' });
type _LevelChange = Check<Same<Static<typeof LevelChangeSchema>, LevelChange>>;

const CountResultSchema = Type.Object({ ...levelChangeFields, difference: Int });
type _CountResult = Check<Same<Static<typeof CountResultSchema>, CountResult>>;

const SyncResultSchema = Type.Object({
  source: Text,
  levels: Type.Array(Type.Object({ ...levelChangeFields, difference: Int })),
  shortfalls: Type.Array(ref(LevelChangeSchema)),
});
type _SyncResult = Check<Same<Static<typeof SyncResultSchema>, SyncResult>>;

const TransferResultSchema = Type.Object({
  sku: Text,
  qty: Int,
  from: ref(LevelSchema),
  to: ref(LevelSchema),
});

const ReturnResultSchema = Type.Object({
  id: Int,
  sku: Text,
  warehouse: Text,
  qty: Int,
  condition: OneOf(['resellable', 'damaged']),
  level: ref(LevelSchema),
});
type _ReturnResult = Check<Same<Static<typeof ReturnResultSchema>, ReturnResult>>;

const ImportResultSchema = Type.Object({
  rows: Int,
  changed: Int,
  shortfalls: Type.Array(ref(LevelChangeSchema)),
});

const ImportPreviewSchema = Type.Object({
  rows: Type.Integer({ description: 'data rows in the file' }),
  changed: Type.Integer({ description: 'levels the import would change' }),
  changes: Type.Array(Type.Object({ sku: Text, warehouse: Text, on_hand_before: Int, on_hand: Int }), {
    description: 'the first changes, in file order (STOCKROOM_IMPORT_PREVIEW_LISTED)',
  }),
  shortfalls: Type.Array(ref(LevelChangeSchema)),
  errors: Type.Array(
    Type.Object({
      line: Type.Union([Int, Type.Null()], { description: 'the line in the file (header = 1); null for the file' }),
      path: Text,
      message: Text,
    }),
    {
      description: 'the first problems, in line order (STOCKROOM_IMPORT_PREVIEW_LISTED); none: the import would apply',
    },
  ),
  error_count: Type.Integer({ description: 'every problem found, listed or not' }),
});
type _ImportPreview = Check<Same<Static<typeof ImportPreviewSchema>, ImportPreview>>;

const stateFields = { damaged: Int, quality_control: Int, safety_stock: Int };
const StateLevelSchema = Type.Object({ ...levelFields, ...stateFields });
type _StateLevel = Check<Same<Static<typeof StateLevelSchema>, StateLevel>>;

const heldFields = {
  committed: Type.Integer({ description: 'held by committed and partially fulfilled reservations' }),
  pending: Type.Integer({ description: 'held by pending reservations within their deadline' }),
};
const StockSchema = Type.Object({
  sku: Text,
  total: Type.Object({
    ...heldFields,
    on_hand: Int,
    reserved: Int,
    available: Int,
    incoming: Int,
    ...stateFields,
  }),
  warehouses: Type.Array(
    Type.Object({
      ...heldFields,
      warehouse: Text,
      on_hand: Int,
      reserved: Int,
      available: Int,
      ...stateFields,
      incoming: Type.Integer({ description: 'on purchase orders the supplier has, not yet received here' }),
      bins: Type.Array(Type.Object({ bin: Text, qty: Int })),
    }),
  ),
});
type _Stock = Check<Same<Static<typeof StockSchema>, Stock>>;

const MovementSchema = Type.Object(
  {
    id: Int,
    sku: Text,
    warehouse: Text,
    type: OneOf(MOVEMENT_TYPES),
    delta_on_hand: Int,
    delta_reserved: Int,
    on_hand_after: Int,
    reserved_after: Int,
    reason: Type.Unsafe<(typeof REASONS)[number] | null>({ type: ['string', 'null'], enum: [...REASONS, null] }),
    reference: OrNull(Text),
    actor: OrNull(Text),
    reservation_id: OrNull(Text),
    state_from: Type.Unsafe<(typeof STOCK_STATES)[number] | null>({
      type: ['string', 'null'],
      enum: [...STOCK_STATES, null],
    }),
    state_to: Type.Unsafe<(typeof STOCK_STATES)[number] | null>({
      type: ['string', 'null'],
      enum: [...STOCK_STATES, null],
    }),
    state_qty: OrNull(Int),
    location: OrNull(Text),
    location_delta: OrNull(Int),
    unit_cost: OrNull(
      Type.Integer({ description: 'minor units: what one unit came in or left at (a fulfilment: cost of goods sold)' }),
    ),
    value_delta: OrNull(Type.Integer({ description: "minor units added to (or taken from) the level's value" })),
    value_after: OrNull(Type.Integer({ description: "the level's value after this row, in minor units" })),
    kit: OrNull(Type.String({ description: "a kit component's row: the kit its units moved for" })),
    created_at: Time,
  },
  { $id: 'Movement' },
);
type _Movement = Check<Same<Static<typeof MovementSchema>, Movement>>;
const MovementPageSchema = Type.Object(PageOf(ref(MovementSchema)));
type _MovementPage = Check<Same<Static<typeof MovementPageSchema>, Page<Movement>>>;

const ReservationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    order_ref: Text,
    unique_order_ref: Type.Boolean(),
    status: OneOf(RESERVATION_STATUSES),
    expires_at: OrNull(Time),
    created_at: Time,
    committed_at: OrNull(Time),
    closed_at: OrNull(Time),
    backordered: Type.Boolean({ description: 'some units are promised beyond stock' }),
    lines: Type.Array(
      Type.Object({
        sku: Text,
        warehouse: Text,
        qty: Int,
        backordered: Int,
        fulfilled: Int,
        released: Int,
        components: Type.Optional(
          Type.Array(Type.Object({ sku: Text, warehouse: Text, qty: Int, fulfilled: Int, released: Int }), {
            description:
              "a kit's line only: the units of its components it holds, ships and gives back (the kit holds none)",
          }),
        ),
      }),
    ),
  },
  { $id: 'Reservation' },
);
type _Reservation = Check<Same<Static<typeof ReservationSchema>, Reservation>>;
const ReservationPageSchema = Type.Object({
  ...PageOf(ref(ReservationSchema)),
  total: Type.Integer({ description: 'how many match, counted up to STOCKROOM_LIST_TOTAL_MAX' }),
  total_exact: Type.Boolean({ description: 'false when more than total match' }),
});
type _ReservationPage = Check<Same<Static<typeof ReservationPageSchema>, ReservationPage>>;

const apiKeyFields = {
  id: Int,
  name: Text,
  prefix: Type.String({ description: 'sr_<public id>: names the key without revealing it' }),
  origin: OneOf(['generated', 'operator']),
  scopes: Type.Array(Type.String({ description: SCOPES.join(', ') })),
  created_at: Time,
  revoked_at: OrNull(Time),
};
const ApiKeySchema = Type.Object(apiKeyFields, { $id: 'ApiKey' });
type _ApiKey = Check<Same<Static<typeof ApiKeySchema>, ApiKey>>;
const CreatedApiKeySchema = Type.Object({
  ...apiKeyFields,
  key: Type.String({ description: 'the key itself: in this answer only, never shown again' }),
});
type _CreatedApiKey = Check<Same<Static<typeof CreatedApiKeySchema>, CreatedApiKey>>;
const ReplayedApiKeySchema = Type.Object({ ...apiKeyFields, replayed: Type.Literal(true) });
type _ReplayedApiKey = Check<Same<Static<typeof ReplayedApiKeySchema>, ReplayedApiKey>>;
const ApiKeyListSchema = Type.Object(PageOf(ref(ApiKeySchema)));

const AlertSchema = Type.Object(
  {
    id: Int,
    type: OneOf(ALERT_TYPES),
    sku: Text,
    warehouse: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'null: over all warehouses' }),
    available: Int,
    threshold: Int,
    created_at: Time,
  },
  { $id: 'Alert' },
);
type _Alert = Check<Same<Static<typeof AlertSchema>, Alert>>;
const AlertPageSchema = Type.Object(PageOf(ref(AlertSchema)));

const ChannelSchema = Type.Object(
  {
    id: Int,
    kind: OneOf(CHANNEL_KINDS),
    name: OrNull(Text),
    events: Type.Array(Text),
    target: Type.String({ description: 'webhook/slack: the URL; telegram: the chat; email: the recipients' }),
    batch: Type.Boolean({ description: 'a webhook that takes its events in batches: one POST of {"events": [...]}' }),
    created_at: Time,
  },
  { $id: 'Channel' },
);
type _Channel = Check<Same<Static<typeof ChannelSchema>, Channel>>;
const ChannelPageSchema = Type.Object(PageOf(ref(ChannelSchema)));

const DeliverySchema = Type.Object(
  {
    id: Int,
    channel_id: Int,
    kind: OneOf(CHANNEL_KINDS),
    event_id: Type.String({ description: 'the outbox event id: what receivers de-duplicate by' }),
    event: Text,
    status: OneOf(DELIVERY_STATUSES),
    attempts: Int,
    next_attempt_at: OrNull(Time),
    last_error: OrNull(Text),
    created_at: Time,
    delivered_at: OrNull(Time),
    log: Type.Array(
      Type.Object({
        attempt: Int,
        started_at: Time,
        duration_ms: Int,
        ok: Type.Boolean(),
        status_code: OrNull(Int),
        error: OrNull(Text),
      }),
    ),
  },
  { $id: 'Delivery' },
);
type _Delivery = Check<Same<Static<typeof DeliverySchema>, Delivery>>;
const DeliveryPageSchema = Type.Object(PageOf(ref(DeliverySchema)));
const RetryResultSchema = Type.Object({ id: Int, status: OneOf(['pending']) });

const SupplierSchema = Type.Object(
  {
    code: Text,
    name: Text,
    email: OrNull(Text),
    lead_time_days: OrNull(Int),
    warehouse: OrNull(Text),
    currency: OrNull(Type.String({ description: "the ISO 4217 currency it bills in; null: the store's" })),
    created_at: Time,
  },
  { $id: 'Supplier' },
);
type _Supplier = Check<Same<Static<typeof SupplierSchema>, Supplier>>;
const SupplierPageSchema = Type.Object(PageOf(ref(SupplierSchema)));

const PurchaseOrderSchema = Type.Object(
  {
    id: Int,
    supplier: Text,
    warehouse: Text,
    status: OneOf(PO_STATUSES),
    expected_date: OrNull(Type.String({ format: 'date' })),
    origin: OneOf(['manual', 'replenishment']),
    reference: OrNull(Text),
    currency: OrNull(
      Type.String({ description: "ISO 4217 currency of its costs; null: an order from before costs (the store's)" }),
    ),
    lines: Type.Array(
      Type.Object({
        sku: Text,
        qty: Int,
        received_qty: Int,
        outstanding: Type.Integer({ description: 'ordered, not yet received, while the order is open' }),
        unit_cost: OrNull(Type.Integer({ description: 'what one unit costs, in minor units of the currency' })),
      }),
    ),
    created_at: Time,
    updated_at: Time,
    sent_at: OrNull(Time),
    confirmed_at: OrNull(Time),
    closed_at: OrNull(Time),
  },
  { $id: 'PurchaseOrder' },
);
type _PurchaseOrder = Check<Same<Static<typeof PurchaseOrderSchema>, PurchaseOrder>>;
const PurchaseOrderPageSchema = Type.Object(PageOf(ref(PurchaseOrderSchema)));
const ReceiptSchema = Type.Object({
  order: ref(PurchaseOrderSchema),
  put_away: Type.Array(Type.Object({ sku: Text, qty: Int, bin: OrNull(Text), suggested: Type.Boolean() })),
});
type _Receipt = Check<Same<Static<typeof ReceiptSchema>, Receipt>>;

const SuggestionSchema = Type.Object({
  sku: Text,
  supplier: OrNull(Text),
  net: Type.Integer({ description: 'on hand less reserved, over all warehouses' }),
  incoming: Int,
  position: Type.Integer({ description: 'net + incoming' }),
  reorder_point: OrNull(Int),
  reorder_qty: OrNull(Int),
  lead_time_days: OrNull(Int),
  due: Type.Boolean(),
  suggested_qty: Int,
  open_purchase_order: OrNull(Int),
  demand: Type.Object({ window_days: Int, mean_per_day: Type.Number(), deviation_per_day: Type.Number() }),
  suggested_safety_stock: Int,
  suggested_reorder_point: Int,
});
type _Suggestion = Check<Same<Static<typeof SuggestionSchema>, Suggestion>>;
const SuggestionPageSchema = Type.Object({
  ...PageOf(SuggestionSchema),
  window_days: Int,
  service_level: Type.Number(),
});
const ReplenishResultSchema = Type.Object({
  orders: Type.Array(ref(PurchaseOrderSchema)),
  skipped: Type.Array(
    Type.Object({ sku: Text, reason: OneOf(['no_supplier', 'open_purchase_order', 'no_warehouse']) }),
  ),
});
type _ReplenishResult = Check<Same<Static<typeof ReplenishResultSchema>, ReplenishResult>>;

const atLevel = { sku: Text, warehouse: Text };
const ReconcileReportSchema = Type.Object({
  clean: Type.Boolean({ description: 'every level equals its ledger and what its open reservations hold' }),
  levels: Int,
  movements: Int,
  drift: Type.Array(
    Type.Object({
      ...atLevel,
      on_hand: Int,
      reserved: Int,
      ledger_on_hand: Int,
      ledger_reserved: Int,
      last_on_hand: OrNull(Int),
      last_reserved: OrNull(Int),
    }),
  ),
  holds: Type.Array(Type.Object({ ...atLevel, reserved: Int, held: Int })),
  states: Type.Array(
    Type.Object({
      ...atLevel,
      damaged: Int,
      quality_control: Int,
      ledger_damaged: Int,
      ledger_quality_control: Int,
    }),
  ),
  costs: Type.Array(
    Type.Object({
      ...atLevel,
      value: Int,
      ledger_value: Int,
      last_value: OrNull(Int),
      broken_rows: Type.Integer({
        description: "costed rows whose value_after is not the row before's plus value_delta",
      }),
    }),
  ),
});
type _ReconcileReport = Check<Same<Static<typeof ReconcileReportSchema>, ReconcileReport>>;

const AvailabilitySchema = Type.Object({
  items: Type.Array(Type.Object({ sku: Text, available: Int, status: OneOf(AVAILABILITY_STATUSES), label: Text })),
});
type _Availability = Check<Same<Static<typeof AvailabilitySchema>, { items: AvailabilityItem[] }>>;

const StockListItemSchema = Type.Object(
  {
    sku: Text,
    title: Type.String({ description: "the product's title" }),
    product: Type.Integer({ description: "the product's id" }),
    category: OrNull(Type.String({ description: 'a path, as apparel/shirts' })),
    tags: Type.Array(Text),
    warehouse: Text,
    on_hand: Int,
    reserved: Int,
    committed: Type.Integer({ description: 'of reserved, held by committed and partly fulfilled reservations' }),
    available: Int,
    incoming: Type.Integer({ description: 'on purchase orders the supplier has, not yet received here' }),
    safety_stock: Int,
    low_stock_threshold: Int,
    reorder_point: OrNull(Int),
    status: OneOf(STOCK_LIST_STATUSES),
    supplier: OrNull(Text),
  },
  { $id: 'StockListItem' },
);
type _StockListItem = Check<Same<Static<typeof StockListItemSchema>, StockListItem>>;
const StockListPageSchema = Type.Object({
  ...PageOf(ref(StockListItemSchema)),
  total: Type.Integer({ description: 'levels matching the filter, counted up to STOCKROOM_LIST_TOTAL_MAX' }),
  total_exact: Type.Boolean({ description: 'false when more match than were counted' }),
});
type _StockListPage = Check<Same<Static<typeof StockListPageSchema>, StockListPage>>;

const HealthSchema = Type.Object({
  status: OneOf(['ok', 'unavailable']),
  database: OneOf(['pglite', 'postgres']),
});

const valuedFields = {
  levels: Type.Integer({ description: 'levels with units on hand' }),
  on_hand: Int,
  value: Type.Integer({ description: 'minor units of the currency: on hand x moving-average cost' }),
  uncosted_units: Type.Integer({ description: 'units never given a cost, counted at no value' }),
  average_cost: OrNull(Type.Integer({ description: 'value / costed units, in whole minor units' })),
};
const ValuationSchema = Type.Object({
  as_of: Type.String({ format: 'date-time', description: 'the last instant counted' }),
  currency: Type.String({ description: 'ISO 4217: every amount is in its minor units' }),
  group_by: OneOf(VALUATION_GROUPS),
  groups: Type.Array(Type.Object({ key: OrNull(Text), ...valuedFields })),
  total: Type.Object(valuedFields),
});
type _Valuation = Check<Same<Static<typeof ValuationSchema>, Valuation>>;

/** Every response shape, by the name the routes give it (a shared one as a reference to its component). */
export const Answers = {
  Problem: ref(ProblemSchema),
  Warehouse: ref(WarehouseSchema),
  Variant: ref(VariantSchema),
  WarehouseList: WarehouseListSchema,
  VariantPage: VariantPageSchema,
  Bin: BinSchema,
  Level: ref(LevelSchema),
  LevelChange: ref(LevelChangeSchema),
  CountResult: CountResultSchema,
  SyncResult: SyncResultSchema,
  TransferResult: TransferResultSchema,
  ReturnResult: ReturnResultSchema,
  ImportResult: ImportResultSchema,
  ImportPreview: ImportPreviewSchema,
  StateLevel: StateLevelSchema,
  Stock: StockSchema,
  Movement: ref(MovementSchema),
  MovementPage: MovementPageSchema,
  Reservation: ref(ReservationSchema),
  ReservationPage: ReservationPageSchema,
  ApiKey: ref(ApiKeySchema),
  CreatedApiKey: CreatedApiKeySchema,
  ReplayedApiKey: ReplayedApiKeySchema,
  ApiKeyList: ApiKeyListSchema,
  Alert: ref(AlertSchema),
  AlertPage: AlertPageSchema,
  Channel: ref(ChannelSchema),
  ChannelPage: ChannelPageSchema,
  Delivery: ref(DeliverySchema),
  DeliveryPage: DeliveryPageSchema,
  RetryResult: RetryResultSchema,
  Supplier: ref(SupplierSchema),
  SupplierPage: SupplierPageSchema,
  PurchaseOrder: ref(PurchaseOrderSchema),
  PurchaseOrderPage: PurchaseOrderPageSchema,
  Receipt: ReceiptSchema,
  Suggestion: SuggestionSchema,
  SuggestionPage: SuggestionPageSchema,
  ReplenishResult: ReplenishResultSchema,
  ReconcileReport: ReconcileReportSchema,
  Availability: AvailabilitySchema,
  StockListPage: StockListPageSchema,
  Health: HealthSchema,
  Valuation: ValuationSchema,
};

/** The shapes shared as components of the document (each has an `$id`): added once to the server. */
export const SHARED_ANSWERS = [
  ProblemSchema,
  WarehouseSchema,
  VariantSchema,
  LevelSchema,
  LevelChangeSchema,
  MovementSchema,
  ReservationSchema,
  ApiKeySchema,
  AlertSchema,
  ChannelSchema,
  DeliverySchema,
  SupplierSchema,
  PurchaseOrderSchema,
  StockListItemSchema,
];
