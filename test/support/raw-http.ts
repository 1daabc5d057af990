import { request } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A TCP connection to a server, from a chosen loopback address (127.0.0.2 is another client than 127.0.0.1). */
export async function openSocket(url: string, localAddress = '127.0.0.1'): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress }, () => {
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the server closes the socket: how long it was open from `since`, and what the server wrote. */
export async function closedBy(socket: Socket, since: number): Promise<{ ms: number; data: string }> {
  let data = '';
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString();
  });
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.once('close', () => {
      resolve({ ms: performance.now() - since, data });
    });
  });
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** the whole body (for answers that end) */
  text: () => Promise<string>;
  res: IncomingMessage;
}

/** Resolves on the response's head; the body is read by `text` or, for a stream, from `res`. */
function replyOf(req: ClientRequest): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    req.once('response', (res) => {
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        res,
        text: async () => {
          let body = '';
          for await (const chunk of res) body += (chunk as Buffer).toString();
          return body;
        },
      });
    });
    req.once('error', reject);
  });
}

/** A GET from a chosen loopback address, on a connection of its own. */
export async function get(
  url: string,
  localAddress = '127.0.0.1',
  headers: Record<string, string> = {},
): Promise<RawReply & { close: () => void }> {
  const req = request(url, { localAddress, headers, agent: false });
  req.end();
  const reply = await replyOf(req);
  return { ...reply, close: () => req.destroy() };
}

/**
 * A POST whose body is written as the test says: `send` writes a piece (waiting while the socket is full),
 * `end` finishes it. The answer may come before the body is all sent (a refusal); what is left is then not sent.
 */
export function post(url: string, headers: Record<string, string>) {
  const req = request(url, { method: 'POST', headers, agent: false });
  req.on('error', () => undefined);
  const answered = replyOf(req);
  let done = false;
  const settled = answered.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => (done = true));
  const send = async (piece: Buffer | string): Promise<void> => {
    if (done || req.destroyed || req.write(piece)) return;
    // the waits that lose the race are taken back: each left an error and a close listener on the request, and an
    // upload of many pieces went past the emitter's ten (MaxListenersExceededWarning in CI's output)
    const stop = new AbortController();
    const until = (event: string): Promise<unknown> => once(req, event, { signal: stop.signal }).catch(() => undefined);
    try {
      await Promise.race([until('drain'), until('close'), settled]);
    } finally {
      stop.abort();
    }
  };
  return {
    answered,
    send,
    /** writes `body` in 64 KiB pieces, as an upload over a network arrives */
    sendAll: async (body: Buffer): Promise<void> => {
      for (let at = 0; at < body.length && !done && !req.destroyed; at += 65_536)
        await send(body.subarray(at, at + 65_536));
    },
    end: (): void => {
      if (!req.destroyed) req.end();
    },
    abort: (): void => {
      req.destroy();
    },
  };
}

export interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One request written byte for byte as given (`head`: the request line and header lines, without the blank line;
 * `body` as raw bytes, its Content-Length added), on a connection of its own that the server closes after its
 * answer: for what fetch would not send (two Authorization headers, bytes that are not UTF-8).
 */
export async function exchange(url: string, head: string, body?: Buffer): Promise<Exchange> {
  const length = body === undefined ? '' : `Content-Length: ${body.length}\r\n`;
  return sendRaw(url, `${head}\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n${length}\r\n`, body);
}

/** The bytes of a request exactly as given (no Host or framing added), and the answer once the server closes. */
export async function sendRaw(url: string, request: string, body?: Buffer): Promise<Exchange> {
  const socket = await openSocket(url);
  const answer = closedBy(socket, 0);
  socket.write(request);
  if (body !== undefined) socket.write(body);
  const { data } = await answer;
  const [top = '', ...rest] = data.split('\r\n\r\n');
  const [statusLine = '', ...lines] = top.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  // the answers read here are problem documents and small JSON, sent with a Content-Length (never chunked)
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}
