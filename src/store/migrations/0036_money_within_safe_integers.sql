-- Money is never rounded (src/domain/money.ts): an amount is a JavaScript number only while it is a safe integer,
-- at most 2^53 - 1 minor units. Migration 0029 allowed a level's value up to what bigint holds (2,147,483,647 units at
-- up to 1,000,000,000 each), so a ledger row could record a value no reader gets back exactly, and the valuation of
-- the whole store was refused from then on. The cost trigger now refuses the statement that would write such a row;
-- the rest of 0029's function is as it was.
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
    IF NEW.value_delta IS NULL THEN
      IF NEW.unit_cost IS NULL THEN
        NEW.unit_cost := average;
      ELSIF average IS NULL THEN
        value_before := 0; -- nothing was costed here before: the units already on hand take this cost too
        NEW.value_delta := NEW.on_hand_after::bigint * NEW.unit_cost;
      END IF;
      NEW.value_delta := coalesce(NEW.value_delta, NEW.delta_on_hand::bigint * NEW.unit_cost, 0);
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

-- Rows an older version wrote past the limit stay as they are (they are exact in the database); what reads them
-- refuses them rather than round. They can only be found with this index, empty on any database that never held one,
-- so that an export can look for them before it answers (src/store/valuation.ts).
CREATE INDEX stock_movements_value_past_safe_idx ON stock_movements (variant_id, warehouse_id)
  WHERE value_after > 9007199254740991;
