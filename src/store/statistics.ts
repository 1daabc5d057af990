import type { Db, Queryable } from './db.js';
import { quoteName } from './copy.js';

/**
 * The planner's statistics of the schema's tables, kept up with their growth.
 *
 * A plan is made for the size a table has when it is planned, and a prepared statement (or a PL/pgSQL trigger's
 * query) keeps its plan until the table's statistics change. Made while `reservations` held a page, the plans of
 * the hot path scan it where they should probe a key; at 15,000 reservations an embedded store's checkout ran at a
 * third of its rate and falling (bench/README.md, "Session 2026-11-28 (seventh)"). On a PostgreSQL server
 * autovacuum analyzes such a table within its nap time (a minute by default); PGlite runs no autovacuum, so there
 * nothing ever did. ANALYZE both refreshes the statistics and makes every session plan the table's statements
 * again.
 */

/** Below this many pages (128 KiB) a table is left alone: any plan of it is cheap. */
export const STATISTICS_MIN_PAGES = 16;

/** The advisory lock refreshes take turns on (any number; this one spells "stats" in ASCII). */
export const STATISTICS_LOCK = 0x7374617473;

/**
 * The tables of the current schema this role may analyze whose main fork has reached twice the pages their last
 * ANALYZE (or VACUUM) counted, and `minPages`: a table is analyzed again each time it doubles, so a few dozen
 * times in its life.
 */
async function grownTables(db: Queryable, minPages: number): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace
        AND c.relkind = 'r'
        AND pg_has_role(c.relowner, 'USAGE')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        AND pg_relation_size(c.oid) / current_setting('block_size')::bigint >= greatest(2 * c.relpages::bigint, $1)
      ORDER BY c.relname`,
    [minPages],
  );
  return rows.map((row) => row.name);
}

/**
 * Analyzes the tables grown past twice the size their statistics describe (`grownTables`); returns those it
 * analyzed. One process at a time (an advisory lock; another finds it taken and returns at once), and a table
 * another transaction holds a conflicting lock on (a VACUUM, an index build) is skipped until the next call.
 */
export async function analyzeGrownTables(db: Db, minPages = STATISTICS_MIN_PAGES): Promise<string[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ turn: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS turn', [
      STATISTICS_LOCK,
    ]);
    if (rows[0]?.turn !== true) return [];
    const grown = await grownTables(tx, minPages);
    if (grown.length === 0) return [];
    await tx.query(`ANALYZE (SKIP_LOCKED) ${grown.map(quoteName).join(', ')}`);
    const left = new Set(await grownTables(tx, minPages));
    return grown.filter((name) => !left.has(name));
  });
}
