import type { Db, Queryable } from './db.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';
import { sqlState } from './db.js';
import { quoteName } from './copy.js';
import { CURRENT_SCHEMA, notOfAnExtension } from './sql.js';

/**
 * The planner's statistics of the schema's tables, kept up with their growth.
 *
 * A plan is made for the size a table has when it is planned, and a prepared statement (or a PL/pgSQL trigger's
 * query) keeps its plan until the table's statistics change. Made while `reservations` held a page, the plans of
 * the hot path scan it where they should probe a key; at 14,000 reservations an embedded store's checkout ran at a
 * third of its rate and falling (bench/README.md, "Session 2026-11-28 (seventh)"). On a PostgreSQL server
 * autovacuum analyzes such a table within its nap time (a minute by default); PGlite runs no autovacuum, so there
 * nothing ever did. ANALYZE both refreshes the statistics and makes every session plan the table's statements
 * again.
 */

/** Below this many pages (128 KiB) a table is left alone: any plan of it is cheap. */
export const STATISTICS_MIN_PAGES = 16;

/**
 * How long the size check waits for a table's lock: behind a migration's ALTER TABLE it gives up (and the next
 * turn looks again) rather than queue, holding locks on the tables it has already measured.
 */
const SIZE_LOCK_TIMEOUT = '1s';

/** A table of the current schema, by its SQL name. */
interface GrownTable {
  name: string;
  /** schema-qualified and quoted, for ANALYZE: a temporary table of the same name does not stand in for it */
  qualified: string;
}

/**
 * The tables of the current schema this role may analyze (it owns them, or is a superuser) whose main fork has
 * reached twice the pages their last ANALYZE (or VACUUM) counted, and `minPages`, the most grown first: a table is
 * analyzed again each time it doubles, so a few dozen times in its life. `only`: that table alone.
 */
async function grownTables(tx: Queryable, minPages: number, only?: string): Promise<GrownTable[]> {
  const { rows } = await tx.query<{ name: string; schema: string }>(
    `SELECT c.relname AS name, current_schema() AS schema
       FROM pg_class c
      WHERE c.relnamespace = ${CURRENT_SCHEMA}
        AND c.relkind = 'r'
        AND ($2::text IS NULL OR c.relname = $2)
        AND pg_has_role(c.relowner, 'USAGE')
        AND ${notOfAnExtension('c')}
        AND pg_relation_size(c.oid) / current_setting('block_size')::bigint >= greatest(2 * c.relpages::bigint, $1)
      ORDER BY pg_relation_size(c.oid) / greatest(c.relpages::bigint, 1) DESC, c.relname`,
    [minPages, only ?? null],
  );
  return rows.map((row) => ({ name: row.name, qualified: `${quoteName(row.schema)}.${quoteName(row.name)}` }));
}

/**
 * Runs fn in a transaction that has the refreshes' turn (waiting for it, or only if it is free), with a short lock
 * timeout; undefined if the turn was taken or a table's lock could not be had in time.
 */
async function inTurn<T>(db: Db, wait: boolean, fn: (tx: Queryable) => Promise<T>): Promise<T | undefined> {
  try {
    return await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ turn: boolean }>(
        wait ? 'SELECT true AS turn FROM pg_advisory_xact_lock($1)' : 'SELECT pg_try_advisory_xact_lock($1) AS turn',
        [ADVISORY_LOCKS.statistics],
      );
      if (rows[0]?.turn !== true) return undefined;
      await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [SIZE_LOCK_TIMEOUT]);
      return fn(tx);
    });
  } catch (error) {
    if (sqlState(error) === '55P03') return undefined; // lock_not_available: a migration holds a table
    throw error;
  }
}

/**
 * Analyzes the tables grown past twice the size their statistics describe (`grownTables`), each in a transaction
 * of its own (its lock is held no longer than its ANALYZE, and PGlite's one connection serves requests between
 * them); returns those it analyzed. One process at a time: another finds the turn taken and returns at once, or,
 * with `wait`, waits for it. A table another transaction holds a conflicting lock on (a VACUUM, an index build, a
 * migration) is skipped until the next call.
 */
export async function analyzeGrownTables(
  db: Db,
  options: { wait?: boolean; minPages?: number } = {},
): Promise<string[]> {
  const { wait = false, minPages = STATISTICS_MIN_PAGES } = options;
  const grown = (await inTurn(db, wait, (tx) => grownTables(tx, minPages))) ?? [];
  const analyzed: string[] = [];
  for (const table of grown) {
    const done = await inTurn(db, wait, async (tx) => {
      // another process may have analyzed it since: measured again under the turn
      if ((await grownTables(tx, minPages, table.name)).length === 0) return false;
      await tx.exec(`ANALYZE (SKIP_LOCKED) ${table.qualified}`);
      return (await grownTables(tx, minPages, table.name)).length === 0;
    });
    if (done === true) analyzed.push(table.name);
  }
  return analyzed;
}
