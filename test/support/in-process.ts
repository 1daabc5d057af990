import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import type { Scope } from '../../src/domain/scopes.js';
import type { Harness } from './harness.js';

/** What a server answered: status and the JSON body (a problem document on refusals). */
export interface HttpReply {
  status: number;
  body: Record<string, unknown> & { code?: string };
}

/** Calls the server with a key of a scope (admin unless told). */
export type HttpCall = (
  method: string,
  path: string,
  options?: { scope?: Scope; body?: unknown; csv?: string; idempotencyKey?: string },
) => Promise<HttpReply>;

/**
 * The real HTTP server over the harness's Stockroom, listening on loopback in this process, with one key per
 * scope: requests go through Fastify, auth and the error handler as a client's do, and useStockroom still
 * reconciles the ledger after every test.
 */
export function useHttpServer(h: Harness): {
  call: HttpCall;
  /** the raw answer to a GET with a key of a scope (admin unless told): for what is not JSON (CSV, a workbook) */
  fetchRaw: (path: string, scope?: Scope) => Promise<Response>;
} {
  let app: FastifyInstance;
  let url = '';
  const keys = new Map<Scope, string>();
  beforeAll(async () => {
    for (const scope of ['admin', 'checkout', 'warehouse', 'storefront', 'metrics'] as const)
      keys.set(scope, (await h.s.keys.create({ name: `${scope} client`, scopes: [scope] })).key);
    app = await buildServer({ stockroom: h.s });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });
  const call: HttpCall = async (method, path, options = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${keys.get(options.scope ?? 'admin') ?? ''}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.csv !== undefined) headers['content-type'] = 'text/csv';
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.csv === undefined ? {} : { body: options.csv }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as HttpReply['body']) : {} };
  };
  const fetchRaw = (path: string, scope: Scope = 'admin') =>
    fetch(`${url}${path}`, { headers: { authorization: `Bearer ${keys.get(scope) ?? ''}` } });
  return { call, fetchRaw };
}
