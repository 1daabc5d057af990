-- stock.changed written by the statement that writes the ledger (issue 14's cost target): applyMovements
-- (src/store/levels.ts), the one statement every ledger row comes from, writes the events of its rows itself, from
-- the numbers it has just computed, and says so in a transaction-local setting, stockroom.stock_events_written,
-- which the level trigger reads and clears as the statement ends. The trigger found those rows again for every
-- changed level (the level's xmin and cmin, then a walk down its ledger index), which under load cost as much as the
-- statement's own work. It still writes the events of every other change of a level (a safety stock, a stock
-- state, a level changed by hand in SQL).
CREATE OR REPLACE FUNCTION stock_levels_events() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF coalesce(current_setting('stockroom.stock_events_written', true), '') = 'on' THEN
    PERFORM set_config('stockroom.stock_events_written', '', true);
    RETURN NULL;
  END IF;
  IF stockroom_subscribed('stock.changed') THEN
    PERFORM stockroom_stock_changed(array_agg(n.variant_id), array_agg(n.warehouse_id), array_agg(o.on_hand),
                                    array_agg(o.reserved), array_agg(o.available), array_agg(n.on_hand),
                                    array_agg(n.reserved), array_agg(n.available))
       FROM new_rows n JOIN old_rows o ON o.variant_id = n.variant_id AND o.warehouse_id = n.warehouse_id;
  END IF;
  RETURN NULL;
END $$;

-- reservation.created likewise: insertReservations (src/store/reservations.ts), the statement every checkout's
-- reservations come from, writes them with their lines and their created events from what the service knows (the
-- SKUs and warehouse codes of the lines included), and sets stockroom.reservations_created; this trigger then has
-- nothing to do (no reservation of the statement lacks its lines, so nothing to note for commit either). Any other
-- insert of reservations is handled as before (0019).
CREATE OR REPLACE FUNCTION reservations_note_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  IF coalesce(current_setting('stockroom.reservations_created', true), '') = 'on' THEN
    PERFORM set_config('stockroom.reservations_created', '', true);
    RETURN NULL;
  END IF;
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
  -- reservations whose lines come in a later statement: noted, and named at commit (only when there are any: the
  -- call plans its statement anew each time)
  PERFORM stockroom_note_reservations(c)
     FROM (SELECT jsonb_agg(jsonb_build_object('reservation_id', a.id, 'created', true)) AS c
             FROM added a WHERE NOT EXISTS (SELECT 1 FROM reservation_lines rl WHERE rl.reservation_id = a.id)) n
    WHERE c IS NOT NULL;
  RETURN NULL;
END $$;
