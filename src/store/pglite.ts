import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { DataDirUnusableError } from '../domain/errors.js';
import { lockDataDir } from './data-dir-lock.js';
import { NUMBER_TYPE_OIDS, SentStatements, parseNumber } from './db.js';
import type { Db, Queryable, QueryResult } from './db.js';

const parsers = Object.fromEntries(NUMBER_TYPE_OIDS.map((oid) => [oid, parseNumber]));

function wrap(conn: PGlite | Transaction, sent?: SentStatements): Queryable {
  const run = async <R extends object>(sql: string, params: readonly unknown[]): Promise<QueryResult<R>> => {
    const result = await conn.query<R>(sql, params as unknown[]);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  };
  return {
    query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      return sent ? sent.track(() => run<R>(sql, params)) : run<R>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      await conn.exec(sql);
    },
  };
}

/** How the embedded database is run. */
export interface PgliteOptions {
  /** PostgreSQL's own page cache inside the process, in MB (default DEFAULT_EMBEDDED_BUFFERS_MB). */
  sharedBuffersMb?: number;
}

/**
 * The embedded database's page cache. PostgreSQL's default (128 MB) lives in the WASM heap, which never shrinks:
 * with 100,000 variants a server under load peaked at 485 MB, against 343 MB with 16 MB of buffers at the same rate
 * (bench/README.md). The data directory's pages stay in the operating system's cache either way.
 */
export const DEFAULT_EMBEDDED_BUFFERS_MB = 16;

/**
 * The embedded driver: real PostgreSQL compiled to WASM, in this process. One connection, so transactions
 * run one at a time (PGlite queues them); there are no deadlocks to retry.
 * @param dataDir a directory to persist into, or undefined for an in-memory database
 */
export async function openPglite(dataDir?: string, options: PgliteOptions = {}): Promise<Db> {
  if (dataDir === undefined) return pgliteDb(await PGlite.create({ parsers }));
  let unlock: () => void;
  try {
    if (statSync(dataDir, { throwIfNoEntry: false })?.isDirectory() === false)
      throw new DataDirUnusableError(dataDir, 'a file is there, not a folder');
    unlock = await lockDataDir(dataDir);
  } catch (error) {
    throw openFailure(dataDir, error);
  }
  try {
    const buffers = options.sharedBuffersMb ?? DEFAULT_EMBEDDED_BUFFERS_MB;
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${buffers}MB`];
    const db = pgliteDb(await PGlite.create(dataDir, { parsers, startParams }));
    return {
      ...db,
      close: async () => {
        try {
          await db.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (error) {
    unlock();
    throw openFailure(dataDir, error);
  }
}

/**
 * What a failure to open a data directory is to its caller: the file system refusing that folder (Node's error
 * on a path in it or above it, or PGlite's own ErrnoError, which has an errno and no message) as DataDirUnusableError;
 * anything else as it was thrown.
 */
function openFailure(dataDir: string, error: unknown): unknown {
  const folder = resolve(dataDir);
  if (error instanceof Error) {
    const { path } = error as NodeJS.ErrnoException;
    if (typeof path !== 'string') return error;
    // in the folder (its lock file beside it too), or a folder above it that it cannot be made in
    const at = resolve(path);
    return at.startsWith(folder) || folder.startsWith(at) ? new DataDirUnusableError(dataDir, error.message) : error;
  }
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'ErrnoError') {
    // the errno of PGlite's file system (Emscripten's numbers: 54 is ENOTDIR), not the operating system's
    const { errno } = error as { errno?: unknown };
    return new DataDirUnusableError(dataDir, `PGlite's file system refused it (its errno ${String(errno)})`);
  }
  return error;
}

/** The parsers every PGlite behind a Db must use (ints as numbers), for callers that create their own. */
export const pgliteParsers = parsers;

/** A Db over an existing PGlite instance (created with pgliteParsers), e.g. a clone of a migrated template. */
export function pgliteDb(pg: PGlite): Db {
  // one connection: the call running holds it and every other call made on this Db waits for it (PGlite queues
  // them without saying how many), so calls not yet settled are counted here
  let unsettled = 0;
  const counted = async <T>(call: () => Promise<T>): Promise<T> => {
    unsettled++;
    try {
      return await call();
    } finally {
      unsettled--;
    }
  };
  const conn = wrap(pg);
  return {
    driver: 'pglite',
    query: (sql, params) => counted(() => conn.query(sql, params)),
    exec: (sql) => counted(() => conn.exec(sql)),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      counted(() =>
        pg.transaction(async (tx) => {
          // PGlite runs statements one at a time, in the order sent: the ones fn left unawaited are finished here,
          // before its COMMIT, as the server driver finishes them (Db.transaction)
          const sent = new SentStatements();
          const result = await fn(wrap(tx, sent));
          await sent.close();
          return result;
        }),
      ),
    poolUsage: () => ({ size: 1, inUse: Math.min(unsettled, 1), waiting: Math.max(unsettled - 1, 0) }),
    // one connection in this process: nothing to lose, so no gaps
    listen: async (channel, onNotice) => {
      const stop = await pg.listen(channel, onNotice);
      return async () => {
        await stop();
      };
    },
    close: () => pg.close(),
  };
}
