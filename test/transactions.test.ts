import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from '../src/services/time-ordered-ids.js';
import { writeReservationsWithHolds } from '../src/store/holds.js';
import { openPostgres } from '../src/store/postgres.js';
import type { Db } from '../src/store/db.js';
import { createTestDb, drivers } from './support/databases.js';
import { levels, uniq, useStockroom, world } from './support/harness.js';

/**
 * Db.transaction's contract for statements sent without waiting (a pipeline on a server): they run in the order
 * sent, the ones left unawaited are committed with the transaction, and any failure fails it whole.
 */
describe.each(drivers())('a transaction on %s', (driver) => {
  const table = uniq('pipelined').replaceAll('-', '_');
  /** Runs `check` on a new database with a table of numbers of its own, and drops the database after it. */
  const withTable = async (check: (db: Db) => Promise<void>) => {
    const test = await createTestDb(driver);
    try {
      await test.db.query(`CREATE TABLE ${table} (n int PRIMARY KEY)`);
      await check(test.db);
    } finally {
      await test.drop();
    }
  };
  const numbers = async (db: Db) =>
    (await db.query<{ n: number }>(`SELECT n FROM ${table} ORDER BY n`)).rows.map((row) => row.n);

  it('runs statements sent together in the order sent, each seeing the ones before it', () =>
    withTable(async (db) => {
      const counts = await db.transaction(async (tx) => {
        const sent = [1, 2, 3].map((n) =>
          tx.query<{ seen: number }>(
            `WITH added AS (INSERT INTO ${table} VALUES ($1::int)) SELECT count(*) AS seen FROM ${table}`,
            [n],
          ),
        );
        return (await Promise.all(sent)).map((result) => result.rows[0]?.seen);
      });
      expect(counts).toEqual([0, 1, 2]);
      expect(await numbers(db)).toEqual([1, 2, 3]);
    }));

  it('commits the statements it was handed and never waited for', () =>
    withTable(async (db) => {
      const answer = await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (1)`);
        void tx.query(`INSERT INTO ${table} VALUES (2)`);
        void tx.query(`INSERT INTO ${table} VALUES (3)`);
        return 'done';
      });
      expect(answer).toBe('done');
      expect(await numbers(db)).toEqual([1, 2, 3]);
    }));

  it('refuses a statement sent once it has ended, rather than run it outside the transaction', () =>
    withTable(async (db) => {
      let late: Promise<unknown> = Promise.resolve();
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (1)`);
        // a chain left running: its second statement would go out after the COMMIT
        late = tx.query('SELECT 1').then(() => tx.query(`INSERT INTO ${table} VALUES (2)`));
        late.catch(() => undefined);
      });
      await expect(late).rejects.toThrow(/after its transaction had ended/);
      expect(await numbers(db)).toEqual([1]);
    }));

  it('fails whole, with the first failure, when a statement it never waited for fails', () =>
    withTable(async (db) => {
      const failed = await db
        .transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES (1)`);
          void tx.query(`INSERT INTO ${table} VALUES (1)`); // the primary key refuses it
          void tx.query(`INSERT INTO ${table} VALUES (2)`); // aborted with it
          return 'done';
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failed).toMatchObject({ code: '23505' });
      expect(await numbers(db)).toEqual([]);
      // the connection is fine for the next caller
      await db.transaction((tx) => tx.query(`INSERT INTO ${table} VALUES (7)`));
      expect(await numbers(db)).toEqual([7]);
    }));
});

describe.skipIf(!drivers().includes('postgres'))('statements sent together on a PostgreSQL server', () => {
  it('each take their snapshot when they start: one sent behind a lock sees what the lock holder committed', async () => {
    const test = await createTestDb('postgres');
    const other = await openPostgres(test.url ?? '', { max: 2 });
    try {
      await test.db.query('CREATE TABLE refs (ref text)');
      let holderLocked!: () => void;
      const locked = new Promise<void>((resolve) => (holderLocked = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const holder = other.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(4242)');
        holderLocked();
        await released;
        await tx.query(`INSERT INTO refs VALUES ('taken')`);
      });
      await locked;
      const seen = test.db.transaction(async (tx) => {
        // both go out at once: the read must not start (and take its snapshot) before the lock is granted
        const [, read] = await Promise.all([
          tx.query('SELECT pg_advisory_xact_lock(4242)'),
          tx.query<{ n: number }>('SELECT count(*) AS n FROM refs'),
        ]);
        return read.rows[0]?.n;
      });
      release();
      await holder;
      expect(await seen).toBe(1);
    } finally {
      await other.close();
      await test.drop();
    }
  });
});

describe.each(drivers())('a reserve group write on %s', (driver) => {
  const h = useStockroom(driver);

  it('refuses the whole group when a hold would leave reserved at another number than planned', async () => {
    const { sku, wh } = await world(h.s, [10]);
    const warehouse = wh[0] ?? '';
    const [level] = (
      await h.s.db.query<{ variant_id: number; warehouse_id: number }>(
        `SELECT l.variant_id, l.warehouse_id FROM stock_levels l JOIN variants v ON v.id = l.variant_id
          WHERE v.sku = $1`,
        [sku],
      )
    ).rows;
    if (!level) throw new Error('no level');
    const now = new Date();
    const id = timeOrderedUuid();
    const write = (reservedAfter: number) =>
      h.s.db.transaction(async (tx) => {
        void writeReservationsWithHolds(
          tx,
          [
            {
              id,
              orderRef: uniq('o'),
              uniqueOrderRef: true,
              expiresAt: new Date(now.getTime() + 60_000),
              now,
              lines: [
                {
                  variantId: level.variant_id,
                  warehouseId: level.warehouse_id,
                  sku,
                  warehouse,
                  qty: 2,
                  backordered: 0,
                  holdsStock: true,
                  kitLineNo: null,
                },
              ],
            },
          ],
          [
            {
              variantId: level.variant_id,
              warehouseId: level.warehouse_id,
              type: 'reserve',
              deltaOnHand: 0,
              deltaReserved: 2,
              guard: 'reservable',
              reservationId: id,
              reservedAfter,
            },
          ],
          now,
          { reservationCreated: false, stockChanged: false },
        ).catch(() => undefined);
      });
    // planned on numbers that were not the level's (reserved was 0, so 2 after, not 3): nothing is written
    await expect(write(3)).rejects.toThrow(/1 holds planned on locked levels did not apply as planned/);
    expect(await levels(h.s, sku, [warehouse])).toEqual({ [warehouse]: [10, 0, 10] });
    await expect(h.s.reservations.get(id)).rejects.toMatchObject({ code: 'not_found' });
    // as planned, it is written with its reservation
    await write(2);
    expect(await levels(h.s, sku, [warehouse])).toEqual({ [warehouse]: [10, 2, 8] });
    expect((await h.s.reservations.get(id)).status).toBe('pending');
  });
});
