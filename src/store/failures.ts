import {
  KitHoldsNoStockError,
  MoneyOverflowError,
  QuantityLimitError,
  StockroomError,
  UnavailableError,
} from '../domain/errors.js';
import { MAX_AMOUNT } from '../domain/money.js';
import { isContention, isUnavailable, sqlState } from './db.js';

/** Seconds a client is asked to wait (Retry-After) before trying a 503 again. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The StockroomError a thrown thing amounts to: itself, or what a database failure means to the caller (a sum
 * past an integer column, an unreachable or contended database). Undefined for anything else: a bug, or one of
 * Fastify's own refusals.
 */
export function asStockroomError(error: unknown): StockroomError | undefined {
  if (error instanceof StockroomError) return error;
  // numeric_value_out_of_range: sums of many in-range operations can pass an integer column
  if (sqlState(error) === '22003') return new QuantityLimitError();
  // check_violation of migration 0030: units put on a kit by a path that does not know of kits
  if (
    sqlState(error) === '23514' &&
    (error as { constraint?: unknown }).constraint === 'stock_levels_kit_holds_nothing'
  )
    return new KitHoldsNoStockError();
  // the cost trigger (migration 0036): a ledger row whose value would pass what a JavaScript number holds exactly
  if (
    sqlState(error) === '23514' &&
    (error as { constraint?: unknown }).constraint === 'stock_movements_value_within_safe_integers'
  )
    return new MoneyOverflowError("the stock level's value after this change", MAX_AMOUNT);
  // the failure underneath stays the cause: its stack and SQLSTATE are what a log of the outage needs
  if (isUnavailable(error))
    return new UnavailableError('the database cannot be reached; try again', RETRY_AFTER_SECONDS, { cause: error });
  // the transaction was already run again several times: the contention passes, the request was fine
  if (isContention(error))
    return new UnavailableError('the database is busy with conflicting changes; try again', RETRY_AFTER_SECONDS, {
      cause: error,
    });
  return undefined;
}
