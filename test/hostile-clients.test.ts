import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drivers } from './support/databases.js';
import { closedBy, get, openSocket } from './support/raw-http.js';
import type { RawReply } from './support/raw-http.js';
import { ADMIN_KEY, adminCall, useServer } from './support/served.js';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 800;
const KEEP_ALIVE_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 600;
const HEARTBEAT_MS = 50;
const MAX_CONNECTIONS = 220;
/**
 * How much later than its timeout a connection may end. Node looks for expired connections on an interval (a quarter
 * of the shortest timeout here), and 200 sockets closing while the other worker loads both cores took past a second
 * in CI. Each bound still tells the timeout set here from Node's own (60 s for headers, 300 s a request, 5 s keep-alive).
 */
const SLACK_MS = 3_000;

const healthy = async (url: string): Promise<number> => (await fetch(`${url}/healthz`)).status;

describe.each(drivers())('slow and hostile clients, against a real server process on %s', (driver) => {
  const ctx = useServer(driver, {
    STOCKROOM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    STOCKROOM_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    STOCKROOM_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    STOCKROOM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    STOCKROOM_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    STOCKROOM_SSE_MAX_STREAMS: '6',
    STOCKROOM_SSE_MAX_STREAMS_PER_CLIENT: '3',
    STOCKROOM_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });

  it('closes slowloris connections that never finish their headers, while /healthz keeps answering', async () => {
    const since = performance.now();
    const sockets = await Promise.all(Array.from({ length: 200 }, () => openSocket(ctx.server.url)));
    const closed = sockets.map((s) => closedBy(s, since));
    for (const s of sockets) s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // one more header line every 100 ms: never idle, never done
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 100);
    try {
      expect(await healthy(ctx.server.url)).toBe(200);
      const ends = await Promise.all(closed);
      expect(Math.max(...ends.map((e) => e.ms))).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      for (const e of ends) expect(e.data).toMatch(/^HTTP\/1\.1 408/);
      expect(await healthy(ctx.server.url)).toBe(200);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes a connection that sends nothing, and one whose body stalls after one byte or trickles', async () => {
    const since = performance.now();
    const silent = await openSocket(ctx.server.url);
    const stalled = await openSocket(ctx.server.url);
    const trickling = await openSocket(ctx.server.url);
    const ends = [closedBy(silent, since), closedBy(stalled, since), closedBy(trickling, since)];
    const head = `POST /v1/stock/receive HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    stalled.write(`${head}{`);
    trickling.write(head);
    // a byte every 100 ms keeps it from idling: only the request timeout ends it
    const drip = setInterval(() => {
      if (!trickling.destroyed) trickling.write(' ');
    }, 100);
    try {
      expect(await healthy(ctx.server.url)).toBe(200);
      const [s, b, t] = await Promise.all(ends);
      expect(s!.ms).toBeLessThan(Math.min(HEADERS_TIMEOUT_MS, IDLE_TIMEOUT_MS) + SLACK_MS);
      expect(b!.ms).toBeLessThan(Math.min(REQUEST_TIMEOUT_MS, IDLE_TIMEOUT_MS) + SLACK_MS);
      expect(t!.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(t!.data).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes connections past the cap at once, and takes new ones again when held ones time out', async () => {
    const since = performance.now();
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openSocket(ctx.server.url)));
    const timedOut = Promise.all(held.map((h) => closedBy(h, since)));
    // the kernel accepts it, the server closes it unread
    const extra = await openSocket(ctx.server.url);
    const refused = closedBy(extra, since);
    extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await refused).data).toBe('');
    await timedOut;
    expect(await healthy(ctx.server.url)).toBe(200);
  });

  /** What a socket receives; `answered(n)` resolves once n whole answers (each with a Content-Length) are in. */
  const reading = (socket: Socket) => {
    let data = '';
    const waits: { count: number; resolve: (data: string) => void; reject: (error: Error) => void }[] = [];
    const complete = (count: number): boolean => {
      let at = 0;
      for (let n = 0; n < count; n++) {
        const head = data.indexOf('\r\n\r\n', at);
        const length = head < 0 ? null : /content-length: (\d+)/i.exec(data.slice(at, head));
        if (!length || data.length < head + 4 + Number(length[1])) return false;
        at = head + 4 + Number(length[1]);
      }
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      for (const wait of waits.filter((w) => complete(w.count))) wait.resolve(data);
    });
    // a connection cut before the answers came fails the wait at once, saying what did come
    socket.once('close', () => {
      for (const wait of waits.filter((w) => !complete(w.count)))
        wait.reject(new Error(`closed after ${JSON.stringify(data.slice(0, 200))}`));
    });
    return {
      answered: (count: number): Promise<string> =>
        new Promise((resolve, reject) => {
          if (complete(count)) resolve(data);
          else if (socket.destroyed) reject(new Error('closed before the answers'));
          else waits.push({ count, resolve, reject });
        }),
    };
  };
  const BIG = 2 * 1024 * 1024;
  /** Writes the body after its first byte, in 64 KiB pieces, stopping if the connection is gone. */
  const writeRest = async (socket: Socket): Promise<void> => {
    const piece = Buffer.alloc(65_536, 0x20);
    for (let sent = 1; sent < BIG && !socket.destroyed; sent += piece.length) {
      const chunk = piece.subarray(0, Math.min(piece.length, BIG - sent));
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    }
  };
  const tooLarge = `POST /v1/stock/receive HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${BIG}\r\n\r\n`;

  it('answers a body too large with 413 before reading it, then reads and drops the rest: the connection serves the next request', async () => {
    const socket = await openSocket(ctx.server.url);
    const closed = closedBy(socket, 0);
    const received = reading(socket);
    socket.write(`${tooLarge}{`);
    expect(await received.answered(1)).toMatch(/^HTTP\/1\.1 413/);
    // the rest of the body, sent after the answer: a server that closed would reset the connection under these writes
    await writeRest(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const both = await received.answered(2);
    expect(both.split('HTTP/1.1 ').map((answer) => answer.slice(0, 3))).toEqual(['', '413', '200']);
    expect(both).toContain('"code":"payload_too_large"');
    socket.end();
    await closed;
  });

  it('answers a body too large with 413 to a client that said Connection: close, and closes once the body is in', async () => {
    const socket = await openSocket(ctx.server.url);
    const closed = closedBy(socket, 0);
    const received = reading(socket);
    socket.write(`${tooLarge.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}{`);
    const answer = await received.answered(1);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    // nothing more is promised to a client that asked to close
    expect(answer).not.toMatch(/^connection: keep-alive/im);
    let refused = false;
    socket.on('error', () => (refused = true));
    await writeRest(socket);
    // the server ends its side once the body is in, not as an idle kept-alive connection (Node keeps one a second
    // past its timeout); a reset would have refused these writes
    const sent = performance.now();
    await once(socket, 'end');
    expect(performance.now() - sent).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1_000);
    expect(refused).toBe(false);
    socket.end();
    expect((await closed).data.split('HTTP/1.1 ')).toHaveLength(2);
  });

  it('cuts a refused body that trickles past the request timeout, without answering it a second time', async () => {
    const socket = await openSocket(ctx.server.url);
    const since = performance.now();
    const closed = closedBy(socket, since);
    socket.write(`${tooLarge}{`);
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 100);
    try {
      const end = await closed;
      expect(end.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(end.data.split('HTTP/1.1 ').map((answer) => answer.slice(0, 3))).toEqual(['', '413']);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes a kept-alive connection that sends no next request', async () => {
    const socket = await openSocket(ctx.server.url);
    let since = 0;
    const answered = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"status":"ok"')) {
          since = performance.now();
          resolve();
        }
      });
    });
    const closed = closedBy(socket, 0);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await answered;
    const end = await closed;
    expect(end.data).toMatch(/^HTTP\/1\.1 200/);
    // Node keeps the socket a second past the timeout it announces, for requests already on their way
    expect(end.ms - since).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1_000 + SLACK_MS);
  });

  it('refuses streams past the cap per address (429) and in all (503) with Retry-After; open ones keep going and closing one frees its slot', async () => {
    await adminCall(ctx.server, 'POST', '/v1/warehouses', { code: 'SSE', name: 'Streams' });
    await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'SSE-1', product: { title: 'streamed' } });
    const url = `${ctx.server.url}/v1/availability/stream?sku=SSE-1`;
    const open: (RawReply & { close: () => void })[] = [];
    const stream = async (from: string) => {
      const s = await get(url, from);
      if (s.status === 200) open.push(s);
      return s;
    };
    const problemOf = async (r: RawReply) => ({
      status: r.status,
      type: r.headers['content-type'],
      retryAfter: r.headers['retry-after'],
      body: JSON.parse(await r.text()) as { code: string },
    });
    /** a stream refused with `status` is a problem document naming `code` and saying why, with Retry-After */
    const expectRefused = async (refused: RawReply, status: number, code: string, detail: RegExp) => {
      expect(await problemOf(refused)).toMatchObject({
        status,
        type: 'application/problem+json; charset=utf-8',
        retryAfter: '5',
        body: { code, detail: expect.stringMatching(detail) as unknown },
      });
    };
    /** resolves on the first heartbeat a stream sends once `ms` have passed since `since`: it was open all along */
    const pingAfter = (s: RawReply, since: number, ms: number) =>
      new Promise<void>((resolve) => {
        const on = (chunk: Buffer) => {
          if (chunk.toString().includes(': ping') && performance.now() - since > ms) {
            s.res.off('data', on);
            resolve();
          }
        };
        s.res.on('data', on);
      });
    try {
      const mine = [await stream('127.0.0.1'), await stream('127.0.0.1'), await stream('127.0.0.1')];
      expect(mine.map((s) => s.status)).toEqual([200, 200, 200]);
      const fourth = await stream('127.0.0.1');
      // a fourth from one address
      await expectRefused(fourth, 429, 'too_many_requests', /^at most 3 availability streams at once from one address/);
      expect(fourth.headers['access-control-allow-origin']).toBe('*'); // a storefront page can read why

      const others = [await stream('127.0.0.2'), await stream('127.0.0.2'), await stream('127.0.0.2')];
      expect(others.map((s) => s.status)).toEqual([200, 200, 200]);
      const seventh = await stream('127.0.0.3');
      // a seventh in all
      await expectRefused(
        seventh,
        503,
        'at_capacity',
        /^already 6 availability streams at once, as many as the server takes/,
      );
      expect(seventh.headers['access-control-allow-origin']).toBe('*');
      expect(await healthy(ctx.server.url)).toBe(200);

      // the accepted ones stream on, past the request and idle timeouts, kept alive by their heartbeats
      const since = performance.now();
      await Promise.all([...mine, ...others].map((s) => pingAfter(s, since, REQUEST_TIMEOUT_MS + IDLE_TIMEOUT_MS)));
      expect([...mine, ...others].every((s) => !s.res.destroyed)).toBe(true);

      // closing one frees a slot for its address and one in all, as soon as the server sees the close
      const untilAdmitted = async (from: string, refusedWith: number) => {
        for (let tries = 0; tries < 100; tries++) {
          const s = await stream(from);
          if (s.status === 200) return s;
          expect(s.status).toBe(refusedWith);
          await s.text();
        }
        throw new Error(`no stream from ${from} admitted`);
      };
      mine[0]!.close();
      expect((await untilAdmitted('127.0.0.1', 429)).status).toBe(200);
      others[0]!.close();
      expect((await untilAdmitted('127.0.0.3', 503)).status).toBe(200);
    } finally {
      for (const s of open) s.close();
    }
  });
});

describe('client addresses behind a reverse proxy', () => {
  const ctx = useServer('pglite', {
    STOCKROOM_SSE_MAX_STREAMS_PER_CLIENT: '1',
    STOCKROOM_TRUST_PROXY: '127.0.0.5, 127.0.1.0/24',
  });
  const url = () => `${ctx.server.url}/v1/availability/stream?sku=PROXY-1`;

  it('counts streams by the X-Forwarded-For a trusted proxy sends, and ignores the header from anyone else', async () => {
    await adminCall(ctx.server, 'POST', '/v1/variants', { sku: 'PROXY-1', product: { title: 'behind a proxy' } });
    const open: (RawReply & { close: () => void })[] = [];
    const stream = async (from: string, forwardedFor: string) => {
      const s = await get(url(), from, { 'x-forwarded-for': forwardedFor });
      open.push(s);
      return s.status;
    };
    try {
      // shoppers behind one trusted proxy (an address, and one in a trusted range) each get their own stream
      expect([await stream('127.0.0.5', '203.0.113.1'), await stream('127.0.0.5', '203.0.113.2')]).toEqual([200, 200]);
      expect([await stream('127.0.1.9', '203.0.113.7'), await stream('127.0.1.9', '203.0.113.8')]).toEqual([200, 200]);
      expect(await stream('127.0.0.5', '203.0.113.1')).toBe(429);
      // an untrusted client naming a new address per request is still counted as itself
      expect([await stream('127.0.0.6', '203.0.113.3'), await stream('127.0.0.6', '203.0.113.4')]).toEqual([200, 429]);
    } finally {
      for (const s of open) s.close();
    }
  });
});
