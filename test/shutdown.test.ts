import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { expectReconciled } from './support/harness.js';
import { serverDatabase } from './support/served.js';
import { startServer } from './support/server-process.js';

const ADMIN_KEY = 'sr_test_admin_shutdown_0123456789';

describe.each(drivers())('graceful shutdown on %s', (driver) => {
  it('SIGTERM lets a request already in flight finish and commit, then closes the database and exits 0', async () => {
    const db = await serverDatabase(driver);
    try {
      const server = await startServer({ ...db.env, STOCKROOM_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'info' });
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status).toBe(201);
      };
      await post('/v1/warehouses', { code: 'AMS', name: 'Amsterdam' });
      await post('/v1/variants', { sku: 'LATE-1', product: { title: 'Arrives during shutdown' } });

      // The request's headers arrive before the signal and its body after it: it is in flight throughout.
      const body = JSON.stringify({ sku: 'LATE-1', warehouse: 'AMS', qty: 7, reference: 'in-flight' });
      const half = Math.floor(body.length / 2);
      const { hostname, port } = new URL(server.url);
      const req = request({ hostname, port, path: '/v1/stock/receive', method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }); });
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, half));
      // the signal goes only once the server has logged the request, the rest of the body only once it is
      // shutting down
      await server.waitFor(/incoming request/);
      const exited = server.stop();
      await server.waitFor(/shutting down/);
      req.end(body.slice(half));

      const reply = await answered;
      expect(reply.status).toBe(200);
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
function serveToExit(env: Record<string, string>, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['bin/stockroom.js', 'serve', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => { resolve({ code, output }); }));
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
