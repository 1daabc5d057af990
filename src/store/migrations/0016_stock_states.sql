-- Stock states as Shopify names them (issue 14). Of a level's on_hand, units may be `damaged` or in
-- `quality_control`: still in the building (part of on_hand), never sellable. Together with `safety_stock` and
-- what is reserved they are subtracted from on_hand to give `available`; units move between the states with
-- POST /v1/stock/move-state, one ledger row of type 'state' per move (on_hand and reserved do not change).
--
-- safety_stock stays the variant's setting copied onto each level, unless a level has been given its own amount
-- by a state move: `safety_stock_own` marks such a level, and a settings change of the variant no longer
-- overwrites it (store/catalog.ts updateVariant).
ALTER TABLE stock_levels
  ADD COLUMN damaged integer NOT NULL DEFAULT 0 CHECK (damaged >= 0),
  ADD COLUMN quality_control integer NOT NULL DEFAULT 0 CHECK (quality_control >= 0),
  ADD COLUMN safety_stock_own boolean NOT NULL DEFAULT false,
  -- the level's warehouse or its variant is archived: the level leaves routing and the storefront. A flag on the
  -- level itself (not only on the warehouse or variant) because a reservation that waited for the level's lock
  -- re-checks the conditions on the level row it locked, never on the rows it joined (see the archive service)
  ADD COLUMN archived boolean NOT NULL DEFAULT false;

-- A generated column's expression cannot be altered: it is dropped and added again (the table is rewritten).
ALTER TABLE stock_levels DROP COLUMN available;
ALTER TABLE stock_levels
  ADD COLUMN available integer GENERATED ALWAYS AS (on_hand - reserved - safety_stock - damaged - quality_control) STORED;

-- Invariant 1 with the states: promising stock may never take available below the backorder limit.
CREATE OR REPLACE FUNCTION stock_levels_check_reservable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.on_hand - NEW.reserved - NEW.safety_stock - NEW.damaged - NEW.quality_control < -NEW.backorder_limit THEN
    RAISE EXCEPTION 'reservation would take available below its limit (variant %, warehouse %)',
      NEW.variant_id, NEW.warehouse_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

-- The alert trigger of 0007 wrote the formula out; it reads the generated column now (AFTER triggers and their
-- transition tables see it computed), so a state move that changes available raises its alerts like any change.
CREATE OR REPLACE FUNCTION stock_levels_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  w_ids bigint[];
  befores bigint[];
  afters bigint[];
  thresholds integer[];
BEGIN
  WITH moved AS (
    SELECT n.variant_id, n.warehouse_id, o.available::bigint AS before, n.available::bigint AS after
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
      CROSS JOIN LATERAL (SELECT sum(greatest(l.available, 0))::bigint AS after
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

-- A 'state' ledger row says what moved where: on_hand and reserved stay, so its deltas are 0 and these columns
-- explain it; reconcile replays them against the level's damaged and quality_control.
ALTER TABLE stock_movements
  ADD COLUMN state_from text CHECK (state_from IN ('available', 'damaged', 'quality_control', 'safety_stock')),
  ADD COLUMN state_to text CHECK (state_to IN ('available', 'damaged', 'quality_control', 'safety_stock')),
  ADD COLUMN state_qty integer CHECK (state_qty > 0),
  ADD CONSTRAINT stock_movements_state_explained CHECK (
    CASE WHEN type = 'state'
         THEN state_from IS NOT NULL AND state_to IS NOT NULL AND state_qty IS NOT NULL AND state_from <> state_to
              AND delta_on_hand = 0 AND delta_reserved = 0
         ELSE state_from IS NULL AND state_to IS NULL AND state_qty IS NULL
    END);

-- Archived warehouses and variants leave routing, the storefront and lists; their history stays.
ALTER TABLE warehouses ADD COLUMN archived_at timestamptz;
ALTER TABLE variants ADD COLUMN archived_at timestamptz;
