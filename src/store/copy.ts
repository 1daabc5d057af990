import type { Queryable } from './db.js';
import { CURRENT_SCHEMA, notOfAnExtension } from './sql.js';

/**
 * The SQL of `stockroom db copy`: what tables and sequences a database holds (read from its catalog, so a table a
 * later migration adds is copied without anyone listing it), and the chunked reads and writes that move their rows.
 * Every statement runs on both drivers: the source and the target are each either PGlite or a PostgreSQL server.
 */

/** A table as the copy sees it: the columns it writes and the key it pages by. */
export interface CopiedTable {
  name: string;
  /** the columns a row is written with: every column but generated ones (those the target computes itself) */
  columns: string[];
  /** the primary key's columns, with their SQL types: rows are read in this order, a page after the last key */
  key: { column: string; type: string }[];
  /** the tables its foreign keys point at (other than itself) */
  references: string[];
}

/** A sequence and where it stands: the value nextval() last gave and whether it has given one. */
export interface SequenceState {
  name: string;
  lastValue: number;
  isCalled: boolean;
  /** the table and column whose values it gives (an identity column), if any */
  owner: { table: string; column: string } | null;
}

/** A name in SQL, quoted: table and column names come from the catalog, never from a user. */
export const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * The relations of these kinds (pg_class.relkind) in the schema a connection works in (the current schema), by
 * name. Objects an extension owns (pg_trgm's) are not stockroom's and are left out.
 */
async function ownRelations(db: Queryable, kinds: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_class c
      WHERE c.relnamespace = ${CURRENT_SCHEMA}
        AND c.relkind = ANY($1::"char"[])
        AND ${notOfAnExtension('c')}
      ORDER BY c.relname`,
    [kinds],
  );
  return rows.map((row) => row.name);
}

/** Every table, view and sequence of the current schema: what a database must not have for a copy into it. */
export function schemaObjects(db: Queryable): Promise<string[]> {
  return ownRelations(db, ['r', 'p', 'v', 'm', 'S', 'f']);
}

/**
 * The tables of the current schema that hold a row, but those named in `except`: the store's data in a database
 * that has the schema (an EXISTS a table, in one statement: a big table is not counted).
 */
export async function tablesWithRows(db: Queryable, except: readonly string[]): Promise<string[]> {
  const tables = (await ownRelations(db, ['r', 'p'])).filter((name) => !except.includes(name));
  if (tables.length === 0) return [];
  const { rows } = await db.query<{ name: string }>(
    tables
      .map((name, i) => `SELECT $${i + 1}::text AS name WHERE EXISTS (SELECT 1 FROM ${quoteName(name)})`)
      .join(' UNION ALL '),
    tables,
  );
  return rows.map((row) => row.name);
}

/**
 * The tables of the current schema, parents before the tables whose foreign keys point at them, so rows can be
 * written in this order with every key checked as it goes. A table without a primary key cannot be paged and is
 * refused by name (every table the migrations create has one).
 */
export async function listTables(db: Queryable): Promise<CopiedTable[]> {
  const { rows } = await db.query<{
    name: string;
    columns: string[] | null;
    key_columns: string[] | null;
    key_types: string[] | null;
    references: string[] | null;
  }>(
    `SELECT c.relname AS name,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_constraint p
               CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE p.conrelid = c.oid AND p.contype = 'p') AS key_columns,
            (SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord) FROM pg_constraint p
               CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE p.conrelid = c.oid AND p.contype = 'p') AS key_types,
            (SELECT array_agg(DISTINCT f.confrelid::regclass::text) FROM pg_constraint f
              WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS references
       FROM pg_class c
      WHERE c.relnamespace = ${CURRENT_SCHEMA} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`,
  );
  const tables = rows.map((row): CopiedTable => {
    if (!row.key_columns || !row.key_types)
      throw new Error(`table ${row.name} has no primary key: db copy pages every table by its key`);
    const types = row.key_types;
    return {
      name: row.name,
      columns: row.columns ?? [],
      key: row.key_columns.map((column, index) => ({ column, type: types[index] ?? 'text' })),
      // regclass::text quotes a name only where it must; stockroom's names never need it
      references: (row.references ?? []).map((name) => name.replace(/^"|"$/g, '')),
    };
  });
  return inForeignKeyOrder(tables);
}

/** Tables sorted so that every table comes after those it references (Kahn's algorithm, by name among equals). */
function inForeignKeyOrder(tables: CopiedTable[]): CopiedTable[] {
  const ordered: CopiedTable[] = [];
  const placed = new Set<string>();
  let remaining = tables;
  while (remaining.length > 0) {
    const ready = remaining.filter((table) => table.references.every((name) => placed.has(name)));
    if (ready.length === 0)
      throw new Error(
        `foreign keys form a cycle among ${remaining.map((table) => table.name).join(', ')}: no order to copy them in`,
      );
    for (const table of ready) {
      ordered.push(table);
      placed.add(table.name);
    }
    remaining = remaining.filter((table) => !placed.has(table.name));
  }
  return ordered;
}

/** How many rows a table holds now. */
export async function countRows(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(`SELECT count(*) AS count FROM ${quoteName(table)}`);
  return rows[0]?.count ?? 0;
}

/** One page of a table: its rows as JSON text (as the database writes them, so nothing is lost on the way). */
export interface TablePage {
  rows: string[];
  /** the key of the last row, as text, to read the next page after; undefined when the page is empty */
  last: string[] | undefined;
}

/**
 * Up to `limit` rows of a table in key order, after the key `after` (from the first row when undefined). Keyset
 * paging: each page is one index range read however far into the table it is, and memory holds one page.
 */
export async function readPage(
  db: Queryable,
  table: CopiedTable,
  after: string[] | undefined,
  limit: number,
): Promise<TablePage> {
  const keys = table.key.map((part) => `t.${quoteName(part.column)}`);
  const where =
    after === undefined
      ? ''
      : `WHERE (${keys.join(', ')}) > (${table.key.map((part, index) => `$${index + 2}::${part.type}`).join(', ')})`;
  const { rows } = await db.query<{ row: string; key: string[] }>(
    `SELECT row_to_json(t)::text AS row, ARRAY[${keys.map((key) => `${key}::text`).join(', ')}] AS key
       FROM ${quoteName(table.name)} t ${where}
      ORDER BY ${keys.join(', ')} LIMIT $1`,
    [limit, ...(after ?? [])],
  );
  return { rows: rows.map((row) => row.row), last: rows.at(-1)?.key };
}

/**
 * Writes rows read by readPage into the same table of another database, in one statement: each JSON row becomes a
 * row of the table's type, so every column keeps its type and value (ids included: identity columns are given
 * their values, OVERRIDING SYSTEM VALUE).
 */
export async function writePage(tx: Queryable, table: CopiedTable, rows: readonly string[]): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = table.columns.map(quoteName).join(', ');
  const result = await tx.query(
    `INSERT INTO ${quoteName(table.name)} (${columns}) OVERRIDING SYSTEM VALUE
     SELECT ${columns} FROM json_populate_recordset(NULL::${quoteName(table.name)}, $1::json)`,
    [`[${rows.join(',')}]`],
  );
  return result.rowCount;
}

/** Removes every row of a table (the rows a migration itself seeds, in a database just migrated). */
export async function emptyTable(tx: Queryable, table: string): Promise<void> {
  await tx.query(`DELETE FROM ${quoteName(table)}`);
}

/**
 * Switches a table's own triggers off or on (ENABLE/DISABLE TRIGGER USER), inside the caller's transaction: rows
 * copied as they are must not raise alerts, write events, recompute costs or refuse an append-only insert again.
 * The foreign keys' internal triggers stay on, so every key is still checked. A rollback restores them.
 */
export async function setTableTriggers(tx: Queryable, table: string, enabled: boolean): Promise<void> {
  await tx.exec(`ALTER TABLE ${quoteName(table)} ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
}

/** The triggers of the current schema's tables that are switched off now (none, outside a copy). */
export async function disabledTriggers(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = ${CURRENT_SCHEMA} AND NOT t.tgisinternal AND t.tgenabled = 'D'
      ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

/** Every sequence of the current schema with where it stands, and the column it numbers. */
export async function readSequences(db: Queryable): Promise<SequenceState[]> {
  const { rows } = await db.query<{ name: string; owner_table: string | null; owner_column: string | null }>(
    `SELECT s.relname AS name, t.relname AS owner_table, a.attname AS owner_column
       FROM pg_class s
       LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_class t ON t.oid = d.refobjid
       LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE s.relnamespace = ${CURRENT_SCHEMA} AND s.relkind = 'S'
      ORDER BY s.relname`,
  );
  const states: SequenceState[] = [];
  for (const row of rows) {
    const { rows: values } = await db.query<{ last_value: number; is_called: boolean }>(
      `SELECT last_value, is_called FROM ${quoteName(row.name)}`,
    );
    const value = values[0] ?? { last_value: 1, is_called: false };
    states.push({
      name: row.name,
      lastValue: value.last_value,
      isCalled: value.is_called,
      owner: row.owner_table && row.owner_column ? { table: row.owner_table, column: row.owner_column } : null,
    });
  }
  return states;
}

/** Sets a sequence to where another database's stands, so the next value follows the rows copied. */
export async function setSequence(tx: Queryable, state: SequenceState): Promise<void> {
  await tx.query('SELECT setval($1::regclass, $2, $3)', [quoteName(state.name), state.lastValue, state.isCalled]);
}

/** The largest value of a sequence's column (null when the table is empty): the sequence must be past it. */
export async function largestValue(db: Queryable, owner: { table: string; column: string }): Promise<number | null> {
  const { rows } = await db.query<{ largest: number | null }>(
    `SELECT max(${quoteName(owner.column)}) AS largest FROM ${quoteName(owner.table)}`,
  );
  return rows[0]?.largest ?? null;
}

/** The schema versions a database has applied. */
export async function appliedVersions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => row.version);
}

/**
 * Makes a transaction write values as text the same way on every database, whatever its server's settings: times
 * in UTC, and floats with every digit (with extra_float_digits at 0 or below a server rounds them, and a copy would
 * lose the last digits of a warehouse's coordinates).
 */
export async function useExactText(tx: Queryable): Promise<void> {
  await tx.exec("SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 3");
}

/** Makes the rest of a transaction read one snapshot (PostgreSQL: must be its first statement). */
export async function readOneSnapshot(tx: Queryable): Promise<void> {
  await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
}
