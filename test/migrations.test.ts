import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';
import { pgliteDb } from '../src/store/pglite.js';
import { emptyPgliteFromTemplate } from './support/pglite-template.js';

/** Every migration, in the order they must run; a new one is added here on purpose. */
const ALL = [
  '0001_core',
  '0002_api_keys',
  '0003_sync_sources',
  '0004_level_keys',
  '0005_stock_changes',
  '0006_warehouse_areas',
  '0007_stock_alerts',
  '0008_alert_delivery',
  '0009_purchasing',
  '0010_secrets',
  '0011_outbox_event',
  '0012_cancelled_deliveries',
  '0013_movement_types',
  '0014_reservation_lines_by_variant',
  '0015_order_ref_unique',
  '0016_stock_states',
  '0017_variant_limits_and_tracking',
  '0018_integration_events',
  '0019_event_batches',
  '0020_gathered_deliveries',
  '0021_stock_list',
  '0023_statement_events',
  '0024_outbox_json',
  '0025_stock_list_order',
  '0027_wire_events',
  '0028_locations',
  '0029_unit_cost',
  '0030_kits',
  '0031_hot_path',
  '0032_idempotency_retention',
  '0033_sync_secret_sealed',
  '0034_holds_as_planned',
  '0035_alerts_in_stock',
  '0036_money_within_safe_integers',
  '0037_transfer_first_cost',
  '0038_sync_unsigned_by_choice',
];

describe('migrations', () => {
  it('apply once on PGlite; running them again changes nothing', async () => {
    const db = pgliteDb(await emptyPgliteFromTemplate());
    try {
      expect(await migrate(db)).toEqual(ALL);
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('0038: a source without a secret that was pulled takes no unsigned push until registered again; one never pulled does', async () => {
    const db = pgliteDb(await emptyPgliteFromTemplate());
    try {
      // the schema as it was before 0038, and the rows `sync source` and `sync pull` wrote then
      await db.exec(
        'CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      for (const migration of (await loadMigrations()).filter(({ version }) => version < '0038')) {
        await db.exec(migration.sql);
        await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
      }
      await db.query(
        `INSERT INTO sync_sources (name, secret, last_sync_at) VALUES
           ('registered', NULL, NULL), ('signed', 'a-secret-of-16-chars', NULL),
           ('pulled', NULL, now()), ('registered-then-pulled', NULL, now()), ('signed-and-pulled', 'a-secret-of-16-chars', now())`,
      );
      expect(await migrate(db)).toEqual(ALL.filter((version) => version >= '0038'));
      const { rows } = await db.query<{ name: string; takes_unsigned: boolean }>(
        'SELECT name, takes_unsigned FROM sync_sources ORDER BY name',
      );
      expect(Object.fromEntries(rows.map((row) => [row.name, row.takes_unsigned]))).toEqual({
        registered: true,
        signed: false,
        pulled: false,
        // a pull left no mark of its own: one registered without a secret and pulled is told apart by nothing
        'registered-then-pulled': false,
        'signed-and-pulled': false,
      });
    } finally {
      await db.close();
    }
  });

  it.skipIf(!postgresUrl())(
    'apply exactly once when several processes migrate one PostgreSQL database at once',
    async () => {
      const { url, drop } = await createPostgresDatabase();
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url, { max: 1 })));
      try {
        const applied = await Promise.all(dbs.map((db) => migrate(db)));
        expect(applied.flat()).toEqual(ALL);
      } finally {
        await Promise.all(dbs.map((db) => db.close()));
        await drop();
      }
    },
  );
});
