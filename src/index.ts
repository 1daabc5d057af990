// The library's public API: everything a program embedding stockroom may use.
export { Stockroom } from './services/stockroom.js';
export type { StockroomOptions } from './services/stockroom.js';
export type { CallOptions } from './services/context.js';
export type { Page } from './services/paging.js';
export type { Level, Movement, Reservation, ReservationLine, Variant, Warehouse } from './services/dto.js';
export type {
  CountResult,
  HeldStates,
  ImportPreview,
  LevelChange,
  ReturnResult,
  StateLevel,
  Stock,
  SyncResult,
  WarehouseStock,
} from './services/stock.js';
export { MoveStateInput, StockStateName } from './services/state-schemas.js';
export { STOCK_STATES } from './domain/stock-state.js';
export type { StockState } from './domain/stock-state.js';
export { StockListInput, StockListOrderUpkeep, STOCK_LIST_COLUMNS } from './services/stock-list.js';
export type {
  StockListItem,
  StockListOrderOptions,
  StockListOrderRefresh,
  StockListPage,
} from './services/stock-list.js';
export { stockListCsv, stockListXlsx } from './services/stock-export.js';
export { STOCK_LIST_STATUSES, STOCK_SORT_FIELDS } from './domain/stock-list.js';
export type { StockListStatus, StockSortField } from './domain/stock-list.js';
export { ValuationInput, VALUATION_COLUMNS, valuationCsv, valuationXlsx } from './services/valuation.js';
export type {
  Valuation,
  ValuationGroupTotal,
  ValuationLine,
  ValuationQuery,
  ValuedStock,
} from './services/valuation.js';
export { VALUATION_GROUPS } from './domain/valuation.js';
export type { ValuationGroup } from './domain/valuation.js';
export { DEFAULT_CURRENCY, MAX_UNIT_COST, formatMoney, minorDigits, parseMoney } from './domain/money.js';
export type { ReconcileReport } from './services/reconcile.js';
export { copyStore, DEFAULT_COPY_CHUNK_ROWS } from './services/copy.js';
export type { CopyOptions, CopyProgress, CopyReport, SequenceCount, TableCount } from './services/copy.js';
export type { ReservationPage, ReservationQuery } from './services/reservation-search.js';
export type { GroupCommitOptions, GroupCommitStats } from './services/group-commit.js';
export type { AvailabilityItem } from './services/availability.js';
export { KitInput, KitRegistry, KitService, DEFAULT_KIT_REFRESH_MS } from './services/kits.js';
export { MAX_KIT_COMPONENTS, kitsAvailable } from './domain/kits.js';
export type { Kit, KitComponent } from './domain/kits.js';
export type { ReservationComponent } from './services/dto.js';
export * as schemas from './services/schemas.js';
export type {
  AdjustInput,
  AmendInput,
  AvailabilityQuery,
  BinInput,
  ChannelInput,
  ConfirmInput,
  CountInput,
  FulfilInput,
  MoveInput,
  PurchaseOrderCostsInput,
  PurchaseOrderInput,
  PurchaseReceiptInput,
  ReceiveInput,
  ReleaseInput,
  ReserveInput,
  ReturnInput,
  SupplierInput,
  SyncInput,
  SyncItem,
  TransferInput,
  UnfulfilInput,
  VariantInput,
  VariantUpdate,
  WarehouseInput,
  WebhookInput,
} from './services/schemas.js';
export * from './domain/errors.js';
export { MOVEMENT_TYPES, REASONS } from './domain/movements.js';
export type { MovementType, Reason } from './domain/movements.js';
export { RESERVATION_STATUSES, DEFAULT_TTL_SECONDS } from './domain/reservation.js';
export type { ReservationStatus } from './domain/reservation.js';
export { AVAILABILITY_STATUSES, availabilityOf } from './domain/availability.js';
export type { Availability, AvailabilityInput, AvailabilityStatus } from './domain/availability.js';
export { BACKORDER_POLICIES } from './domain/backorder.js';
export type { BackorderPolicy } from './domain/backorder.js';
export { ALLOCATION_STRATEGIES } from './domain/routing.js';
export type { AllocationStrategy } from './domain/routing.js';
export { LIMIT_SCOPES } from './domain/variant-limits.js';
export type { LimitScope } from './domain/variant-limits.js';
export { openDb, openDbFromEnv, DEFAULT_DATA_DIR } from './store/open.js';
export { openPglite } from './store/pglite.js';
export { openPostgres } from './store/postgres.js';
export type { PostgresOptions } from './store/postgres.js';
export type { Db, Queryable, QueryResult, Driver } from './store/db.js';
export type { DbLog, PoolUsage, TransactionOptions } from './store/db.js';
export { ReplicaSet } from './store/replicas.js';
export type {
  ReplicaCondition,
  ReplicaLog,
  ReplicaOptions,
  ReplicaState,
  ReplicaStats,
  StaleReads,
  ReadSource,
} from './store/replicas.js';
export type { WorkStatus } from './store/work-status.js';
export type { ReserveLatencyWatcher } from './services/reservations.js';
export { ALERT_TYPES } from './domain/alerts.js';
export type { AlertType } from './domain/alerts.js';
export { CHANNEL_KINDS, EVENT_FAMILIES, EVENT_TYPES, RESERVATION_EVENTS, SUBSCRIPTIONS } from './domain/delivery.js';
export { SIGNATURE_TOLERANCE_SECONDS, signWebhook, verifyWebhook } from './domain/signature.js';
export type { ChannelKind, DeliveryEvent, DeliveryStatus, EventType } from './domain/delivery.js';
export { PO_STATUSES } from './domain/purchasing.js';
export type { PoStatus } from './domain/purchasing.js';
export type { Alert } from './services/dto.js';
export type { Channel, Delivery } from './services/channels.js';
export type { ResealReport } from './services/secret-box.js';
export type { ApiKey, CreatedApiKey, ReplayedApiKey } from './services/keys.js';
export type { SyncOptions } from './services/sync.js';
export { SCOPES } from './domain/scopes.js';
export type { Scope } from './domain/scopes.js';
export type { PurchaseOrder, PurchaseOrderLine, PutAway, Receipt, Supplier } from './services/purchasing.js';
export type { ReplenishResult, Suggestion } from './services/replenishment.js';
export { LOCATION_TYPES } from './domain/locations.js';
export type { LocationType } from './domain/locations.js';
export type {
  Location,
  LocationList,
  Measures,
  PickList,
  PickListLine,
  Placed,
  PutAwaySuggestion,
  Relocation,
  ReplenishmentSuggestion,
} from './services/locations.js';
export type {
  CapacityInput,
  LocationInput,
  LocationUpdate,
  MeasuresInput,
  PickMinimumInput,
  PutAwayQuery,
  RelocateInput,
} from './services/location-schemas.js';
export { buildServer, stockroomApi } from './http/server.js';
export type { ApiOptions, ConnectionLimits, ServerOptions } from './http/server.js';
export type { StorefrontOptions } from './http/routes/storefront.js';
export type { ImportLimits } from './http/routes/stock.js';
export type { WebOptions } from './http/routes/web.js';
export { apiDocument } from './http/document.js';
export { AvailabilityFeed } from './services/availability-feed.js';
export { DeliveryWorker } from './infra/delivery-worker.js';
export type { DeliveryOptions, DeliveryRun } from './infra/delivery-worker.js';
