import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from './support/databases.js';
import { get } from './support/raw-http.js';
import type { RawReply } from './support/raw-http.js';
import { startRedisServer } from './support/redis-server.js';
import {
  ADMIN_KEY,
  adminCall,
  apiCall,
  expectServerDatabaseReconciled,
  serverDatabase,
  useServer,
} from './support/served.js';
import type { ServerDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

const LIMIT = 5;
const WINDOW_MS = 2_000;

describe('rate limits on the public storefront routes, served by a real process', () => {
  const ctx = useServer('pglite', {
    STOCKROOM_PUBLIC_RATE_LIMIT: String(LIMIT),
    STOCKROOM_PUBLIC_RATE_WINDOW_MS: String(WINDOW_MS),
  });
  const availability = (sku: string) => `${ctx.server.url}/v1/availability?sku=${sku}`;
  const problemOf = async (reply: RawReply) => ({
    status: reply.status,
    type: reply.headers['content-type'],
    cors: reply.headers['access-control-allow-origin'],
    body: JSON.parse(await reply.text()) as { code: string; detail: string },
  });

  it('answers 429 rate_limited with Retry-After past the configured rate on /v1/availability, per client address, and lets the client in again once the window has passed', async () => {
    await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'RATE-1', product: { title: 'limited' } });
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const reply = await get(availability('RATE-1'), '127.0.0.11');
      statuses.push(reply.status);
      await reply.text();
    }
    expect(statuses).toEqual(Array.from({ length: LIMIT }, () => 200));

    const refused = await get(availability('RATE-1'), '127.0.0.11');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000).toBe(true);
    expect(await problemOf(refused)).toMatchObject({
      status: 429,
      type: 'application/problem+json; charset=utf-8',
      cors: '*', // a storefront page can read why
      body: { code: 'rate_limited', detail: expect.stringContaining(`at most ${LIMIT} requests`) as unknown },
    });
    // the stream's opening counts against the same budget
    const stream = await get(`${ctx.server.url}/v1/availability/stream?sku=RATE-1`, '127.0.0.11');
    expect((await problemOf(stream)).body.code).toBe('rate_limited');

    // another address has a budget of its own, and keyed routes have no such limit
    const other = await get(availability('RATE-1'), '127.0.0.12');
    expect(other.status).toBe(200);
    await other.text();
    for (let i = 0; i < LIMIT + 2; i++) expect((await apiCall(ctx.server, 'GET', '/v1/stock/RATE-1')).status).toBe(200);

    // the window passes (Retry-After said when): the address is let in again
    for (let tries = 0; ; tries++) {
      const again = await get(availability('RATE-1'), '127.0.0.11');
      await again.text();
      if (again.status === 200) break;
      expect(again.status).toBe(429);
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

describe.skipIf(!redisUrl())('the public rate limit shared in Redis by every server process', () => {
  let redis: { url: string; stop: () => void };
  let servers: ServerProcess[];
  let databases: ServerDatabase[];

  beforeAll(async () => {
    redis = await startRedisServer();
    databases = await Promise.all([serverDatabase('pglite'), serverDatabase('pglite')]);
    servers = await Promise.all(
      databases.map((database) =>
        startServer({
          ...database.env,
          STOCKROOM_ADMIN_KEY: ADMIN_KEY,
          REDIS_URL: redis.url,
          STOCKROOM_PUBLIC_RATE_LIMIT: String(LIMIT),
          STOCKROOM_PUBLIC_RATE_WINDOW_MS: '60000',
        }),
      ),
    );
    for (const server of servers)
      await adminCall(server, 'POST', '/v1/variants', { sku: 'SHARED-RATE', product: { title: 'shared' } });
  });
  afterAll(async () => {
    expect(await Promise.all(servers.map((server) => server.stop()))).toEqual([0, 0]);
    redis.stop();
    for (const database of databases) {
      await expectServerDatabaseReconciled(database);
      await database.cleanup();
    }
  });

  const ask = async (server: ServerProcess, from: string): Promise<number> => {
    const reply = await get(`${server.url}/v1/availability?sku=SHARED-RATE`, from);
    await reply.text();
    return reply.status;
  };

  it('counts a client address across processes, serves it unlimited while Redis is away, and limits it again once Redis is back', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    // one budget for both processes: the limit's worth of requests spread over them, then a refusal from either
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push(await ask(i % 2 === 0 ? a : b, '127.0.0.21'));
    expect(statuses).toEqual(Array.from({ length: LIMIT }, () => 200));
    expect([await ask(a, '127.0.0.21'), await ask(b, '127.0.0.21')]).toEqual([429, 429]);
    expect(await ask(b, '127.0.0.22')).toBe(200);

    // Redis goes away: shoppers are served (not refused, not a 500), and each process says so once
    const port = Number(new URL(redis.url).port);
    redis.stop();
    await Promise.all(servers.map((server) => server.waitFor(/public rate limit cannot reach Redis/)));
    for (let i = 0; i < LIMIT + 2; i++) expect(await ask(i % 2 === 0 ? a : b, '127.0.0.21')).toBe(200);
    for (const server of servers) {
      expect(server.output().match(/the public rate limit cannot reach Redis/g)).toHaveLength(1);
      expect(server.output().match(/the availability cache cannot reach Redis/g)).toHaveLength(1);
    }

    // a Redis again (empty: the old counts went with it): the counts are kept there again, for both processes
    redis = await startRedisServer({ port });
    // each process reconnects on its own backoff: once one refuses an address of its own, it counts in Redis again
    // (while Redis is away nothing is refused)
    for (const [i, server] of servers.entries()) {
      for (let tries = 0; (await ask(server, `127.0.0.3${i}`)) !== 429; tries++) {
        expect(tries).toBeLessThan(400);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    const again = [await ask(a, '127.0.0.24')];
    for (let i = 1; i < LIMIT; i++) again.push(await ask(i % 2 === 0 ? a : b, '127.0.0.24'));
    expect(again).toEqual(Array.from({ length: LIMIT }, () => 200));
    expect([await ask(a, '127.0.0.24'), await ask(b, '127.0.0.24')]).toEqual([429, 429]);
  });
});
