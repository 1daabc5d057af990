-- Events for integrators, in batches (issue 14's cost target): a statement that changes many levels or creates many
-- reservations (a group commit of 64 orders) wrote 64 outbox rows of each, and every one of them became a delivery
-- row per channel, claimed, sent and settled alone: three to six row writes and a request per event, more than the
-- reservation itself cost. Now such a statement writes ONE outbox row (ordering_key 'batch') whose payload holds
-- its events, {"events": [{"id", "key", "data"}, ...]}, and a channel gets one delivery for it. A statement with one
-- event writes it alone, as before (its variant or reservation its key), so single changes still go side by side.
--
-- Ids: each event in a batch takes its own id from the outbox's id sequence as it is written, so ids stay unique
-- over every event, batched or not (a single row's event id is its outbox id), and grow in the order of each
-- variant's and each reservation's events as before (a change takes its ids while it holds its level or
-- reservation locked).
--
-- Order: a batch holds events of many keys, so its delivery is a barrier in its channel's stream. It is due only
-- once no earlier keyed delivery (batch or single) is pending for the channel, and a single keyed delivery is due
-- only once no earlier batch is pending for it, besides no earlier one of its own key (store/deliveries.ts).

-- the claim's question for a batch: is any earlier keyed delivery still pending for this channel?
CREATE INDEX deliveries_keyed_idx ON deliveries (channel_id, outbox_id) WHERE status = 'pending' AND ordering_key IS NOT NULL;

-- Events of a batch that got through, by id: a try that fails part way leaves them sent, and the retry sends the rest
-- (a receiver failing one request in four would otherwise never take a batch of many events one at a time).
ALTER TABLE deliveries ADD COLUMN sent bigint[] NOT NULL DEFAULT '{}';

-- A channel that takes its events in batches gets one POST per delivery, {"events": [...]}, instead of one per event.
ALTER TABLE channels ADD COLUMN batch boolean NOT NULL DEFAULT false;

-- plpgsql, not sql: a SQL function that is not inlined (this one has a subquery) is planned on every call, and the
-- triggers call it once per statement each (0.2 ms a call, several per group of orders, in pg_stat_statements)
CREATE OR REPLACE FUNCTION stockroom_subscribed(event text) RETURNS boolean LANGUAGE plpgsql STABLE SET jit = off AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM channels c
     WHERE c.active
       AND (stockroom_wants(c.events, event)
            OR (event LIKE '%.*' AND EXISTS (SELECT 1 FROM unnest(c.events) e WHERE split_part(e, '.', 1) || '.*' = event))));
END $$;

-- stock.changed as before (0018), one batch row per statement
CREATE OR REPLACE FUNCTION stockroom_stock_changed(variant_ids bigint[], warehouse_ids bigint[], before_on_hand integer[],
                                                   before_reserved integer[], before_available integer[], after_on_hand integer[],
                                                   after_reserved integer[], after_available integer[]) RETURNS void
  LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  WITH changed AS (
    SELECT n.variant_id, n.warehouse_id,
           n.on_hand_before, n.reserved_before, n.available_before,
           n.on_hand, n.reserved, n.available, n.on_hand - n.reserved - n.available AS held_back,
           l.written_by, l.written_in
      FROM unnest(variant_ids, warehouse_ids, before_on_hand, before_reserved, before_available, after_on_hand,
                  after_reserved, after_available)
        AS n(variant_id, warehouse_id, on_hand_before, reserved_before, available_before, on_hand, reserved, available)
     CROSS JOIN LATERAL (SELECT l.xmin AS written_by, l.cmin AS written_in FROM stock_levels l
                          WHERE l.variant_id = n.variant_id AND l.warehouse_id = n.warehouse_id OFFSET 0) l
  ),
  steps AS (
    SELECT c.variant_id, c.warehouse_id, m.id AS movement_id, m.type, m.reason, m.reference, m.reservation_id,
           m.delta_on_hand, m.delta_reserved,
           coalesce(m.on_hand_after - m.delta_on_hand, c.on_hand_before) AS on_hand_before,
           coalesce(m.reserved_after - m.delta_reserved, c.reserved_before) AS reserved_before,
           coalesce(m.on_hand_after, c.on_hand) AS on_hand_after,
           coalesce(m.reserved_after, c.reserved) AS reserved_after,
           c.available_before AS level_available_before,
           coalesce(m.on_hand_after - m.reserved_after - c.held_back, c.available) AS available_after,
           row_number() OVER w AS step
      FROM changed c
      LEFT JOIN LATERAL (
        SELECT m.* FROM stock_movements m
         WHERE m.variant_id = c.variant_id AND m.warehouse_id = c.warehouse_id
           AND m.id > coalesce((SELECT p.id FROM stock_movements p
                                 WHERE p.variant_id = c.variant_id AND p.warehouse_id = c.warehouse_id
                                   AND NOT (p.xmin = c.written_by AND p.cmin = c.written_in)
                                 ORDER BY p.variant_id DESC, p.warehouse_id DESC, p.id DESC LIMIT 1), 0)
         OFFSET 0) m ON true
     WHERE m.id IS NOT NULL
        OR (c.on_hand, c.reserved, c.available) IS DISTINCT FROM (c.on_hand_before, c.reserved_before, c.available_before)
    WINDOW w AS (PARTITION BY c.variant_id, c.warehouse_id ORDER BY m.id)
  ),
  shown AS (
    SELECT s.variant_id, s.warehouse_id, s.step,
           jsonb_build_object(
             'sku', v.sku, 'warehouse', w.code,
             'before', jsonb_build_object('on_hand', s.on_hand_before, 'reserved', s.reserved_before,
                                          'available', CASE WHEN s.step = 1 THEN s.level_available_before
                                                            ELSE lag(s.available_after) OVER w END),
             'after', jsonb_build_object('on_hand', s.on_hand_after, 'reserved', s.reserved_after, 'available', s.available_after),
             'movement', CASE WHEN s.movement_id IS NULL THEN NULL ELSE jsonb_build_object(
               'id', s.movement_id, 'type', s.type, 'reason', s.reason, 'reference', s.reference,
               'reservation_id', s.reservation_id, 'delta_on_hand', s.delta_on_hand, 'delta_reserved', s.delta_reserved) END) AS data
      FROM steps s
     CROSS JOIN LATERAL (SELECT v.sku FROM variants v WHERE v.id = s.variant_id) v
     CROSS JOIN LATERAL (SELECT w.code FROM warehouses w WHERE w.id = s.warehouse_id) w
    WINDOW w AS (PARTITION BY s.variant_id, s.warehouse_id ORDER BY s.step)
  ),
  -- ids in the order of each level's steps (taken from the sorted rows, after the sort)
  numbered AS (
    SELECT nextval('outbox_id_seq') AS id, x.*
      FROM (SELECT * FROM shown ORDER BY variant_id, warehouse_id, step) x
  )
  -- one event alone is a row of its own, ordered by its variant only, as before (a batch orders a channel's stream)
  INSERT INTO outbox (topic, payload, ordering_key)
  SELECT 'stock.changed',
         CASE WHEN count(*) = 1 THEN min(n.data::text)::jsonb
              ELSE jsonb_build_object('events', jsonb_agg(jsonb_build_object('id', n.id, 'key', 'variant:' || n.variant_id, 'data', n.data)
                                                          ORDER BY n.id)) END,
         CASE WHEN count(*) = 1 THEN min('variant:' || n.variant_id) ELSE 'batch' END
    FROM numbered n
  HAVING count(*) > 0;
END $$;

-- reservation.created for every reservation a statement wrote with its lines: one batch row
CREATE OR REPLACE FUNCTION reservations_note_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF NOT stockroom_subscribed('reservation.*') THEN
    RETURN NULL;
  END IF;
  IF stockroom_subscribed('reservation.created') THEN
    WITH shown AS (
      SELECT a.id, stockroom_reservation_json(a, NULL, l.lines, l.backordered) AS data
        FROM added a
       CROSS JOIN LATERAL (
         SELECT jsonb_agg(jsonb_build_object('sku', (SELECT v.sku FROM variants v WHERE v.id = rl.variant_id),
                                             'warehouse', (SELECT w.code FROM warehouses w WHERE w.id = rl.warehouse_id),
                                             'qty', rl.qty, 'backordered', rl.backordered,
                                             'fulfilled', rl.fulfilled_qty, 'released', rl.released_qty) ORDER BY rl.line_no) AS lines,
                bool_or(rl.backordered > 0) AS backordered
           FROM reservation_lines rl WHERE rl.reservation_id = a.id) l
       WHERE l.lines IS NOT NULL
    ),
    numbered AS (
      SELECT nextval('outbox_id_seq') AS event_id, x.* FROM (SELECT * FROM shown ORDER BY id) x
    )
    INSERT INTO outbox (topic, payload, ordering_key)
    SELECT 'reservation.created',
           CASE WHEN count(*) = 1 THEN min(n.data::text)::jsonb
                ELSE jsonb_build_object('events', jsonb_agg(jsonb_build_object('id', n.event_id, 'key', 'reservation:' || n.id, 'data', n.data)
                                                            ORDER BY n.event_id)) END,
           CASE WHEN count(*) = 1 THEN min('reservation:' || n.id) ELSE 'batch' END
      FROM numbered n
    HAVING count(*) > 0;
  END IF;
  PERFORM stockroom_note_reservations((
    SELECT jsonb_agg(jsonb_build_object('reservation_id', a.id, 'created', true))
      FROM added a WHERE NOT EXISTS (SELECT 1 FROM reservation_lines rl WHERE rl.reservation_id = a.id)));
  RETURN NULL;
END $$;

-- Lines written with their reservation by insertReservations (the checkout's hot path) are that reservation's
-- created event's: the statement says so in a transaction-local setting, stockroom.lines_created, set as it starts
-- (store/reservations.ts). Looking that up row by row (each line's and its reservation's xmin and cmin, as 0018 did)
-- was two index probes a line. Read and cleared here, first thing, so no later statement of the transaction (an
-- amendment adding lines) is taken for one.
CREATE OR REPLACE FUNCTION reservation_lines_note_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  created boolean := coalesce(current_setting('stockroom.lines_created', true), '') = 'on';
BEGIN
  IF created THEN
    PERFORM set_config('stockroom.lines_created', '', true);
    RETURN NULL;
  END IF;
  IF stockroom_subscribed('reservation.*') THEN
    -- lines of a reservation the same statement created (written by other code than insertReservations) are its
    -- created event's (reservations_note_insert)
    PERFORM stockroom_note_reservations((
      SELECT jsonb_agg(jsonb_build_object('reservation_id', reservation_id, 'lines_before', lines))
        FROM (SELECT a.reservation_id, jsonb_object_agg(a.line_no::text, NULL::jsonb) AS lines
                FROM added a
               CROSS JOIN LATERAL (SELECT r.xmin AS written_by, r.cmin AS written_in FROM reservations r WHERE r.id = a.reservation_id) r
               CROSS JOIN LATERAL (SELECT l.xmin AS written_by, l.cmin AS written_in FROM reservation_lines l
                                    WHERE l.reservation_id = a.reservation_id AND l.line_no = a.line_no) l
               WHERE NOT (r.written_by = l.written_by AND r.written_in = l.written_in)
               GROUP BY a.reservation_id) a));
  END IF;
  RETURN NULL;
END $$;
