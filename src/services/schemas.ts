import Type from 'typebox';
import type { Static, TObject, TProperties, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Format } from 'typebox/format';
import { BACKORDER_POLICIES } from '../domain/backorder.js';
import { ALLOCATION_STRATEGIES } from '../domain/routing.js';
import { LIMIT_SCOPES } from '../domain/variant-limits.js';
import { CHANNEL_KINDS, SUBSCRIPTIONS } from '../domain/delivery.js';
import type { ChannelKind } from '../domain/delivery.js';
import { MAX_STOCK_NUMBER, NotFoundError, ValidationError } from '../domain/errors.js';
import type { FieldError } from '../domain/errors.js';
import { MAX_UNIT_COST } from '../domain/money.js';
import { REASONS } from '../domain/movements.js';
import { SCOPES } from '../domain/scopes.js';
import { MAX_TTL_SECONDS } from '../domain/reservation.js';
import { LONE_SURROGATE } from '../domain/text.js';

/**
 * The shapes of every use case's input, snake_case as on the wire. The HTTP routes use these same schemas,
 * so the CLI, the library and the API refuse the same things with the same words.
 */

/** One operation moves at most this many units; keeps every level far from integer overflow. */
export const MAX_QTY = 10_000_000;
/** Lines one reservation may hold: a checkout, not a bulk import. */
export const MAX_LINES = 100;
/** Items one pushed sync batch may carry; a bigger stock take goes through the CSV import. */
export const MAX_SYNC_ITEMS = 10_000;
/** SKUs one storefront availability call may ask about. */
export const MAX_AVAILABILITY_SKUS = 100;

/** An object with exactly these fields: an unknown field is refused, never ignored. */
const Closed = <Properties extends TProperties>(properties: Properties): TObject<Properties> =>
  Type.Object(properties, { additionalProperties: false });

/** A stock keeping unit as every input names it. */
export const Sku = Type.String({
  minLength: 1,
  maxLength: 64,
  // `.` and `..` as a path segment are resolved away by browsers and most HTTP clients (/v1/variants/.. is
  // /v1/): such a SKU could be made and never addressed
  pattern: '^(?!\\.{1,2}$)\\S+$',
  description: 'stock keeping unit: 1-64 characters, no spaces, not . or ..',
});
/** A warehouse's (or supplier's) code: short, safe in a URL path and a CSV cell. */
export const WarehouseCode = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
  description: 'a code of letters, digits, _ . and -, starting with a letter or digit',
});

/** The level an operation acts on: a SKU in a warehouse. */
const AtLevel = { sku: Sku, warehouse: WarehouseCode };
/** A place on a warehouse's shelves. */
export const BinCode = Type.String({
  pattern: '^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}-[A-Z0-9]{1,8}$',
  description: 'aisle-rack-shelf, e.g. A-01-03',
});
/** Units one line moves: at least one. */
export const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QTY });
/** Units on a shelf, as counted: zero is a count too. */
export const Count = Type.Integer({ minimum: 0, maximum: MAX_QTY });
/**
 * A level's on-hand number as the caller saw it (compare-and-set): any number a level can hold, not only what one
 * operation may move, or a level past 10,000,000 units could never be changed with the check.
 */
export const ExpectedOnHand = Type.Integer({ minimum: 0, maximum: MAX_STOCK_NUMBER });
/** The caller's own reference (an order, a delivery note), kept on the ledger rows. */
export const Reference = Type.String({ minLength: 1, maxLength: 200 });
/** The control characters (C0, DEL, C1) as a pattern's character range: what text printed in tables and logs may not hold. */
const CONTROL_CHARACTERS = '\\u0000-\\u001f\\u007f-\\u009f';
/**
 * Who acts, as ledger rows record it, when a caller names it (the CLI's --actor; over HTTP it is `key:<key name>`):
 * text as the API's names and references take it, 1-200 characters, and no control character, since it is printed
 * in tables and logs, where a newline would forge a row and an escape sequence would drive the terminal.
 */
export const Actor = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: `^[^${CONTROL_CHARACTERS}]*$`,
  description: 'text with no control character (no newline, tab, escape, C1 code)',
});
/** Why an adjustment was made, from the fixed list the ledger reports by. */
export const ReasonCode = Type.Enum(REASONS);
/**
 * A name or title as people read it in lists: one of blanks only would show as nothing (a warehouse, product or
 * supplier nobody can tell apart from the next), so at least one character that is not whitespace.
 */
const Name = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '\\S',
  description: 'text of 1-200 characters, not only whitespace',
});
/**
 * Years the ledger and the calendar hold: PostgreSQL has no year 0, and the embedded one fails on five-digit
 * years, so every date and time is checked against this before it reaches SQL.
 */
const YEAR = /^(19[7-9][0-9]|[2-9][0-9]{3})-/;
/** The instant, not the written year, must be in range: 9999-12-31T23:00:00-14:00 is in the year 10000 UTC. */
const inYears = (value: string): boolean => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1970 && year <= 9999;
};
Format.Set('calendar-date', (value) => YEAR.test(value) && Format.IsDate(value));
Format.Set(
  'timestamp',
  (value) => YEAR.test(value) && (Format.IsDate(value) || Format.IsDateTime(value)) && inYears(value),
);
/** A calendar date (a real one: 2026-02-30 is refused), YYYY-MM-DD, from 1970 to 9999. */
export const IsoDate = Type.String({ format: 'calendar-date', description: 'a calendar date, YYYY-MM-DD' });
/** A point in time: an ISO 8601 date-time with its offset, or a calendar date (its midnight UTC), 1970 to 9999. */
export const Timestamp = Type.String({
  format: 'timestamp',
  description: 'an ISO 8601 date-time (2026-01-15T10:00:00Z) or date (2026-01-15)',
});
/**
 * A numeric id as the API hands them out: plain decimal digits, no sign, exponent, hex or spaces, within the
 * integers JavaScript keeps exactly (ids are bigint columns).
 */
export const NumericId = Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'a numeric id' });
/** A page cursor handed out by a list of numeric ids. */
export const IdCursor = Type.String({
  pattern: '^(0|[1-9][0-9]{0,14})$',
  description: 'next_cursor of the previous page',
});
/** A page size, as a query parameter (a whole number from 1 to 500). */
export const PageLimit = Type.String({ pattern: '^[0-9]{1,3}$', description: 'a whole number from 1 to 500' });
/** A product's category: a path of lower-case segments, as `apparel/shirts`; a filter by it takes those below it. */
export const CategoryPath = Type.String({
  maxLength: 200,
  pattern: '^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$',
  description: 'a path of lower-case segments (letters, digits, - and _) joined by /, as apparel/shirts',
});
/** A product's tag: lower-case letters, digits, - and _. */
export const Tag = Type.String({
  maxLength: 40,
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: 'lower-case letters, digits, - and _',
});
/** Tags one product may carry. */
export const MAX_TAGS = 20;
const productFields = {
  category: Type.Optional(Type.Union([CategoryPath, Type.Null()])),
  tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_TAGS, uniqueItems: true })),
};
/** What a search matches against (SKUs, titles). */
export const SearchText = Type.String({ minLength: 1, maxLength: 200 });
/** Where an order ships to, as a code that warehouses list among the regions they serve. */
export const Region = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,15}$',
  description: 'a region code such as EU, DE or US-CA',
});
const Small = Type.Integer({ minimum: 0, maximum: MAX_QTY });

/** A new warehouse: its code, name, and optionally where it stands and which orders it may serve. */
export const WarehouseInput = Closed({
  code: WarehouseCode,
  name: Name,
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
  regions: Type.Optional(Type.Array(Region, { maxItems: 50, description: 'regions it ships to (none: every region)' })),
  serves_within_km: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 20_000, description: 'delivers this far from lat/lon (none: any distance)' }),
  ),
});
/** What `catalog.addWarehouse` takes. */
export type WarehouseInput = Static<typeof WarehouseInput>;

/** Whether a variant may be sold beyond its stock, how far, and how soon the rest arrives. */
export const BackorderInput = Closed({
  policy: Type.Enum(BACKORDER_POLICIES),
  limit: Type.Optional(Small),
  lead_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
});

const variantSettings = {
  attributes: Type.Optional(
    Type.Record(
      Type.String({ maxLength: 64 }),
      Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]),
    ),
  ),
  low_stock_threshold: Type.Optional(Small),
  safety_stock: Type.Optional(Small),
  backorder: Type.Optional(BackorderInput),
  reorder_point: Type.Optional(Type.Union([Small, Type.Null()])),
  reorder_qty: Type.Optional(Type.Union([Quantity, Type.Null()])),
  lead_time_days: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 3650 }), Type.Null()])),
  supplier: Type.Optional(
    Type.Union([WarehouseCode, Type.Null()], { description: 'the code of the supplier it is bought from' }),
  ),
  limit_scope: Type.Optional(
    Type.Enum(LIMIT_SCOPES, {
      description: 'safety stock and backorder limit apply to each warehouse (default) or to the sum over all',
    }),
  ),
  track_inventory: Type.Optional(
    Type.Boolean({ description: 'false: stock is not counted; reservations are recorded, never refused' }),
  ),
};

/** A new variant with its product title and stock settings. */
export const VariantInput = Closed({
  sku: Sku,
  product: Type.Object({ title: Name, ...productFields }, { additionalProperties: false }),
  ...variantSettings,
});
/** What `catalog.addVariant` takes. */
export type VariantInput = Static<typeof VariantInput>;

/** The settings of a variant to change; every field may be left out. */
export const VariantUpdate = Closed({
  product: Type.Optional(
    Type.Object({ title: Type.Optional(Name), ...productFields }, { additionalProperties: false }),
  ),
  ...variantSettings,
});
/** What `catalog.updateVariant` takes. */
export type VariantUpdate = Static<typeof VariantUpdate>;

const unitCost = (description: string) => Type.Integer({ minimum: 0, maximum: MAX_UNIT_COST, description });
/** What one unit costs, in minor units of the store currency (cents for USD): an integer, never a float. */
export const UnitCost = unitCost('what one unit costs, in minor units of the store currency (1250 is 12.50 USD)');
/** An ISO 4217 currency code; it must be the store's (STOCKROOM_CURRENCY). */
export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', description: 'an ISO 4217 currency code, e.g. EUR' });

/** A new bin in a warehouse. */
export const BinInput = Closed({ warehouse: WarehouseCode, code: BinCode });
/** What `catalog.addBin` takes. */
export type BinInput = Static<typeof BinInput>;

/** Units arriving at a warehouse, optionally into a bin. */
export const ReceiveInput = Closed({
  ...AtLevel,
  qty: Quantity,
  bin: Type.Optional(BinCode),
  reason: Type.Optional(Type.Enum(['received', 'restock'])),
  reference: Type.Optional(Reference),
  /** put the units in `bin` even without room for them there (see NoRoomError) */
  force: Type.Optional(Type.Boolean()),
  unit_cost: Type.Optional(UnitCost),
});
/** What `stock.receive` takes. */
export type ReceiveInput = Static<typeof ReceiveInput>;

/** Units added or removed for a reason, optionally only if on-hand is still what the caller saw. */
export const AdjustInput = Closed({
  ...AtLevel,
  delta: Type.Integer({ minimum: -MAX_QTY, maximum: MAX_QTY, not: { const: 0 } }),
  reason: ReasonCode,
  reference: Type.Optional(Reference),
  expected_on_hand: Type.Optional(ExpectedOnHand),
});
/** What `stock.adjust` takes. */
export type AdjustInput = Static<typeof AdjustInput>;

/** A cycle count: what is on the shelf, which becomes on-hand. */
export const CountInput = Closed({
  ...AtLevel,
  counted: Count,
  reference: Type.Optional(Reference),
  expected_on_hand: Type.Optional(ExpectedOnHand),
});
/** What `stock.count` takes. */
export type CountInput = Static<typeof CountInput>;

/** Units moving from one warehouse to another. */
export const TransferInput = Closed({
  sku: Sku,
  from: WarehouseCode,
  to: WarehouseCode,
  qty: Quantity,
  reference: Type.Optional(Reference),
});
/** What `stock.transfer` takes. */
export type TransferInput = Static<typeof TransferInput>;

/** One absolute on-hand number from an external warehouse system. */
export const SyncItem = Closed({
  ...AtLevel,
  on_hand: Count,
  expected_on_hand: Type.Optional(ExpectedOnHand),
});
/** One line of a sync batch, checked. */
export type SyncItem = Static<typeof SyncItem>;
/**
 * What a pulled source answers: any number of items (they are applied in chunks, in one transaction). Closed as
 * every input is: a member it does not define (`next`, a misspelt `as_of`) is refused, not passed over.
 */
export const PulledBatch = Closed({ items: Type.Array(SyncItem), as_of: Type.Optional(Timestamp) });
/** A source's answer, checked. */
export type PulledBatch = Static<typeof PulledBatch>;
/** A batch pushed by a registered source, applied all or nothing. */
export const SyncInput = Closed({
  source: Type.String({ minLength: 1, maxLength: 100 }),
  items: Type.Array(SyncItem, { minItems: 1, maxItems: MAX_SYNC_ITEMS }),
});
/** What `stock.sync` and `sync.push` take. */
export type SyncInput = Static<typeof SyncInput>;

/**
 * Refuses a sync batch naming one level (SKU and warehouse) twice: which of its numbers is meant is not guessed.
 * Pushed and pulled batches alike; for a pulled one it is the source's answer that is at fault.
 */
export function refuseRepeatedLevels(items: readonly SyncItem[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = `${item.sku}\u0000${item.warehouse}`;
    if (seen.has(key))
      throw ValidationError.field(`/items/${i}`, `${item.sku} at ${item.warehouse} appears twice in one sync`);
    seen.add(key);
  });
}

/** A customer return, resellable or damaged. */
export const ReturnInput = Closed({
  ...AtLevel,
  qty: Quantity,
  condition: Type.Enum(['resellable', 'damaged']),
  reference: Reference,
});
/** What `stock.return` takes. */
export type ReturnInput = Static<typeof ReturnInput>;

/** Where an order ships to, so only warehouses that deliver there are asked. */
export const GeoPointInput = Closed({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
});

/** An order's lines to hold, all or none, and optionally where it may be served from. */
export const ReserveInput = Closed({
  order_ref: Reference,
  lines: Type.Array(Type.Object({ sku: Sku, qty: Quantity }, { additionalProperties: false }), {
    minItems: 1,
    maxItems: MAX_LINES,
  }),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
  warehouse: Type.Optional(WarehouseCode),
  region: Type.Optional(Region),
  ship_to: Type.Optional(GeoPointInput),
  unique_order_ref: Type.Optional(
    Type.Boolean({ description: 'false: allow other open reservations with this order_ref (default true)' }),
  ),
  replace: Type.Optional(
    Type.Boolean({ description: "true: release the order_ref's open pending reservation and hold this one instead" }),
  ),
  allocation: Type.Optional(
    Type.Enum(ALLOCATION_STRATEGIES, {
      description: "how lines are spread over warehouses (default: the store's setting); nearest needs ship_to",
    }),
  ),
  split: Type.Optional(Type.Boolean({ description: 'false: each line from one warehouse, or refused (default true)' })),
});
/** What `reservations.reserve` takes. */
export type ReserveInput = Static<typeof ReserveInput>;

/** The lines of a reservation to ship; none given ships all it holds. */
export const FulfilInput = Closed({
  lines: Type.Optional(
    Type.Array(
      Type.Object(
        {
          sku: Sku,
          qty: Quantity,
          warehouse: Type.Optional(WarehouseCode),
          /** ship from this warehouse instead: the hold moves there first */
          ship_from: Type.Optional(WarehouseCode),
          /** pick from these locations of the line's warehouse (else where its pick list says) */
          locations: Type.Optional(
            Type.Array(Closed({ location: BinCode, qty: Quantity }), { minItems: 1, maxItems: MAX_LINES }),
          ),
        },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: MAX_LINES,
      },
    ),
  ),
});
/** What `reservations.fulfil` takes. */
export type FulfilInput = Static<typeof FulfilInput>;

/** Units of a reservation's lines: a SKU, and its warehouse when the SKU is held in several. */
const LineUnits = Closed({ sku: Sku, qty: Quantity, warehouse: Type.Optional(WarehouseCode) });
const SomeLineUnits = Type.Array(LineUnits, { minItems: 1, maxItems: MAX_LINES });

/**
 * A change of a reservation: lines to a new quantity (0 gives back all the line holds; a SKU not on it is a new
 * line, routed as reserve routes it, within `region`/`ship_to`), and a pending one's deadline.
 */
export const AmendInput = Closed({
  lines: Type.Optional(
    Type.Array(Closed({ sku: Sku, qty: Count, warehouse: Type.Optional(WarehouseCode) }), {
      minItems: 1,
      maxItems: MAX_LINES,
    }),
  ),
  ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
  expires_at: Type.Optional(Timestamp),
  region: Type.Optional(Region),
  ship_to: Type.Optional(GeoPointInput),
});
/** What `reservations.amend` takes. */
export type AmendInput = Static<typeof AmendInput>;

/** The units of a reservation to give back; none given gives back all it holds. */
export const ReleaseInput = Closed({ lines: Type.Optional(SomeLineUnits) });
/** What `reservations.releaseLines` takes. */
export type ReleaseInput = Static<typeof ReleaseInput>;

/** Held units of one SKU to hold in another warehouse instead: all of them unless `qty`, from `from` if named. */
export const MoveInput = Closed({
  sku: Sku,
  qty: Type.Optional(Quantity),
  from: Type.Optional(WarehouseCode),
  to: WarehouseCode,
});
/** What `reservations.move` takes. */
export type MoveInput = Static<typeof MoveInput>;

/** Shipped units of a reservation to take back; none given takes back everything shipped. */
export const UnfulfilInput = Closed({ lines: Type.Optional(SomeLineUnits) });
/** What `reservations.unfulfil` takes. */
export type UnfulfilInput = Static<typeof UnfulfilInput>;

/** Reservations are named by UUIDs, so an id cannot be guessed from another. */
export const ReservationId = Type.String({ format: 'uuid' });

const AvailabilitySkus = Type.Array(Sku, {
  minItems: 1,
  maxItems: MAX_AVAILABILITY_SKUS,
  description: 'the SKUs to ask about, repeated: ?sku=A&sku=B',
});
/** Where an order would ship to, as a storefront asks: decimal degrees. */
const ShipTo = Type.String({
  pattern: '^-?\\d{1,2}(\\.\\d+)?,-?\\d{1,3}(\\.\\d+)?$',
  description: 'lat,lon the order would ship to, in decimal degrees (52.37,4.9)',
});
/** A storefront's question: these SKUs, optionally for a region or a ship-to point. */
export const AvailabilityQuery = Closed({
  sku: AvailabilitySkus,
  region: Type.Optional(Region),
  ship_to: Type.Optional(ShipTo),
});
/** A live stream follows what every warehouse holds. */
export const AvailabilityStreamInput = Closed({ sku: AvailabilitySkus });
/** What `availability.get` takes. */
export type AvailabilityQuery = Static<typeof AvailabilityQuery>;

/**
 * An email address as a mail server takes it: local part, @, domain, none of the characters that separate or quote
 * addresses in a header (space, comma, semicolon, angle brackets, quotes, parentheses): a line break could add a
 * header of its own, and a list where one address is expected sends to all of them.
 */
const ADDRESS = '[^\\s@<>,;:"()\\[\\]\\\\]+@[^\\s@<>,;:"()\\[\\]\\\\]+';
/** One email address, as a supplier's. */
export const EmailAddress = Type.String({
  maxLength: 254,
  pattern: `^${ADDRESS}$`,
  description: 'an email address (name@example.com)',
});
/**
 * The sender of a channel's mail: an address, or a display name (quoted if it holds a comma or semicolon, which
 * would otherwise start a second address) and the address in angle brackets.
 */
export const MailFrom = Type.String({
  maxLength: 200,
  pattern: `^(${ADDRESS}|[^<>",;\\r\\n]+ <${ADDRESS}>|"[^"\\r\\n]+" <${ADDRESS}>)$`,
  description: 'an email address, or a name and one: Stockroom <stock@example.com>',
});
/** Where a channel's mail goes: one address or several, comma-separated. */
export const MailTo = Type.String({
  maxLength: 2000,
  pattern: `^${ADDRESS}( *, *${ADDRESS})*$`,
  description: 'one email address or several, comma-separated',
});

const LeadDays = Type.Integer({ minimum: 0, maximum: 3650 });

/** A new supplier, optionally with its lead time and the warehouse its orders go to. */
export const SupplierInput = Closed({
  code: WarehouseCode,
  name: Name,
  // null, as answers show these, is "none": no address, no lead time, no warehouse of its own, the store's currency
  email: Type.Optional(Type.Union([EmailAddress, Type.Null()])),
  lead_time_days: Type.Optional(Type.Union([LeadDays, Type.Null()])),
  warehouse: Type.Optional(
    Type.Union([WarehouseCode, Type.Null()], { description: 'where its orders go unless an order says otherwise' }),
  ),
  currency: Type.Optional(Type.Union([CurrencyCode, Type.Null()])),
});
/** What `purchasing.addSupplier` takes. */
export type SupplierInput = Static<typeof SupplierInput>;

/** A draft purchase order: what to buy from whom, for which warehouse. */
export const PurchaseOrderInput = Closed({
  supplier: WarehouseCode,
  warehouse: WarehouseCode,
  lines: Type.Array(
    Type.Object(
      { sku: Sku, qty: Quantity, unit_cost: Type.Optional(Type.Union([UnitCost, Type.Null()])) },
      { additionalProperties: false },
    ),
    { minItems: 1, maxItems: 1000 },
  ),
  // null, as answers show these, is "none": a cost not known, no date yet (sending dates it by the lead time), no
  // reference, the supplier's or the store's currency
  expected_date: Type.Optional(Type.Union([IsoDate, Type.Null()])),
  reference: Type.Optional(Type.Union([Reference, Type.Null()])),
  currency: Type.Optional(Type.Union([CurrencyCode, Type.Null()])),
});
/** What `purchasing.create` takes. */
export type PurchaseOrderInput = Static<typeof PurchaseOrderInput>;

/** New unit costs for lines of an open order (null: not known), by SKU. */
export const PurchaseOrderCostsInput = Closed({
  lines: Type.Array(
    Type.Object({ sku: Sku, unit_cost: Type.Union([UnitCost, Type.Null()]) }, { additionalProperties: false }),
    { minItems: 1, maxItems: 1000 },
  ),
});
/** What `purchasing.setCosts` takes. */
export type PurchaseOrderCostsInput = Static<typeof PurchaseOrderCostsInput>;

/** A supplier's confirmation, with the date it promised if it gave one. */
export const ConfirmInput = Closed({ expected_date: Type.Optional(IsoDate) });
/** What `purchasing.confirm` takes. */
export type ConfirmInput = Static<typeof ConfirmInput>;

/** Units of a purchase order's lines arriving, optionally into named bins. */
export const PurchaseReceiptInput = Closed({
  lines: Type.Array(
    Type.Object(
      {
        sku: Sku,
        qty: Quantity,
        bin: Type.Optional(BinCode),
        unit_cost: Type.Optional(unitCost("what these units cost, if not the line's (the invoice's)")),
      },
      { additionalProperties: false },
    ),
    { minItems: 1, maxItems: 1000 },
  ),
  reference: Type.Optional(Reference),
  /** put the units away even where there is no room for them (see NoRoomError) */
  force: Type.Optional(Type.Boolean()),
});
/** What `purchasing.receive` takes. */
export type PurchaseReceiptInput = Static<typeof PurchaseReceiptInput>;

const Events = Type.Array(Type.Enum(SUBSCRIPTIONS), {
  minItems: 1,
  uniqueItems: true,
  description: 'the events this channel receives: names, or a family (`stock.*`, `reservation.*`)',
});
/** A URL the channel can be sent to: one the URL parser takes (a port past 65535 or a host of `[zz` is no URL). */
const urlOf =
  (schemes: readonly string[]) =>
  (value: string): boolean => {
    try {
      const url = new URL(value);
      return schemes.includes(url.protocol) && url.hostname.length > 0;
    } catch {
      return false;
    }
  };
Format.Set('http-url', urlOf(['http:', 'https:']));
Format.Set('smtp-url', urlOf(['smtp:', 'smtps:']));
const HttpUrl = Type.String({
  minLength: 8,
  maxLength: 2000,
  pattern: '^https?://\\S+$',
  format: 'http-url',
  description: 'an http(s) URL',
});
/** Where `sync pull` asks a source: an http(s) URL with a host, by the format a channel's URL is checked with. */
export const PullUrl = Type.String({ maxLength: 2000, format: 'http-url' });
const ChannelName = Type.Optional(Type.String({ minLength: 1, maxLength: 100 }));

/** POST /v1/webhooks: signed JSON to a URL of yours. */
export const WebhookInput = Closed({
  url: HttpUrl,
  events: Events,
  secret: Type.String({ minLength: 16, maxLength: 200, description: 'signs every delivery (HMAC-SHA256)' }),
  name: ChannelName,
  batch: Type.Optional(
    Type.Boolean({
      description: 'send events in batches: one POST of {"events": [...]} per delivery instead of one per event',
    }),
  ),
});
/** What `channels.addWebhook` takes. */
export type WebhookInput = Static<typeof WebhookInput>;

/** One schema per kind of channel: the kind decides which fields make sense. */
export const ChannelInputs = {
  webhook: Closed({ kind: Type.Literal('webhook'), ...WebhookInput.properties }),
  slack: Type.Object(
    { kind: Type.Literal('slack'), url: HttpUrl, events: Events, name: ChannelName },
    { additionalProperties: false, description: 'a Slack incoming-webhook URL' },
  ),
  telegram: Closed({
    kind: Type.Literal('telegram'),
    bot_token: Type.String({ pattern: '^[0-9]+:[A-Za-z0-9_-]+$', maxLength: 100, description: 'from @BotFather' }),
    chat_id: Type.String({ pattern: '^(-?[0-9]+|@[A-Za-z0-9_]{5,})$', description: 'a chat id or @channelname' }),
    api_url: Type.Optional(HttpUrl),
    events: Events,
    name: ChannelName,
  }),
  email: Closed({
    kind: Type.Literal('email'),
    smtp_url: Type.String({
      pattern: '^smtps?://\\S+$',
      format: 'smtp-url',
      maxLength: 2000,
      description: 'smtp://user:pass@host:587 or smtps://...',
    }),
    from: MailFrom,
    to: MailTo,
    events: Events,
    name: ChannelName,
  }),
} as const;
/** What `channels.add` takes: one kind's fields, named by `kind`. */
export type ChannelInput = Static<(typeof ChannelInputs)[keyof typeof ChannelInputs]>;

/**
 * Checks a channel against its own kind's schema: the kind is read first, so every other error names a field
 * that kind has.
 */
export function parseChannelInput(value: unknown): ChannelInput {
  const kind = typeof value === 'object' && value !== null && 'kind' in value ? value.kind : undefined;
  if (typeof kind !== 'string' || !(CHANNEL_KINDS as readonly string[]).includes(kind)) {
    throw ValidationError.field('/kind', `must be one of: ${CHANNEL_KINDS.join(', ')}`);
  }
  return parse(ChannelInputs[kind as ChannelKind], value);
}

// what a key's name may not hold: control characters, and invisible ones that would make it read as another name
// (zero widths, bidirectional overrides and isolates, line and paragraph separators)
const KEY_NAME_HIDDEN = `${CONTROL_CHARACTERS}\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f`;
/**
 * An API key's name. It is the ledger's actor (`key:<name>`) of what the key does, and shows in lists, logs and the
 * console's header: so none of those characters, and not blanks only.
 */
export const KeyName = Type.String({
  minLength: 1,
  maxLength: 100,
  // blanks, the first character that is none, then anything but a hidden character: the parts cannot overlap, so a
  // long input is matched in one pass (no backtracking), and no lookahead, which not every reader of the document takes
  pattern: `^[^\\S${KEY_NAME_HIDDEN}]*[^\\s${KEY_NAME_HIDDEN}][^${KEY_NAME_HIDDEN}]*$`,
  description: 'text of 1-100 characters, not only whitespace, with no control or invisible formatting character',
});

/** POST /v1/keys: a named key with scopes. */
export const KeyInput = Closed({
  name: KeyName,
  scopes: Type.Array(Type.Enum(SCOPES), { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
});
/** A key's name and scopes, checked. */
export type KeyInput = Static<typeof KeyInput>;

/** POST /v1/warehouses/{code}/bins: the warehouse is in the path. */
export const BinBody = Closed({ code: BinCode });

const validators = new WeakMap<TSchema, ReturnType<typeof Compile>>();

/**
 * Checks input against a schema. Every problem is reported at once, with a JSON pointer to it (under `at`,
 * e.g. /query), so a client fixes its request in one round. Text no database column can hold is refused
 * first, wherever it sits, keys included.
 */
export function parse<S extends TSchema>(schema: S, value: unknown, at = ''): Static<S> {
  refuseUnstorableText(value, at);
  let validator = validators.get(schema);
  if (!validator) {
    validator = Compile(schema);
    validators.set(schema, validator);
  }
  if (validator.Check(value)) return value as Static<S>;
  const all = [...validator.Errors(value)];
  // a value that fits no branch of a union (a text or null) is told what the text must be, not also "must be null"
  // and "must match a schema in anyOf"
  const told = new Set(all.filter((error) => !unionNoise(error)).map((error) => error.instancePath));
  const errors = all
    .filter((error) => !(unionNoise(error) && told.has(error.instancePath)))
    // additionalProperties:false is reported twice: once per extra key ("schema is false"), once as a list
    .filter((error) => error.keyword !== 'boolean')
    // an unknown field is named by its own path, one error each
    .flatMap((error) =>
      error.keyword === 'additionalProperties'
        ? unknownFields(error.params).map((key) => ({
            path: `${at}${error.instancePath}/${pointer(key)}`,
            message: 'unknown field',
          }))
        : [{ path: at + error.instancePath, message: describe(error.keyword, error.message, error.params) }],
    )
    // the branches of a union can fail alike: a problem is told once
    .filter((error, i, all) => all.findIndex((o) => o.path === error.path && o.message === error.message) === i);
  throw new ValidationError(errors.length > 0 ? errors : [{ path: at, message: 'invalid input' }]);
}

function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode: it has half of a surrogate pair (e.g. \\ud800)';
  return undefined;
}

/** A key as a JSON pointer segment, with control characters and surrogates shown as \\uXXXX escapes. */
const pointer = (key: string): string =>
  key
    .replace(/~/g, '~0')
    .replace(/\//g, '~1')
    .replace(/[^ -\ud7ff\ue000-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** No input nests deeper than a few levels; past this, a value is refused before any recursive check sees it. */
const MAX_DEPTH = 32;

/**
 * Refuses NUL characters (PostgreSQL text cannot hold them) and lone surrogates (stored as U+FFFD, or refused
 * inside JSON) in every string and key of a value, naming each place, and values nested deeper than any input
 * is. A body nested ten thousand deep is refused here, not by a stack overflow later: the first check recurses at
 * most MAX_DEPTH levels, and the walk that names the places is iterative.
 */
export function refuseUnstorableText(value: unknown, at = ''): void {
  // nearly every value is fine: that is found without allocating per key, and the walk below names the places
  if (storable(value, 0)) return;
  const errors: FieldError[] = [];
  // a place is named only when something there is refused: its path is built then, from its parents (three regular
  // expressions per key, for every key of every request, were a fiftieth of a reservation's server CPU)
  const pathOf = (place: Place): string =>
    place.parent === undefined
      ? at
      : `${pathOf(place.parent)}/${typeof place.key === 'number' ? place.key : pointer(place.key)}`;
  const pending: Place[] = [{ item: value, parent: undefined, key: 0, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { item, depth } = next;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem) errors.push({ path: pathOf(next), message: problem });
    } else if (typeof item === 'object' && item !== null && depth >= MAX_DEPTH) {
      errors.push({ path: pathOf(next), message: `nested too deep (more than ${MAX_DEPTH} levels)` });
    } else if (Array.isArray(item)) {
      const parent = next;
      item.forEach((element, key) => pending.push({ item: element, parent, key, depth: depth + 1 }));
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, element] of Object.entries(item as Record<string, unknown>)) {
        const place: Place = { item: element, parent: next, key, depth: depth + 1 };
        const problem = textProblem(key);
        if (problem) errors.push({ path: pathOf(place), message: `the name of this field ${problem}` });
        pending.push(place);
      }
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
}

/**
 * Whether every string and key of a value is storable and it nests no deeper than MAX_DEPTH: the check of
 * refuseUnstorableText without naming anything (a Place and an entries array per key were 4% of what a checkout
 * allocated). Recursive, with the depth bounded, so a body nested ten thousand deep stops at MAX_DEPTH.
 */
function storable(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return textProblem(value) === undefined;
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const element of value as unknown[]) if (!storable(element, depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (textProblem(key) !== undefined || !storable(record[key], depth + 1)) return false;
  }
  return true;
}

/** A value refuseUnstorableText walks through, and where it is: its parent and its key or index there. */
interface Place {
  item: unknown;
  parent: Place | undefined;
  key: string | number;
  depth: number;
}

/**
 * The one reading of a numeric id (a path segment, a filter, or a number from a library caller): anything but
 * plain digits of an id names nothing, so it is not found. `0x10`, `1e3`, ` 1` and `+1` are not ids.
 */
export function numericId(value: string | number, resource: string): number {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value;
  if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new NotFoundError(resource, String(value));
  return Number(text);
}

/** Formats whose stock message ('must match format "date"') does not say what to send. */
const FORMATS: Record<string, string> = {
  date: 'a calendar date, YYYY-MM-DD',
  'calendar-date': 'a calendar date, YYYY-MM-DD, from 1970 to 9999',
  'http-url': 'an http(s) URL with a host (and a port, if any, up to 65535)',
  'smtp-url': 'an smtp(s) URL with a host (and a port, if any, up to 65535)',
  timestamp: 'an ISO 8601 timestamp (2026-01-15T10:00:00Z) or date (2026-01-15), from 1970 to 9999',
};

/** The keys an additionalProperties error names. */
const unknownFields = (params: unknown): string[] =>
  typeof params === 'object' && params !== null && 'additionalProperties' in params
    ? [params.additionalProperties].flat().map(String)
    : [];

/** An error a union adds beside its branches': the union's own, and its null branch's. */
const unionNoise = (error: { keyword: string; params: unknown }): boolean =>
  error.keyword === 'anyOf' ||
  (error.keyword === 'type' &&
    typeof error.params === 'object' &&
    error.params !== null &&
    'type' in error.params &&
    error.params.type === 'null');

/** What a pattern of this file's schemas stands for, in words (their descriptions), for an input that misses it. */
const PATTERN_WORDS: ReadonlyMap<string, string> = new Map(
  (
    [
      Name,
      Sku,
      WarehouseCode,
      BinCode,
      NumericId,
      IdCursor,
      PageLimit,
      CategoryPath,
      Tag,
      Region,
      EmailAddress,
      MailFrom,
      MailTo,
      ShipTo,
      Actor,
      KeyName,
    ] as object[]
  ).flatMap((schema) =>
    'pattern' in schema &&
    typeof schema.pattern === 'string' &&
    'description' in schema &&
    typeof schema.description === 'string'
      ? [[schema.pattern, schema.description] as const]
      : [],
  ),
);

function describe(keyword: string, message: string, params: unknown): string {
  if (keyword === 'not') return 'must not be 0';
  if (
    keyword === 'pattern' &&
    typeof params === 'object' &&
    params !== null &&
    'pattern' in params &&
    typeof params.pattern === 'string'
  ) {
    const words = PATTERN_WORDS.get(params.pattern);
    if (words) return `must be ${words}`;
  }
  if (
    keyword === 'format' &&
    typeof params === 'object' &&
    params !== null &&
    'format' in params &&
    typeof params.format === 'string'
  ) {
    const wanted = FORMATS[params.format];
    if (wanted) return `must be ${wanted}`;
  }
  if (
    keyword === 'enum' &&
    typeof params === 'object' &&
    params !== null &&
    'allowedValues' in params &&
    Array.isArray(params.allowedValues)
  ) {
    return `must be one of: ${params.allowedValues.join(', ')}`;
  }
  return message;
}
