import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { Stockroom } from '../src/services/stockroom.js';
import { createTestDb, drivers } from './support/databases.js';
import { openSocket } from './support/raw-http.js';
import { expectReconciled } from './support/harness.js';
import { serverDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';

const ADMIN_KEY = 'sr_test_admin_shutdown_0123456789';

describe.each(drivers())('graceful shutdown on %s', (driver) => {
  it('SIGTERM lets a request already in flight finish and commit, then closes the database and exits 0', async () => {
    const db = await serverDatabase(driver);
    try {
      const server = await startServer({ ...db.env, STOCKROOM_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'debug' });
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status).toBe(201);
      };
      await post('/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
      await post('/v1/variants', { sku: 'LATE-1', product: { title: 'Arrives during shutdown' } });

      // The request's headers arrive before the signal and its body after it: it is in flight throughout.
      const body = JSON.stringify({ sku: 'LATE-1', warehouse: 'AMS', qty: 7, reference: 'in-flight' });
      const half = Math.floor(body.length / 2);
      const { hostname, port } = new URL(server.url);
      const req = request({
        hostname,
        port,
        path: '/v1/stock/receive',
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, text });
          });
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, half));
      // the signal goes only once the server has logged this request (its incoming line, at debug: not a line of the
      // requests before it, which the pipe may still be bringing), the rest of the body only once it is shutting down
      await server.waitFor(/"url":"\/v1\/stock\/receive"[^\n]*"msg":"incoming request"/);
      const exited = server.stop();
      await server.waitFor(/shutting down/);
      req.end(body.slice(half));

      const reply = await answered;
      expect(reply.status, reply.text).toBe(200);
      expect(JSON.parse(reply.text)).toMatchObject({ sku: 'LATE-1', warehouse: 'AMS', on_hand: 7 });
      expect(await exited).toBe(0);
      // nothing failed on the way down: no error logged, no library source dumped
      expect(server.output()).not.toMatch(/"level":50|node_modules|fatal:/);
      if (db.lockFile) expect(existsSync(db.lockFile)).toBe(false);

      const s = await db.open();
      try {
        expect((await s.stock.get('LATE-1')).total).toMatchObject({ on_hand: 7 });
        await expectReconciled(s);
      } finally {
        await s.close();
      }
    } finally {
      await db.cleanup();
    }
  });
});

/** Runs `stockroom serve` with these arguments to its end: exit code and everything it wrote. */
function serveToExit(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['bin/stockroom.js', 'serve', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      resolve({ code, output });
    }),
  );
}

describe.each(drivers())('a server that cannot listen, on %s', (driver) => {
  it('exits non-zero at once with one line naming the port, starts no workers and releases the database', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const db = await serverDatabase(driver);
    try {
      // the process ends by itself: were the workers left running on the closed database, this would never resolve
      const { code, output } = await serveToExit(db.env, ['--port', String(port)]);
      expect(code).not.toBe(0);
      expect(output.trim()).toBe(`error: cannot listen on 127.0.0.1:${port}: the address is in use by another process`);
      if (db.lockFile) expect(existsSync(db.lockFile)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await db.cleanup();
    }
  });
});

it('a port out of range is refused before the database is opened, as a usage error', async () => {
  const { code, output } = await serveToExit({ STOCKROOM_DATA: '/nonexistent/never-created' }, ['--port', '99999']);
  expect(code).toBe(2);
  expect(output).toContain('must be a port number from 0 to 65535');
  expect(existsSync('/nonexistent/never-created')).toBe(false);
});

describe('shutting down while clients hold connections', () => {
  it('closes a connection that keeps its request half-sent once the grace period is over, and exits 0', async () => {
    const db = await serverDatabase('pglite');
    try {
      const server = await startServer({
        ...db.env,
        STOCKROOM_SHUTDOWN_GRACE_MS: '300',
        STOCKROOM_HEADERS_TIMEOUT_MS: '60000',
        STOCKROOM_REQUEST_TIMEOUT_MS: '60000',
      });
      const socket = await openSocket(server.url);
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) =>
        socket.once('close', () => {
          resolve();
        }),
      );
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      // a header line now and then: never idle, never done (bounded, in case the server never lets go)
      let lines = 0;
      let dripping: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (dripping = resolve));
      const drip = setInterval(() => {
        if (++lines > 400) socket.destroy();
        else socket.write(`X-Drip-${lines}: 1\r\n`);
        if (lines === 3) dripping();
      }, 50);
      try {
        await started;
        const exited = server.stop();
        await closed;
        expect(lines).toBeLessThan(400); // the server closed it, the client did not give up
        expect(await exited).toBe(0);
      } finally {
        clearInterval(drip);
      }
    } finally {
      await db.cleanup();
    }
  });

  it('answers a request that arrives once shutdown has begun with 503 unavailable, Retry-After and Connection: close', async () => {
    const test = await createTestDb('pglite');
    const app = await buildServer({ stockroom: new Stockroom({ db: test.db }) });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const socket = await openSocket(url);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const ended = new Promise<void>((resolve) =>
        socket.once('close', () => {
          resolve();
        }),
      );
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // in flight: the close waits for it
      const closing = app.close();
      socket.write('\r\n');
      await ended;
      await closing;
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
        status: 503,
        code: 'unavailable',
        detail: 'the server is shutting down; try again',
      });
    } finally {
      await test.drop();
    }
  });
});
