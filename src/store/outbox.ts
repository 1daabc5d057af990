import type { Queryable } from './db.js';

/** Records a side effect in the caller's transaction; it is delivered only if that transaction commits. */
export async function enqueue(tx: Queryable, topic: string, payload: unknown): Promise<void> {
  await tx.query('INSERT INTO outbox (topic, payload) VALUES ($1, $2::json)', [topic, JSON.stringify(payload)]);
}

/** An outbox row: a side effect committed with its change, waiting to be dispatched. */
export interface OutboxRow {
  id: number;
  topic: string;
  /** what the row announces (migration 0011): an alert's type, or the topic of any other row */
  event: string;
  payload: unknown;
  created_at: Date;
}

/** The rows of one topic, oldest first: what a change left to announce. */
export async function listOutbox(db: Queryable, topic: string, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    'SELECT id, topic, event, payload, created_at FROM outbox WHERE topic = $1 ORDER BY id LIMIT $2',
    [topic, limit],
  );
  return rows;
}
