import pg from 'pg';
import { isUnavailable, sqlState } from './db.js';
import type { Db, DbLog, Queryable, QueryResult } from './db.js';
import { openPostgres } from './postgres.js';

/** What reads run on: statements, and read-only transactions (several statements on one connection). */
export interface ReadSource extends Queryable {
  transaction: Db['transaction'];
}

/**
 * Reads that may be answered slightly stale (docs/design.md, "Read replicas"): by a streaming replica that is
 * at most `maxStalenessMs` behind the primary, or by the primary itself. Never used for anything that writes or
 * decides stock.
 */
export interface StaleReads extends ReadSource {
  /** how old what it reads may be at most, in ms (0: only the primary answers) */
  readonly maxStalenessMs: number;
}

/** How replicas are used and checked; every field has a default. */
export interface ReplicaOptions {
  /** a replica further behind the primary than this is skipped until it catches up (default 1000 ms) */
  maxLagMs?: number | undefined;
  /** how often every replica's lag is measured, in the background (default 500 ms) */
  checkEveryMs?: number | undefined;
  /** the most connections the read pool of one replica holds (default 5) */
  poolMax?: number | undefined;
  /** how long a read or a check waits for a replica's connection (default 2000 ms): then it is taken as unreachable */
  connectTimeoutMs?: number | undefined;
  /** a read on a replica that has not answered in this long is abandoned and read from the primary (default 60000 ms; 0: never) */
  queryTimeoutMs?: number | undefined;
  /** prepare statements on the replicas' connections (default true) */
  prepare?: boolean | undefined;
}

/** How far behind a replica may be before it is skipped unless told (STOCKROOM_REPLICA_MAX_LAG_MS). */
export const DEFAULT_REPLICA_MAX_LAG_MS = 1000;
/** How often the replicas are checked unless told (STOCKROOM_REPLICA_CHECK_MS). */
export const DEFAULT_REPLICA_CHECK_MS = 500;
/** A replica's read pool size unless told (STOCKROOM_REPLICA_POOL_MAX). */
export const DEFAULT_REPLICA_POOL_MAX = 5;
/** How long a read or check waits for a replica's connection unless told (STOCKROOM_REPLICA_CONNECT_TIMEOUT_MS). */
export const DEFAULT_REPLICA_CONNECT_TIMEOUT_MS = 2000;
/** How a replica sees the read pool's connections (pg_stat_activity), apart from the checks'. */
export const REPLICA_READS_APPLICATION_NAME = 'stockroom-replica-reads';

/**
 * Why a replica is used or skipped, as the last check found it. `unreadable`: its URL's user may not read every
 * table and view of stockroom's schema (a role without grants), so reads there would fail.
 */
export type ReplicaCondition = 'unchecked' | 'healthy' | 'lagging' | 'unreachable' | 'not-standby' | 'unreadable';

/** Where a replica set says that a replica is skipped or used again (a server's logger, once it exists). */
export interface ReplicaLog extends DbLog {
  info(fields: Record<string, unknown>, message: string): void;
}

/** One replica as the last check found it. */
export interface ReplicaState {
  /** host:port/database, never the user or password: a metrics label and a log field */
  name: string;
  condition: ReplicaCondition;
  /** how far behind the primary it was, in ms; null when it could not be measured */
  lagMs: number | null;
}

/** What the replicas did: each one's state and how many stale-safe reads each pool (or the primary) served. */
export interface ReplicaStats {
  replicas: ReplicaState[];
  /** reads served, by pool: 'primary' or a replica's name */
  reads: Record<string, number>;
}

/** The name of a replica URL as metrics and logs show it: no credentials. */
export function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** A WAL position ('16/B374D848') as a number of bytes, exact past 2^53. */
export function lsnBytes(lsn: string): bigint {
  const [high = '', low = ''] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** WAL page size (XLOG_BLCKSZ, 8 kB in every PostgreSQL build that does not say otherwise). */
const WAL_PAGE = 8192n;
/** Page header sizes: a page's, a segment's first page's. */
const WAL_PAGE_HEADERS: readonly bigint[] = [24n, 40n];

/**
 * Whether a replica that replayed up to `replayed` has everything the primary had inserted at `inserted`. The
 * insert position of a primary whose last record ended on a page boundary points past the next page's header,
 * which no record fills yet: a replica at the boundary has it all.
 */
export function lsnReached(replayed: bigint, inserted: bigint): boolean {
  if (replayed >= inserted) return true;
  const intoPage = inserted % WAL_PAGE;
  return WAL_PAGE_HEADERS.includes(intoPage) && replayed >= inserted - intoPage;
}

/** Where the primary's WAL stood at a moment: what a replica must have replayed to have seen all before it. */
interface PrimarySample {
  at: number;
  lsn: bigint;
}

/**
 * How far behind a replica is, from what it has replayed and the primary's recent WAL positions. The replay
 * timestamp alone is no measure: on an idle primary the last commit may be an hour old while the replica has
 * everything. So a replica that has replayed the newest sampled position is 0 behind; otherwise it has been
 * behind since the first sample past what it replayed (the writes it lacks came after the sample before), and
 * never more than the age of its last replayed commit says. One that has not reached even the oldest sample
 * kept has been behind since before it, for how long the samples cannot say (the first check has one sample; a
 * process stalled past the samples' window has one fresh sample): the age of its last replayed commit, the most
 * it can be, is taken rather than the moment since that sample, which would pass a replica paused for an hour.
 */
export function lagOf(replayed: bigint, samples: readonly PrimarySample[], now: number, sinceReplayMs: number | null) {
  const newest = samples.at(-1);
  if (newest === undefined || lsnReached(replayed, newest.lsn)) return 0;
  const firstAhead = samples.find((sample) => !lsnReached(replayed, sample.lsn)) ?? newest;
  const behindFor = Math.max(0, now - firstAhead.at);
  if (sinceReplayMs === null) return behindFor;
  if (firstAhead === samples[0]) return Math.max(behindFor, sinceReplayMs);
  return Math.max(0, Math.min(behindFor, sinceReplayMs));
}

/**
 * SQLSTATEs after which a read on a replica is read again from the primary: a conflict with recovery (40001), and
 * a permission refused (42501: grants changed since the last check found the user could read).
 */
const READ_AGAIN_ON_PRIMARY: ReadonlySet<string> = new Set(['40001', '42501']);

const readAgainOnPrimary = (error: unknown): boolean => {
  const state = sqlState(error);
  return isUnavailable(error) || (state !== undefined && READ_AGAIN_ON_PRIMARY.has(state));
};

interface Replica {
  name: string;
  url: string;
  reads: Db | undefined;
  /** a connection of its own for the checks: a read pool full of slow exports must not hold a check back */
  checks: pg.Pool;
  state: ReplicaState;
}

/**
 * What a replica says of itself in one statement: whether it is a standby, what it replayed, when, and whether
 * the URL's user may read every table and view of stockroom's schema (those of schema_migrations' owner, in its
 * schema; none found, as in another database, is false). A replica that streams but refuses the reads would
 * answer every one with an error.
 */
const CHECK_SQL = `SELECT pg_is_in_recovery() AS standby,
  pg_last_wal_replay_lsn()::text AS replayed,
  (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS since_replay_ms,
  coalesce((SELECT bool_and(has_table_privilege(c.oid, 'SELECT'))
     FROM pg_class c JOIN pg_class m ON m.oid = to_regclass('schema_migrations')
    WHERE c.relnamespace = m.relnamespace AND c.relowner = m.relowner AND c.relkind IN ('r', 'v', 'm', 'p')), false)
    AS readable`;

/**
 * The read replicas of a primary: a bounded read pool per replica, every replica's lag measured on an interval
 * in the background (never per query), and the stale-safe reads sent round-robin to the replicas within the lag
 * bound; with none, to the primary. A read a replica fails to answer (lost, or cancelled by a conflict with
 * recovery) is read again from the primary and the replica is skipped until the next check finds it well.
 */
export class ReplicaSet implements StaleReads {
  readonly maxStalenessMs: number;
  private readonly maxLagMs: number;
  private readonly checkEveryMs: number;
  private readonly replicas: Replica[];
  private samples: PrimarySample[] = [];
  private readonly served = new Map<string, number>([['primary', 0]]);
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private closed = false;
  private log: ReplicaLog | undefined;
  /** each replica's condition as last logged: a change from it is logged once */
  private readonly logged = new Map<string, ReplicaCondition>();

  private constructor(
    private readonly primary: Db,
    urls: readonly string[],
    private readonly options: ReplicaOptions,
  ) {
    this.maxLagMs = options.maxLagMs ?? DEFAULT_REPLICA_MAX_LAG_MS;
    this.checkEveryMs = options.checkEveryMs ?? DEFAULT_REPLICA_CHECK_MS;
    // a replica found well may fall behind until the next check finds it out
    this.maxStalenessMs = this.maxLagMs + this.checkEveryMs;
    const names = new Set<string>();
    this.replicas = urls.map((url) => {
      let name = replicaName(url);
      // the same server named twice still gets two labels
      for (let n = 2; names.has(name); n++) name = `${replicaName(url)}#${n}`;
      names.add(name);
      this.served.set(name, 0);
      const checks = new pg.Pool({
        connectionString: url,
        application_name: 'stockroom-replica-check',
        max: 1,
        connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
        query_timeout: options.connectTimeoutMs ?? DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
        keepAlive: true,
      });
      checks.on('error', () => undefined);
      return { name, url, reads: undefined, checks, state: { name, condition: 'unchecked', lagMs: null } };
    });
  }

  /**
   * Opens the read pools (a replica that cannot be reached yet is no error: it is skipped until a check finds
   * it), measures every replica once, then keeps measuring every `checkEveryMs` until closed.
   */
  static async open(primary: Db, urls: readonly string[], options: ReplicaOptions = {}): Promise<ReplicaSet> {
    const set = new ReplicaSet(primary, urls, options);
    await set.check();
    set.timer = setInterval(() => void set.check(), set.checkEveryMs);
    set.timer.unref();
    return set;
  }

  /** Each replica as the last check found it. */
  get states(): ReplicaState[] {
    return this.replicas.map((replica) => ({ ...replica.state }));
  }

  /** The replicas' states and the reads each pool served so far (the metrics read it at each scrape). */
  get stats(): ReplicaStats {
    return { replicas: this.states, reads: Object.fromEntries(this.served) };
  }

  /**
   * Where a replica skipped (warning) or used again (info) is said from now on; the next check says how each one
   * stands unless it is healthy.
   */
  logTo(log: ReplicaLog): void {
    this.log = log;
  }

  /** Measures every replica now (a check already running is joined, not doubled); resolves with their states. */
  async check(): Promise<ReplicaState[]> {
    this.checking ??= this.checkAll().finally(() => {
      this.checking = undefined;
    });
    await this.checking;
    return this.states;
  }

  /** One statement on a replica within the bound, else (or when it fails to answer) on the primary. */
  async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.read((db) => db.query<R>(sql, params));
  }

  /** Scripts are not reads: they run on the primary. */
  exec(sql: string): Promise<void> {
    return this.primary.exec(sql);
  }

  /** A read-only transaction on a replica within the bound, else (or when it fails to answer) on the primary. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.read((db) => db.transaction(fn));
  }

  /** Stops checking and closes the replicas' pools; the primary is the caller's to close. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.checking?.catch(() => undefined);
    await Promise.all(
      this.replicas.map(async (replica) => {
        await replica.checks.end().catch(() => undefined);
        await replica.reads?.close().catch(() => undefined);
      }),
    );
  }

  private async read<T>(run: (db: Db) => Promise<T>): Promise<T> {
    const replica = this.pick();
    if (replica?.reads) {
      try {
        const result = await run(replica.reads);
        this.count(replica.name);
        return result;
      } catch (error) {
        if (!readAgainOnPrimary(error)) throw error;
        // skipped until the next check finds it well; this read is answered by the primary
        if (isUnavailable(error)) replica.state = { ...replica.state, condition: 'unreachable', lagMs: null };
        else if (sqlState(error) === '42501') replica.state = { ...replica.state, condition: 'unreadable' };
        this.report();
      }
    }
    const result = await run(this.primary);
    this.count('primary');
    return result;
  }

  private count(pool: string): void {
    this.served.set(pool, (this.served.get(pool) ?? 0) + 1);
  }

  /** The next healthy replica, round-robin; none when every one is lagging, unreachable or not checked yet. */
  private pick(): Replica | undefined {
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length];
      if (replica?.state.condition === 'healthy') {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return undefined;
  }

  private async checkAll(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    try {
      // the primary's position first: what a replica replayed is then compared with a point it could have reached.
      // The insert position, not the written one: with synchronous_commit off a commit is seen before it is written.
      const { rows } = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      const lsn = rows[0]?.lsn;
      if (lsn !== undefined) this.samples.push({ at: now, lsn: lsnBytes(lsn) });
    } catch {
      // the primary is away: nothing new is written, so the samples so far still tell how far behind a replica is
    }
    // samples older than the bound (and a check or two) no longer change whether a replica is too far behind
    const keepFrom = now - this.maxLagMs - 2 * this.checkEveryMs;
    while (this.samples.length > 1 && (this.samples[0]?.at ?? now) < keepFrom) this.samples.shift();
    await Promise.all(this.replicas.map((replica) => this.checkOne(replica)));
    this.report();
  }

  /** Logs each replica whose condition changed since last logged: skipped as a warning, used again as info. */
  private report(): void {
    const log = this.log;
    if (!log) return;
    for (const { state } of this.replicas) {
      const before = this.logged.get(state.name) ?? 'unchecked';
      if (state.condition === before) continue;
      this.logged.set(state.name, state.condition);
      const fields = { replica: state.name, condition: state.condition, lag_ms: state.lagMs, was: before };
      if (state.condition === 'healthy') {
        if (before !== 'unchecked') log.info(fields, 'read replica used again');
      } else if (state.condition !== 'unchecked') {
        log.warn(
          fields,
          `read replica skipped (${state.condition}): its reads go to the other replicas or the primary`,
        );
      }
    }
  }

  private async checkOne(replica: Replica): Promise<void> {
    try {
      const { rows } = await replica.checks.query<{
        standby: boolean;
        replayed: string | null;
        since_replay_ms: number | null;
        readable: boolean;
      }>(CHECK_SQL);
      const row = rows[0];
      if (!row?.standby || row.replayed === null) {
        // promoted, or a primary named by mistake: its data no longer follow this primary's
        replica.state = { name: replica.name, condition: 'not-standby', lagMs: null };
        return;
      }
      const lagMs = lagOf(lsnBytes(row.replayed), this.samples, Date.now(), row.since_replay_ms);
      if (!row.readable) {
        replica.state = { name: replica.name, condition: 'unreadable', lagMs };
        return;
      }
      if (lagMs <= this.maxLagMs) await this.openReads(replica);
      replica.state = { name: replica.name, condition: lagMs <= this.maxLagMs ? 'healthy' : 'lagging', lagMs };
    } catch {
      replica.state = { name: replica.name, condition: 'unreachable', lagMs: null };
    }
  }

  /** Opens a replica's read pool once (a check runs it; `close` waits for the check, then closes the pool). */
  private async openReads(replica: Replica): Promise<void> {
    if (replica.reads) return;
    replica.reads = await openPostgres(replica.url, {
      max: this.options.poolMax ?? DEFAULT_REPLICA_POOL_MAX,
      connectTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_REPLICA_CONNECT_TIMEOUT_MS,
      ...(this.options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: this.options.queryTimeoutMs }),
      ...(this.options.prepare === undefined ? {} : { prepare: this.options.prepare }),
      applicationName: REPLICA_READS_APPLICATION_NAME,
    });
  }
}
