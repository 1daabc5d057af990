// Two requests made to meet on PostgreSQL's row locks in a chosen order: the first is held on a row this helper
// locks, the second is asked for once the first waits, and both go once the second waits too (or, not seeing the
// first coming, was answered at once). A race left to the scheduler would meet in this order only now and then.
import { expect, vi } from 'vitest';
import type { Db } from '../../src/store/db.js';

/** How many of this database's sessions wait on a lock. */
const waitingOn = async (db: Db): Promise<number> =>
  (
    await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    )
  ).rows[0]?.n ?? 0;

/**
 * Starts `first` while a transaction holds the row `lock` selects FOR UPDATE (a row `first` must lock or check), then
 * `second` once `first` waits on it; lets them both go once `second` waits behind `first` or has been answered.
 * PostgreSQL only: it watches pg_stat_activity.
 */
export async function inLockOrder<A, B>(
  db: Db,
  lock: { sql: string; params: unknown[] },
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<[A, B]> {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked = (): void => undefined;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  const blocker = db.transaction(async (tx) => {
    await tx.query(`${lock.sql} FOR UPDATE`, lock.params);
    locked();
    await released;
  });
  await holding;
  const one = first();
  let two: Promise<B> | undefined;
  try {
    await vi.waitFor(
      async () => {
        expect(await waitingOn(db)).toBe(1);
      },
      { timeout: 10_000, interval: 10 },
    );
    two = second();
    let answered = false;
    void two.then(
      () => (answered = true),
      () => (answered = true),
    );
    await vi.waitFor(
      async () => {
        expect(answered || (await waitingOn(db)) === 2).toBe(true);
      },
      {
        timeout: 10_000,
        interval: 10,
      },
    );
  } finally {
    release();
    await blocker;
  }
  return [await one, await two];
}
