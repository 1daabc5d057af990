import pg from 'pg';
import { MAX_TRANSACTION_ATTEMPTS, NUMBER_TYPE_OIDS, RETRYABLE_SQLSTATES, parseNumber, sqlState } from './db.js';
import type { Db, Queryable, QueryResult } from './db.js';

const typeOverrides = new pg.TypeOverrides();
for (const oid of NUMBER_TYPE_OIDS) typeOverrides.setTypeParser(oid, parseNumber);

function wrap(conn: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await conn.query<R & pg.QueryResultRow>(sql, params as unknown[]);
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
}

/** The server driver: node-postgres against any PostgreSQL 14+. */
export async function openPostgres(connectionString: string, options: PostgresOptions = {}): Promise<Db> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, types: typeOverrides });
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
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

  return {
    driver: 'postgres',
    ...wrap(pool),
    transaction,
    close: () => pool.end(),
  };
}
