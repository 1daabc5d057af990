import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { RedisCache } from '../src/infra/redis-cache.js';
import { redisUrl } from './support/databases.js';
import { startRedisServer } from './support/redis-server.js';
import { uniq } from './support/harness.js';

describe.skipIf(!redisUrl())('the availability cache in Redis', () => {
  const open = () => RedisCache.connect<{ n: number }>(redisUrl(), 60_000);

  it('refuses a database number Redis does not have, rather than work in database 0', async () => {
    await expect(RedisCache.connect(`${redisUrl()}/99`, 60_000)).rejects.toThrow(
      /Redis at 127\.0\.0\.1:\d+ refused database 99: ERR DB index is out of range/,
    );
    // one it has is used
    const c = await RedisCache.connect<{ n: number }>(`${redisUrl()}/3`, 60_000);
    const raw = new Redis(`${redisUrl()}/3`);
    try {
      const x = uniq('SKU');
      await c.set(new Map([[x, { n: 1 }]]), c.begin());
      expect(await raw.exists(`stockroom:availability:${x}`)).toBe(1);
    } finally {
      raw.disconnect();
      await c.close();
    }
  });

  it('is shared: what one process keeps, another answers from', async () => {
    const [a, b] = [await open(), await open()];
    try {
      const key = uniq('SKU');
      await a.set(new Map([[key, { n: 1 }]]), a.begin());
      expect(await b.get([key, uniq('OTHER')])).toEqual(new Map([[key, { n: 1 }]]));
      expect(b.stats).toEqual({ hits: 1, misses: 1 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('drops announced SKUs, and everything on "all"', async () => {
    const c = await open();
    try {
      const [x, y] = [uniq('SKU'), uniq('SKU')];
      await c.set(
        new Map([
          [x, { n: 1 }],
          [y, { n: 2 }],
        ]),
        c.begin(),
      );
      await c.invalidate({ skus: [x] });
      expect([...(await c.get([x, y])).keys()]).toEqual([y]);
      await c.invalidate({ all: true });
      expect((await c.get([y])).size).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('never keeps an answer read before a change that landed while the read ran', async () => {
    const c = await open();
    try {
      const key = uniq('SKU');
      const slow = c.begin();
      await c.invalidate({ skus: [key] });
      await c.set(new Map([[key, { n: 1 }]]), slow);
      c.end(slow);
      expect((await c.get([key])).size).toBe(0);
    } finally {
      await c.close();
    }
  });
  it('keeps an answer no longer than the lifetime given with it, and not at all when none is left', async () => {
    const c = await open();
    const raw = new Redis(redisUrl());
    try {
      const [x, y, z] = [uniq('SKU'), uniq('SKU'), uniq('SKU')];
      await c.set(
        new Map([
          [x, { n: 1 }],
          [y, { n: 2 }],
          [z, { n: 3 }],
        ]),
        c.begin(),
        new Map([
          [x, 1_500],
          [y, 0],
        ]),
      );
      const ttl = async (key: string) => raw.pttl(`stockroom:availability:${key}`);
      expect(await ttl(x)).toBeGreaterThan(0);
      expect(await ttl(x)).toBeLessThanOrEqual(1_500);
      expect(await ttl(y)).toBe(-2); // not there
      expect(await ttl(z)).toBeGreaterThan(1_500);
    } finally {
      raw.disconnect();
      await c.close();
    }
  });

  it('fails a read at once while Redis is away, and empties itself when Redis is back with what it kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-redis-'));
    let redis = await startRedisServer({ dir });
    const c = await RedisCache.connect<{ n: number }>(redis.url, 60_000);
    const warned: string[] = [];
    c.logTo({ warn: (_details, message) => warned.push(message), info: () => undefined });
    try {
      const [x, y] = [uniq('SKU'), uniq('SKU')];
      await c.set(
        new Map([
          [x, { n: 1 }],
          [y, { n: 2 }],
        ]),
        c.begin(),
      );
      redis.stop();
      await vi.waitFor(() => {
        expect(warned).toEqual([
          'the availability cache cannot reach Redis: storefront reads go to the database until it is back',
        ]);
      });
      // a read fails at once (the caller reads the database) rather than wait for Redis to come back, and a delete
      // is not sent: the emptying when Redis is back covers it
      await expect(c.get([x])).rejects.toThrow();
      await expect(c.invalidate({ skus: [x] })).resolves.toBeUndefined();
      // Redis back with what it kept, x's delete lost with the outage: every entry goes, x's stale one with them
      redis = await startRedisServer({ port: Number(new URL(redis.url).port), dir });
      const raw = new Redis(redis.url);
      try {
        await vi.waitFor(
          async () => {
            expect(await raw.exists(`stockroom:availability:${x}`, `stockroom:availability:${y}`)).toBe(0);
          },
          { timeout: 10_000, interval: 50 },
        );
      } finally {
        raw.disconnect();
      }
      expect((await c.get([x, y])).size).toBe(0);
    } finally {
      await c.close();
      redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes an outage one connection finds for every connection to that Redis: the others fail at once, not after a timeout of their own', async () => {
    const redis = await startRedisServer();
    const first = await RedisCache.connect<{ n: number }>(redis.url, 60_000);
    const second = await RedisCache.connect<{ n: number }>(redis.url, 60_000);
    const said: string[] = [];
    for (const c of [first, second])
      c.logTo({ warn: (_details, message) => said.push(message), info: (message) => said.push(message) });
    const away = () => said.filter((message) => message.includes('cannot reach Redis'));
    try {
      const x = uniq('SKU');
      await first.set(new Map([[x, { n: 1 }]]), first.begin());
      expect((await second.get([x])).size).toBe(1);
      redis.signal('SIGSTOP');
      await expect(first.get([x])).rejects.toThrow(/timed out/i);
      // the second is told of the outage the first found, and never sends a command to wait on
      await vi.waitFor(() => {
        expect(away()).toHaveLength(2);
      });
      const failed = await second.get([x]).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(Error);
      expect(String(failed)).not.toMatch(/timed out/i);
      redis.signal('SIGCONT');
      await vi.waitFor(
        () => {
          expect(said.filter((message) => message.includes('reaches Redis again'))).toHaveLength(2);
        },
        { timeout: 15_000 },
      );
      expect((await second.get([x])).size).toBe(0);
    } finally {
      redis.signal('SIGCONT');
      await Promise.all([first.close(), second.close()]);
      redis.stop();
    }
  });

  it('takes a Redis that stops answering for an outage: commands give up, it is said once, and the cache is emptied when Redis goes on', async () => {
    const redis = await startRedisServer();
    const c = await RedisCache.connect<{ n: number }>(redis.url, 60_000);
    const said: string[] = [];
    c.logTo({ warn: (_details, message) => said.push(message), info: (message) => said.push(message) });
    try {
      const x = uniq('SKU');
      await c.set(new Map([[x, { n: 1 }]]), c.begin());
      redis.signal('SIGSTOP');
      // without a timeout this waits for ever: Redis keeps the connection open and never answers
      await expect(c.get([x])).rejects.toThrow(/timed out/i);
      await vi.waitFor(() => {
        expect(said).toEqual([
          'the availability cache cannot reach Redis: storefront reads go to the database until it is back',
        ]);
      });
      await expect(c.invalidate({ skus: [x] })).resolves.toBeUndefined();
      redis.signal('SIGCONT');
      await vi.waitFor(
        () => {
          expect(said).toContain('the availability cache reaches Redis again');
        },
        { timeout: 10_000 },
      );
      // x's delete was not sent (nothing to send it to): the emptying on Redis's return took x with it
      expect((await c.get([x])).size).toBe(0);
      expect(said).toHaveLength(2);
    } finally {
      redis.signal('SIGCONT');
      await c.close();
      redis.stop();
    }
  });
});
