import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';

/** A TCP relay in front of the PostgreSQL server that the test can cut, as a network failure would. */
async function relay(target: URL): Promise<{ url: string; cut: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    cut: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describe.skipIf(!postgresUrl())('when the database cannot be reached', () => {
  it('the API answers 503 unavailable and /healthz says so', async () => {
    const { url, drop } = await createPostgresDatabase();
    const r = await relay(new URL(url));
    const s = new Stockroom({ db: await openPostgres(r.url, { max: 2 }) });
    await migrate(s.db);
    const { key } = await s.keys.create({ name: 'ops', scopes: ['admin'] });
    const app = await buildServer({ stockroom: s });
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await r.cut();
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      const reply = await app.inject({ method: 'GET', url: '/v1/warehouses', headers: { authorization: `Bearer ${key}` } });
      expect(reply.statusCode).toBe(503);
      expect(reply.json()).toMatchObject({ code: 'unavailable', status: 503 });
    } finally {
      await app.close();
      await s.close().catch(() => undefined);
      await drop();
    }
  });
});
