import pg from 'pg';
import { retryDelayMs } from '../domain/backoff.js';
import { UnavailableError, ValidationError } from '../domain/errors.js';
import { isUnavailable, sqlState } from './db.js';
import type { DbLog, PoolUsage } from './db.js';
import { RETRY_AFTER_SECONDS } from './failures.js';

/**
 * Which server of a multi-host URL a connection may use, as libpq's `target_session_attrs` says: `any` takes the
 * first that answers, `read-write` the first that accepts writes (transaction_read_only off), `primary` the
 * first that is not in recovery. The read-only targets are refused: stockroom writes.
 */
export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'primary'] as const;
/** One of TARGET_SESSION_ATTRS. */
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** The servers a DATABASE_URL names, each as a URL of its own, and which of them a connection may use. */
export interface ServerList {
  /** one single-host URL per host, in the order given (the order they are tried in) */
  urls: string[];
  /** what a server must be to be used */
  target: TargetSessionAttrs;
}

const MULTI_HOST_URL = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i;

/**
 * The servers of a postgres:// URL with one host or several (`postgres://user@h1:5432,h2:5433/db`, as libpq
 * takes them; a host without a port gets the last port given, else 5432), and its `target_session_attrs`
 * (default `any`, as libpq; removed from each server's URL, node-postgres does not know it). `where` names the
 * setting in a refusal; the URL itself is never repeated (it may hold a password).
 */
export function parseServerList(connectionString: string, where: string): ServerList {
  const parts = MULTI_HOST_URL.exec(connectionString);
  if (!parts) throw ValidationError.field(where, 'must be a postgres:// or postgresql:// URL');
  const [, scheme = '', userInfo = '', hostList = '', rest = ''] = parts;
  const [path, query] = splitOnce(rest, '?');
  const params = new URLSearchParams(query ?? '');
  const target = params.get('target_session_attrs') ?? 'any';
  if (!(TARGET_SESSION_ATTRS as readonly string[]).includes(target))
    throw ValidationError.field(
      where,
      `target_session_attrs must be one of ${TARGET_SESSION_ATTRS.join(', ')} (stockroom writes), not "${target}"`,
    );
  params.delete('target_session_attrs');
  const search = params.toString();
  const hosts = hostList.split(',');
  if (hosts.length > 1 && hosts.some((host) => host === ''))
    throw ValidationError.field(where, 'lists an empty host between commas');
  // libpq: a host without a port takes the port given last in the list, or 5432
  const ports = hosts.map((host) => /^(?:\[[^\]]*\]|[^:]*):(\d+)$/.exec(host)?.[1]);
  const lastPort = ports.filter((port) => port !== undefined).at(-1) ?? '5432';
  const urls = hosts.map((host, i) => {
    const address = hosts.length > 1 && ports[i] === undefined ? `${host}:${lastPort}` : host;
    return `${scheme}${userInfo}${address}${path}${search ? `?${search}` : ''}`;
  });
  return { urls, target: target as TargetSessionAttrs };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** Whether a URL needs the primary looked for: several hosts, or one that must be checked before use. */
export const needsPrimarySearch = (servers: ServerList): boolean => servers.urls.length > 1 || servers.target !== 'any';

/**
 * The pool a Db uses now. One server: its pool, always. Several: the pool of the one found to be the primary,
 * looked for again whenever an error says it may have moved.
 */
export interface Servers {
  /** The pool of the server to use now; throws UnavailableError while there is none (a failover's gap). */
  pool(): pg.Pool;
  /** The settings of that server for a connection of one's own (a listener); throws as `pool` does. */
  connection(): pg.ClientConfig;
  /** Hears of an error met on the server: one saying it is gone or read-only starts a search for the primary. */
  noticed(error: unknown): void;
  /** How busy the current pool is; nothing in use while there is none. */
  usage(): PoolUsage;
  /** Where a primary lost, or found on another host, is said from now on (one server: nothing to say). */
  logTo(log: DbLog): void;
  /** Ends every pool and stops searching. */
  end(): Promise<void>;
}

/** How pools are made, and how long a primary search waits between passes that found none. */
export interface ServerSettings {
  /** what every connection gets (timeouts, application_name, keepalive), less the server's URL */
  connection: pg.ClientConfig;
  /** what every pool gets besides (size, type parsers) */
  pool: pg.PoolConfig;
  /** the longest wait between two passes of a primary search (the first waits 100 ms, then doubling) */
  searchMaxMs: number;
}

/** The servers of a connection string: one pool for one plain server, else the primary searched for. */
export async function openServers(connectionString: string, settings: ServerSettings): Promise<Servers> {
  const servers = parseServerList(connectionString, '/databaseUrl');
  if (!needsPrimarySearch(servers)) return fixedServer(connectionString, settings);
  const search = new PrimarySearch(servers, settings);
  await search.open();
  return search;
}

function makePool(url: string, settings: ServerSettings, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ ...settings.connection, ...settings.pool, connectionString: url });
  // An idle client that loses its server emits 'error' on the pool, which has already dropped it; without a
  // listener that kills the process.
  pool.on('error', onError);
  return pool;
}

const usageOf = (pool: pg.Pool | undefined, settings: ServerSettings): PoolUsage =>
  pool
    ? { size: pool.options.max, inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }
    : { size: settings.pool.max ?? 10, inUse: 0, waiting: 0 };

function fixedServer(url: string, settings: ServerSettings): Servers {
  const pool = makePool(url, settings, () => undefined);
  return {
    pool: () => pool,
    connection: () => ({ ...settings.connection, connectionString: url }),
    noticed: () => undefined,
    usage: () => usageOf(pool, settings),
    logTo: () => undefined,
    end: () => pool.end(),
  };
}

/** A server as a log names it: host:port, never the user or password. */
function serverName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}`;
}

/** The first wait of a primary search that found none. */
const SEARCH_FIRST_MS = 100;

/**
 * Whether an error met on the primary says it may no longer be one: its connection is gone, it is shutting
 * down, or it refuses writes (25006 read_only_sql_transaction: a standby, or a demoted primary). Out of
 * connections (53300) or memory says the server is there and busy, and the search's own refusal is no news.
 */
function mayHaveMoved(error: unknown): boolean {
  if (error instanceof UnavailableError || sqlState(error)?.startsWith('53')) return false;
  return isUnavailable(error);
}

/**
 * node-postgres connects to one host. This is libpq's multi-host connection for a pool: every host is asked
 * with one query, and the pool is built against the first, in the order given, that is what
 * target_session_attrs asks. When an error says the primary may have moved, the hosts are tried again at once
 * and, while none is a primary (the gap before a standby is promoted), again with backoff; meanwhile callers
 * are refused as unavailable (503 with Retry-After) at once instead of waiting on a server that is gone.
 */
class PrimarySearch implements Servers {
  private current: { pool: pg.Pool; url: string } | undefined;
  /** the server last used, kept through a gap: the one found after it is named against it */
  private lastUrl: string | undefined;
  /** a gap was logged and no server has been found since */
  private inGap = false;
  private log: DbLog | undefined;
  private searching = false;
  private closed = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly servers: ServerList,
    private readonly settings: ServerSettings,
  ) {}

  /** The first pass, when the Db opens: without a primary, opening fails as unavailable (as one server does). */
  async open(): Promise<void> {
    const found = await this.find();
    if (found === undefined) throw this.none();
    this.use(found);
  }

  pool(): pg.Pool {
    if (this.current) return this.current.pool;
    throw this.none();
  }

  connection(): pg.ClientConfig {
    if (this.current) return { ...this.settings.connection, connectionString: this.current.url };
    throw this.none();
  }

  noticed(error: unknown): void {
    if (!this.closed && mayHaveMoved(error)) void this.search();
  }

  usage(): PoolUsage {
    return usageOf(this.current?.pool, this.settings);
  }

  logTo(log: DbLog): void {
    this.log = log;
  }

  async end(): Promise<void> {
    this.closed = true;
    this.wakeUp?.();
    const last = this.current;
    this.current = undefined;
    await last?.pool.end();
  }

  /** Read through a method: it changes across awaits, which narrowing would not see. */
  private isClosed(): boolean {
    return this.closed;
  }

  private none(): UnavailableError {
    return new UnavailableError(
      `none of the ${this.servers.urls.length} database servers is a ${this.servers.target === 'any' ? 'reachable' : this.servers.target} server now; try again`,
      RETRY_AFTER_SECONDS,
    );
  }

  /** One search at a time: passes until a server is found, the first at once, the others after a backoff. */
  private async search(): Promise<void> {
    if (this.searching) return;
    this.searching = true;
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        const found = await this.find();
        // end() may have come while the servers were asked: no pool is made after it
        if (this.isClosed()) return;
        if (found !== undefined) {
          this.use(found);
          return;
        }
        // none now: callers hear so at once rather than wait on a pool of a server that is gone or read-only
        if (!this.inGap) {
          this.inGap = true;
          this.log?.warn(
            { servers: this.servers.urls.map(serverName), target: this.servers.target, was: this.named(this.lastUrl) },
            `no database server is a ${this.servers.target} one now: requests are answered 503 until one is (a standby promoted, the primary back)`,
          );
        }
        this.drop();
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, retryDelayMs(attempt, SEARCH_FIRST_MS, this.settings.searchMaxMs, Math.random())).unref();
        });
        this.wakeUp = undefined;
      }
    } finally {
      this.searching = false;
    }
  }

  /**
   * The URL of the first server, in the order given, that is what the target asks; undefined when none is. All
   * are asked at once, so a host that does not answer costs one connect timeout, not one per host.
   */
  private async find(): Promise<string | undefined> {
    const answers = await Promise.all(this.servers.urls.map((url) => this.qualifies(url)));
    return this.servers.urls.find((_, i) => answers[i]);
  }

  /** One connection to one server, one query: is it the target? A server that does not answer is not. */
  private async qualifies(url: string): Promise<boolean> {
    const timeout = this.settings.connection.connectionTimeoutMillis ?? 5000;
    const client = new pg.Client({
      ...this.settings.connection,
      connectionString: url,
      query_timeout: timeout,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (this.servers.target === 'any') return true;
      const { rows } = await client.query<{ in_recovery: boolean; read_only: string }>(
        "SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') AS read_only",
      );
      const row = rows[0];
      return this.servers.target === 'primary' ? row?.in_recovery === false : row?.read_only === 'off';
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Builds the pool against the server found, unless it is the one in use already (a blip, not a failover). */
  private use(url: string): void {
    if (this.current?.url === url) return;
    // a failover (or the primary back after a gap) is said once, naming the server now used
    if (this.inGap || (this.lastUrl !== undefined && this.lastUrl !== url))
      this.log?.warn(
        { server: serverName(url), was: this.named(this.lastUrl) },
        `database primary is now ${serverName(url)}`,
      );
    this.inGap = false;
    this.lastUrl = url;
    this.drop();
    this.current = {
      url,
      pool: makePool(url, this.settings, (error) => {
        this.noticed(error);
      }),
    };
  }

  private named(url: string | undefined): string | undefined {
    return url === undefined ? undefined : serverName(url);
  }

  /** Lets go of the current pool: its idle connections close now, the busy ones once their callers are done. */
  private drop(): void {
    const last = this.current;
    this.current = undefined;
    void last?.pool.end().catch(() => undefined);
  }
}
