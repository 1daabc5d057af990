import { userInfo } from 'node:os';
import { SchemaBehindError, ValidationError } from '../domain/errors.js';
import { DEFAULT_CURRENCY, currencyCode } from '../domain/money.js';
import { ALLOCATION_STRATEGIES, DEFAULT_ALLOCATION, isAllocationStrategy } from '../domain/routing.js';
import type { AllocationStrategy } from '../domain/routing.js';
import type { CallOptions } from '../services/context.js';
import { DEFAULT_LIST_TOTAL_MAX } from '../services/reservation-search.js';
import { DEFAULT_KIT_REFRESH_MS } from '../services/kits.js';
import { Stockroom } from '../services/stockroom.js';
import type { StockroomOptions } from '../services/stockroom.js';
import { DEFAULT_PULL_MAX_BYTES } from '../services/sync.js';
import { secretKeyFrom } from '../domain/secret-box.js';
import { sqlState } from '../store/db.js';
import { loadMigrations } from '../store/migrate.js';
import { openDbFromEnv } from '../store/open.js';
import type { ReplicaSet } from '../store/replicas.js';
import { envInt } from './args.js';
import type { Io } from './io.js';
import { databaseSettingError } from './database-settings.js';
import { openReplicas, replicaSettingsFromEnv } from './replicas.js';
import type { ReplicaSettings } from './replicas.js';

/** The options every command takes (`--json`, `--actor`). */
export interface GlobalOptions {
  json?: boolean;
  actor?: string;
}

/** What a command runs with: where it writes, the environment it reads, who it acts as. */
export interface CommandContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  /** prints a result: as JSON with --json, else as the human text */
  print: (result: unknown, human: string | (() => string)) => void;
  actor: string;
  /** sets the exit code for a command that completed but found something wrong (reconcile drift) */
  exit: (code: number) => void;
}

/**
 * Opens the database named by the environment for one command. The embedded database is migrated on the
 * spot (it belongs to this checkout); a PostgreSQL server is migrated only by `stockroom migrate`, on purpose.
 */
export async function withStockroom<T>(
  env: NodeJS.ProcessEnv,
  useCase: (stockroom: Stockroom) => Promise<T>,
  options: { migrate?: boolean; replicas?: boolean } = {},
): Promise<T> {
  // every setting is read and checked before anything is opened or created: a refusal leaves no pool open and
  // no embedded data folder made
  // DATABASE_REPLICA_URL: only a server reads from replicas (a one-off command reads its answer from the primary)
  const replicaSettings = options.replicas ? replicaSettingsFromEnv(env) : undefined;
  const settings = {
    sync: {
      signatureToleranceSeconds: envInt(env, 'STOCKROOM_SYNC_SIGNATURE_TOLERANCE_SECONDS', 300, 1),
      pullMaxBytes: envInt(env, 'STOCKROOM_SYNC_PULL_MAX_BYTES', DEFAULT_PULL_MAX_BYTES, 1),
    },
    allocation: allocationFromEnv(env),
    secretKey: secretKeyFromEnv(env),
    listTotalMax: envInt(env, 'STOCKROOM_LIST_TOTAL_MAX', DEFAULT_LIST_TOTAL_MAX, 1),
    currency: currencyFromEnv(env),
    kitRefreshMs: envInt(env, 'STOCKROOM_KIT_REFRESH_MS', DEFAULT_KIT_REFRESH_MS, 1),
  };
  try {
    const stockroom = await openStockroom(env, settings, replicaSettings);
    try {
      if (options.migrate !== false) {
        if (stockroom.db.driver === 'pglite') await stockroom.migrate();
        else await assertMigrated(stockroom);
      }
      return await useCase(stockroom);
    } finally {
      await stockroom.close();
    }
  } catch (error) {
    // a server that refuses the URL itself (no such database, no SSL) says so at the first query, wherever that is
    throw databaseSettingError(error, env) ?? error;
  }
}

/** The Stockroom on the database the environment names; what was opened for it is closed if it cannot be made. */
async function openStockroom(
  env: NodeJS.ProcessEnv,
  settings: Omit<StockroomOptions, 'db' | 'replicas'>,
  replicaSettings: ReplicaSettings | undefined,
): Promise<Stockroom> {
  const db = await openDbFromEnv(env);
  let replicas: ReplicaSet | undefined;
  try {
    replicas = replicaSettings && (await openReplicas(db, replicaSettings));
    return new Stockroom({ db, replicas, ...settings });
  } catch (error) {
    // nothing owns them yet: a pool left open keeps the process alive long after the error is printed
    await replicas?.close();
    await db.close();
    throw error;
  }
}

/** STOCKROOM_SECRET_KEY, when set: checked here (16+ characters) rather than where the services first use it. */
function secretKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.STOCKROOM_SECRET_KEY || undefined;
  if (value !== undefined) secretKeyFrom(value);
  return value;
}

/**
 * One command's work, the shape nearly every command shares: runs the use case against the database the
 * environment names, as the command's actor, and prints its result (JSON with --json, else as `human` says it).
 */
export async function runAndPrint<T>(
  context: CommandContext,
  useCase: (stockroom: Stockroom, call: CallOptions) => Promise<T>,
  human: (result: T) => string,
): Promise<void> {
  const result = await withStockroom(context.env, (stockroom) => useCase(stockroom, { actor: context.actor }));
  context.print(result, () => human(result));
}

/** STOCKROOM_CURRENCY: the store's currency (ISO 4217, default USD); anything else is refused before anything starts. */
export function currencyFromEnv(env: NodeJS.ProcessEnv): string {
  return currencyCode(env.STOCKROOM_CURRENCY?.trim() || DEFAULT_CURRENCY, '/env/STOCKROOM_CURRENCY');
}

/** STOCKROOM_ALLOCATION: the store's allocation strategy; a name that is none is refused before anything starts. */
export function allocationFromEnv(env: NodeJS.ProcessEnv): AllocationStrategy {
  const value = env.STOCKROOM_ALLOCATION?.trim();
  if (!value) return DEFAULT_ALLOCATION;
  if (!isAllocationStrategy(value))
    throw ValidationError.field('/env/STOCKROOM_ALLOCATION', `must be one of ${ALLOCATION_STRATEGIES.join(', ')}`);
  return value;
}

async function assertMigrated(stockroom: Stockroom): Promise<void> {
  const { rows } = await stockroom.db
    .query<{ version: string }>('SELECT version FROM schema_migrations')
    .catch((error: unknown) => {
      if (sqlState(error) === '42P01') return { rows: [] }; // never migrated
      throw error;
    });
  const applied = new Set(rows.map((row) => row.version));
  const pending = (await loadMigrations())
    .map((migration) => migration.version)
    .filter((version) => !applied.has(version));
  if (pending.length > 0) throw new SchemaBehindError(pending);
}

/** Who acts when --actor is not given: the user running the command, as `cli:<name>`. */
export const defaultActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
};
