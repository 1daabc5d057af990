-- The alert trigger (0007, 0016) runs after every statement that changes levels, a reserve group's write among
-- them, and summed each touched variant's levels for its variant-wide state: an index scan a variant, a third of
-- its 0.27-0.30 ms a group of 32 (bench/README.md, issue 18). A variant's total of max(available, 0) is at least any
-- one level's; so a variant with a changed level above its threshold (and above 0) before the statement, and one
-- above it after, was in stock overall before and is after: no variant-wide alert can be raised, and its sum is
-- skipped. Only the variants near or under their threshold are summed; per level nothing changes. The threshold
-- is read once a changed level (it was read again for each scope).
CREATE OR REPLACE FUNCTION stock_levels_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  w_ids bigint[];
  befores bigint[];
  afters bigint[];
  thresholds integer[];
BEGIN
  WITH moved AS (
    SELECT n.variant_id, n.warehouse_id, o.available::bigint AS before, n.available::bigint AS after,
           v.low_stock_threshold AS threshold
      FROM new_rows n JOIN old_rows o ON o.variant_id = n.variant_id AND o.warehouse_id = n.warehouse_id
      JOIN variants v ON v.id = n.variant_id
     WHERE n.available <> o.available
  ),
  near AS (
    -- greatest(threshold, 0): a null threshold has no low state, and a level at 0 or under is out of stock
    SELECT variant_id, min(threshold) AS threshold, sum(greatest(after, 0) - greatest(before, 0))::bigint AS delta
      FROM moved GROUP BY variant_id
    HAVING NOT (bool_or(before > greatest(threshold, 0)) AND bool_or(after > greatest(threshold, 0)))
  ),
  scopes AS (
    SELECT m.variant_id, m.warehouse_id, m.before, m.after, m.threshold FROM moved m
    UNION ALL
    -- this statement's rows as they are now, with the variant's other levels (locked by this transaction)
    SELECT t.variant_id, 0::bigint, s.after - t.delta, s.after, t.threshold
      FROM near t
      CROSS JOIN LATERAL (SELECT sum(greatest(l.available, 0))::bigint AS after
                            FROM stock_levels l WHERE l.variant_id = t.variant_id) s
  )
  SELECT array_agg(c.variant_id), array_agg(c.warehouse_id), array_agg(c.before), array_agg(c.after),
         array_agg(c.threshold)
    INTO v_ids, w_ids, befores, afters, thresholds
    FROM scopes c
   WHERE stockroom_stock_state(c.before, c.threshold) <> stockroom_stock_state(c.after, c.threshold);
  IF v_ids IS NOT NULL THEN
    PERFORM stockroom_raise_alerts(v_ids, w_ids, befores, afters, thresholds, thresholds);
  END IF;
  RETURN NULL;
END $$;
