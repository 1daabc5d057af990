-- Events for integrators (issue 14): every change of a stock level (stock.changed) and of a reservation
-- (reservation.created, .amended, .committed, .released, .expired, .fulfilled, ...) goes through the outbox in the
-- transaction of the change, written by the database itself, so every code path that changes a level or a
-- reservation emits them without calling anything. A store where no active channel wants them writes nothing: each
-- trigger first asks whether any channel subscribes (one read of the small channels table).
--
-- Order: a row's ordering_key names the stream it belongs to (a variant for stock.changed, a reservation for
-- reservation events; NULL: no order, as alerts had). Within a key, outbox ids grow in the order the changes
-- committed: a change holds its level or reservation locked until it commits, so the next change of that key takes
-- its ids after. The delivery worker never sends a channel an event while an earlier one of the same key is still
-- pending for it (store/deliveries.ts); a dead letter unblocks its key.

ALTER TABLE outbox ADD COLUMN ordering_key text;
ALTER TABLE deliveries ADD COLUMN ordering_key text;
-- the claim's question: is an earlier delivery of this key still pending for this channel?
CREATE INDEX deliveries_ordering_idx ON deliveries (channel_id, ordering_key, outbox_id) WHERE status = 'pending';
-- the claim's walk: a channel's due deliveries, soonest first
CREATE INDEX deliveries_channel_due_idx ON deliveries (channel_id, next_attempt_at, id) WHERE status = 'pending';
-- Every event is a delivery row, inserted once and updated at each claim and outcome (next_attempt_at and status are
-- indexed, so no update is HOT and each touches every index): indexes nothing reads any more go. The claim walks
-- deliveries_channel_due_idx, not deliveries_due_idx; the unique (outbox_id, channel_id) serves lookups by outbox row.
DROP INDEX deliveries_due_idx;
DROP INDEX deliveries_outbox_idx;
-- Dispatch takes undispatched outbox rows in id order: an index in that order (the one on available_at, which nothing
-- reads, had it sort them, or walk the primary key past every dispatched row).
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_undispatched_idx ON outbox (id) WHERE delivered_at IS NULL;

-- Every function below that runs queries does so with JIT off (SET jit = off): a query over a trigger's transition
-- table is planned for the table's unknown size, its estimated cost passes jit_above_cost, and compiling it took
-- 14-16 ms of a 64-reservation group's 18 ms (auto_explain); the statements touch a few rows per change each.

-- Whether a channel's subscription list takes an event: by name, or by a family wildcard ('stock.*', 'reservation.*')
-- that also takes names added later (a new reservation status is 'reservation.<status>').
CREATE FUNCTION stockroom_wants(events text[], event text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT event = ANY (events) OR (position('.' IN event) > 0 AND split_part(event, '.', 1) || '.*' = ANY (events))
$$;

-- Whether some active channel wants an event (a name, or a family given as 'stock.*'): the cheap test every trigger
-- below makes before it does any work.
CREATE FUNCTION stockroom_subscribed(event text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM channels c
     WHERE c.active
       AND (stockroom_wants(c.events, event)
            OR (event LIKE '%.*' AND EXISTS (SELECT 1 FROM unnest(c.events) e WHERE split_part(e, '.', 1) || '.*' = event))))
$$;

-- STABLE, as to_char is: a SQL function declared more strictly than its body is never inlined, and called once per
-- value it costs a function call each (five per reservation event)
CREATE FUNCTION stockroom_iso(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- stock.changed: one event per ledger row a statement wrote on a level, each with the level's numbers before and
-- after it, so a receiver's chain per level is the ledger's; a level changed with no ledger row (its safety stock,
-- or a state quantity, changed) is one event with "movement": null. `available` is read from the level's generated
-- column (whatever it is defined as) only here, in the function body: each row's after-available is its on_hand and
-- reserved less what the level holds back after the statement, and its before-available is the previous row's
-- after (the first: the level's before the statement), so the chain stays continuous.
--
-- The ledger rows of this statement are those of the level written by the same command of the same transaction as
-- the level's new version (same xmin and cmin): applyMovements writes both in one statement, and since the level is
-- locked until commit, they are the newest of the level, found walking its index backwards.
-- The work of stock_levels_events on the changed levels passed as arrays: a query that reads a trigger's transition
-- tables is planned again on every call, one over arrays in a plpgsql function once per session.
CREATE FUNCTION stockroom_stock_changed(variant_ids bigint[], warehouse_ids bigint[], before_on_hand integer[],
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
     -- LATERAL, here and below: one index lookup per changed row, whatever the planner thinks of the tables' sizes
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
      -- the level's ledger rows of this statement, looked up from the level itself (joined back to `changed` by
      -- key, the planner looped over every changed level for each one: 64 x 64 index walks a group of 64)
      LEFT JOIN LATERAL (
        SELECT m.* FROM stock_movements m
         WHERE m.variant_id = c.variant_id AND m.warehouse_id = c.warehouse_id
           AND m.id > coalesce((SELECT p.id FROM stock_movements p
                                 WHERE p.variant_id = c.variant_id AND p.warehouse_id = c.warehouse_id
                                   AND NOT (p.xmin = c.written_by AND p.cmin = c.written_in)
                                 -- the level's index order, so the walk is down that index and never down the whole
                                 -- ledger's
                                 ORDER BY p.variant_id DESC, p.warehouse_id DESC, p.id DESC LIMIT 1), 0)
         OFFSET 0) m ON true
     WHERE m.id IS NOT NULL
        OR (c.on_hand, c.reserved, c.available) IS DISTINCT FROM (c.on_hand_before, c.reserved_before, c.available_before)
    WINDOW w AS (PARTITION BY c.variant_id, c.warehouse_id ORDER BY m.id)
  )
  INSERT INTO outbox (topic, payload, ordering_key)
  SELECT 'stock.changed',
         jsonb_build_object(
           'sku', v.sku, 'warehouse', w.code,
           'before', jsonb_build_object('on_hand', s.on_hand_before, 'reserved', s.reserved_before,
                                        'available', CASE WHEN s.step = 1 THEN s.level_available_before
                                                          ELSE lag(s.available_after) OVER w END),
           'after', jsonb_build_object('on_hand', s.on_hand_after, 'reserved', s.reserved_after, 'available', s.available_after),
           'movement', CASE WHEN s.movement_id IS NULL THEN NULL ELSE jsonb_build_object(
             'id', s.movement_id, 'type', s.type, 'reason', s.reason, 'reference', s.reference,
             'reservation_id', s.reservation_id, 'delta_on_hand', s.delta_on_hand, 'delta_reserved', s.delta_reserved) END),
         'variant:' || s.variant_id
    FROM steps s
   CROSS JOIN LATERAL (SELECT v.sku FROM variants v WHERE v.id = s.variant_id) v
   CROSS JOIN LATERAL (SELECT w.code FROM warehouses w WHERE w.id = s.warehouse_id) w
  WINDOW w AS (PARTITION BY s.variant_id, s.warehouse_id ORDER BY s.step)
   ORDER BY s.variant_id, s.warehouse_id, s.step;
END $$;

CREATE FUNCTION stock_levels_events() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF stockroom_subscribed('stock.changed') THEN
    PERFORM stockroom_stock_changed(array_agg(n.variant_id), array_agg(n.warehouse_id), array_agg(o.on_hand),
                                    array_agg(o.reserved), array_agg(o.available), array_agg(n.on_hand),
                                    array_agg(n.reserved), array_agg(n.available))
       FROM new_rows n JOIN old_rows o ON o.variant_id = n.variant_id AND o.warehouse_id = n.warehouse_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_events AFTER UPDATE ON stock_levels
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_events();

-- A reservation as events show it: as GET /v1/reservations/{id} does, with the status before the change.
CREATE FUNCTION stockroom_reservation_json(r reservations, previous_status text, lines jsonb, backordered boolean)
  RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
           'id', r.id, 'order_ref', r.order_ref, 'status', r.status, 'previous_status', previous_status,
           'expires_at', stockroom_iso(r.expires_at), 'created_at', stockroom_iso(r.created_at),
           'committed_at', stockroom_iso(r.committed_at), 'closed_at', stockroom_iso(r.closed_at),
           'updated_at', stockroom_iso(r.updated_at), 'backordered', coalesce(backordered, false),
           'lines', coalesce(lines, '[]'))
$$;

-- Reservation events: one per reservation per transaction that changed it, written when the transaction commits,
-- so an event sees the reservation whole (its lines are written after its row; a fulfilment writes lines, then the
-- status) and a change of several statements is one event. Statement triggers on reservations and their lines note
-- what a reservation was before the transaction first touched it (its status and deadline, and each line as it
-- was); a deferred trigger compares that with what it is at commit, names the change and writes the event. A row
-- here lives only inside the transaction that wrote it: the deferred step deletes it (a concurrent transaction
-- touching the same reservation waits on its key until then).
-- Unlogged: a row never outlives its transaction, so there is nothing for the WAL to keep (a crash empties it,
-- which is what it holds between transactions anyway).
CREATE TABLE reservation_changes (
  reservation_id uuid PRIMARY KEY,
  created        boolean NOT NULL DEFAULT false,
  -- NULL: the reservation row itself was not changed (or was created) in the transaction
  status_before  text,
  expires_before timestamptz,
  -- line number -> the line as it was ({"variant_id", "warehouse_id", "qty", "fulfilled", "released"}, or null for a
  -- line the transaction added); lines not named were not changed
  lines_before   jsonb NOT NULL DEFAULT '{}'
);

-- Notes a reservation's state before the transaction's first change; later changes in the same transaction keep
-- what was noted first.
CREATE FUNCTION stockroom_note_reservations(changes jsonb) RETURNS void LANGUAGE sql SET jit = off AS $$
  INSERT INTO reservation_changes AS q (reservation_id, created, status_before, expires_before, lines_before)
  SELECT c.reservation_id, coalesce(c.created, false), c.status_before, c.expires_before, coalesce(c.lines_before, '{}')
    FROM jsonb_to_recordset(changes)
      AS c(reservation_id uuid, created boolean, status_before text, expires_before timestamptz, lines_before jsonb)
   ORDER BY c.reservation_id
  ON CONFLICT (reservation_id) DO UPDATE SET
    created = q.created OR EXCLUDED.created,
    status_before = CASE WHEN q.created OR q.status_before IS NOT NULL THEN q.status_before ELSE EXCLUDED.status_before END,
    expires_before = CASE WHEN q.created OR q.status_before IS NOT NULL THEN q.expires_before ELSE EXCLUDED.expires_before END,
    lines_before = EXCLUDED.lines_before || q.lines_before
$$;

-- A new reservation's lines are written by the statement that writes it (insertReservations), and an AFTER trigger
-- sees the whole statement: its created event is written here, at once, for the whole group of orders, without the
-- noting and the step at commit (reserving is the hot path). One whose lines come in a later statement is noted
-- instead, and named at commit.
CREATE FUNCTION reservations_note_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF NOT stockroom_subscribed('reservation.*') THEN
    RETURN NULL;
  END IF;
  IF stockroom_subscribed('reservation.created') THEN
    INSERT INTO outbox (topic, payload, ordering_key)
    SELECT 'reservation.created', stockroom_reservation_json(a, NULL, l.lines, l.backordered), 'reservation:' || a.id
      FROM added a
     CROSS JOIN LATERAL (
       SELECT jsonb_agg(jsonb_build_object('sku', (SELECT v.sku FROM variants v WHERE v.id = rl.variant_id),
                                           'warehouse', (SELECT w.code FROM warehouses w WHERE w.id = rl.warehouse_id),
                                           'qty', rl.qty, 'backordered', rl.backordered,
                                           'fulfilled', rl.fulfilled_qty, 'released', rl.released_qty) ORDER BY rl.line_no) AS lines,
              bool_or(rl.backordered > 0) AS backordered
         FROM reservation_lines rl WHERE rl.reservation_id = a.id) l
     WHERE l.lines IS NOT NULL
     ORDER BY a.id;
  END IF;
  PERFORM stockroom_note_reservations((
    SELECT jsonb_agg(jsonb_build_object('reservation_id', a.id, 'created', true))
      FROM added a WHERE NOT EXISTS (SELECT 1 FROM reservation_lines rl WHERE rl.reservation_id = a.id)));
  RETURN NULL;
END $$;
CREATE TRIGGER reservations_note_insert AFTER INSERT ON reservations
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reservations_note_insert();

CREATE FUNCTION reservations_note_update() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF stockroom_subscribed('reservation.*') THEN
    PERFORM stockroom_note_reservations((
      SELECT jsonb_agg(jsonb_build_object('reservation_id', o.id, 'status_before', o.status, 'expires_before', o.expires_at))
        FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reservations_note_update AFTER UPDATE ON reservations
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reservations_note_update();

CREATE FUNCTION stockroom_line_json(variant_id bigint, warehouse_id bigint, qty integer, fulfilled integer, released integer)
  RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('variant_id', variant_id, 'warehouse_id', warehouse_id, 'qty', qty, 'fulfilled', fulfilled, 'released', released)
$$;

-- old_rows is NULL for an insert and new_rows for a delete (a transition table a trigger does not declare)
CREATE FUNCTION reservation_lines_note_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF stockroom_subscribed('reservation.*') THEN
    -- lines of a reservation the same statement created are its created event's (reservations_note_insert)
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
CREATE TRIGGER reservation_lines_note_insert AFTER INSERT ON reservation_lines
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reservation_lines_note_insert();

CREATE FUNCTION reservation_lines_note_change() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF stockroom_subscribed('reservation.*') THEN
    PERFORM stockroom_note_reservations((
      SELECT jsonb_agg(jsonb_build_object('reservation_id', reservation_id, 'lines_before', lines))
        FROM (SELECT reservation_id,
                     jsonb_object_agg(line_no::text, stockroom_line_json(variant_id, warehouse_id, qty, fulfilled_qty, released_qty)) AS lines
                FROM old_rows GROUP BY reservation_id) o));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reservation_lines_note_update AFTER UPDATE ON reservation_lines
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reservation_lines_note_change();
CREATE TRIGGER reservation_lines_note_delete AFTER DELETE ON reservation_lines
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reservation_lines_note_change();

-- What a change of a reservation is called, from what it was and what it is (the first rule that holds):
--   created                     the reservation is new
--   expired                     it became expired
--   unfulfilled                 units it had shipped came back (fulfilled went down)
--   fulfilled                   units shipped (whole: status fulfilled; partial: any other status)
--   released                    units were given back (whole: status released; partial: any other status)
--   moved                       its lines hold the same units of each SKU, in other warehouses
--   committed, or <status>      its status changed to that (a status added later is an event of its own name)
--   amended                     its lines or its deadline changed otherwise
-- NULL: nothing a receiver can see changed.
CREATE FUNCTION stockroom_reservation_event(created boolean, status_before text, status_after text,
                                            expires_before timestamptz, expires_after timestamptz,
                                            lines_before jsonb, lines_after jsonb) RETURNS text
  -- plpgsql, not sql: its query is planned once per session, where a SQL function's would be planned on every call
  LANGUAGE plpgsql IMMUTABLE SET jit = off AS $$
BEGIN
  RETURN (
  WITH b AS (SELECT * FROM jsonb_to_recordset(lines_before) AS b(variant_id bigint, warehouse_id bigint, qty int, fulfilled int, released int)),
       a AS (SELECT * FROM jsonb_to_recordset(lines_after) AS a(variant_id bigint, warehouse_id bigint, qty int, fulfilled int, released int)),
       totals AS (
         SELECT (SELECT coalesce(sum(fulfilled), 0) FROM b) AS fulfilled_before, (SELECT coalesce(sum(fulfilled), 0) FROM a) AS fulfilled_after,
                (SELECT coalesce(sum(released), 0) FROM b) AS released_before, (SELECT coalesce(sum(released), 0) FROM a) AS released_after,
                -- what each SKU holds or shipped (a move gives units back on one line and adds them on another)
                (SELECT coalesce(jsonb_object_agg(variant_id, qty), '{}') FROM (SELECT variant_id, sum(qty - released) AS qty FROM b GROUP BY variant_id) x) AS per_sku_before,
                (SELECT coalesce(jsonb_object_agg(variant_id, qty), '{}') FROM (SELECT variant_id, sum(qty - released) AS qty FROM a GROUP BY variant_id) x) AS per_sku_after
       )
  SELECT CASE
           WHEN created THEN 'reservation.created'
           WHEN status_after = 'expired' AND status_before IS DISTINCT FROM 'expired' THEN 'reservation.expired'
           WHEN t.fulfilled_after < t.fulfilled_before THEN 'reservation.unfulfilled'
           WHEN t.fulfilled_after > t.fulfilled_before THEN 'reservation.fulfilled'
           WHEN status_after = status_before AND lines_before IS DISTINCT FROM lines_after AND t.per_sku_before = t.per_sku_after
             THEN 'reservation.moved'
           WHEN t.released_after > t.released_before OR (status_after = 'released' AND status_before IS DISTINCT FROM 'released')
             THEN 'reservation.released'
           WHEN status_before IS DISTINCT FROM status_after THEN 'reservation.' || status_after
           WHEN lines_before IS DISTINCT FROM lines_after OR expires_before IS DISTINCT FROM expires_after THEN 'reservation.amended'
         END
    FROM totals t);
END $$;

-- At commit: each reservation the transaction noted becomes one event (found by its key: a scan of the whole table
-- would read every row deleted since the last vacuum).
CREATE FUNCTION reservation_changes_emit() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  WITH noted AS (
    DELETE FROM reservation_changes WHERE reservation_id = NEW.reservation_id RETURNING *
  ),
  -- LATERAL, here and below: index lookups per reservation noted, whatever the planner thinks of the tables' sizes
  now_lines AS (
    SELECT q.reservation_id, nl.*
      FROM noted q
     CROSS JOIN LATERAL (
       SELECT jsonb_agg(stockroom_line_json(rl.variant_id, rl.warehouse_id, rl.qty, rl.fulfilled_qty, rl.released_qty) ORDER BY rl.line_no)
                AS internal,
              jsonb_agg(jsonb_build_object('sku', (SELECT v.sku FROM variants v WHERE v.id = rl.variant_id),
                                           'warehouse', (SELECT w.code FROM warehouses w WHERE w.id = rl.warehouse_id),
                                           'qty', rl.qty, 'backordered', rl.backordered,
                                           'fulfilled', rl.fulfilled_qty, 'released', rl.released_qty) ORDER BY rl.line_no) AS shown,
              bool_or(rl.backordered > 0) AS backordered
         FROM reservation_lines rl WHERE rl.reservation_id = q.reservation_id) nl
  ),
  before_lines AS (
    SELECT q.reservation_id, coalesce(jsonb_agg(x.line ORDER BY x.line_no), '[]') AS internal
      FROM noted q
     CROSS JOIN LATERAL (
       SELECT rl.line_no, stockroom_line_json(rl.variant_id, rl.warehouse_id, rl.qty, rl.fulfilled_qty, rl.released_qty) AS line
         FROM reservation_lines rl WHERE rl.reservation_id = q.reservation_id AND NOT q.lines_before ? rl.line_no::text
        UNION ALL
       SELECT e.key::int, e.value FROM jsonb_each(q.lines_before) e WHERE e.value <> 'null'::jsonb
     ) x
     GROUP BY q.reservation_id
  ),
  named AS (
    SELECT q.created, q.status_before, r, nl.shown, nl.backordered,
           CASE WHEN q.created THEN 'reservation.created'
                ELSE stockroom_reservation_event(false, coalesce(q.status_before, r.status), r.status,
                                                 CASE WHEN q.status_before IS NULL THEN r.expires_at ELSE q.expires_before END, r.expires_at,
                                                 coalesce(bl.internal, '[]'), coalesce(nl.internal, '[]')) END AS event
      FROM noted q CROSS JOIN reservations r
      LEFT JOIN now_lines nl ON nl.reservation_id = q.reservation_id
      LEFT JOIN before_lines bl ON bl.reservation_id = q.reservation_id
     WHERE r.id = q.reservation_id
  )
  INSERT INTO outbox (topic, payload, ordering_key)
  SELECT n.event,
         stockroom_reservation_json(n.r, CASE WHEN n.created THEN NULL ELSE coalesce(n.status_before, (n.r).status) END,
                                    n.shown, n.backordered),
         'reservation:' || (n.r).id
    FROM named n
   WHERE n.event IS NOT NULL AND stockroom_subscribed(n.event);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER reservation_changes_emit AFTER INSERT ON reservation_changes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reservation_changes_emit();
