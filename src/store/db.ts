import { MoneyOverflowError, UnavailableError } from '../domain/errors.js';
import { MAX_AMOUNT } from '../domain/money.js';

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

/**
 * The statements a transaction has sent, for its driver to wait for before it commits (see Db.transaction). The
 * first that failed is the transaction's failure: PostgreSQL has aborted it, so committing could only roll back.
 * Once the driver is about to commit it is closed: a statement sent after that (by an async chain the transaction's
 * function left running) would run after the COMMIT, outside the transaction, so it is refused instead.
 */
export class SentStatements {
  private readonly answered: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;
  private closed = false;

  /**
   * Sends a statement through `send` and counts it in; returns it as it is (a caller that never awaits it leaves no
   * unhandled rejection). After close, sends nothing and rejects.
   */
  track<T>(send: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new Error('a statement was sent after its transaction had ended: it was not run'));
    const statement = send();
    this.answered.push(
      statement.then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      ),
    );
    return statement;
  }

  /** Takes no statement from now on; resolves once every one sent is answered, rejects with the first failure. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.answered);
    if (this.failure) throw this.failure.error;
  }
}

/** The databases stockroom runs on: embedded PostgreSQL in the process, or a PostgreSQL server. */
export const DRIVERS = ['pglite', 'postgres'] as const;
/** Which database a Db is: a deployment choice, read where behaviour must differ (group commit defaults). */
export type Driver = (typeof DRIVERS)[number];

/** How a caller of Db.transaction learns the outcome of a COMMIT whose answer was lost. */
export interface TransactionOptions {
  /**
   * Whether the last run of fn is committed: by what it wrote that nothing else writes (a new row's key). Only a
   * true answer counts. On a PostgreSQL server, given this, the transaction's id is learnt with its BEGIN, and a
   * false answer is followed by asking the server by that id (ending a backend that still holds it open): known
   * rolled back, fn runs again (as after a lost deadlock: fn must be able to); when that cannot be told either,
   * the transaction fails with the connection's error.
   */
  committed?: (db: Queryable) => Promise<boolean>;
}

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
   *
   * Statements are run in the order they are sent, each with a snapshot taken when it starts. fn may send several
   * before waiting for any (a pipeline: on a server they go out together, one round trip), and may leave its last
   * ones unawaited: they are part of the transaction, which commits once every one is answered (on a server the
   * COMMIT goes out right behind them). If any statement failed, the transaction rolls back and throws the first
   * failure, whether fn saw it or not.
   *
   * A connection lost after COMMIT was sent leaves it unknown whether the transaction is in. With `committed`, a
   * server driver asks it on another connection; if it answers true, the transaction resolves with fn's result, else
   * it throws as without it (`unavailable`: the caller cannot know).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls onNotice with the payload of every NOTIFY on channel, from any connection, once the notifying
   * transaction has committed. onGap is called when notices may have been missed (the listening connection was
   * lost and is back). Resolves once listening; the function it gives stops.
   */
  listen(channel: string, onNotice: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
  /** Closes the connection(s), listeners included; the Db is unusable afterwards. */
  close(): Promise<void>;
  /** How busy its connections are now (a metrics gauge); absent on a Db that cannot tell. */
  poolUsage?(): PoolUsage;
  /**
   * Where the driver says what an operator must know of its servers from now on (a multi-host URL's primary
   * lost, or found on another host); absent on a Db that has nothing to say.
   */
  logTo?(log: DbLog): void;
}

/** What a Db says to an operator: a server's logger. */
export interface DbLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Connections of a Db now: the most it opens, how many run a query or transaction, how many callers wait for one. */
export interface PoolUsage {
  size: number;
  inUse: number;
  waiting: number;
}

/** int8 and numeric (sum(), count()) arrive as JS numbers: quantities and ids stay far below 2^53. */
export const NUMBER_TYPE_OIDS = [20, 1700] as const;
/**
 * The parser both drivers install for those types. Only money grows past 2^53 - 1 (a ledger value an older version
 * wrote, a sum of values), and no number holds it exactly: the query is refused rather than answered rounded. The
 * drivers fail the query with what a parser throws.
 */
export const parseNumber = (value: string): number => {
  const number = Number(value);
  if (Number.isSafeInteger(number) || !Number.isInteger(number)) return number;
  throw MoneyOverflowError.stored(`an amount read from the database (${value})`, MAX_AMOUNT);
};

/** SQLSTATEs that mean "run the transaction again", not "the request is wrong". */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);
/** Runs of one transaction before a lost deadlock or serialization check is given up as contention. */
export const MAX_TRANSACTION_ATTEMPTS = 5;

/** The SQLSTATE (or Node error code) an error carries, whichever driver threw it. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/**
 * SQLSTATE classes that mean the database cannot serve now, not that the request is wrong: connection
 * exceptions (08), the server shutting down, crashed or starting (57P01-57P03), out of resources such as
 * connections (53), a server that refuses writes (25006: a standby, or a primary being failed over).
 */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[1-3]|53|25006$)/;
/** Socket errors on the way to the server; ENOENT is a Unix socket that is not there (the server is down). */
const NETWORK_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
/** node-postgres reports a lost or never-made connection, and a client-side connect timeout, only in words. */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|is not queryable|timeout expired|Query read timeout/;

/** Whether an error means "the database cannot be reached right now": the caller may try again later. */
export function isUnavailable(error: unknown): boolean {
  // already said in the domain's words (a use case maps what a failure means before it reaches its caller)
  if (error instanceof UnavailableError) return true;
  const state = sqlState(error);
  if (state !== undefined) {
    if (UNAVAILABLE_SQLSTATES.test(state) || NETWORK_ERRORS.has(state)) return true;
    if (state === 'ENOENT')
      return typeof error === 'object' && error !== null && 'syscall' in error && error.syscall === 'connect';
  }
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/** A transaction that still lost a deadlock or a serialization check after every attempt: busy, not wrong. */
export const isContention = (error: unknown): boolean => {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
};
