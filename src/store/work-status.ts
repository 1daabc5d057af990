import type { Queryable } from './db.js';

/** Backlog counts stop here: a scrape stays one cheap read however far behind the work is. */
export const WORK_STATUS_COUNT_CAP = 100_000;

/** What the background work (sweeper, outbox dispatch, delivery, replenishment) has left to do, and when it last ran. */
export interface WorkStatus {
  /** seconds since the deadline of the oldest pending reservation not yet expired (0: none is overdue) */
  oldest_overdue_hold_seconds: number;
  /** outbox rows not yet dispatched to deliveries (counted up to WORK_STATUS_COUNT_CAP) */
  outbox_undispatched: number;
  /** deliveries waiting to be sent or retried (counted up to WORK_STATUS_COUNT_CAP) */
  deliveries_pending: number;
  /** deliveries given up on, waiting for a person (counted up to WORK_STATUS_COUNT_CAP) */
  deliveries_dead: number;
  /** when the replenishment job last ran, or null if it never has */
  replenished_at: Date | null;
}

/**
 * One statement, each part answered from a partial index (reservations_due_idx, outbox_undispatched_idx,
 * deliveries_due_idx, deliveries_dead_idx) or a one-row table, and each count bounded: what a metrics scrape reads.
 * @param now the engine's clock, so "overdue" means what the sweeper means by it
 */
export async function readWorkStatus(db: Queryable, now: Date): Promise<WorkStatus> {
  const { rows } = await db.query<WorkStatus>(
    `SELECT coalesce(extract(epoch FROM $1::timestamptz - (SELECT min(expires_at) FROM reservations
                                                             WHERE status = 'pending' AND expires_at <= $1)), 0)::float8
              AS oldest_overdue_hold_seconds,
            (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE delivered_at IS NULL LIMIT $2) o)::int AS outbox_undispatched,
            (SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' LIMIT $2) d)::int AS deliveries_pending,
            (SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status = 'dead' LIMIT $2) d)::int AS deliveries_dead,
            (SELECT last_run_at FROM scheduled_jobs WHERE name = 'replenish') AS replenished_at`,
    [now.toISOString(), WORK_STATUS_COUNT_CAP],
  );
  const [row] = rows;
  if (!row) throw new Error('work status: the statement answered no row');
  return row;
}
