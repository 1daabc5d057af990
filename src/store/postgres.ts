import { createHash } from 'node:crypto';
import pg from 'pg';
import { retryDelayMs } from '../domain/backoff.js';
import {
  MAX_TRANSACTION_ATTEMPTS,
  NUMBER_TYPE_OIDS,
  RETRYABLE_SQLSTATES,
  SentStatements,
  parseNumber,
  sqlState,
} from './db.js';
import type { Db, Queryable, QueryResult, TransactionOptions } from './db.js';
import { openServers } from './hosts.js';

const typeOverrides = new pg.TypeOverrides();
for (const oid of NUMBER_TYPE_OIDS) typeOverrides.setTypeParser(oid, parseNumber);

/** Statement names by SQL text: the same text always gets the same name, on every connection. */
const names = new Map<string, string>();
const nameOf = (sql: string): string => {
  let name = names.get(sql);
  if (name === undefined) {
    name = `sr_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    names.set(sql, name);
  }
  return name;
};

/** What runs a query: a pooled client in a transaction, or the pool of the server in use now. */
type QueryTarget = () => pg.Pool | pg.ClientBase;

function wrap(
  conn: QueryTarget,
  prepare: boolean,
  onError: (error: unknown) => void,
  sent?: SentStatements,
): Queryable {
  const run = async <R extends object>(sql: string, params: readonly unknown[]): Promise<QueryResult<R>> => {
    let result: pg.QueryResult<R & pg.QueryResultRow>;
    try {
      // a named statement is parsed and planned once per connection, not on every call; the SQL texts are a
      // fixed set (store/), so each connection holds a bounded number of them
      result = await conn().query<R & pg.QueryResultRow>(
        prepare
          ? { name: nameOf(sql), text: sql, values: params as unknown[] }
          : { text: sql, values: params as unknown[] },
      );
    } catch (error) {
      onError(error);
      throw error;
    }
    return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
  };
  return {
    // conn().query is called before the first await: statements sent one after the other without waiting go out
    // together (the pool's clients pipeline)
    query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      return sent ? sent.track(() => run<R>(sql, params)) : run<R>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      try {
        await conn().query(sql);
      } catch (error) {
        onError(error);
        throw error;
      }
    },
  };
}

/** How the pool to a PostgreSQL server behaves; every field has a default fit for one server process. */
export interface PostgresOptions {
  /** Pool size (default 10): the most connections queries and transactions hold; more callers wait for one. */
  max?: number;
  /**
   * How long a caller waits for a connection, new or pooled, before it is refused as unavailable (default
   * 5000 ms): during an outage callers are answered instead of queueing for ever.
   */
  connectTimeoutMs?: number;
  /**
   * How long a query may go unanswered before it is abandoned and its connection dropped (default 60000 ms; 0:
   * never): a server that froze or a network that silently lost its packets answers the caller 503 instead of
   * holding it until the client gives up.
   */
  queryTimeoutMs?: number;
  /**
   * Prepare statements on each connection (default true). Turn off behind a connection pooler in transaction
   * mode that does not keep prepared statements (PgBouncer before 1.21).
   */
  prepare?: boolean;
  /**
   * With several hosts in the URL: the longest wait between two searches for the primary that found none
   * (default 1000 ms; the first waits 100 ms, then doubling).
   */
  primaryRetryMs?: number;
  /** How the server sees these connections (pg_stat_activity), default APPLICATION_NAME; one in the URL wins. */
  applicationName?: string;
}

/** How the server sees this process's connections (pg_stat_activity); an application_name in the URL wins. */
export const APPLICATION_NAME = 'stockroom';

/** What node-postgres says when a query outlived query_timeout. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * Who a transaction is, learnt with its BEGIN when its caller can be asked about a lost COMMIT: its id, and the
 * backend running it. An id alone is not enough to end a backend by: a server that restarts after a crash may give
 * an id its WAL never kept to another transaction.
 */
const TRANSACTION_IDENTITY = `SELECT CASE WHEN NOT pg_is_in_recovery() THEN pg_current_xact_id()::text END AS xid,
                                     pg_backend_pid() AS pid`;
interface TransactionIdentity {
  /** none on a standby (it assigns no ids): the transaction's first write fails there as it would have */
  xid: string | null;
  pid: number;
}
/** A transaction's outcome by its id: committed, aborted or in progress (null: too old to tell). */
const TRANSACTION_STATUS = 'SELECT pg_xact_status($1::xid8) AS status';
/**
 * Ends the backend that still holds a transaction open (its client gone and the server not told: a cut network):
 * it rolls back, or finishes a COMMIT it is in, and exits; waits for that up to $3 ms. Its locks (a reserve group's
 * levels) would otherwise be held until the server's keepalives find the connection dead.
 */
const TRANSACTION_END = `SELECT pg_terminate_backend(pid, $3) AS ended
                           FROM pg_stat_activity WHERE pid = $2 AND backend_xid = $1::xid8::xid`;
const TRANSACTION_END_WAIT_MS = 5000;

/** Reconnect backoff of a listening connection: doubling from the first delay up to the cap, jittered. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_CAP_MS = 5000;

/** The server driver: node-postgres against any PostgreSQL 14+. */
export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<Db> {
  const connection = {
    connectionString,
    application_name: options.applicationName ?? APPLICATION_NAME,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    ...((options.queryTimeoutMs ?? 60_000) > 0 ? { query_timeout: options.queryTimeoutMs ?? 60_000 } : {}),
    // a server that vanished without closing the socket (a cut network) is noticed, not waited on for ever
    keepAlive: true,
  };
  // one server, or the primary among several (a multi-host URL), found again when it moves
  const servers = await openServers(connectionString, {
    connection,
    // pipelined: statements sent together go out at once and are answered in order, so a transaction's BEGIN,
    // and the locks a group takes one after the other, cost one round trip (and one wake-up of this process)
    pool: { max: options.max ?? 10, types: typeOverrides, pipeline: true },
    searchMaxMs: options.primaryRetryMs ?? 1000,
  });
  const noticed = (error: unknown): void => {
    servers.noticed(error);
  };
  const prepare = options.prepare ?? true;
  try {
    await servers.pool().query('SELECT 1');
  } catch (error) {
    await servers.end().catch(() => undefined);
    throw error;
  }

  /**
   * The outcome of a transaction whose connection was lost once fn had returned (its COMMIT sent, or about to be),
   * asked on a connection of its own: the pool's may all be held by transactions waiting for the lost one's locks.
   * In, if `committed` finds what it wrote. Otherwise its id says: aborted (nothing of it is in), or in progress on
   * a backend that is then ended and asked about again; committed counts only once `committed` finds it too (after
   * a crash the id may be another transaction's). Undefined when it cannot be told.
   */
  async function outcomeOf(
    committed: (db: Queryable) => Promise<boolean>,
    identity: TransactionIdentity | undefined,
  ): Promise<'committed' | 'aborted' | undefined> {
    let client: pg.Client | undefined;
    try {
      // inside the try: with no server found to ask (servers.connection throws), the outcome stays unknown
      client = new pg.Client(servers.connection());
      // a connection lost here fails the query in flight too, which is how this hears of it
      client.on('error', noticed);
      await client.connect();
      const connected = client;
      const db = wrap(() => connected, false, noticed);
      if (await committed(db)) return 'committed';
      if (identity?.xid == null) return undefined;
      for (let asked = 0; asked < 2; asked++) {
        const { rows } = await db.query<{ status: string | null }>(TRANSACTION_STATUS, [identity.xid]);
        const status = rows[0]?.status;
        if (status === 'aborted') return status;
        // it finished its COMMIT while it was asked about, or the id is another transaction's
        if (status === 'committed') return (await committed(db)) ? status : undefined;
        if (status !== 'in progress' || asked > 0) return undefined;
        await db.query(TRANSACTION_END, [identity.xid, identity.pid, TRANSACTION_END_WAIT_MS]);
      }
    } catch (error) {
      noticed(error);
    } finally {
      await client?.end().catch(() => undefined);
    }
    return undefined;
  }

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await servers.pool().connect();
      } catch (error) {
        noticed(error);
        throw error;
      }
      // A checked-out client has no listener of the pool's: a connection lost mid-transaction would be an
      // unhandled 'error' (a crash). The query in flight fails with it as well, which is how the caller hears.
      let lost: Error | undefined;
      const onError = (error: Error): void => {
        lost = error;
      };
      client.on('error', onError);
      // fn's result once fn has returned (its COMMIT goes out next): the answer if the transaction turns out to be in
      let done: { result: T } | undefined;
      // the connection was lost after fn returned: the outcome is asked once this connection is given back
      let unknown: { result: T; error: unknown } | undefined;
      let identity: Promise<TransactionIdentity | undefined> | undefined;
      try {
        // BEGIN goes out with fn's first statement, and COMMIT right behind its last (Db.transaction): a group of
        // reservations is two round trips, its locks and its write; if a statement before COMMIT failed, the
        // transaction is aborted and COMMIT answers ROLLBACK, so the failure is thrown and nothing is committed
        const sent = new SentStatements();
        void sent.track(() => client.query('BEGIN'));
        const tx = wrap(() => client, prepare, noticed, sent);
        // a caller that can be asked about a lost COMMIT has its transaction's id learnt with BEGIN (no round trip
        // of its own), so that a lost one can be told apart even when nothing of it is found
        if (options.committed !== undefined)
          identity = tx.query<TransactionIdentity>(TRANSACTION_IDENTITY).then(
            ({ rows }) => rows[0],
            () => undefined,
          );
        const result = await fn(tx);
        done = { result };
        const committed = sent.track(() => client.query('COMMIT'));
        await sent.close();
        if ((await committed).command !== 'COMMIT') throw new Error('the transaction was rolled back at COMMIT');
        return result;
      } catch (error) {
        noticed(error);
        // a query abandoned for taking too long leaves its connection busy with it: dropped, not rolled back
        if (error instanceof Error && error.message === QUERY_TIMEOUT_MESSAGE) lost ??= error;
        if (lost !== undefined && done !== undefined && options.committed !== undefined) {
          // lost after fn returned, its COMMIT on the way or about to be: the caller may know how to tell whether
          // the transaction is in, asked once this connection is given back (the question takes one of the pool's)
          unknown = { result: done.result, error };
        } else {
          if (lost === undefined)
            await client.query('ROLLBACK').catch((rollbackError: unknown) => {
              // a connection that cannot even roll back is not given to the next caller
              lost ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
            });
          const state = sqlState(error);
          if (
            lost !== undefined ||
            state === undefined ||
            !RETRYABLE_SQLSTATES.has(state) ||
            attempt >= MAX_TRANSACTION_ATTEMPTS
          )
            throw error;
        }
      } finally {
        client.off('error', onError);
        // with an error the pool closes and forgets the connection instead of handing it out again
        client.release(lost);
      }
      if (unknown !== undefined) {
        const outcome = options.committed && (await outcomeOf(options.committed, await identity));
        if (outcome === 'committed') return unknown.result;
        // known rolled back, nothing of it is in: run again from the start, as a lost deadlock is
        if (outcome !== 'aborted' || attempt >= MAX_TRANSACTION_ATTEMPTS) throw unknown.error;
      }
    }
  }

  const listeners = new Set<() => Promise<void>>();

  /**
   * A connection of its own per channel (a pooled one would be handed to others). When it is lost, one
   * reconnect loop (never more) tries again with backoff until the server is back, then reports the gap.
   */
  async function listen(
    channel: string,
    onNotice: (payload: string) => void,
    onGap?: () => void,
  ): Promise<() => Promise<void>> {
    const state = { stopped: false, reconnecting: false };
    // read through a function: it changes across awaits, which narrowing would not see
    const stopped = (): boolean => state.stopped;
    let client: pg.Client | undefined;
    let wakeUp: (() => void) | undefined;

    const open = async (): Promise<pg.Client> => {
      const listening = new pg.Client(servers.connection());
      listening.on('notification', (message) => {
        if (message.channel === channel) onNotice(message.payload ?? '');
      });
      // a lost connection emits 'error' and then 'end'; 'end' is where it is replaced
      listening.on('error', () => undefined);
      listening.on('end', () => {
        // a connection that never got to listen (a failed attempt) ends too: only the live one is replaced
        if (client !== listening) return;
        client = undefined;
        if (!state.stopped) void reconnect();
      });
      try {
        await listening.connect();
        await listening.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        return listening;
      } catch (error) {
        await listening.end().catch(() => undefined);
        throw error;
      }
    };

    const reconnect = async (): Promise<void> => {
      if (state.reconnecting) return;
      state.reconnecting = true;
      try {
        for (let attempt = 1; !stopped(); attempt++) {
          await new Promise<void>((resolve) => {
            wakeUp = resolve;
            setTimeout(resolve, retryDelayMs(attempt, RECONNECT_FIRST_MS, RECONNECT_CAP_MS, Math.random())).unref();
          });
          wakeUp = undefined;
          if (stopped()) return;
          let reopened: pg.Client;
          try {
            reopened = await open();
          } catch {
            continue; // the server is still away: try again a little later
          }
          if (stopped()) {
            await reopened.end().catch(() => undefined);
            return;
          }
          client = reopened;
          onGap?.();
          return;
        }
      } finally {
        state.reconnecting = false;
      }
    };

    client = await open();
    const stop = async (): Promise<void> => {
      state.stopped = true;
      listeners.delete(stop);
      wakeUp?.();
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    };
    listeners.add(stop);
    return stop;
  }

  return {
    driver: 'postgres',
    ...wrap(() => servers.pool(), prepare, noticed),
    transaction,
    listen,
    // the listening connections are not the pool's: they wait for notices, not for work
    poolUsage: () => servers.usage(),
    logTo: (log) => {
      servers.logTo(log);
    },
    close: async () => {
      await Promise.all([...listeners].map((stop) => stop()));
      await servers.end();
    },
  };
}
