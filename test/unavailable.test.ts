import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../src/domain/errors.js';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import type { PostgresOptions } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';

interface Relay {
  /** the database's URL through the relay */
  url: string;
  /** a network failure: open connections are cut and new ones are closed as soon as they are made */
  cut: () => void;
  /** the network is back */
  heal: () => void;
  /** a server that froze, or packets silently lost: connections stay open and nothing goes through them */
  freeze: () => void;
  /** the relay is gone for good (a Unix socket: its file is removed) */
  close: () => Promise<void>;
  /** connections refused since the last cut */
  refused: () => number;
}

/**
 * A relay in front of the PostgreSQL server that the test can cut, as a network failure would: on a loopback
 * port, or on a Unix socket in a directory of its own (a `host=` URL, as a socket DATABASE_URL is written).
 */
async function relay(target: URL, via: 'tcp' | 'unix' = 'tcp'): Promise<Relay> {
  const sockets = new Set<Socket>();
  let down = false;
  let refused = 0;
  let frozen = false;
  const server: Server = createServer((client) => {
    if (down) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    // bytes are passed on unless the link is frozen, when they are dropped without a word
    client.on('data', (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
  });
  const url = new URL(target);
  let dir: string | undefined;
  if (via === 'unix') {
    dir = mkdtempSync(join(tmpdir(), 'stockroom-socket-'));
    // node-postgres connects to <host>/.s.PGSQL.<port>, as libpq does
    await new Promise<void>((resolve) => server.listen(join(dir ?? '', '.s.PGSQL.5432'), resolve));
    url.hostname = 'localhost';
    url.port = '5432';
    url.searchParams.set('host', dir);
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url.port = String((server.address() as AddressInfo).port);
  }
  return {
    url: url.toString(),
    cut: () => {
      down = true;
      refused = 0;
      for (const s of sockets) s.destroy();
    },
    heal: () => {
      down = false;
      frozen = false;
    },
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      down = true;
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    refused: () => refused,
  };
}

describe.skipIf(!postgresUrl())('when the database cannot be reached', () => {
  /**
   * A database of its own behind a relay the test can cut, a migrated stockroom reaching it through the relay, an
   * admin key and an in-process server; `close` takes them all down again.
   */
  async function servedThroughRelay(options: PostgresOptions, via: 'tcp' | 'unix' = 'tcp') {
    const { url, drop } = await createPostgresDatabase();
    const link = await relay(new URL(url), via);
    const stockroom = new Stockroom({ db: await openPostgres(link.url, options) });
    await migrate(stockroom.db);
    const { key } = await stockroom.keys.create({ name: 'ops', scopes: ['admin'] });
    const app = await buildServer({ stockroom });
    const close = async () => {
      await app.close();
      await stockroom.close().catch(() => undefined);
      await link.close();
      await drop();
    };
    return { link, key, app, stockroom, close };
  }

  async function expectUnavailableOverHttp(via: 'tcp' | 'unix'): Promise<void> {
    const { link, key, app, close } = await servedThroughRelay({ max: 2, connectTimeoutMs: 1000 }, via);
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // a Unix socket whose file is gone is what a stopped server leaves (ENOENT); TCP is cut at the wire
      if (via === 'unix') await link.close();
      else link.cut();
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.headers['retry-after']).toBe('1');
      const reply = await app.inject({
        method: 'GET',
        url: '/v1/warehouses',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(reply.statusCode).toBe(503);
      expect(reply.headers['retry-after']).toBe('1');
      expect(reply.json()).toMatchObject({ code: 'unavailable', status: 503 });
      const reserve = await app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: { authorization: `Bearer ${key}` },
        payload: { order_ref: 'cut', lines: [{ sku: 'NONE', qty: 1 }] },
      });
      expect(reserve.statusCode).toBe(503);
      expect(reserve.headers['retry-after']).toBe('1');
    } finally {
      await close();
    }
  }

  it('the API answers 503 unavailable with Retry-After and /healthz says so', async () => {
    await expectUnavailableOverHttp('tcp');
  });

  it('through a Unix socket that is gone (ENOENT) as well: 503, not 500', async () => {
    await expectUnavailableOverHttp('unix');
  });

  it('a library caller gets UnavailableError, as HTTP and the CLI say it, from a group-committed reserve and an idempotent receive', async () => {
    const { link, stockroom, close } = await servedThroughRelay({ max: 2, connectTimeoutMs: 1000 });
    try {
      link.cut();
      await expect(
        stockroom.reservations.reserve({ order_ref: 'cut', lines: [{ sku: 'NONE', qty: 1 }] }),
      ).rejects.toBeInstanceOf(UnavailableError);
      await expect(stockroom.stock.receive({ sku: 'NONE', warehouse: 'NONE', qty: 1 })).rejects.toBeInstanceOf(
        UnavailableError,
      );
    } finally {
      await close();
    }
  });

  it('a database that stops answering without closing anything: callers get 503 within the query timeout, not a hang', async () => {
    const { link, key, app, close } = await servedThroughRelay({ max: 2, connectTimeoutMs: 500, queryTimeoutMs: 500 });
    const auth = { authorization: `Bearer ${key}` };
    try {
      await app.inject({
        method: 'POST',
        url: '/v1/warehouses',
        headers: auth,
        payload: { code: 'FRZ', name: 'Frozen' },
      });
      link.freeze();
      for (const request of [
        { method: 'GET' as const, url: '/healthz' },
        {
          method: 'POST' as const,
          url: '/v1/warehouses',
          headers: auth,
          payload: { code: 'FRZ2', name: 'Frozen too' },
        },
      ]) {
        const reply = await app.inject(request);
        expect(reply.statusCode).toBe(503);
        expect(reply.headers['retry-after']).toBe('1');
      }
      // the frozen connections were dropped, not handed out again: once the link is back, so is the service
      link.heal();
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/v1/warehouses',
            headers: auth,
            payload: { code: 'FRZ2', name: 'Frozen too' },
          })
        ).statusCode,
      ).toBe(201);
    } finally {
      await close();
    }
  });

  it('a listener that lost its connection comes back as one connection, reports the gap and hears notices again', async () => {
    const { url, drop } = await createPostgresDatabase();
    const r = await relay(new URL(url));
    const db = await openPostgres(r.url, { max: 1, connectTimeoutMs: 1000 });
    const admin = new pg.Client(url);
    await admin.connect();
    const database = new URL(url).pathname.slice(1);
    const listening = async (): Promise<number> =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN "drill"'`,
          [database],
        )
      ).rows[0]?.n ?? -1;
    const notices: string[] = [];
    let gaps = 0;
    const stop = await db.listen(
      'drill',
      (payload) => notices.push(payload),
      () => gaps++,
    );
    try {
      expect(await listening()).toBe(1);
      r.cut();
      // several reconnect attempts fail (each failed connection ends, which once started a loop of its own)
      await expect.poll(() => r.refused(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expect(await listening()).toBe(0);
      r.heal();
      await expect.poll(() => gaps, { timeout: 10_000 }).toBe(1);
      await expect.poll(listening).toBe(1);
      await admin.query(`SELECT pg_notify('drill', 'after the gap')`);
      await expect.poll(() => notices).toEqual(['after the gap']);
      // no second loop is still on its way back
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect({ gaps, listening: await listening() }).toEqual({ gaps: 1, listening: 1 });
    } finally {
      await stop();
      await db.close();
      await admin.end();
      await r.close();
      await drop();
    }
  }, 30_000);
});
