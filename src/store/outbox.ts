import type { Queryable } from './db.js';

/** Records a side effect in the caller's transaction; it is delivered only if that transaction commits. */
export async function enqueue(tx: Queryable, topic: string, payload: unknown): Promise<void> {
  await tx.query('INSERT INTO outbox (topic, payload) VALUES ($1, $2::json)', [topic, JSON.stringify(payload)]);
}

/**
 * A common table expression that writes a statement's events of one topic as one outbox row (migration 0023), in
 * the form they are sent (0027): a single event is its data; several are `{"events":[{"id","type","created_at",
 * "data"}, ...]}` with their ordering keys beside them in `keys`. `events` is a query of rows with the event's
 * `data` (json text) in the order they happened; `key` an expression of such a row (`e.<column>`) giving its
 * ordering key; `where`, a condition the insert is made under. Nothing is written when `events` has no row.
 */
export const eventBatchCte = (name: string, topic: string, key: string, events: string, where = 'true'): string => `
     ${name} AS (
       INSERT INTO outbox (topic, payload, ordering_key, keys)
       SELECT '${topic}',
              CASE WHEN count(*) = 1 THEN min(e.data)
                   ELSE '{"events":[' || string_agg('{"id":"' || e.event_id || '","type":"${topic}","created_at":'
                                                    || (SELECT stockroom_event_time()) || ',"data":' || e.data || '}',
                                                    ',' ORDER BY e.event_id) || ']}' END::json,
              CASE WHEN count(*) = 1 THEN min(${key}) ELSE 'batch' END,
              CASE WHEN count(*) > 1 THEN array_agg(${key} ORDER BY e.event_id) END
         FROM (SELECT nextval('outbox_id_seq') AS event_id, x.* FROM (${events}) x) e
        WHERE ${where}
       HAVING count(*) > 0
     )`;

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
