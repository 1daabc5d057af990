import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { NotFoundError, TargetNotEmptyError, ValidationError } from '../domain/errors.js';
import { withoutPassword } from '../domain/secrets.js';
import { DEFAULT_COPY_CHUNK_ROWS, assertCurrent, copyStore } from '../services/copy.js';
import type { CopyReport } from '../services/copy.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { DEFAULT_DATA_DIR, openDb } from '../store/open.js';
import { openPglite } from '../store/pglite.js';
import { envInt } from './args.js';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { table } from './output.js';

interface CopyFlags {
  to?: string;
  from?: string;
  data?: string;
}

/** `stockroom db ...`: moving a whole store between databases. */
export function registerDb(program: Command, ctx: () => CommandContext): void {
  const db = program.command('db').description('move a whole store between databases');
  db.command('copy')
    .description(
      'copy the embedded store into an empty PostgreSQL database (--to), or a PostgreSQL store into an empty ' +
        'embedded data directory (--from); checks the copy (reconcile, rows of every table) before committing it',
    )
    .option('--to <url>', 'an empty PostgreSQL database to copy the embedded store into (postgres://...)')
    .option('--from <url>', 'a PostgreSQL store to copy into an empty embedded data directory (postgres://...)')
    .option('--data <dir>', `the embedded data directory (default: STOCKROOM_DATA, else ${DEFAULT_DATA_DIR})`)
    .action(async (flags: CopyFlags) => {
      const context = ctx();
      if ((flags.to === undefined) === (flags.from === undefined))
        throw ValidationError.field('', 'give exactly one of --to <postgres url> and --from <postgres url>');
      const url = postgresUrl(flags.to ?? flags.from ?? '', flags.to === undefined ? '--from' : '--to');
      const chunkRows = envInt(context.env, 'STOCKROOM_COPY_CHUNK_ROWS', DEFAULT_COPY_CHUNK_ROWS, 1);
      const dataDir = flags.data ?? (context.env.STOCKROOM_DATA || DEFAULT_DATA_DIR);
      const embeddedName = `the embedded data directory ${dataDir}`;
      const targetName = flags.to === undefined ? embeddedName : `the PostgreSQL database ${withoutPassword(url)}`;
      // the pool's timeouts as every command has them: a store large enough to count for a minute needs
      // STOCKROOM_PG_QUERY_TIMEOUT_MS raised (or 0) for its copy, as for reconcile
      const openServer = (): Promise<Db> =>
        openDb({
          databaseUrl: url,
          poolMax: 2,
          connectTimeoutMs: envInt(context.env, 'STOCKROOM_PG_CONNECT_TIMEOUT_MS', 5000, 1),
          queryTimeoutMs: envInt(context.env, 'STOCKROOM_PG_QUERY_TIMEOUT_MS', 60_000, 0),
        });
      // known before the target is opened: opening it makes the folder, which a copy not made must not leave
      const undo = flags.to === undefined ? undoEmbeddedTarget(dataDir) : async () => undefined;
      // a new embedded target is made by opening it (PGlite's initdb, seconds): the source's schema is checked first,
      // after the folder's own refusal. An existing store is opened as it is, and refused as copyStore orders it
      const newEmbedded = flags.to === undefined && !existsSync(join(dataDir, 'PG_VERSION'));
      if (newEmbedded) refuseOccupiedFolder(dataDir);
      const report = await withBoth(
        () => (flags.to === undefined ? openServer() : openEmbeddedSource(dataDir)),
        (source) => (newEmbedded ? assertCurrent(source) : Promise.resolve()),
        () => (flags.to === undefined ? openEmbeddedTarget(dataDir) : openServer()),
        (source, target) =>
          copyStore(source, target, {
            chunkRows,
            targetName,
            onProgress: (progress) => {
              context.io.err(`copying ${progress.table}: ${progress.copied} of ${progress.total} rows`);
            },
          }),
      ).catch(async (error: unknown) => {
        await undo();
        throw error;
      });
      if (!report.committed) await undo();
      context.print(report, () => describe(report, targetName));
      if (!report.committed) context.exit(EXIT.refused);
    });
}

/** A --to or --from value: a postgres:// URL, never repeated in a message (it may hold a password). */
function postgresUrl(value: string, option: string): string {
  if (!/^postgres(ql)?:\/\/\S/i.test(value))
    throw ValidationError.field(
      `/${option}`,
      'must be a postgres:// or postgresql:// URL, e.g. postgres://user:password@host:5432/database',
    );
  return value;
}

/**
 * Opens the source, then the target, runs the copy and closes both, whatever happens. `checkSource` runs between the
 * two: a target that takes seconds to create (a new embedded store) is not made for a source that will be refused.
 */
async function withBoth<T>(
  openSource: () => Promise<Db>,
  checkSource: (source: Db) => Promise<void>,
  openTarget: () => Promise<Db>,
  use: (source: Db, target: Db) => Promise<T>,
): Promise<T> {
  const source = await openSource();
  try {
    await checkSource(source);
    const target = await openTarget();
    try {
      return await use(source, target);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** The embedded store to copy from: it must exist (opening a directory that does not would create an empty one). */
async function openEmbeddedSource(dataDir: string): Promise<Db> {
  if (!existsSync(join(dataDir, 'PG_VERSION')))
    throw new NotFoundError('embedded store', resolve(dataDir), 'set STOCKROOM_DATA or --data to its directory');
  const db = await openPglite(dataDir);
  try {
    // the embedded database belongs to this checkout: migrated on the spot, as by every other command
    await migrate(db);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** A folder that holds files and no embedded database is no place to copy into. */
function refuseOccupiedFolder(dataDir: string): void {
  if (existsSync(dataDir) && !existsSync(join(dataDir, 'PG_VERSION')) && readdirSync(dataDir).length > 0)
    throw new TargetNotEmptyError(`the directory ${dataDir}`, readdirSync(dataDir));
}

/** The embedded directory to copy into: new, empty, or an embedded database without tables. */
async function openEmbeddedTarget(dataDir: string): Promise<Db> {
  refuseOccupiedFolder(dataDir);
  return openPglite(dataDir);
}

/**
 * What takes away again what opening the embedded target made, for a copy refused or not committed: the outermost
 * folder of its path that is not there yet (the database makes the folders it needs), or the files put into an
 * empty folder that is (the folder stays). Anything else was there before, and is left as it is.
 */
function undoEmbeddedTarget(dataDir: string): () => Promise<void> {
  let made: string | undefined;
  // lstat, not exists: a dangling symlink is there, and is not the copy's to remove
  const absent = (at: string): boolean => lstatSync(at, { throwIfNoEntry: false }) === undefined;
  for (let at = resolve(dataDir); absent(at) && dirname(at) !== at; at = dirname(at)) made = at;
  if (made !== undefined) {
    const folder = made;
    return () => rm(folder, { recursive: true, force: true });
  }
  // a file there, or a folder that cannot be read, is refused by the copy itself: it is left as it is
  const before = (() => {
    try {
      return readdirSync(dataDir);
    } catch {
      return undefined;
    }
  })();
  if (before?.length !== 0) return async () => undefined;
  return async () => {
    for (const name of readdirSync(dataDir)) await rm(join(dataDir, name), { recursive: true, force: true });
  };
}

/** The copy's checks as tables: every table's rows on both sides, every sequence, and reconcile on the copy. */
function describe(report: CopyReport, targetName: string): string {
  const tables = table(
    ['TABLE', 'SOURCE', 'COPY', 'CHECK'],
    report.tables.map((count) => [
      count.table,
      count.source,
      count.target,
      count.source !== count.target ? 'DIFFERS' : count.identical ? 'ok' : 'ROWS DIFFER',
    ]),
  );
  const sequences = table(
    ['SEQUENCE', 'SOURCE', 'COPY', 'CHECK'],
    report.sequences.map((sequence) => [
      sequence.sequence,
      sequence.source,
      sequence.target,
      sequence.ahead && sequence.source === sequence.target ? 'ok' : sequence.ahead ? 'DIFFERS' : 'BEHIND ITS ROWS',
    ]),
  );
  const reconcile = report.reconcile.clean
    ? `reconcile on the copy: clean (${report.reconcile.levels} levels, ${report.reconcile.movements} ledger rows)`
    : `reconcile on the copy: DRIFT (${report.reconcile.drift.length} levels differ from their ledger, ` +
      `${report.reconcile.holds.length} from their holds, ${report.reconcile.states.length} in their states, ` +
      `${report.reconcile.costs.length} in their value; run \`stockroom reconcile\` on the source)`;
  const triggers =
    report.disabledTriggers.length === 0 ? [] : [`triggers left off: ${report.disabledTriggers.join(', ')}`];
  const outcome = report.committed
    ? `copied into ${targetName}: every check passed`
    : `a check failed: nothing was committed, ${targetName} is as it was`;
  return [tables, '', sequences, '', reconcile, ...triggers, outcome].join('\n');
}
