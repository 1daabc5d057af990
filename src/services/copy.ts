import { createHash } from 'node:crypto';
import { SchemaBehindError, TargetNotEmptyError } from '../domain/errors.js';
import {
  appliedVersions,
  countRows,
  disabledTriggers,
  emptyTable,
  largestValue,
  listTables,
  readOneSnapshot,
  readPage,
  readSequences,
  schemaObjects,
  setSequence,
  setTableTriggers,
  tablesWithRows,
  useExactText,
  writePage,
} from '../store/copy.js';
import type { CopiedTable, SequenceState } from '../store/copy.js';
import { sqlState } from '../store/db.js';
import type { Db, Queryable } from '../store/db.js';
import { loadMigrations, migrateIn } from '../store/migrate.js';
import { reconcileIn } from './reconcile.js';
import type { ReconcileReport } from './reconcile.js';

/** Rows read and written per statement unless told (STOCKROOM_COPY_CHUNK_ROWS). */
export const DEFAULT_COPY_CHUNK_ROWS = 2000;

/** The table whose rows are the target's own: its migrations write them, in the copy's transaction. */
const MIGRATIONS_TABLE = 'schema_migrations';
/** Tables a migration writes rows into (0009's replenishment job): a migrated target with only these is empty. */
const SEEDED_BY_MIGRATIONS = [MIGRATIONS_TABLE, 'scheduled_jobs'];

/** How a copy runs. */
export interface CopyOptions {
  /** rows per page read from the source and written to the target: what memory holds at once */
  chunkRows?: number;
  /** how the target is named in messages (never a URL with its password) */
  targetName?: string;
  /** told after every page written (an empty table's one empty page included) */
  onProgress?: (progress: CopyProgress) => void;
}

/** Where a copy is: a table, the rows written of it so far, and how many it has. */
export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

/** One table on both sides after the copy. */
export interface TableCount {
  table: string;
  source: number;
  target: number;
  /**
   * whether both sides hold the same rows, value for value (a digest of every row's text in key order); the
   * migrations' own table is compared by its versions
   */
  identical: boolean;
}

/** One sequence after the copy: where it stands on both sides, and whether it is past every value of its column. */
export interface SequenceCount {
  sequence: string;
  source: number;
  target: number;
  /** false when the next value would collide with a row already there */
  ahead: boolean;
}

/** What a copy did and what its checks found; `committed` only when every check passed. */
export interface CopyReport {
  /** true when every check passed and the copy was committed; false: the target was left as it was */
  committed: boolean;
  /** every table of the schema (read from the catalog) with its rows on each side */
  tables: TableCount[];
  sequences: SequenceCount[];
  /** reconcile, run on the copy before it was committed */
  reconcile: ReconcileReport;
  /** triggers still switched off on the copy (none, when the copy is right) */
  disabledTriggers: string[];
}

/** A check failed inside the target's transaction: thrown to roll it back, caught to report what was found. */
class CopyChecksFailed extends Error {
  constructor(readonly report: CopyReport) {
    super('db copy: a check failed');
  }
}

/**
 * Copies a whole store into an empty database (or one only migrated): migrates the target, writes every table of
 * the schema in foreign-key order with the tables' own triggers off (rows are copied as they are: no alert, event,
 * cost or stock-list row is derived again), sets every sequence to where the source's stands, turns the triggers
 * back on, then checks the copy (reconcile, and every table's rows on both sides) before committing. It is one
 * transaction on the target: a failure or a failed check leaves it as empty as it was.
 *
 * The source is read in one snapshot, page by page, so memory holds one page whatever the store's size. Secrets
 * (API key hashes, sealed channel secrets, sync secrets) are copied in their stored form and never shown.
 */
export async function copyStore(source: Db, target: Db, options: CopyOptions = {}): Promise<CopyReport> {
  const chunkRows = options.chunkRows ?? DEFAULT_COPY_CHUNK_ROWS;
  const objects = await schemaObjects(target);
  // a database only migrated (`stockroom migrate` run on it first) has the schema and no store: it is taken, and
  // what its migrations wrote is replaced by the source's own; one with any other row is refused, naming the tables
  const holding = objects.includes(MIGRATIONS_TABLE) ? await tablesWithRows(target, SEEDED_BY_MIGRATIONS) : objects;
  if (holding.length > 0) throw new TargetNotEmptyError(options.targetName ?? 'the target database', holding);
  await assertCurrent(source);
  try {
    return await source.transaction(async (from) => {
      // a server may be taking writes while it is copied: every read below sees the same moment
      if (source.driver === 'postgres') await readOneSnapshot(from);
      await useExactText(from);
      return await target.transaction(async (into) => {
        await useExactText(into);
        await migrateIn(into);
        const tables = await matchingTables(from, into);
        for (const table of tables) await setTableTriggers(into, table.name, false);
        // a migration may seed rows (the replenishment job's row): the source has its own of them
        for (const table of [...tables].reverse())
          if (table.name !== MIGRATIONS_TABLE) await emptyTable(into, table.name);
        for (const table of tables)
          if (table.name !== MIGRATIONS_TABLE) await copyTable(from, into, table, chunkRows, options);
        const sequences = await copySequences(from, into);
        for (const table of tables) await setTableTriggers(into, table.name, true);
        const report = await checkCopy(from, into, tables, sequences, chunkRows);
        if (!passed(report)) throw new CopyChecksFailed(report);
        return report;
      });
    });
  } catch (error) {
    if (error instanceof CopyChecksFailed) return { ...error.report, committed: false };
    throw error;
  }
}

/** Whether every check of a copy passed. */
function passed(report: CopyReport): boolean {
  return (
    report.reconcile.clean &&
    report.disabledTriggers.length === 0 &&
    report.tables.every((count) => count.source === count.target && count.identical) &&
    report.sequences.every((sequence) => sequence.ahead && sequence.source === sequence.target)
  );
}

/**
 * The source must be at this version's schema: the target is migrated to it, and their tables must match. Exported
 * so a caller can refuse a source before it makes its target (an embedded one takes seconds to create).
 */
export async function assertCurrent(source: Db): Promise<void> {
  const applied = new Set(
    await appliedVersions(source).catch((error: unknown) => {
      if (sqlState(error) === '42P01') return []; // never migrated
      throw error;
    }),
  );
  const pending = (await loadMigrations()).map((migration) => migration.version).filter((v) => !applied.has(v));
  if (pending.length > 0) throw new SchemaBehindError(pending);
}

/** The tables of the source, in the order to copy them; the target (just migrated) must have the same ones. */
async function matchingTables(from: Queryable, into: Queryable): Promise<CopiedTable[]> {
  const tables = await listTables(from);
  const targetNames = new Set((await listTables(into)).map((table) => table.name));
  const sourceNames = new Set(tables.map((table) => table.name));
  const onlyOneSide = [
    ...tables.filter((table) => !targetNames.has(table.name)).map((table) => `${table.name} (source only)`),
    ...[...targetNames].filter((name) => !sourceNames.has(name)).map((name) => `${name} (target only)`),
  ];
  if (onlyOneSide.length > 0)
    throw new Error(`the source and the migrated target have different tables: ${onlyOneSide.join(', ')}`);
  return tables;
}

/** Copies one table page by page, saying how far it is after each page. */
async function copyTable(
  from: Queryable,
  into: Queryable,
  table: CopiedTable,
  chunkRows: number,
  options: CopyOptions,
): Promise<void> {
  const total = await countRows(from, table.name);
  let copied = 0;
  for await (const rows of pages(from, table, chunkRows)) {
    copied += await writePage(into, table, rows);
    options.onProgress?.({ table: table.name, copied, total });
  }
}

/** A table's rows page by page, in key order: memory holds one page at a time. */
async function* pages(db: Queryable, table: CopiedTable, chunkRows: number): AsyncGenerator<string[]> {
  let after: string[] | undefined;
  for (;;) {
    const page = await readPage(db, table, after, chunkRows);
    yield page.rows;
    after = page.last;
    if (page.rows.length < chunkRows) return;
  }
}

/**
 * Sets every sequence of the target to where the source's stands (not merely past the rows copied: event ids in a
 * batch take values of the outbox's sequence without a row of their own), and never behind a value its column
 * already holds. Read after the rows, so a sequence a live source advanced meanwhile is only further ahead.
 */
async function copySequences(from: Queryable, into: Queryable): Promise<SequenceState[]> {
  const sources = await readSequences(from);
  const targets = new Map((await readSequences(into)).map((state) => [state.name, state]));
  for (const state of sources) {
    const own = targets.get(state.name);
    if (own === undefined) throw new Error(`the migrated target has no sequence ${state.name}`);
    const largest = own.owner === null ? null : await largestValue(into, own.owner);
    const lastValue = Math.max(state.lastValue, largest ?? Number.NEGATIVE_INFINITY);
    await setSequence(into, { ...state, lastValue, isCalled: state.isCalled || lastValue > state.lastValue });
  }
  return sources;
}

/** What the copy holds against what the source holds: every table's rows, every sequence, reconcile. */
async function checkCopy(
  from: Queryable,
  into: Queryable,
  tables: readonly CopiedTable[],
  sourceSequences: readonly SequenceState[],
  chunkRows: number,
): Promise<CopyReport> {
  const counts: TableCount[] = [];
  const sameVersions = (await appliedVersions(from)).join() === (await appliedVersions(into)).join();
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name)))
    counts.push({
      table: table.name,
      source: await countRows(from, table.name),
      target: await countRows(into, table.name),
      identical:
        table.name === MIGRATIONS_TABLE
          ? sameVersions
          : (await digest(from, table, chunkRows)) === (await digest(into, table, chunkRows)),
    });
  const targetSequences = new Map((await readSequences(into)).map((state) => [state.name, state]));
  const sequences: SequenceCount[] = [];
  for (const state of sourceSequences) {
    const copied = targetSequences.get(state.name);
    const largest = copied?.owner ? await largestValue(into, copied.owner) : null;
    sequences.push({
      sequence: state.name,
      source: state.lastValue,
      target: copied?.lastValue ?? 0,
      // the next value is lastValue + 1 once called, lastValue itself before
      ahead:
        copied !== undefined &&
        (largest === null || copied.lastValue > largest || (copied.lastValue === largest && copied.isCalled)),
    });
  }
  return {
    committed: true,
    tables: counts,
    sequences,
    reconcile: await reconcileIn(into),
    disabledTriggers: await disabledTriggers(into),
  };
}

/** A digest of a table's rows, as text, in key order: equal on two databases when they hold the same rows. */
async function digest(db: Queryable, table: CopiedTable, chunkRows: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const rows of pages(db, table, chunkRows)) for (const row of rows) hash.update(row).update('\n');
  return hash.digest('hex');
}
