import { describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { openPglite } from '../src/store/pglite.js';

describe('migrations', () => {
  it('apply once on PGlite; running them again changes nothing', async () => {
    const db = await openPglite();
    try {
      expect(await migrate(db)).toEqual(['0001_core', '0002_api_keys', '0003_sync_sources', '0004_level_keys', '0005_stock_changes', '0006_warehouse_areas']);
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!postgresUrl())('apply exactly once when several processes migrate one PostgreSQL database at once', async () => {
    const { url, drop } = await createPostgresDatabase();
    const dbs = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url, { max: 1 })));
    try {
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      expect(applied.flat()).toEqual(['0001_core', '0002_api_keys', '0003_sync_sources', '0004_level_keys', '0005_stock_changes', '0006_warehouse_areas']);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await drop();
    }
  });
});
