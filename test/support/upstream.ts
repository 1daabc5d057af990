import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** A real HTTP server playing the external warehouse system; each test sets what it answers. */
export function useUpstream() {
  const waiting = new Set<{ count: number; resolve: () => void }>();
  const state = {
    /** what to answer: `body` as JSON, or a Buffer as it is (bytes no JSON.stringify makes) */
    answer: (_url: URL): { status: number; body: unknown } => ({ status: 200, body: { items: [] } }),
    asked: [] as URL[],
    url: '',
    /** resolves once the server has answered `count` requests in all */
    answered: (count: number): Promise<void> =>
      new Promise<void>((resolve) => {
        if (state.asked.length >= count) resolve();
        else waiting.add({ count, resolve });
      }),
  };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      state.asked.push(url);
      const { status, body } = state.answer(url);
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(Buffer.isBuffer(body) ? body : JSON.stringify(body), () => {
          for (const w of waiting) {
            if (state.asked.length >= w.count) {
              waiting.delete(w);
              w.resolve();
            }
          }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stock`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  return state;
}
