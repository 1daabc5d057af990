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
import { copyTemplateDataDir } from './pglite-template.js';

export const ADMIN_KEY = 'sr_test_admin_0123456789abcdef';

/** A call to a server process with the admin key; the JSON it answers. */
export async function adminCall(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
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
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text ? (JSON.parse(text) as ApiReply['body']) : {},
  };
}

export interface ServerDatabase {
  /** what a server process needs to find it */
  env: Record<string, string>;
  /**
   * the database opened in this process, once no server holds it (the embedded one serves one process); with the
   * server's STOCKROOM_SECRET_KEY as `secretKey`, as the CLI opens it
   */
  open: (options?: { secretKey?: string }) => Promise<Stockroom>;
  cleanup: () => Promise<void>;
  /** the embedded database's lock file */
  lockFile?: string;
}

/** A migrated database for server processes, which outlives any one of them (stopped, killed or restarted). */
export async function serverDatabase(driver: Driver): Promise<ServerDatabase> {
  if (driver === 'postgres') {
    const { url, drop } = await createPostgresDatabase();
    const db = await openPostgres(url);
    await migrate(db);
    await db.close();
    return {
      env: { DATABASE_URL: url },
      open: async (options = {}) => new Stockroom({ db: await openPostgres(url), ...options }),
      cleanup: drop,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-server-'));
  const data = join(dir, 'data');
  copyTemplateDataDir(data);
  return {
    env: { STOCKROOM_DATA: data },
    open: async (options = {}) => new Stockroom({ db: await openPglite(data), ...options }),
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
    },
    lockFile: `${data}.lock`,
  };
}

/** Fails with the drift, after the server processes on the database have gone. */
export async function expectServerDatabaseReconciled(database: ServerDatabase): Promise<void> {
  const s = await database.open();
  try {
    await expectReconciled(s);
  } finally {
    await s.close();
  }
}

/** The real server process on PGlite or PostgreSQL; reconciled when the suite ends (after a graceful stop). */
export function useServer(driver: Driver, extraEnv: Record<string, string> = {}) {
  const ctx = {} as { server: ServerProcess; env: Record<string, string>; database: ServerDatabase };
  beforeAll(async () => {
    ctx.database = await serverDatabase(driver);
    ctx.env = { ...ctx.database.env, STOCKROOM_ADMIN_KEY: ADMIN_KEY, STOCKROOM_SWEEP_MS: '100' };
    ctx.server = await startServer({ ...ctx.env, ...extraEnv });
  });
  afterAll(async () => {
    expect(await ctx.server.stop()).toBe(0);
    await expectServerDatabaseReconciled(ctx.database);
    await ctx.database.cleanup();
  });
  return ctx;
}
