import Type from 'typebox';
import type { Static } from 'typebox';
import { KitHoldsNoStockError, NotFoundError, UnknownSkuError, ValidationError } from '../domain/errors.js';
import { MAX_KIT_COMPONENTS, checkKit, kitsAvailable } from '../domain/kits.js';
import { available } from '../domain/stock-level.js';
import type { ComponentFacts, Kit } from '../domain/kits.js';
import type { StockChange } from '../domain/stock-change.js';
import type { AvailabilityRow } from '../store/availability.js';
import { lockVariant } from '../store/catalog.js';
import type { Queryable } from '../store/db.js';
import { asStockroomError } from '../store/failures.js';
import { deleteKit, isKit, lockKitVariants, readKits, writeKit } from '../store/kits.js';
import { countOpenPurchaseOrders } from '../store/purchase-orders.js';
import type { CallOptions, ServiceContext } from './context.js';
import { runIdempotently } from './idempotency.js';
import { missing } from './lookups.js';
import { Quantity, Sku, parse } from './schemas.js';

/** The part of a stock read a kit's is made from (StockService's Stock). */
interface StockShape {
  sku: string;
  total: { available: number };
  warehouses: { warehouse: string; available: number }[];
}

/** A kit's definition as a caller gives it: its components and how many of each go into one kit. */
export const KitInput = Type.Object(
  {
    components: Type.Array(Type.Object({ sku: Sku, qty: Quantity }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: MAX_KIT_COMPONENTS,
    }),
  },
  { additionalProperties: false },
);
/** The body of a kit's definition. */
export type KitInput = Static<typeof KitInput>;

/**
 * Refuses naming a kit where units of its own would be counted, returned, put away or moved (docs/api.md, Kits): it
 * holds nothing of its own. Asked in the caller's transaction, so a kit defined a moment ago is known.
 */
export async function refuseKit(tx: Queryable, variantId: number, sku: string): Promise<void> {
  if (await isKit(tx, variantId)) throw new KitHoldsNoStockError(sku);
}

/** How often each process reads the kits again by default (ms): kits defined by another process are seen then. */
export const DEFAULT_KIT_REFRESH_MS = 5_000;

/**
 * The kits as this process knows them, in memory: reserving looks a SKU up here (no query for a SKU that is not a
 * kit), availability expands a kit through it and the live streams follow a kit's components. Read at first use,
 * again after every change made through this process and, for changes made elsewhere, every `refreshMs` (in the
 * background, never on a caller's way).
 */
export class KitRegistry {
  private kits: Map<string, Kit> | undefined;
  private containing = new Map<string, string[]>();
  private readAt = 0;
  private reading: Promise<ReadonlyMap<string, Kit>> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly refreshMs = DEFAULT_KIT_REFRESH_MS,
  ) {}

  /** The kits by SKU as last read; undefined before the first read. A stale copy is read again meanwhile. */
  get known(): ReadonlyMap<string, Kit> | undefined {
    this.refreshIfStale();
    return this.kits;
  }

  private refreshIfStale(): void {
    if (this.kits !== undefined && Date.now() - this.readAt > this.refreshMs && this.reading === undefined)
      void this.load().catch(() => undefined);
  }

  /** The kits by SKU: as known, or read now if never read. */
  async current(): Promise<ReadonlyMap<string, Kit>> {
    return this.known ?? this.load();
  }

  /** Reads the kits again (one read at a time; callers meanwhile share it). */
  load(): Promise<ReadonlyMap<string, Kit>> {
    this.reading ??= readKits(this.db)
      .then((kits) => {
        this.kits = new Map(kits.map((kit) => [kit.sku, kit]));
        const containing = new Map<string, string[]>();
        for (const kit of kits)
          for (const component of kit.components)
            containing.set(component.sku, [...(containing.get(component.sku) ?? []), kit.sku]);
        this.containing = containing;
        this.readAt = Date.now();
        return this.kits;
      })
      .catch((error: unknown) => {
        // what a failed read means to the caller (the database unreachable: 503), as for any use case
        throw asStockroomError(error) ?? error;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  /**
   * A change as the storefront's cache and streams should hear it: a component's change changes the kits it is in,
   * whose own levels never move.
   */
  withKitsOf(change: StockChange): StockChange {
    if ('all' in change) return change;
    const kits = this.kitsContaining(change.skus);
    return kits.length === 0 ? change : { skus: [...new Set([...change.skus, ...kits])] };
  }

  /** The kits these SKUs are components of (those known). */
  kitsContaining(skus: readonly string[]): string[] {
    this.refreshIfStale();
    return [...new Set(skus.flatMap((sku) => this.containing.get(sku) ?? []))];
  }
}

/** Kits: SKUs sold as a set of other SKUs. Defining one is one transaction; the registry follows. */
export class KitService {
  constructor(
    private readonly ctx: ServiceContext,
    readonly registry: KitRegistry,
  ) {}

  /**
   * Makes an existing variant a kit of these components, or gives a kit new ones. The kit must hold nothing, nor
   * have units to come on an open purchase order (kit_holds_no_stock); its components must exist (unknown_sku),
   * count their stock and not be kits themselves (validation_failed), and it may not be a component of another kit.
   * Reservations already made keep the units they hold; new ones take the new components.
   */
  async define(sku: string, input: KitInput, options: CallOptions = {}): Promise<Kit> {
    parse(Sku, sku, '/sku');
    const body = parse(KitInput, input);
    const kit = await runIdempotently(this.ctx, 'kit.define', options, { sku, ...body }, async (tx) => {
      const named = [sku, ...body.components.map((component) => component.sku)];
      const variants = new Map((await lockKitVariants(tx, named)).map((row) => [row.sku, row]));
      const own = variants.get(sku);
      if (!own) throw new UnknownSkuError([sku]);
      const facts = new Map<string, ComponentFacts>(
        [...variants.values()].map((row) => [
          row.sku,
          { tracked: row.track_inventory, kit: row.kit, variantWide: row.limit_scope === 'variant' },
        ]),
      );
      const unknown = checkKit({ sku, components: body.components }, facts);
      if (unknown.length > 0) throw new UnknownSkuError(unknown);
      if (own.on_hand !== 0 || own.reserved !== 0) throw new KitHoldsNoStockError(sku);
      // units of it still to come on an order could never be received once it is a kit. Counted with its row locked
      // (after its levels, as lockVariant takes them), which an order being placed holds a share lock on: an order
      // racing this either is counted or waits and then finds a kit (PurchasingService.create)
      await lockVariant(tx, sku);
      const orders = await countOpenPurchaseOrders(tx, { variantId: own.id });
      if (orders > 0) throw KitHoldsNoStockError.onOpenOrders(sku, orders);
      // an untracked kit would be sold without holding anything wherever the kit is not known as one yet
      if (!own.track_inventory) throw ValidationError.field('/sku', `${sku} does not track inventory; a kit must`);
      if ((await readKits(tx)).some((other) => other.components.some((component) => component.sku === sku)))
        throw ValidationError.field('/sku', `${sku} is a component of a kit; a kit cannot contain a kit`);
      await writeKit(
        tx,
        own.id,
        body.components.map((component) => ({
          variantId: (variants.get(component.sku) as { id: number }).id,
          qty: component.qty,
        })),
      );
      // read back: in the order every read of kits gives (the database's)
      const [written] = await readKits(tx, [sku]);
      return written ?? missing(`kit ${sku}`);
    });
    await this.registry.load();
    return kit;
  }

  /** A kit with its components; not_found for a SKU that is not a kit. */
  async get(sku: string): Promise<Kit> {
    const [kit] = await readKits(this.ctx.db, [sku]);
    if (!kit) throw new NotFoundError('kit', sku);
    return kit;
  }

  /** Every kit with its components, in SKU order. */
  async list(): Promise<Kit[]> {
    return readKits(this.ctx.db);
  }

  /** Makes a kit a plain variant again (holding nothing, as it did). Reservations made keep what they hold. */
  async remove(sku: string, options: CallOptions = {}): Promise<void> {
    await runIdempotently(this.ctx, 'kit.remove', options, { sku }, async (tx) => {
      const [own] = await lockKitVariants(tx, [sku]);
      if (!own?.kit || !(await deleteKit(tx, own.id))) throw new NotFoundError('kit', sku);
      return null;
    });
    await this.registry.load();
  }
}

/**
 * A kit's stock as a stock read shows it: its own levels (which hold nothing), each with the kits its components
 * there make available, and the sum of those as the total available (a warehouse short of one component lends
 * none of its others to another).
 */
export function kitStock<S extends StockShape>(kit: Kit, own: S, components: readonly StockShape[]): S {
  const availableAt = (warehouse: string) => (sku: string) =>
    components.find((stock) => stock.sku === sku)?.warehouses.find((level) => level.warehouse === warehouse)
      ?.available ?? 0;
  const warehouses = own.warehouses.map((level) => ({
    ...level,
    available: kitsAvailable(kit.components, availableAt(level.warehouse)),
  }));
  return {
    ...own,
    total: { ...own.total, available: warehouses.reduce((sum, level) => sum + level.available, 0) },
    warehouses,
  };
}

/**
 * A kit's storefront row made from its components' (read with it): at each of its warehouses, as many units on
 * hand as the components there make and nothing held back, never backordered or pre-ordered (a kit ships whole),
 * changing when the first of its components' holds runs out.
 */
export function kitAvailabilityRow(
  kit: Kit,
  own: AvailabilityRow,
  rows: ReadonlyMap<string, AvailabilityRow>,
): AvailabilityRow {
  const components = kit.components.map((component) => rows.get(component.sku));
  const deadlines = components
    .map((row) => row?.next_deadline)
    .filter((deadline): deadline is Date => deadline !== null && deadline !== undefined)
    .map((deadline) => new Date(deadline));
  return {
    ...own,
    backorder_policy: 'deny',
    backorder_limit: 0,
    limit_scope: 'warehouse',
    track_inventory: true,
    next_deadline:
      deadlines.length === 0 ? null : new Date(Math.min(...deadlines.map((deadline) => deadline.getTime()))),
    levels: own.levels.map((level) => ({
      ...level,
      on_hand: kitsAvailable(kit.components, (sku) => {
        const at = rows.get(sku)?.levels.find((other) => other.warehouse === level.warehouse);
        return at ? available(at) : 0;
      }),
      reserved: 0,
      safety_stock: 0,
      damaged: 0,
      quality_control: 0,
      incoming_date: null,
    })),
  };
}
