import { describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';
import { createPostgresDatabase, postgresUrl } from './support/databases.js';

describe.skipIf(!postgresUrl())('the PostgreSQL driver', () => {
  /** Statements this connection holds prepared by the driver, after running one parameterized query twice. */
  async function preparedAfterTwoCalls(prepare: boolean): Promise<number> {
    const { url, drop } = await createPostgresDatabase();
    const db = await openPostgres(url, { max: 1, prepare });
    try {
      await migrate(db);
      return await db.transaction(async (tx) => {
        for (let i = 0; i < 2; i++) await tx.query('SELECT count(*) AS n FROM variants WHERE sku = $1', [`SKU-${i}`]);
        const { rows } = await tx.query<{ n: number }>(
          `SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'sr\\_%'`,
        );
        return rows[0]?.n ?? -1;
      });
    } finally {
      await db.close();
      await drop();
    }
  }

  it('prepares each statement once per connection', async () => {
    // the count query itself is prepared as well, so at least the two distinct texts are there
    expect(await preparedAfterTwoCalls(true)).toBeGreaterThanOrEqual(2);
  });

  it('prepares nothing when told not to (behind a pooler that cannot keep prepared statements)', async () => {
    expect(await preparedAfterTwoCalls(false)).toBe(0);
  });
});
