import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { Stockroom } from '../../src/services/stockroom.js';
import type { Driver } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createPostgresDatabase } from './databases.js';
import { expectReconciled } from './harness.js';
import { startServer } from './server-process.js';
import type { ServerProcess } from './server-process.js';

export const ADMIN_KEY = 'sr_test_admin_0123456789abcdef';

/** A call to a server process with the admin key; the JSON it answers. */
export async function adminCall(server: { url: string }, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

export interface ApiReply {
  status: number;
  type: string;
  body: Record<string, unknown> & { code?: string };
}

/** Any call to a server process: with the admin key unless another (or null: none) is given. */
export async function apiCall(
  server: { url: string },
  method: string,
  path: string,
  options: { key?: string | null | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiReply> {
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${server.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as ApiReply['body']) : {} };
}

/** The real server process on PGlite or PostgreSQL; reconciled when the suite ends (after a graceful stop). */
export function useServer(driver: Driver, extraEnv: Record<string, string> = {}) {
  const ctx = {} as { server: ServerProcess; env: Record<string, string>; cleanup: () => Promise<void>; reconcile: () => Promise<void> };
  beforeAll(async () => {
    if (driver === 'postgres') {
      const { url, drop } = await createPostgresDatabase();
      const db = await openPostgres(url);
      await migrate(db);
      await db.close();
      ctx.env = { DATABASE_URL: url, STOCKROOM_ADMIN_KEY: ADMIN_KEY, STOCKROOM_SWEEP_MS: '100' };
      ctx.reconcile = async () => {
        const s = new Stockroom({ db: await openPostgres(url) });
        try {
          await expectReconciled(s);
        } finally {
          await s.close();
        }
      };
      ctx.cleanup = drop;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'stockroom-http-'));
      ctx.env = { STOCKROOM_DATA: join(dir, 'data'), STOCKROOM_ADMIN_KEY: ADMIN_KEY, STOCKROOM_SWEEP_MS: '100' };
      ctx.reconcile = async () => {
        const s = new Stockroom({ db: await openPglite(join(dir, 'data')) });
        try {
          await expectReconciled(s);
        } finally {
          await s.close();
        }
      };
      ctx.cleanup = async () => {
        rmSync(dir, { recursive: true, force: true });
      };
    }
    ctx.server = await startServer({ ...ctx.env, ...extraEnv });
  });
  afterAll(async () => {
    expect(await ctx.server.stop()).toBe(0);
    await ctx.reconcile();
    await ctx.cleanup();
  });
  return ctx;
}

