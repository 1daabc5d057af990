import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Db, Driver } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { pgliteDb } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { pgliteFromTemplate } from './pglite-template.js';

export const postgresUrl = (): string => inject('postgresUrl');
export const redisUrl = (): string => inject('redisUrl');

/** The drivers every cross-driver suite runs on: PGlite always, PostgreSQL when the run has a server. */
export function drivers(): Driver[] {
  return postgresUrl() ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDb {
  db: Db;
  /** for PostgreSQL: a URL of this database, for extra connections and child processes */
  url: string | undefined;
  drop: () => Promise<void>;
}

/** A new, migrated, empty database of its own: in-memory PGlite, or a fresh database on the test server. */
export async function createTestDb(driver: Driver, options: { max?: number } = {}): Promise<TestDb> {
  if (driver === 'pglite') {
    const db = pgliteDb(await pgliteFromTemplate());
    return { db, url: undefined, drop: () => db.close() };
  }
  const { url, drop } = await createPostgresDatabase();
  const db = await openPostgres(url, { max: options.max ?? 10 });
  await migrate(db);
  return {
    db,
    url,
    drop: async () => {
      await db.close();
      await drop();
    },
  };
}

/** An empty database on the test server (not migrated) and a way to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = postgresUrl();
  const name = `stockroom_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
