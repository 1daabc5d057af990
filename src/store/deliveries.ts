import type { ChannelKind, DeliveryStatus, DeliveryTry, EventType } from '../domain/delivery.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';
import type { Queryable } from './db.js';

/** The most payload one delivery of a batch channel gathers (a single row bigger than this is a delivery alone). */
const GATHERED_BYTES = 1 << 20;

/**
 * A condition that holds, and as it is first evaluated lets the statement's transaction commit without waiting for
 * its WAL to reach the disk (the WAL writer writes it within wal_writer_delay, 200 ms). A dispatch and a settle are
 * safe to lose to a crash of the database: a lost dispatch is dispatched again, a lost settle sends again (at least
 * once), and WAL is written in order, so a later step is never kept without an earlier one. The claim only on a
 * database server (see claimDeliveries): it counts the try. Waiting for the disk cost each a flush, and the
 * checkouts' commits queued behind those flushes.
 */
const REDO_ON_CRASH = `(SELECT set_config('synchronous_commit', 'off', true)) = 'off'`;

/**
 * Turns up to `limit` undispatched outbox rows into one delivery per active channel (a batch channel: one per
 * `gatheredBytes` of payload at most) that wants their event (by name
 * or by a family wildcard such as `stock.*`, migration 0018), oldest first, and marks them dispatched. Dispatchers
 * take turns (a transaction-scoped advisory lock): rows of one ordering key are dispatched in id order, never a later
 * one by one process while another still holds an earlier one, so a sender never sees a later event of a key before
 * an earlier one has its delivery.
 * @returns how many outbox rows it dispatched
 */
export async function dispatchOutbox(tx: Queryable, limit: number, gatheredBytes = GATHERED_BYTES): Promise<number> {
  const { rows } = await tx.query<{ dispatched: number }>(
    `WITH turn AS MATERIALIZED (SELECT pg_advisory_xact_lock($3)),
     due AS (
       -- pg_column_size: the payload's stored size, read from its pointer (payloads are stored uncompressed out of
       -- line, migration 0024), not the payload itself. The turn is taken before the first row is read; this
       -- statement's snapshot may be older than the dispatch that had the turn before, but FOR UPDATE reads each
       -- row that one locked as it committed it (dispatched: left out), and a row not in the snapshot was committed
       -- after every row of its key that is
       SELECT id, event, ordering_key, pg_column_size(payload) AS size FROM outbox
        WHERE delivered_at IS NULL AND EXISTS (SELECT FROM turn)
        ORDER BY id LIMIT $1 FOR UPDATE
     ),
     -- FOR SHARE: a channel being removed is waited for and read again (inactive, so left out), and a removal
     -- waits for this dispatch to commit before it cancels the channel's deliveries (removeChannel)
     targets AS (
       SELECT due.id AS outbox_id, c.id AS channel_id, due.ordering_key, c.batch, due.size
         FROM due JOIN channels c ON c.active AND stockroom_wants(c.events, due.event)
          FOR SHARE OF c
     ),
     fanned AS (
       INSERT INTO deliveries (outbox_id, channel_id, ordering_key)
       SELECT outbox_id, channel_id, ordering_key FROM targets WHERE NOT batch
       ORDER BY outbox_id, channel_id
       ON CONFLICT (outbox_id, channel_id) DO NOTHING
     ),
     -- a batch channel: one delivery of the rows it takes (migration 0020), in deliveries of at most $2 bytes of
     -- payload each (a row past that alone), so a claim never reads a backlog of big rows at once; in row order, so
     -- their ids keep dispatch order
     gathered AS (
       INSERT INTO deliveries (outbox_id, channel_id, ordering_key, outbox_ids)
       SELECT min(outbox_id), channel_id, 'batch', array_agg(outbox_id ORDER BY outbox_id)
         FROM (SELECT outbox_id, channel_id,
                      (sum(size) OVER (PARTITION BY channel_id ORDER BY outbox_id) - size) / $2::bigint AS part
                 FROM targets WHERE batch) t
        GROUP BY channel_id, part ORDER BY channel_id, part
       ON CONFLICT (outbox_id, channel_id) DO NOTHING
     ),
     marked AS (
       UPDATE outbox o SET delivered_at = now() FROM due WHERE o.id = due.id RETURNING o.id
     )
     SELECT count(*)::int AS dispatched FROM marked WHERE ${REDO_ON_CRASH}`,
    [limit, gatheredBytes, ADVISORY_LOCKS.outboxDispatch],
  );
  return rows[0]?.dispatched ?? 0;
}

/** A delivery claimed for one try, with what sending it needs: its channel and its outbox event. */
export interface ClaimedDelivery {
  id: number;
  attempt: number;
  /** tries already spent before this one, in this budget */
  spent: number;
  channel_id: number;
  kind: ChannelKind;
  config: Record<string, string>;
  /** the channel's secrets as stored (maybe sealed): for sending only, never to show or log */
  secrets: Record<string, string>;
  /** the channel takes its events in batches, one POST per delivery (migration 0019) */
  batch: boolean;
  /** ids of the batch's events that an earlier try got through (migration 0019): not sent again */
  sent: string[];
  outbox_id: number;
  /**
   * the stream it is ordered in (migration 0018: a variant, a reservation); null for an alert; 'batch' for a row
   * holding the events of one statement (migration 0019), whose payload is {"events": [...]}
   */
  ordering_key: string | null;
  /** what the outbox row announces (migration 0011): the alert's type, or the topic of any other row */
  event: EventType;
  /** the row's payload; null for a batch channel's delivery of several rows (read with readGathered) */
  payload: Record<string, unknown> | null;
  /** a batch row's events' ordering keys, when its payload holds them in the form they are sent (migration 0027) */
  keys: string[] | null;
  created_at: Date;
  /**
   * a batch channel's delivery of several outbox rows (migration 0020): their ids, in order (`event`,
   * `ordering_key` and `created_at` above are the first one's); null for a delivery of one row
   */
  outbox_ids: string[] | null;
}

/**
 * One outbox row of a batch channel's delivery (migration 0020), as readGathered reads it: its events written out
 * as they are sent, ready to be joined into a request body, or (a row of the older form) its payload.
 */
export interface GatheredRow {
  id: number;
  event: EventType;
  /** the row's ordering key: 'batch' for a row of several events */
  key: string | null;
  /** when the row was written */
  created_at: Date;
  /** its events as sent, comma-separated (a wire-form row's payload without its frame, or a single event's) */
  wire: string | null;
  /** how many events the row holds (1 for a batch row of the older form: unknown until its payload is read) */
  count: number;
  /** each event's ordering key, for a wire-form batch row (migration 0027) */
  keys: string[] | null;
  /** the payload: a batch row of the older form (migration 0019, {"events": [{"id", "key", "data"}]}), or one not framed as written */
  payload: Record<string, unknown> | null;
}

/** One event of a batch row of the older form (migration 0019): its own id, its stream, and what it says. */
export interface BatchedEvent {
  id: number;
  key: string;
  data: Record<string, unknown>;
}

/** What a wire-form batch row's payload holds its events in (migration 0027): '{"events":[' + events + ']}'. */
const WIRE_FRAME = ['{"events":[', ']}'] as const;

/** One event of a wire-form batch row (migration 0027): as it is sent. */
interface WireEvent {
  id: string;
  type: EventType;
  created_at: string;
  data: Record<string, unknown>;
}

/** An event of a delivery as it is sent: its id, its type, when it was written, its stream and what it says. */
export interface DeliveredEvent {
  id: string;
  type: EventType;
  createdAt: Date;
  /** the stream it is ordered in (a variant, a reservation); null for an alert */
  key: string | null;
  data: Record<string, unknown>;
}

/** The events of one outbox row: the row's own, or each of a batch row's (migrations 0019 and 0027). */
const eventsOfRow = (
  id: number,
  type: EventType,
  key: string | null,
  payload: Record<string, unknown>,
  keys: readonly string[] | null,
  createdAt: Date,
): DeliveredEvent[] => {
  if (keys !== null)
    return ((payload['events'] ?? []) as WireEvent[]).map((e, i) => ({
      id: e.id,
      type: e.type,
      createdAt: new Date(e.created_at),
      key: keys[i] ?? null,
      data: e.data,
    }));
  return key === 'batch'
    ? ((payload['events'] ?? []) as BatchedEvent[]).map((e) => ({
        id: String(e.id),
        type,
        createdAt,
        key: e.key,
        data: e.data,
      }))
    : [{ id: String(id), type, createdAt, key, data: payload }];
};

/** A gathered row's events, taken apart (its wire text parsed, or its payload). */
export const eventsOfGathered = (row: GatheredRow): DeliveredEvent[] =>
  row.wire === null
    ? eventsOfRow(row.id, row.event, row.key, row.payload ?? {}, row.keys, row.created_at)
    : (JSON.parse(`[${row.wire}]`) as WireEvent[]).map((e, i) => ({
        id: e.id,
        type: e.type,
        createdAt: new Date(e.created_at),
        key: row.keys === null ? row.key : (row.keys[i] ?? null),
        data: e.data,
      }));

/**
 * The events a claimed delivery has still to send, in order: one for a single row, a batch row's events, or those of
 * every row a batch channel's delivery holds (migration 0020, `rows` as readGathered read them); less those an earlier
 * try got through (by event id, or by row id for a row that went whole).
 */
export function eventsOf(delivery: ClaimedDelivery, rows: readonly GatheredRow[] | null = null): DeliveredEvent[] {
  const sent = new Set(delivery.sent);
  const events =
    rows === null
      ? eventsOfRow(
          delivery.outbox_id,
          delivery.event,
          delivery.ordering_key,
          delivery.payload ?? {},
          delivery.keys,
          new Date(delivery.created_at),
        )
      : rows.filter((row) => !sent.has(String(row.id))).flatMap(eventsOfGathered);
  return sent.size === 0 ? events : events.filter((e) => !sent.has(e.id));
}

/**
 * The rows of a batch channel's delivery (migration 0020), in id order, each with its events written out as they are
 * sent: a wire-form row's payload (migration 0027) without its frame, a single event framed here; read as text, so a
 * delivery of a hundred milliseconds of orders is joined into its request without being taken apart and written
 * again. A batch row of the older form comes with its payload instead.
 */
export async function readGathered(db: Queryable, ids: readonly string[]): Promise<GatheredRow[]> {
  const { rows } = await db.query<Omit<GatheredRow, 'keys'> & { keys: string | null }>(
    `SELECT r.id, r.event, r.ordering_key AS key, r.created_at,
            coalesce(cardinality(r.keys), 1) AS count,
            -- one text split here: a text[] is parsed character by character
            array_to_string(r.keys, ' ') AS keys,
            -- a wire-form row's payload whole (its frame is cut off below: here it would cost a walk over the
            -- text's characters)
            CASE WHEN r.keys IS NOT NULL THEN p.text
                 WHEN r.ordering_key IS DISTINCT FROM 'batch'
                 THEN '{"id":"' || r.id || '","type":' || to_json(r.event)::text || ',"created_at":"'
                      || to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","data":' || p.text || '}'
            END AS wire,
            CASE WHEN r.keys IS NULL AND r.ordering_key = 'batch' THEN r.payload END AS payload
       FROM outbox r CROSS JOIN LATERAL (SELECT r.payload::text AS text OFFSET 0) p
      WHERE r.id = ANY ($1::bigint[])
      ORDER BY r.id`,
    [ids],
  );
  return rows.map((row) => {
    if (row.keys === null) return { ...row, keys: null };
    const keys = row.keys.split(' ');
    const text = row.wire ?? '';
    // written as '{"events":[' + events + ']}', and json keeps its text as written; anything else is read as json
    return text.startsWith(WIRE_FRAME[0]) && text.endsWith(WIRE_FRAME[1])
      ? { ...row, keys, wire: text.slice(WIRE_FRAME[0].length, -WIRE_FRAME[1].length) }
      : { ...row, keys, wire: null, payload: JSON.parse(text) as Record<string, unknown> };
  });
}

/** What a claimer already has in flight: a channel's tries, counted per channel, and the channels sending an alert. */
export interface InFlight {
  /** the channel of each try in flight of a delivery with an ordering key (a channel once per try) */
  keyed: readonly number[];
  /** channels with a try in flight of a delivery without an ordering key (an alert) */
  unkeyed: readonly number[];
}

/**
 * Claims up to `limit` due deliveries for one try each: the try is counted and the delivery is not due again
 * for `leaseMs`, so nobody else sends it meanwhile, and if the claimer dies it comes due again by itself.
 * A delivery with an ordering key (migration 0018) is due only once no earlier delivery of its key to its channel is
 * pending (waiting for a retry, or claimed by any process): a channel gets the events of one variant or one
 * reservation in order, while those of different keys go out side by side, up to `perChannel` tries in flight per
 * channel (counting the claimer's own, `inFlight.keyed`); a dead letter no longer holds its key back. A delivery
 * without a key (an alert) goes one at a time per channel and claimer, as before: none while the claimer has one in
 * flight to that channel. A receiver that hangs holds up at most `perChannel` + 1 of the claimer's tries.
 * `durable: false` commits the claim without waiting for the disk: for a database server only, where the count
 * outlives the claimer's process whatever happens to it (a crash of the server itself, which no delivery can cause,
 * may lose a try's count: it is tried once more). An embedded database dies with its process, and a delivery that
 * crashed its sender would then never reach its last try.
 */
export async function claimDeliveries(
  tx: Queryable,
  limit: number,
  leaseMs: number,
  inFlight: InFlight = { keyed: [], unkeyed: [] },
  perChannel = 1,
  durable = true,
): Promise<ClaimedDelivery[]> {
  const { rows } = await tx.query<ClaimedDelivery>(
    `WITH due AS (
       SELECT id FROM deliveries
        WHERE id = ANY (ARRAY(
                SELECT next.id FROM channels ch
                 CROSS JOIN LATERAL (
                  (SELECT d.id FROM deliveries d
                    WHERE NOT ch.batch AND d.channel_id = ch.id AND d.status = 'pending' AND d.ordering_key IS NOT NULL
                      -- the channel's keyed stream in order, up to its first pending batch (migration 0019), which
                      -- nothing after may pass: a walk down deliveries_keyed_idx that ends there, not a look at
                      -- every pending delivery of a backlog
                      AND d.outbox_id <= coalesce((SELECT min(b.outbox_id) FROM deliveries b
                                                    WHERE b.channel_id = ch.id AND b.ordering_key = 'batch'
                                                      AND b.status = 'pending'), 9223372036854775807)
                      AND d.next_attempt_at <= now()
                      -- a batch: the first keyed delivery pending at all; any other: the first of its key still
                      -- pending for this channel (claimed ones, and retries waiting, too)
                      AND CASE WHEN d.ordering_key = 'batch'
                               THEN NOT EXISTS (SELECT 1 FROM deliveries e
                                                 WHERE e.channel_id = ch.id AND e.status = 'pending'
                                                   AND e.ordering_key IS NOT NULL AND e.outbox_id < d.outbox_id)
                               ELSE d.outbox_id = (SELECT min(e.outbox_id) FROM deliveries e
                                                    WHERE e.channel_id = d.channel_id AND e.ordering_key = d.ordering_key
                                                      AND e.status = 'pending') END
                    ORDER BY d.outbox_id
                    LIMIT greatest($5::int - (SELECT count(*) FROM unnest($3::bigint[]) b WHERE b = ch.id), 0))
                   UNION ALL
                   (SELECT d.id FROM deliveries d
                     WHERE NOT ch.batch AND d.channel_id = ch.id AND d.status = 'pending' AND d.next_attempt_at <= now()
                       AND d.ordering_key IS NULL AND ch.id <> ALL ($4::bigint[])
                     ORDER BY d.next_attempt_at, d.id LIMIT 1)
                   UNION ALL
                   -- a batch channel (migration 0020): its first pending delivery in dispatch order, once due and
                   -- not in flight here; nothing after it goes first
                   (SELECT h.id FROM (SELECT d.id, d.next_attempt_at FROM deliveries d
                                       WHERE ch.batch AND d.channel_id = ch.id AND d.status = 'pending'
                                       ORDER BY d.id LIMIT 1) h
                     WHERE h.next_attempt_at <= now() AND ch.id <> ALL ($3::bigint[]) AND ch.id <> ALL ($4::bigint[]))) next))
          -- tested again here, on the row as locked: a claim another worker committed after this statement's
          -- snapshot (the subquery's) has moved next_attempt_at on, and READ COMMITTED re-checks only this level
          AND status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
     ),
     claimed AS (
       UPDATE deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.attempts AS attempt, d.attempts - 1 - d.retried_after AS spent, d.channel_id, d.outbox_id,
                 d.ordering_key, d.sent, d.outbox_ids
     )
     SELECT c.id, c.attempt, c.spent, c.channel_id, ch.kind, ch.config, ch.secrets, ch.batch, c.outbox_id, c.ordering_key,
            c.sent::text[] AS sent,
            o.event, o.created_at,
            -- a gathered delivery's rows are read as it is sent (readGathered), as text
            CASE WHEN c.outbox_ids IS NULL THEN o.payload END AS payload,
            CASE WHEN c.outbox_ids IS NULL THEN o.keys END AS keys,
            c.outbox_ids::text[] AS outbox_ids
       FROM claimed c JOIN channels ch ON ch.id = c.channel_id JOIN outbox o ON o.id = c.outbox_id
      WHERE $6::boolean OR ${REDO_ON_CRASH}
      ORDER BY c.id`,
    [limit, leaseMs, inFlight.keyed, inFlight.unkeyed, perChannel, durable],
  );
  return rows;
}

/** How one try ended, and what follows: delivered, due again after a wait, or dead. */
export interface AttemptOutcome {
  deliveryId: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** after a failure: the delivery is dead (out of tries), or due again this many ms from now */
  retryInMs: number | null;
  /** ids of a batch's events this try got through (a failed try may have sent some) */
  sent: readonly string[];
}

/**
 * Logs tries and settles their deliveries, any number in one statement (a worker records what ended together, not a
 * transaction per event): each delivered, dead, or due again after its backoff. Only the try that holds the claim
 * settles it; a sender that outlived its lease, or whose channel was removed meanwhile (the delivery is cancelled),
 * only adds its line to the log.
 */
export async function recordAttempts(tx: Queryable, outcomes: readonly AttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await tx.query(
    `WITH o AS (
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::boolean[], $6::int[], $7::text[],
                            $8::int[], $9::text[])
         AS o(delivery_id, attempt, started_at, duration_ms, ok, status_code, error, retry_in_ms, sent)
     ),
     logged AS (
       INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, ok, status_code, error)
       SELECT delivery_id, attempt, started_at, duration_ms, ok, status_code, error FROM o ORDER BY delivery_id, attempt
     )
     UPDATE deliveries d SET
       status = CASE WHEN o.ok THEN 'delivered' WHEN o.retry_in_ms IS NULL THEN 'dead' ELSE 'pending' END,
       delivered_at = CASE WHEN o.ok THEN now() END,
       next_attempt_at = CASE WHEN NOT o.ok AND o.retry_in_ms IS NOT NULL
                              THEN now() + make_interval(secs => o.retry_in_ms::double precision / 1000)
                              ELSE d.next_attempt_at END,
       last_error = CASE WHEN o.ok THEN NULL ELSE o.error END,
       sent = CASE WHEN o.ok OR o.sent = '' THEN d.sent ELSE d.sent || string_to_array(o.sent, ',')::bigint[] END
       FROM o
      WHERE d.id = o.delivery_id AND d.attempts = o.attempt AND d.status = 'pending' AND ${REDO_ON_CRASH}`,
    [
      outcomes.map((o) => o.deliveryId),
      outcomes.map((o) => o.attempt),
      outcomes.map((o) => o.startedAt),
      outcomes.map((o) => o.durationMs),
      outcomes.map((o) => o.ok),
      outcomes.map((o) => o.statusCode),
      outcomes.map((o) => o.error),
      outcomes.map((o) => o.retryInMs),
      // one text per try (an array of arrays would be flattened by unnest)
      outcomes.map((o) => o.sent.join(',')),
    ],
  );
}

/** A delivery in the log, with its channel's kind, its event and every try. */
export interface DeliveryRow {
  id: number;
  channel_id: number;
  kind: ChannelKind;
  outbox_id: number;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  log: DeliveryTry[];
}

/** Which deliveries the log shows: by status and channel, a page before a cursor. */
export interface DeliveryFilter {
  status?: DeliveryStatus | undefined;
  channelId?: number | undefined;
  before?: number | undefined;
  limit: number;
}

/** The delivery log, newest first, each delivery with its tries. */
export async function listDeliveries(db: Queryable, filter: DeliveryFilter): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.id, d.channel_id, ch.kind, d.outbox_id, o.event,
            d.status, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.delivered_at,
            coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
                                                          'ok', a.ok, 'status_code', a.status_code, 'error', a.error) ORDER BY a.id)
                        FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS log
       FROM deliveries d JOIN channels ch ON ch.id = d.channel_id JOIN outbox o ON o.id = d.outbox_id
      WHERE ($1::text IS NULL OR d.status = $1)
        AND ($2::bigint IS NULL OR d.channel_id = $2)
        AND ($3::bigint IS NULL OR d.id < $3)
      ORDER BY d.id DESC LIMIT $4`,
    [filter.status ?? null, filter.channelId ?? null, filter.before ?? null, filter.limit],
  );
  return rows;
}

/** How many deliveries are pending and dead, over every channel. */
export async function countUnsent(db: Queryable): Promise<{ pending: number; dead: number }> {
  const { rows } = await db.query<{ pending: number; dead: number }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending')::int AS pending,
            (SELECT count(*) FROM deliveries WHERE status = 'dead')::int AS dead`,
  );
  return rows[0] ?? { pending: 0, dead: 0 };
}

/**
 * Forgets what got through more than `olderThanMs` ago: deliveries with their tries, then outbox rows dispatched
 * that long ago that no delivery still needs (pending and dead ones stay, however old). Alerts themselves stay.
 * At most `limit` deliveries a call, so a first run on a big backlog does not hold locks for long.
 * @returns the deliveries removed
 */
export async function pruneDelivered(tx: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const { rows } = await tx.query<{ removed: number }>(
    `WITH old AS (
       SELECT id FROM deliveries
        WHERE status = 'delivered' AND delivered_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY delivered_at LIMIT $2
     ),
     tries AS (DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM old)),
     gone AS (DELETE FROM deliveries WHERE id IN (SELECT id FROM old) RETURNING id)
     SELECT count(*)::int AS removed FROM gone`,
    [olderThanMs, limit],
  );
  // a separate statement: it must see the deliveries the one above removed as gone
  await tx.query(
    `DELETE FROM outbox o
      WHERE o.id IN (SELECT id FROM outbox WHERE delivered_at < now() - make_interval(secs => $1::double precision / 1000)
                      ORDER BY delivered_at LIMIT $2)
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = o.id)
        -- nor a gathered one (migration 0020) that may be sent again
        AND NOT EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.outbox_ids IS NOT NULL AND d.status IN ('pending', 'dead') AND o.id = ANY (d.outbox_ids))`,
    [olderThanMs, limit],
  );
  return rows[0]?.removed ?? 0;
}

/** Gives a dead letter a fresh budget of tries, due now. @returns false if it is not dead */
export async function reviveDelivery(tx: Queryable, id: number): Promise<boolean> {
  const { rows } = await tx.query(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), retried_after = attempts WHERE id = $1 AND status = 'dead' RETURNING id`,
    [id],
  );
  return rows.length > 0;
}
