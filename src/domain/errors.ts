/**
 * Every error code a caller can see, with its HTTP status and the title of its problem document: one entry per
 * code, as Fastify's `createError(code, message, statusCode)` keeps them together. Adding a code means adding its
 * entry here (and, when the domain raises it, a class below that names the code). The HTTP layer answers with the
 * entry's status and title; the CLI exits with the code the status maps to (src/cli/exit-codes.ts).
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  unauthorized: { status: 401, title: 'An API key is required' },
  invalid_signature: { status: 401, title: 'The signature is not valid' },
  forbidden: { status: 403, title: 'The API key may not do this' },
  unknown_sku: { status: 404, title: 'Unknown SKU' },
  not_found: { status: 404, title: 'Not found' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  already_exists: { status: 409, title: 'Already exists' },
  insufficient_stock: { status: 409, title: 'Not enough stock' },
  invalid_transition: { status: 409, title: 'Not possible in this state' },
  stale_quantity: { status: 409, title: 'The stock level moved on' },
  quantity_limit: { status: 409, title: 'A stock number would pass its limit' },
  in_use: { status: 409, title: 'Still holds stock or open reservations' },
  archived: { status: 409, title: 'Archived' },
  no_room: { status: 409, title: 'No room for the units' },
  kit_holds_no_stock: { status: 409, title: 'A kit holds no stock of its own' },
  not_empty: { status: 409, title: 'The target database is not empty' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'A part of the URL is too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  idempotency_conflict: { status: 422, title: 'Idempotency key reused with a different request' },
  currency_mismatch: { status: 422, title: "Not in the store's currency" },
  money_overflow: { status: 422, title: 'An amount of money is too large' },
  too_many_requests: { status: 429, title: 'Too many at once from this client' },
  rate_limited: { status: 429, title: 'Too many requests from this client for now' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  internal_error: { status: 500, title: 'Internal error' },
  // failures of the process's own setting, met only by the CLI: the operator has to act, so no 503
  listen_failed: { status: 500, title: 'The server cannot listen on its address' },
  schema_behind: { status: 500, title: 'The database needs migrations' },
  data_dir_in_use: { status: 500, title: 'The embedded database is in use by another process' },
  data_dir_unusable: { status: 500, title: 'The embedded database cannot be opened where it is' },
  secrets_unreadable: { status: 500, title: 'The server cannot open its stored secrets' },
  upstream_failed: { status: 502, title: 'An upstream system did not answer as agreed' },
  unavailable: { status: 503, title: 'Unavailable for the moment' },
  at_capacity: { status: 503, title: 'The server is at capacity' },
} as const satisfies Record<string, { status: number; title: string }>;

/** The stable code of an error, as clients see it in a problem document (`code`) and the CLI prints it. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Every error a caller can act on, each with a stable code whose entry in ERROR_CODES gives its HTTP status and
 * title. They are created here only; the HTTP layer turns them into problem documents and the CLI into a message
 * and an exit code, in one place each. Anything else that escapes is a bug (500).
 *
 * One is an answer, not a bug, so it carries no stack trace of its own: its code and message say what happened
 * (capturing a stack cost about 4 µs an error, and a flash sale refuses four buyers of five). One made from a
 * failure underneath (an unreachable database) keeps that failure, and its stack, as its `cause`.
 */
export abstract class StockroomError extends Error {
  abstract readonly code: ErrorCode;
  /** When set, the caller may try again after this many seconds (HTTP: a Retry-After header). */
  readonly retryAfterSeconds?: number;

  /** @param extra members the problem document adds (snake_case, JSON-safe) */
  constructor(
    message: string,
    readonly extra: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    // no try/finally: Error's constructor does not throw, and super() may not sit in a block here
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = stackTraceLimit;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** The problem document's title for this error's code: the same for every error with it. */
  get title(): string {
    return ERROR_CODES[this.code].title;
  }
}

/** One place in the input that is wrong, and why. */
export interface FieldError {
  path: string;
  message: string;
}

/** Input that breaks a schema or a rule about its form; nothing was changed. */
export class ValidationError extends StockroomError {
  readonly code = 'validation_failed';
  constructor(readonly errors: FieldError[]) {
    super(errors.map((error) => (error.path ? `${error.path}: ${error.message}` : error.message)).join('; '), {
      errors,
    });
  }

  /** A refusal of one place in the input. */
  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

/** SKUs the catalog does not know. */
export class UnknownSkuError extends StockroomError {
  readonly code = 'unknown_sku';
  constructor(readonly skus: string[]) {
    super(`unknown SKU${skus.length > 1 ? 's' : ''}: ${skus.join(', ')}`, { skus });
  }
}

/** A refusal about one thing named by its key (a reservation, a warehouse): the problem document names both. */
export abstract class KeyedError extends StockroomError {
  /** @param hint what to do about it: in the message (the problem's detail) only, so `key` stays the bare key */
  constructor(
    readonly resource: string,
    readonly key: string,
    state: string,
    hint?: string,
  ) {
    super(`${resource} ${state}: ${key}${hint === undefined ? '' : ` (${hint})`}`, { resource, key });
  }
}

/** A thing looked up by its key (a reservation, a warehouse, a purchase order) that is not there. */
export class NotFoundError extends KeyedError {
  readonly code = 'not_found';
  constructor(resource: string, key: string, hint?: string) {
    super(resource, key, 'not found', hint);
  }
}

/** A thing created under a key that another already has. */
export class AlreadyExistsError extends KeyedError {
  readonly code = 'already_exists';
  constructor(resource: string, key: string, hint?: string) {
    super(resource, key, 'already exists', hint);
  }
}

/**
 * An order_ref that already has an open reservation (one reservation per order): reserving again is refused, or
 * with `replace` only a pending one is replaced. The problem document names the open reservation and its status.
 */
export class OpenReservationExistsError extends StockroomError {
  readonly code = 'already_exists';
  constructor(
    readonly orderRef: string,
    readonly reservationId: string,
    readonly reservationStatus: string,
    hint: string,
  ) {
    super(
      `reservation already exists: order ${orderRef} has open reservation ${reservationId} (${reservationStatus.replace('_', ' ')}); ${hint}`,
      { resource: 'reservation', key: orderRef, reservation_id: reservationId, reservation_status: reservationStatus },
    );
  }
}

/** What keeps a warehouse or a variant from being archived: units on hand, units held, open reservations. */
export interface StockInUse {
  on_hand: number;
  reserved: number;
  open_reservations: number;
  /** open orders (DRAFT to PARTIAL) with units still to come into the warehouse, or of the variant */
  open_purchase_orders: number;
}

/**
 * A warehouse or variant that cannot be archived while it holds stock or open reservations, or has units on open
 * purchase orders (which could then never be received, yet would count as incoming).
 */
export class InUseError extends StockroomError {
  readonly code = 'in_use';
  constructor(
    readonly resource: 'warehouse' | 'variant',
    readonly key: string,
    readonly holding: StockInUse,
  ) {
    super(
      `${resource} ${key} still holds stock or has stock to come (on hand ${holding.on_hand}, reserved ${holding.reserved}, ` +
        `${holding.open_reservations} open reservation(s), ${holding.open_purchase_orders} open purchase order(s))`,
      { resource, key, ...holding },
    );
  }
}

/** A write into an archived warehouse or of an archived variant (receiving, transferring in, a return). */
export class ArchivedError extends KeyedError {
  readonly code = 'archived';
  constructor(resource: 'warehouse' | 'variant', key: string) {
    super(resource, key, 'is archived', 'unarchive it first');
  }
}

/**
 * Units received into a location without room for them (by its weight or volume limit, or because it is
 * inactive), or into a warehouse with room for them nowhere; nothing was changed. `force: true` puts them away
 * all the same.
 */
export class NoRoomError extends StockroomError {
  readonly code = 'no_room';
  constructor(room: {
    sku: string;
    warehouse: string;
    /** the location asked for; null when put-away found room for them nowhere */
    location: string | null;
    requested: number;
    /** how many units there is room for */
    room: number;
    /** what decided it: a limit of the location, `inactive`, or `locations` when every one was tried */
    limit: 'weight' | 'volume' | 'inactive' | 'locations';
    why: string;
  }) {
    const { why, ...extra } = room;
    const where = room.location === null ? `anywhere in ${room.warehouse}` : `in ${room.warehouse}/${room.location}`;
    super(
      `no room for ${room.requested} of ${room.sku} ${where}: ${why}; force: true puts them there all the same`,
      extra,
    );
  }
}

/**
 * Units put on a kit (a receipt, a count, a sync, a return), or a variant made a kit while it holds stock: a kit's
 * units are its components', held and shipped through them.
 */
export class KitHoldsNoStockError extends StockroomError {
  readonly code = 'kit_holds_no_stock';
  /** @param message for a person; by default, about units put on the kit */
  constructor(
    readonly sku?: string,
    message?: string,
    extra: Record<string, unknown> = {},
  ) {
    super(
      message ??
        (sku === undefined
          ? 'a kit holds no stock of its own: receive, count or move its components instead'
          : `${sku} is a kit and holds no stock of its own: receive, count or move its components instead`),
      sku === undefined ? extra : { sku, ...extra },
    );
  }

  /** A kit named on a purchase order: the order could never be received, yet would count as incoming. */
  static onOrder(sku: string): KitHoldsNoStockError {
    return new KitHoldsNoStockError(
      sku,
      `${sku} is a kit and holds no stock of its own, so it is not ordered: order its components instead`,
    );
  }

  /** A variant made a kit while open purchase orders have units of it to come, which then could never be received. */
  static onOpenOrders(sku: string, orders: number): KitHoldsNoStockError {
    return new KitHoldsNoStockError(
      sku,
      `${sku} has units to come on ${orders} open purchase order(s), and a kit holds no stock of its own: ` +
        'receive or cancel them first',
      { open_purchase_orders: orders },
    );
  }
}

/** A refusal about some lines (of an order, of a change): the message names each, the problem document lists them. */
export abstract class LinesError<Line> extends StockroomError {
  constructor(
    readonly lines: Line[],
    what: string,
    describe: (line: Line) => string,
  ) {
    super(`${what}: ${lines.map(describe).join('; ')}`, { lines });
  }
}

/** One line of an order that cannot be had, with what there is. */
export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
  warehouse?: string;
  /** why nothing could be had, when it is not plain shortage (no warehouse serves the destination) */
  reason?: string;
}

/** An order or change that needs more stock than there is; nothing was held or changed. */
export class InsufficientStockError extends LinesError<ShortLine> {
  readonly code = 'insufficient_stock';
  constructor(lines: ShortLine[]) {
    super(lines, 'insufficient stock', shortLineText);
  }
}

/** `SKU at WAREHOUSE requested N, available M (why)`. */
const shortLineText = (line: ShortLine): string =>
  `${line.sku}${line.warehouse ? ` at ${line.warehouse}` : ''} requested ${line.requested}, available ${line.available}${line.reason ? ` (${line.reason})` : ''}`;

/** An action its subject's state does not allow (committing a released reservation, receiving a draft order). */
export class InvalidTransitionError extends StockroomError {
  readonly code = 'invalid_transition';
  constructor(
    readonly from: string,
    readonly action: string,
    /** what is in the wrong state: a reservation, a purchase order, a delivery */
    subject = 'reservation',
  ) {
    super(`cannot ${action} a ${subject} that is ${from.replace('_', ' ').toLowerCase()}`, { from, action });
  }
}

/** A level whose on-hand number is not the one the caller read before asking for a change. */
export interface StaleLine {
  sku: string;
  warehouse: string;
  expected_on_hand: number;
  on_hand: number;
}

/** A change made against stock numbers that have moved on since they were read (optimistic concurrency). */
export class StaleQuantityError extends LinesError<StaleLine> {
  readonly code = 'stale_quantity';
  constructor(lines: StaleLine[]) {
    super(lines, 'stock moved on since it was read', staleLineText);
  }
}

/** `SKU at WAREHOUSE expected on hand N, now M`. */
const staleLineText = (line: StaleLine): string =>
  `${line.sku} at ${line.warehouse} expected on hand ${line.expected_on_hand}, now ${line.on_hand}`;

/**
 * The largest number a stock column holds (PostgreSQL integer). One operation moves at most MAX_QTY units, but
 * many of them can add up past this; the change that would is refused whole.
 */
export const MAX_STOCK_NUMBER = 2_147_483_647;

/** A change that would take a stock number past what its column holds; refused whole. */
export class QuantityLimitError extends StockroomError {
  readonly code = 'quantity_limit';
  constructor() {
    super(
      `this would take a stock number (on hand, reserved, a bin, a total) past ${MAX_STOCK_NUMBER}, the most one can hold; nothing was changed`,
      { limit: MAX_STOCK_NUMBER },
    );
  }
}

/** An amount in another currency than the store keeps its costs in: no conversion is made, so it is refused. */
export class CurrencyMismatchError extends StockroomError {
  readonly code = 'currency_mismatch';
  constructor(
    readonly currency: string,
    readonly storeCurrency: string,
    what: string,
  ) {
    super(`${what} is in ${currency}, the store keeps its costs in ${storeCurrency}; nothing was changed`, {
      currency,
      store_currency: storeCurrency,
    });
  }
}

/** An amount of money (or a product of one) past what minor units can hold exactly; refused, never rounded. */
export class MoneyOverflowError extends StockroomError {
  readonly code = 'money_overflow';
  constructor(
    what: string,
    readonly limit: number,
    stored = false,
  ) {
    super(
      stored
        ? `${what} is past ${limit} minor units, the most an amount may hold: it is refused rather than answered rounded`
        : `${what} would pass ${limit} minor units, the most an amount may hold; nothing was changed`,
      { limit },
    );
  }

  /** An amount already stored past the limit, met by a read: nothing was asked to change. */
  static stored(what: string, limit: number): MoneyOverflowError {
    return new MoneyOverflowError(what, limit, true);
  }
}

/** An idempotency key sent again with another request than the one it was first used for. */
export class IdempotencyConflictError extends StockroomError {
  readonly code = 'idempotency_conflict';
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} was already used with a different request`);
  }
}

/** A refusal that passes by itself: the caller is told how long to wait before trying again (Retry-After). */
export abstract class RetryLaterError extends StockroomError {
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, {}, options);
  }
}

/**
 * The database cannot be reached, or is busy past the transaction's retries, or the server is shutting down:
 * the request was fine.
 */
export class UnavailableError extends RetryLaterError {
  readonly code = 'unavailable';
}

/** One client holds as many of a thing (open streams) as it may; it can try again once it lets one go. */
export class TooManyRequestsError extends RetryLaterError {
  readonly code = 'too_many_requests';
}

/** One client sent as many requests to a rate-limited route as its window allows: it may go on once the window has passed. */
export class RateLimitedError extends RetryLaterError {
  readonly code = 'rate_limited';
}

/** The server holds as many of a thing (open streams, running imports) as it may in all: try again later. */
export class AtCapacityError extends RetryLaterError {
  readonly code = 'at_capacity';
}

/** Input larger than a configured bound; refused before all of it is read. */
export class PayloadTooLargeError extends StockroomError {
  readonly code = 'payload_too_large';
  constructor(readonly limitBytes: number) {
    super(`the body is larger than ${limitBytes} bytes`, { limit_bytes: limitBytes });
  }
}

/** A pushed sync whose signature is missing, wrong, too old or seen before. */
export class InvalidSignatureError extends StockroomError {
  readonly code = 'invalid_signature';
}

/**
 * The stored secrets (a channel's, a sync source's) cannot be opened with the key this server has: a setting to fix
 * (STOCKROOM_SECRET_KEY), not bad input, so a code of the process's own setting, as `schema_behind` is.
 */
export class SecretsUnreadableError extends StockroomError {
  readonly code = 'secrets_unreadable';
}

/** An external system we called did not answer as agreed (pull sync). */
export class UpstreamError extends StockroomError {
  readonly code = 'upstream_failed';
}

/** The port could not be had: said in one line, and the command ends (nothing was started yet). */
export class ListenError extends StockroomError {
  readonly code = 'listen_failed';
  constructor(host: string, port: number, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why =
      errno === 'EADDRINUSE'
        ? 'the address is in use by another process'
        : errno === 'EACCES'
          ? 'permission denied'
          : cause instanceof Error
            ? cause.message
            : String(cause);
    super(`cannot listen on ${host}:${port}: ${why}`, { host, port }, { cause });
  }
}

/** A PostgreSQL server whose schema lacks migrations this version needs: `stockroom migrate` applies them. */
export class SchemaBehindError extends StockroomError {
  readonly code = 'schema_behind';
  constructor(pending: string[]) {
    super(`the database needs migrations ${pending.join(', ')}: run \`stockroom migrate\` first`, { pending });
  }
}

/**
 * `stockroom db copy` into a database that already holds tables: a copy goes into an empty one only, so that
 * nothing there is overwritten or mixed with the store's rows.
 */
export class TargetNotEmptyError extends StockroomError {
  readonly code = 'not_empty';
  constructor(target: string, objects: string[]) {
    const shown = objects.slice(0, 5).join(', ') + (objects.length > 5 ? `, and ${objects.length - 5} more` : '');
    super(
      `${target} is not empty (it has ${shown}): db copy writes into an empty database, or one only migrated; ` +
        'create one (createdb, or a data directory that does not exist yet) and copy into that',
      { objects },
    );
  }
}

/** The embedded database's folder cannot be opened: a file stands there, or the file system refuses it. */
export class DataDirUnusableError extends StockroomError {
  readonly code = 'data_dir_unusable';
  constructor(dataDir: string, reason: string) {
    super(
      `the embedded database cannot be opened in ${dataDir}: ${reason} ` +
        '(STOCKROOM_DATA names the folder it lives in; a new one is made where none exists)',
      { data_dir: dataDir },
    );
  }
}

/** The embedded database is open in another live process: PGlite serves one process at a time. */
export class DataDirInUseError extends StockroomError {
  readonly code = 'data_dir_in_use';
  constructor(dataDir: string, pid: number) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid}: the embedded database serves one process at a time ` +
        '(stop the other one, or use PostgreSQL with DATABASE_URL for several)',
      { data_dir: dataDir, pid },
    );
  }
}
