/**
 * Every error a caller can act on, each with a stable code and HTTP status. They are created here only;
 * the HTTP layer turns them into problem documents and the CLI into a message and an exit code, in one
 * place each. Anything else that escapes is a bug (500).
 */
export abstract class StockroomError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra members of the problem document (snake_case, JSON-safe). */
  get extra(): Record<string, unknown> {
    return {};
  }
  /** When set, the caller may try again after this many seconds (HTTP: a Retry-After header). */
  readonly retryAfterSeconds?: number;
}

export interface FieldError {
  path: string;
  message: string;
}

export class ValidationError extends StockroomError {
  readonly code = 'validation_failed';
  readonly status = 400;
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '));
  }
  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
  override get extra(): Record<string, unknown> {
    return { errors: this.errors };
  }
}

export class UnknownSkuError extends StockroomError {
  readonly code = 'unknown_sku';
  readonly status = 404;
  constructor(readonly skus: string[]) {
    super(`unknown SKU${skus.length > 1 ? 's' : ''}: ${skus.join(', ')}`);
  }
  override get extra(): Record<string, unknown> {
    return { skus: this.skus };
  }
}

export class NotFoundError extends StockroomError {
  readonly code = 'not_found';
  readonly status = 404;
  constructor(
    readonly resource: string,
    readonly key: string,
  ) {
    super(`${resource} not found: ${key}`);
  }
  override get extra(): Record<string, unknown> {
    return { resource: this.resource, key: this.key };
  }
}

export class AlreadyExistsError extends StockroomError {
  readonly code = 'already_exists';
  readonly status = 409;
  constructor(
    readonly resource: string,
    readonly key: string,
  ) {
    super(`${resource} already exists: ${key}`);
  }
  override get extra(): Record<string, unknown> {
    return { resource: this.resource, key: this.key };
  }
}

export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
  warehouse?: string;
  /** why nothing could be had, when it is not plain shortage (no warehouse serves the destination) */
  reason?: string;
}

export class InsufficientStockError extends StockroomError {
  readonly code = 'insufficient_stock';
  readonly status = 409;
  constructor(readonly lines: ShortLine[]) {
    super(
      'insufficient stock: ' +
        lines
          .map(
            (l) =>
              `${l.sku}${l.warehouse ? ` at ${l.warehouse}` : ''} requested ${l.requested}, available ${l.available}${l.reason ? ` (${l.reason})` : ''}`,
          )
          .join('; '),
    );
  }
  override get extra(): Record<string, unknown> {
    return { lines: this.lines };
  }
}

export class InvalidTransitionError extends StockroomError {
  readonly code = 'invalid_transition';
  readonly status = 409;
  constructor(
    readonly from: string,
    readonly action: string,
    /** what is in the wrong state: a reservation, a purchase order, a delivery */
    subject = 'reservation',
  ) {
    super(`cannot ${action} a ${subject} that is ${from.replace('_', ' ').toLowerCase()}`);
  }
  override get extra(): Record<string, unknown> {
    return { from: this.from, action: this.action };
  }
}

export interface StaleLine {
  sku: string;
  warehouse: string;
  expected_on_hand: number;
  on_hand: number;
}

export class StaleQuantityError extends StockroomError {
  readonly code = 'stale_quantity';
  readonly status = 409;
  constructor(readonly lines: StaleLine[]) {
    super(
      'stock moved on since it was read: ' +
        lines
          .map((l) => `${l.sku} at ${l.warehouse} expected on hand ${l.expected_on_hand}, now ${l.on_hand}`)
          .join('; '),
    );
  }
  override get extra(): Record<string, unknown> {
    return { lines: this.lines };
  }
}

/**
 * The largest number a stock column holds (PostgreSQL integer). One operation moves at most MAX_QTY units, but
 * many of them can add up past this; the change that would is refused whole.
 */
export const MAX_STOCK_NUMBER = 2_147_483_647;

export class QuantityLimitError extends StockroomError {
  readonly code = 'quantity_limit';
  readonly status = 409;
  constructor() {
    super(
      `this would take a stock number (on hand, reserved, a bin, a total) past ${MAX_STOCK_NUMBER}, the most one can hold; nothing was changed`,
    );
  }
  override get extra(): Record<string, unknown> {
    return { limit: MAX_STOCK_NUMBER };
  }
}

export class IdempotencyConflictError extends StockroomError {
  readonly code = 'idempotency_conflict';
  readonly status = 422;
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} was already used with a different request`);
  }
}

/** A refusal that passes by itself: the caller is told how long to wait before trying again (Retry-After). */
export abstract class RetryLaterError extends StockroomError {
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The database cannot be reached, or is busy past the transaction's retries: the request was fine. */
export class UnavailableError extends RetryLaterError {
  readonly code = 'unavailable';
  readonly status = 503;
}

/** One client holds as many of a thing (open streams) as it may; it can try again once it lets one go. */
export class TooManyRequestsError extends RetryLaterError {
  readonly code = 'too_many_requests';
  readonly status = 429;
}

/** The server holds as many of a thing (open streams, running imports) as it may in all: try again later. */
export class AtCapacityError extends RetryLaterError {
  readonly code = 'at_capacity';
  readonly status = 503;
}

/** Input larger than a configured bound; refused before all of it is read. */
export class PayloadTooLargeError extends StockroomError {
  readonly code = 'payload_too_large';
  readonly status = 413;
  constructor(readonly limitBytes: number) {
    super(`the body is larger than ${limitBytes} bytes`);
  }
  override get extra(): Record<string, unknown> {
    return { limit_bytes: this.limitBytes };
  }
}

export class InvalidSignatureError extends StockroomError {
  readonly code = 'invalid_signature';
  readonly status = 401;
}

/** An external system we called did not answer as agreed (pull sync). */
export class UpstreamError extends StockroomError {
  readonly code = 'upstream_failed';
  readonly status = 502;
}
