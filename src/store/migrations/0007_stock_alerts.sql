-- Threshold alerts, raised by the database in the transaction of the stock change itself: whatever writes a
-- level (a checkout, a sync, the CLI, a settings change), the alert and its outbox row commit with it or not
-- at all.
--
-- A scope is one level (variant at a warehouse) or the variant over all its warehouses, whose available is the
-- sum of what each warehouse has from zero up, as the storefront counts it (one warehouse's backorders or
-- safety stock never eat another's stock). Its state is
--   out_of_stock  available <= 0
--   low_stock     0 < available <= the variant's low_stock_threshold
--   in_stock      above the threshold
-- and an alert is a crossing between states, read off the rows' numbers before and after the change:
--   into out_of_stock                      -> out_of_stock
--   from in_stock into low_stock           -> low_stock
--   out of out_of_stock, after an alert    -> back_in_stock
-- So each fires once per crossing and re-arms when the scope recovers. back_in_stock needs an out_of_stock
-- alert before it: a new variant's first delivery is not a recovery.
--
-- The overall numbers of a variant are read while every level of the variant is locked by the writing
-- transaction (store/levels.ts locks a variant's levels together), so two changes in two warehouses of one
-- variant are judged one after the other, never both against the same stale total.

CREATE TABLE alerts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type         text NOT NULL CHECK (type IN ('low_stock', 'out_of_stock', 'back_in_stock')),
  variant_id   bigint NOT NULL REFERENCES variants (id),
  warehouse_id bigint REFERENCES warehouses (id), -- null: the variant over all warehouses
  available    integer NOT NULL,
  threshold    integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- the last alert of a scope decides whether a recovery is news
CREATE INDEX alerts_scope_idx ON alerts (variant_id, (coalesce(warehouse_id, 0)), id);
CREATE INDEX alerts_type_idx ON alerts (type, id);

CREATE FUNCTION stockroom_stock_state(available bigint, threshold integer) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN available <= 0 THEN 'out_of_stock' WHEN available <= threshold THEN 'low_stock' ELSE 'in_stock' END
$$;

-- Raises the alerts of a set of scope changes (arrays of one length; warehouse 0 is the variant overall) and
-- queues each for delivery. A scope appears at most once per call.
CREATE FUNCTION stockroom_raise_alerts(variant_ids bigint[], warehouse_ids bigint[], before bigint[], after bigint[],
                                       threshold_before integer[], threshold_after integer[]) RETURNS void
  LANGUAGE sql AS $$
  WITH c AS (
    SELECT * FROM unnest(variant_ids, warehouse_ids, before, after, threshold_before, threshold_after)
      AS c(variant_id, warehouse_id, before, after, threshold_before, threshold_after)
  ),
  crossed AS (
    SELECT c.*, stockroom_stock_state(c.before, c.threshold_before) AS was, stockroom_stock_state(c.after, c.threshold_after) AS now
      FROM c
  ),
  raised AS (
    INSERT INTO alerts (type, variant_id, warehouse_id, available, threshold)
    SELECT t.type, t.variant_id, nullif(t.warehouse_id, 0), t.after, t.threshold_after
      FROM (SELECT x.*,
                   CASE WHEN x.now = 'out_of_stock' THEN 'out_of_stock'
                        WHEN x.was = 'out_of_stock' THEN
                          CASE WHEN (SELECT a.type FROM alerts a
                                      WHERE a.variant_id = x.variant_id AND coalesce(a.warehouse_id, 0) = x.warehouse_id
                                      ORDER BY a.id DESC LIMIT 1) = 'out_of_stock' THEN 'back_in_stock' END
                        WHEN x.was = 'in_stock' AND x.now = 'low_stock' THEN 'low_stock'
                   END AS type
              FROM crossed x WHERE x.was <> x.now) t
     WHERE t.type IS NOT NULL
     ORDER BY t.variant_id, t.warehouse_id = 0, t.warehouse_id
    RETURNING *
  )
  INSERT INTO outbox (topic, payload)
  SELECT 'alert', jsonb_build_object(
           'alert_id', r.id, 'type', r.type, 'sku', v.sku, 'warehouse', w.code, 'available', r.available,
           'threshold', r.threshold, 'created_at', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    FROM raised r JOIN variants v ON v.id = r.variant_id LEFT JOIN warehouses w ON w.id = r.warehouse_id
   ORDER BY r.id
$$;

-- Runs after every statement that changes levels (a whole group commit is one), so the common case, nothing
-- crossing, must stay cheap: one pass over the changed rows and one indexed sum per variant, and the alert
-- writing only for scopes that crossed.
CREATE FUNCTION stock_levels_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  w_ids bigint[];
  befores bigint[];
  afters bigint[];
  thresholds integer[];
BEGIN
  WITH moved AS (
    SELECT n.variant_id, n.warehouse_id,
           (o.on_hand - o.reserved - o.safety_stock)::bigint AS before, (n.on_hand - n.reserved - n.safety_stock)::bigint AS after
      FROM new_rows n JOIN old_rows o ON o.variant_id = n.variant_id AND o.warehouse_id = n.warehouse_id
  ),
  touched AS (
    SELECT variant_id, sum(greatest(after, 0) - greatest(before, 0))::bigint AS delta
      FROM moved GROUP BY variant_id HAVING bool_or(after <> before)
  ),
  scopes AS (
    SELECT m.variant_id, m.warehouse_id, m.before, m.after FROM moved m WHERE m.after <> m.before
    UNION ALL
    -- this statement's rows as they are now, with the variant's other levels (locked by this transaction)
    SELECT t.variant_id, 0::bigint, s.after - t.delta, s.after
      FROM touched t
      CROSS JOIN LATERAL (SELECT sum(greatest(l.on_hand - l.reserved - l.safety_stock, 0))::bigint AS after
                            FROM stock_levels l WHERE l.variant_id = t.variant_id) s
  )
  SELECT array_agg(c.variant_id), array_agg(c.warehouse_id), array_agg(c.before), array_agg(c.after), array_agg(v.low_stock_threshold)
    INTO v_ids, w_ids, befores, afters, thresholds
    FROM scopes c JOIN variants v ON v.id = c.variant_id
   WHERE stockroom_stock_state(c.before, v.low_stock_threshold) <> stockroom_stock_state(c.after, v.low_stock_threshold);
  IF v_ids IS NOT NULL THEN
    PERFORM stockroom_raise_alerts(v_ids, w_ids, befores, afters, thresholds, thresholds);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_alerts AFTER UPDATE ON stock_levels
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_alerts();

-- A new threshold moves every scope of the variant across it or not, with no stock moving.
CREATE FUNCTION variants_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  SELECT array_agg(n.id) INTO ids
    FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.low_stock_threshold <> o.low_stock_threshold;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM stock_levels l WHERE l.variant_id = ANY(ids) ORDER BY l.variant_id, l.warehouse_id FOR UPDATE;
  PERFORM stockroom_raise_alerts(array_agg(variant_id), array_agg(warehouse_id), array_agg(available), array_agg(available),
                                 array_agg(threshold_before), array_agg(threshold_after))
     FROM (
       WITH scopes AS (
         SELECT l.variant_id, l.warehouse_id, l.available::bigint AS available FROM stock_levels l WHERE l.variant_id = ANY(ids)
         UNION ALL
         SELECT l.variant_id, 0, sum(greatest(l.available, 0))::bigint FROM stock_levels l WHERE l.variant_id = ANY(ids) GROUP BY l.variant_id
       )
       SELECT s.*, o.low_stock_threshold AS threshold_before, n.low_stock_threshold AS threshold_after
         FROM scopes s JOIN new_rows n ON n.id = s.variant_id JOIN old_rows o ON o.id = s.variant_id
     ) j
   HAVING count(*) > 0;
  RETURN NULL;
END $$;
CREATE TRIGGER variants_alerts AFTER UPDATE ON variants
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION variants_alerts();

-- Delivery workers wake on a new outbox row instead of polling for it (they still poll for retries).
CREATE FUNCTION outbox_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM added) AND coalesce(current_setting('stockroom.announce', true), '') <> 'off' THEN
    PERFORM pg_notify('stockroom_outbox', '');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_announce AFTER INSERT ON outbox
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION outbox_announce();
