-- A level's first cost values the units already there (migration 0029), whatever brings it. Up to 0036 only a
-- receipt's did: a transfer in carrying a value into a level never costed took just that value, so the units
-- already there were worth nothing yet no longer counted as uncosted (the level's last row had a cost), and its
-- average (the value carried over all its units) priced every unit that left it from then on. Now such a transfer
-- in is that level's first cost: the units moved bring exactly the value their transfer out took, and the units
-- already there are valued at the row's unit cost, the average of the units moved (round(carried / qty)), as a
-- receipt's first cost values them at its own. The rest of 0036's function is as it was, the check of the limit
-- after the value is known, so a transfer whose first cost would value the level past 2^53 - 1 is refused whole.
--
-- Levels already valued this way are left as they were. Their later rows (removals at the low average, the cost of
-- goods sold of fulfilments) were costed from that value and have been reported; correcting them would rewrite
-- what the append-only ledger says it booked then, and no ledger row changes a level's value without moving units.
-- Reconcile does not see them (every row still adds up): docs/operations.md, "Levels a transfer valued wrongly
-- before 0037", gives the query that finds them and how an operator revalues one from now on.
CREATE OR REPLACE FUNCTION stock_movements_cost() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  value_before bigint;
  average bigint;
  carried bigint;
BEGIN
  SELECT c.stock_value, c.average_cost INTO value_before, average
    FROM stock_costs c WHERE c.variant_id = NEW.variant_id AND c.warehouse_id = NEW.warehouse_id;
  value_before := coalesce(value_before, 0);
  NEW.value_delta := NULL;
  IF NEW.delta_on_hand > 0 THEN
    IF NEW.type = 'transfer_in' THEN
      -- the value the transfer out just before it in this statement took (applyMovements writes them in order)
      carried := nullif(current_setting('stockroom.transfer_value', true), '')::bigint;
      PERFORM set_config('stockroom.transfer_value', '', true);
      IF carried IS NOT NULL AND NEW.unit_cost IS NULL THEN
        NEW.value_delta := carried;
        NEW.unit_cost := round(carried::numeric / NEW.delta_on_hand);
      END IF;
    END IF;
    IF NEW.unit_cost IS NULL THEN
      NEW.unit_cost := average; -- none given: the level's average, or still no cost where it has none
    END IF;
    -- the units that came in: the value carried, else their unit cost each, else (uncosted) nothing
    NEW.value_delta := coalesce(NEW.value_delta, NEW.delta_on_hand::bigint * NEW.unit_cost, 0);
    IF average IS NULL AND NEW.unit_cost IS NOT NULL THEN
      -- nothing was costed here before: the units already on hand take this cost too, whether a receipt gave it or
      -- a transfer brought it. At most 2^31 - 1 units at a cost of about 10^9 at most (a receipt's, or the average
      -- of units received at such costs): the product fits bigint, and the limit below refuses it past 2^53 - 1.
      value_before := 0;
      NEW.value_delta := NEW.value_delta + (NEW.on_hand_after - NEW.delta_on_hand)::bigint * NEW.unit_cost;
    END IF;
  ELSE
    NEW.unit_cost := average;
    NEW.value_delta := CASE WHEN NEW.on_hand_after = 0 THEN -value_before
                            ELSE -least(value_before, -NEW.delta_on_hand::bigint * coalesce(average, 0)) END;
    IF NEW.type = 'transfer_out' THEN
      -- uncosted units carry nothing: they come in at the destination's average like any uncosted units
      PERFORM set_config('stockroom.transfer_value', CASE WHEN average IS NULL THEN '' ELSE (-NEW.value_delta)::text END, true);
    END IF;
  END IF;
  NEW.value_after := value_before + NEW.value_delta;
  -- an amount past 2^53 - 1 cannot be read back exactly as a JavaScript number: a change that would raise a level's
  -- value past it is refused whole rather than kept and rounded on every read. A change that does not raise it goes
  -- through, whatever the level held: a level an older version valued past the limit (even past twice it, where any
  -- change small enough to check would leave it over) can be counted down, fulfilled from and emptied
  -- (src/store/failures.ts turns this into a money_overflow problem)
  IF NEW.value_after > 9007199254740991 AND NEW.value_after > value_before THEN
    RAISE EXCEPTION 'a ledger row would value % units at % minor units (a change of %), past 9007199254740991',
      NEW.on_hand_after, NEW.value_after, NEW.value_delta
      USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movements_value_within_safe_integers';
  END IF;
  INSERT INTO stock_costs (variant_id, warehouse_id, stock_value, average_cost)
  VALUES (NEW.variant_id, NEW.warehouse_id, NEW.value_after,
          CASE WHEN NEW.on_hand_after > 0 AND NEW.unit_cost IS NOT NULL
               THEN round(NEW.value_after::numeric / NEW.on_hand_after)::bigint ELSE average END)
  ON CONFLICT (variant_id, warehouse_id)
  DO UPDATE SET stock_value = EXCLUDED.stock_value, average_cost = EXCLUDED.average_cost;
  RETURN NEW;
END $$;
