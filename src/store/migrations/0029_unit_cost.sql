-- Unit cost and valuation (issue 17). Money is integer minor units of the store's currency (STOCKROOM_CURRENCY),
-- never a float: docs/design.md, "Money and unit cost".

-- Who bills in what: a supplier may name its currency; an order carries the one it was placed in. Neither may
-- differ from the store's (the service refuses it: costs are not converted), but the order keeps what it was.
ALTER TABLE suppliers ADD COLUMN currency text CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE purchase_orders ADD COLUMN currency text CHECK (currency ~ '^[A-Z]{3}$');
-- what one unit of the line costs, in minor units; at most 1,000,000,000 so that a level's value (at most
-- 2,147,483,647 units) stays within bigint (src/domain/money.ts MAX_UNIT_COST)
ALTER TABLE purchase_order_lines ADD COLUMN unit_cost bigint CHECK (unit_cost BETWEEN 0 AND 1000000000);

-- Every ledger row that moves on_hand says what the units were worth: unit_cost is what one unit came in at
-- (a receipt's cost, or the level's average when none is given) or left at (the level's moving average: the cost
-- of goods sold on a fulfilment); value_delta is what the row added to or took from the level's value, and
-- value_after the level's value after it. Valuation as of any time is then the value_after of each level's last
-- such row, read from the ledger alone. Rows written before this migration, and rows of units whose cost was
-- never given, have no cost (null).
ALTER TABLE stock_movements
  ADD COLUMN unit_cost bigint CHECK (unit_cost BETWEEN 0 AND 1000000000),
  ADD COLUMN value_delta bigint,
  ADD COLUMN value_after bigint CHECK (value_after >= 0);

-- A level's moving-average cost and the value of its units, kept by the trigger below in the same statement as
-- the ledger row, so never half-applied. A table of its own, not columns of stock_levels: the trigger runs within
-- applyMovements' statement, which updates stock_levels itself, and a row may not be changed twice by one
-- statement. No row: nothing was ever costed here (value 0, no average).
CREATE TABLE stock_costs (
  variant_id   bigint NOT NULL,
  warehouse_id bigint NOT NULL,
  stock_value  bigint NOT NULL CHECK (stock_value >= 0),
  -- round(stock_value / on_hand), half away from zero; kept when on_hand reaches 0 (what the next units cost
  -- when they come back without a cost of their own)
  average_cost bigint CHECK (average_cost >= 0),
  PRIMARY KEY (variant_id, warehouse_id),
  FOREIGN KEY (variant_id, warehouse_id) REFERENCES stock_levels (variant_id, warehouse_id)
);

-- The moving average, row by row in ledger order (a group commit may write several rows of one level in one
-- statement: each sees what the rows before it left, as rows processed earlier in the same command are visible
-- to a BEFORE trigger). No lock is taken here: every statement that moves on_hand (applyMovements) has locked
-- every level of the variant before it writes the ledger, so nobody else can be costing this level.
--
-- In: at the unit cost given, else at the level's average (adjustments, counts, syncs, returns, unfulfils), else
--     uncosted (value 0). A transfer in carries exactly the value its transfer out took, so a transfer moves value
--     between warehouses without creating or losing any. The first cost ever given to a level also values the
--     units already there (stock from before costs were recorded takes the first cost it is given).
-- Out: at the average; the last units take whatever value is left (no rounding residue stays behind), and a row
--     never takes more value than there is.
CREATE FUNCTION stock_movements_cost() RETURNS trigger LANGUAGE plpgsql AS $$
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
  INSERT INTO stock_costs (variant_id, warehouse_id, stock_value, average_cost)
  VALUES (NEW.variant_id, NEW.warehouse_id, NEW.value_after,
          CASE WHEN NEW.on_hand_after > 0 AND NEW.unit_cost IS NOT NULL
               THEN round(NEW.value_after::numeric / NEW.on_hand_after)::bigint ELSE average END)
  ON CONFLICT (variant_id, warehouse_id)
  DO UPDATE SET stock_value = EXCLUDED.stock_value, average_cost = EXCLUDED.average_cost;
  RETURN NEW;
END $$;

-- Rows that do not move on_hand (reserve, release, expire, state) never call the function: the reservation hot
-- path pays one comparison per row, made without entering PL/pgSQL.
CREATE TRIGGER stock_movements_cost BEFORE INSERT ON stock_movements
  FOR EACH ROW WHEN (NEW.delta_on_hand <> 0) EXECUTE FUNCTION stock_movements_cost();

-- valuation as of a time walks each level's rows back from the newest (stock_movements_level_idx); the report's
-- "what moved since" reads rows by time (stock_movements_created_idx): no new index is needed
