import type { AllocationStrategy } from '../domain/routing.js';
import { ValidationError } from '../domain/errors.js';
import { DEFAULT_CURRENCY, currencyCode } from '../domain/money.js';
import { secretKeyFrom } from '../domain/secret-box.js';
import { migrate } from '../store/migrate.js';
import type { Db } from '../store/db.js';
import type { ReplicaSet } from '../store/replicas.js';
import { analyzeGrownTables } from '../store/statistics.js';
import { readWorkStatus } from '../store/work-status.js';
import type { WorkStatus } from '../store/work-status.js';
import { AlertService } from './alerts.js';
import { AvailabilityService } from './availability.js';
import { CatalogService } from './catalog.js';
import { ChannelService } from './channels.js';
import type { ServiceContext } from './context.js';
import { defaultGroupCommit } from './group-commit.js';
import { forgetIdempotencyKeys, MAX_IDEMPOTENCY_RETENTION_HOURS } from './idempotency.js';
import type { GroupCommitOptions } from './group-commit.js';
import { KeyService } from './keys.js';
import { LocationService } from './locations.js';
import { KitRegistry, KitService } from './kits.js';
import { PurchasingService } from './purchasing.js';
import { ReplenishmentService } from './replenishment.js';
import { reconcile } from './reconcile.js';
import type { ReconcileReport } from './reconcile.js';
import { ReservationService } from './reservations.js';
import { SecretService } from './secret-box.js';
import { StockService } from './stock.js';
import { StockListService } from './stock-list.js';
import { SyncService } from './sync.js';
import { ValuationService } from './valuation.js';
import type { SyncOptions } from './sync.js';

/** The database a Stockroom works on, and the settings a server or an embedding program may change. */
export interface StockroomOptions {
  db: Db;
  /** defaults to the system clock; tests pass their own to move deadlines without waiting */
  clock?: () => Date;
  /** how reservations arriving together are committed together (see GroupCommit) */
  groupCommit?: GroupCommitOptions;
  /** how long an authenticated API key is trusted before it is looked up again (default 10 s) */
  keyCacheMs?: number;
  /** pushed sync batches: how far a signed timestamp may be from now (default 300 s) */
  sync?: SyncOptions;
  /** STOCKROOM_ALLOCATION: how orders that do not say are spread over warehouses (default priority) */
  allocation?: AllocationStrategy;
  /** STOCKROOM_SECRET_KEY: channel and sync source secrets are sealed with it (AES-256-GCM) before they are stored */
  secretKey?: string | undefined;
  /** STOCKROOM_LIST_TOTAL_MAX: a reservation or stock list counts at most this many matches for its total (default 10,000) */
  listTotalMax?: number | undefined;
  /** STOCKROOM_CURRENCY: the ISO 4217 currency every cost and valuation is in (default USD) */
  currency?: string | undefined;
  /** STOCKROOM_KIT_REFRESH_MS: how often kits defined by another process are read again (default 5,000 ms) */
  kitRefreshMs?: number | undefined;
  /**
   * DATABASE_REPLICA_URL: streaming replicas of db that the reads that may be slightly stale go to (docs/design.md);
   * closed with the Stockroom
   */
  replicas?: ReplicaSet | undefined;
}

/** The inventory engine: every use case, grouped by the part of the business it serves. */
export class Stockroom {
  readonly catalog: CatalogService;
  readonly stock: StockService;
  /** the admin console's stock list, low stock now, and the rows of its exports */
  readonly stockList: StockListService;
  readonly reservations: ReservationService;
  readonly keys: KeyService;
  readonly sync: SyncService;
  readonly availability: AvailabilityService;
  readonly alerts: AlertService;
  readonly channels: ChannelService;
  /** the secrets sealed at rest: re-sealed under a new STOCKROOM_SECRET_KEY */
  readonly secrets: SecretService;
  readonly purchasing: PurchasingService;
  readonly replenishment: ReplenishmentService;
  /** the warehouse floor: locations, put-away, pick lists, pick-face replenishment */
  readonly locations: LocationService;
  /** on hand x moving-average cost, as of any moment, from the ledger */
  readonly valuation: ValuationService;
  /** kit SKUs made of components */
  readonly kits: KitService;
  /** the read replicas, when there are any: their lag and the reads each served */
  readonly replicas: ReplicaSet | undefined;
  private readonly ctx: ServiceContext;

  constructor(options: StockroomOptions) {
    this.ctx = {
      db: options.db,
      clock: options.clock ?? (() => new Date()),
      currency: currencyCode(options.currency ?? DEFAULT_CURRENCY, '/currency'),
      staleReads: options.replicas,
    };
    this.replicas = options.replicas;
    const kits = new KitRegistry(options.db, options.kitRefreshMs);
    this.kits = new KitService(this.ctx, kits);
    this.catalog = new CatalogService(this.ctx);
    this.stock = new StockService(this.ctx, kits);
    this.stockList = new StockListService(this.ctx, options.listTotalMax);
    this.reservations = new ReservationService(
      this.ctx,
      options.groupCommit ?? defaultGroupCommit(options.db.driver),
      options.listTotalMax,
      options.allocation,
      kits,
    );
    const secretKey = options.secretKey === undefined ? undefined : secretKeyFrom(options.secretKey);
    this.keys = new KeyService(this.ctx, options.keyCacheMs);
    this.sync = new SyncService(this.ctx, this.stock, options.sync, secretKey);
    this.availability = new AvailabilityService(this.ctx, kits);
    this.alerts = new AlertService(this.ctx);
    this.channels = new ChannelService(this.ctx, secretKey);
    this.secrets = new SecretService(this.ctx, secretKey);
    this.purchasing = new PurchasingService(this.ctx);
    this.replenishment = new ReplenishmentService(this.ctx);
    this.locations = new LocationService(this.ctx);
    this.valuation = new ValuationService(this.ctx);
  }

  /** The database it works on, for a caller that also reads it directly (the server's change feed, tests). */
  get db(): Db {
    return this.ctx.db;
  }

  /** Applies pending schema migrations; returns the versions applied. */
  migrate(): Promise<string[]> {
    return migrate(this.ctx.db);
  }

  /** Checks every level against its ledger and its open reservations: a clean report proves nothing drifted. */
  reconcile(): Promise<ReconcileReport> {
    return reconcile(this.ctx);
  }

  /**
   * Forgets the idempotency keys older than `retentionMs` (by the database's clock, which stamped them); returns how many. A request
   * sent again with a forgotten key is done again, as a new one: keep keys longer than any client retries. An
   * aborted `signal` stops the pass after the batch it is in.
   */
  async forgetIdempotencyKeys(retentionMs: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    if (
      !Number.isSafeInteger(retentionMs) ||
      retentionMs < 0 ||
      retentionMs > MAX_IDEMPOTENCY_RETENTION_HOURS * 3_600_000
    )
      throw ValidationError.field('/retention_ms', 'must be a whole number of milliseconds, 0 to a century');
    return forgetIdempotencyKeys(this.ctx.db, retentionMs, options.signal);
  }

  /**
   * Analyzes the tables that have doubled in size since the database last measured them, so their statements are
   * planned again for the size they have (a plan made while `reservations` held a page scans it where it should
   * probe a key); returns the tables analyzed. `serve` calls it every ten seconds (STOCKROOM_STATISTICS_EVERY_MS);
   * a program that embeds the engine calls it as it calls the sweeper: PGlite has no autovacuum to do it. One
   * process analyzes at a time: another returns at once with none, or with `wait` waits for its turn.
   */
  refreshStatistics(options: { wait?: boolean } = {}): Promise<string[]> {
    return analyzeGrownTables(this.ctx.db, { wait: options.wait === true });
  }

  /** What the sweeper, outbox and delivery have left to do and when replenishment last ran (one cheap read). */
  workStatus(): Promise<WorkStatus> {
    return readWorkStatus(this.ctx.db, this.ctx.clock());
  }

  /** Closes the database and the replicas' pools; the Stockroom is unusable afterwards. */
  async close(): Promise<void> {
    await this.replicas?.close();
    await this.ctx.db.close();
  }
}
