import type { Redis } from 'ioredis';
import { RedisConnection } from './redis-connection.js';
import { ChangeClock } from './change-clock.js';
import type { StockChange } from '../domain/stock-change.js';

const PREFIX = 'stockroom:availability:';

/**
 * The cache shared by every server process of a store, in Redis: what one process read, the others answer
 * from. Every process hears every change the database announces and deletes the SKUs it names; a read that
 * began before a change it heard of never writes its older answer (ChangeClock). Entries expire after the
 * time to live whatever happens, the safety net should a notice be lost. While Redis is away reads go to the
 * database at once (RedisConnection), and the deletes of that time are lost: when Redis is back (a restart that
 * kept its data, a network that came back) this process empties the cache rather than let them serve until they
 * expire.
 */
export class RedisCache<T> {
  private readonly clock = new ChangeClock();
  readonly stats = { hits: 0, misses: 0 };
  private readonly redis: Redis;
  /** Redis went away since the cache was last emptied: deletes may have been lost, so it answers nothing until emptied */
  private unflushed = false;
  /** outages so far: an emptying that began before the last one does not count for it */
  private outages = 0;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly connection: RedisConnection,
    readonly ttlMs: number,
  ) {
    this.redis = connection.redis;
    connection.onAway(() => {
      this.outages++;
      this.unflushed = true;
    });
    connection.onReturn(() => {
      this.flush().catch(() => undefined);
    });
  }

  /** Connects before answering, so a wrong URL fails at start-up rather than at the first shopper. */
  static async connect<T>(url: string, ttlMs: number): Promise<RedisCache<T>> {
    const connection = await RedisConnection.open(url, {
      name: 'the availability cache',
      meanwhile: 'storefront reads go to the database',
    });
    return new RedisCache<T>(connection, ttlMs);
  }

  /** Where an outage of Redis and its end are said. */
  logTo(log: Parameters<RedisConnection['logTo']>[0]): void {
    this.connection.logTo(log);
  }

  /** The keys held in Redis (one round trip); the others are for the caller to read from the database. */
  async get(keys: readonly string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    // emptied first (failing while Redis is away: the caller reads the database); a read served between Redis's
    // return and the emptying could be of an entry a lost delete left
    if (this.unflushed) await this.flush();
    if (keys.length > 0) {
      const values = await this.redis.mget(...keys.map((key) => PREFIX + key));
      values.forEach((value, i) => {
        const key = keys[i];
        if (value !== null && key !== undefined) found.set(key, JSON.parse(value) as T);
      });
    }
    this.stats.hits += found.size;
    this.stats.misses += keys.length - found.size;
    return found;
  }

  /** As MemoryCache.begin: a read of the database starts (as of `lookbackMs` ago, for a replica), and this is its mark. */
  begin(lookbackMs?: number): number {
    return this.clock.begin(lookbackMs);
  }

  /** As MemoryCache.set: a key with a lifetime (ms) is kept no longer than that. */
  async set(entries: ReadonlyMap<string, T>, since: number, lifetimes?: ReadonlyMap<string, number>): Promise<void> {
    if (this.unflushed) return;
    const batch = this.redis.multi();
    let queued = 0;
    for (const [key, value] of entries) {
      if (!this.clock.unchangedSince(key, since)) continue;
      const keep = Math.floor(Math.min(this.ttlMs, lifetimes?.get(key) ?? Infinity));
      if (keep <= 0) continue;
      batch.set(PREFIX + key, JSON.stringify(value), 'PX', keep);
      queued++;
    }
    if (queued > 0) await batch.exec();
  }

  /** The read begun at `since` is over. */
  end(since: number): void {
    this.clock.end(since);
  }

  /** Deletes what an announced change made stale, for every process, and keeps reads in flight from putting it back. */
  async invalidate(change: StockChange): Promise<void> {
    this.clock.changed(change);
    // while Redis is away there is nothing to delete from: the emptying on its return covers this change
    if (this.unflushed) return;
    if ('skus' in change) {
      await this.redis.del(...change.skus.map((sku) => PREFIX + sku));
      return;
    }
    // anything may have changed: every entry goes
    await this.removeAll();
  }

  /** Empties the cache once for every caller waiting on it; done for the outages before it began. */
  private async flush(): Promise<void> {
    const outages = this.outages;
    this.flushing ??= this.removeAll()
      .then(() => {
        if (this.outages === outages) this.unflushed = false;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  private async removeAll(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Closes the connection; what is cached stays for the other processes. */
  async close(): Promise<void> {
    await this.connection.close();
  }
}
