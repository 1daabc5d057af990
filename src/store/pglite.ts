import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { NUMBER_TYPE_OIDS, parseNumber } from './db.js';
import type { Db, Queryable, QueryResult } from './db.js';

const parsers = Object.fromEntries(NUMBER_TYPE_OIDS.map((oid) => [oid, parseNumber]));

function wrap(conn: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await conn.query<R>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await conn.exec(sql);
    },
  };
}

/**
 * The embedded driver: real PostgreSQL compiled to WASM, in this process. One connection, so transactions
 * run one at a time (PGlite queues them); there are no deadlocks to retry.
 * @param dataDir a directory to persist into, or undefined for an in-memory database
 */
export async function openPglite(dataDir?: string): Promise<Db> {
  return pgliteDb(await PGlite.create(dataDir, { parsers }));
}

/** The parsers every PGlite behind a Db must use (ints as numbers), for callers that create their own. */
export const pgliteParsers = parsers;

/** A Db over an existing PGlite instance (created with pgliteParsers), e.g. a clone of a migrated template. */
export function pgliteDb(pg: PGlite): Db {
  return {
    driver: 'pglite',
    ...wrap(pg),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => pg.transaction((tx) => fn(wrap(tx))),
    close: () => pg.close(),
  };
}
