import { Redis } from 'ioredis';
import { UnavailableError, ValidationError } from '../domain/errors.js';

/** Where a command that waits for an unresponsive Redis gives up, and its caller goes on without it. */
const COMMAND_TIMEOUT_MS = 250;

/** A Redis URL as it may be shown: its host and port, never its user or password. */
function where(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || '6379'}`;
  } catch {
    return 'the address given';
  }
}

interface Log {
  warn(details: object, message: string): void;
  info(message: string): void;
}

/**
 * A connection to Redis for something the server can do without for a while (the availability cache, the public
 * rate limit's counts). While Redis is away its commands fail at once, and one sent to a Redis that does not answer
 * gives up after COMMAND_TIMEOUT_MS: a storefront read then goes to the database, a request is served unlimited,
 * instead of each waiting out reconnection attempts (seconds each). The log says so once an outage, and again when
 * Redis is back; ioredis reconnects on its own, with backoff.
 */
export class RedisConnection {
  /**
   * The open connections to each Redis, by URL. An outage one of them finds is every one's: the others are dropped
   * to reconnect, so their commands fail at once instead of each waiting out its own timeout (a public request
   * would wait for the rate limit's, then for the cache's).
   */
  private static readonly byUrl = new Map<string, Set<RedisConnection>>();
  private url = '';
  private log: Log | undefined;
  private away = false;
  private closed = false;
  private lastError: string | undefined;
  private refusalSaid = false;
  private readonly returns: (() => void)[] = [];
  private readonly departures: (() => void)[] = [];

  private constructor(
    readonly redis: Redis,
    /** what uses it, and what it does while Redis is away, for the log */
    private readonly user: { name: string; meanwhile: string },
  ) {
    redis.on('error', (err: Error) => {
      // an outage found by its connection closing is said once more with Redis's own refusal (WRONGPASS after a
      // password change, DENIED in protected mode), which only the reconnection attempts give
      if (this.away && !this.refusalSaid && err.name === 'ReplyError' && !this.closed) {
        this.refusalSaid = true;
        this.warn(err.message);
      }
      this.lastError = err.message;
      this.wentAway(err.message);
    });
    // a connection closed without an error (Redis stopped cleanly) is an outage too
    redis.on('close', () => {
      this.wentAway('the connection was closed');
    });
    redis.on('ready', () => {
      if (!this.away) return;
      this.away = false;
      this.refusalSaid = false;
      this.lastError = undefined;
      this.log?.info(`${this.user.name} reaches Redis again`);
      for (const then of this.returns) then();
    });
  }

  /**
   * Connects before serving, so a wrong URL fails at start-up rather than at the first shopper.
   * @throws UnavailableError when Redis cannot be reached (named by host and port: the URL may hold a password)
   */
  static async open(url: string, user: { name: string; meanwhile: string }): Promise<RedisConnection> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // a Redis that stops answering (stopped with SIGSTOP, a network that drops packets) is an outage too: without it
      // each command would time out on its own, no outage would be said, and nothing done when it ends
      socketTimeout: COMMAND_TIMEOUT_MS,
    });
    const connection = new RedisConnection(redis, user);
    try {
      await redis.connect();
    } catch (error) {
      // or ioredis goes on reconnecting, and the process that gave up on it never ends
      redis.disconnect();
      const why = connection.lastError ?? (error instanceof Error ? error.message : String(error));
      throw new UnavailableError(`cannot reach Redis at ${where(url)} (REDIS_URL): ${why}`, 5, { cause: error });
    }
    // the URL's database number: one past what Redis has is refused by SELECT, which ioredis reports after it is
    // ready and then works in database 0, shared with whatever else is there
    const db = redis.options.db ?? 0;
    if (db > 0) {
      try {
        await redis.select(db);
      } catch (error) {
        redis.disconnect();
        throw ValidationError.field(
          '/env/REDIS_URL',
          `Redis at ${where(url)} refused database ${db}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    connection.url = url;
    const siblings = RedisConnection.byUrl.get(url) ?? new Set<RedisConnection>();
    siblings.add(connection);
    RedisConnection.byUrl.set(url, siblings);
    return connection;
  }

  /** Where an outage and the return are said (the server's log, once it has one; an outage begun before, at once). */
  logTo(log: Log): void {
    this.log = log;
    if (this.away) this.warn(this.lastError ?? 'not reached since start');
  }

  /** Calls `then` each time Redis is found away. */
  onAway(then: () => void): void {
    this.departures.push(then);
  }

  /** Calls `then` each time Redis can be reached again after an outage. */
  onReturn(then: () => void): void {
    this.returns.push(then);
  }

  /** Closes the connection: what it kept in Redis stays there for the other processes. */
  async close(): Promise<void> {
    this.closed = true;
    const siblings = RedisConnection.byUrl.get(this.url);
    siblings?.delete(this);
    if (siblings?.size === 0) RedisConnection.byUrl.delete(this.url);
    await this.redis.quit().catch(() => {
      this.redis.disconnect();
    });
  }

  private wentAway(reason: string): void {
    if (this.away || this.closed) return;
    this.away = true;
    for (const then of this.departures) then();
    this.warn(reason);
    // still connected to a Redis that stopped answering, a sibling would wait out its own timeout first: it is
    // away too, and its connection is ended (so its commands fail at once) and made again, as for any outage
    for (const sibling of RedisConnection.byUrl.get(this.url) ?? [])
      if (sibling !== this && !sibling.away && !sibling.closed) {
        sibling.redis.disconnect(true);
        sibling.wentAway(`another connection to this Redis found it away: ${reason}`);
      }
  }

  private warn(reason: string): void {
    this.log?.warn({ reason }, `${this.user.name} cannot reach Redis: ${this.user.meanwhile} until it is back`);
  }
}
