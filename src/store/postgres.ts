import { createHash } from 'node:crypto';
import pg from 'pg';
import { MAX_TRANSACTION_ATTEMPTS, NUMBER_TYPE_OIDS, RETRYABLE_SQLSTATES, parseNumber, sqlState } from './db.js';
import type { Db, Queryable, QueryResult } from './db.js';

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

function wrap(conn: pg.Pool | pg.PoolClient, prepare: boolean): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      // a named statement is parsed and planned once per connection, not on every call; the SQL texts are a
      // fixed set (store/), so each connection holds a bounded number of them
      const result = await conn.query<R & pg.QueryResultRow>(prepare ? { name: nameOf(sql), text: sql, values: params as unknown[] } : { text: sql, values: params as unknown[] });
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await conn.query(sql);
    },
  };
}

export interface PostgresOptions {
  /** Pool size; concurrent transactions beyond it wait for a connection. */
  max?: number;
  /**
   * Prepare statements on each connection (default true). Turn off behind a connection pooler in transaction
   * mode that does not keep prepared statements (PgBouncer before 1.21).
   */
  prepare?: boolean;
}

/** The server driver: node-postgres against any PostgreSQL 14+. */
export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, types: typeOverrides });
  const prepare = options.prepare ?? true;
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client, prepare));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const state = sqlState(error);
        if (state === undefined || !RETRYABLE_SQLSTATES.has(state) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      } finally {
        client.release();
      }
    }
  }

  const listeners = new Set<() => Promise<void>>();

  /** A connection of its own per channel (a pooled one would be handed to others); back after a loss. */
  async function listen(channel: string, onNotice: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | undefined;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString });
      c.on('notification', (m) => {
        if (m.channel === channel) onNotice(m.payload ?? '');
      });
      c.on('error', () => undefined);
      c.on('end', () => {
        if (!stopped) void reconnect();
      });
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = c;
    };
    const reconnect = async (): Promise<void> => {
      for (let delay = 100; !stopped; delay = Math.min(delay * 2, 5000)) {
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        try {
          await connect();
          onGap?.();
          return;
        } catch {
          // the server is still away: try again a little later
        }
      }
    };
    await connect();
    const stop = async (): Promise<void> => {
      stopped = true;
      listeners.delete(stop);
      await client?.end().catch(() => undefined);
    };
    listeners.add(stop);
    return stop;
  }

  return {
    driver: 'postgres',
    ...wrap(pool, prepare),
    transaction,
    listen,
    close: async () => {
      await Promise.all([...listeners].map((stop) => stop()));
      await pool.end();
    },
  };
}
