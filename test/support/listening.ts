import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import type { Stockroom } from '../../src/services/stockroom.js';
import type { Harness } from './harness.js';
import { uniq } from './harness.js';

/** A real HTTP server on loopback in front of a Stockroom; close it when done. */
export async function listen(stockroom: Stockroom): Promise<{ url: string; app: FastifyInstance }> {
  const app = await buildServer({ stockroom, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/**
 * The suite's Stockroom (useStockroom: reconciled after every test) served over real HTTP on loopback, with a key
 * of each scope the suite asks for.
 */
export function useListening(h: Harness, scopes: readonly ('checkout' | 'storefront' | 'warehouse')[] = ['checkout']) {
  const ctx = { url: '', keys: {} } as { url: string; app: FastifyInstance; keys: Record<string, string> };
  beforeAll(async () => {
    Object.assign(ctx, await listen(h.s));
    for (const scope of scopes) ctx.keys[scope] = (await h.s.keys.create({ name: uniq(scope), scopes: [scope] })).key;
  });
  afterAll(async () => {
    await ctx.app.close();
  });
  return ctx;
}
