/** A result set: rows typed by the caller, and how many rows the statement touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterized statement ($1, $2, ...). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export const DRIVERS = ['pglite', 'postgres'] as const;
export type Driver = (typeof DRIVERS)[number];

/**
 * The whole database abstraction. Both drivers run the same SQL; which one is behind it is a deployment
 * choice, never a branch in the services.
 */
export interface Db extends Queryable {
  readonly driver: Driver;
  /**
   * Runs fn in one READ COMMITTED transaction: committed if fn resolves, rolled back if it throws. A
   * transaction that loses a deadlock or a serialization check is run again from the start, so fn must not
   * have effects outside the database.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls onNotice with the payload of every NOTIFY on channel, from any connection, once the notifying
   * transaction has committed. onGap is called when notices may have been missed (the listening connection was
   * lost and is back). Resolves once listening; the function it gives stops.
   */
  listen(channel: string, onNotice: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
  /** Closes the connection(s), listeners included; the Db is unusable afterwards. */
  close(): Promise<void>;
}

/** int8 and numeric (sum(), count()) arrive as JS numbers: quantities and ids stay far below 2^53. */
export const NUMBER_TYPE_OIDS = [20, 1700] as const;
export const parseNumber = (value: string): number => Number(value);

/** SQLSTATEs that mean "run the transaction again", not "the request is wrong". */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);
export const MAX_TRANSACTION_ATTEMPTS = 5;

export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
