-- Two variant settings for routing (issue 14):
-- limit_scope: 'warehouse' (as before) holds safety stock back in each warehouse and lets each go as far below
--   zero as the backorder/pre-order limit; 'variant' applies both to the variant's sum over all its warehouses.
-- track_inventory: false for goods whose stock is not counted (services, print on demand): their reservations
--   are recorded, routed to a warehouse, never refused, and hold nothing.
ALTER TABLE variants
  ADD COLUMN limit_scope text NOT NULL DEFAULT 'warehouse' CHECK (limit_scope IN ('warehouse', 'variant')),
  ADD COLUMN track_inventory boolean NOT NULL DEFAULT true;

-- The levels carry the scope as they carry safety_stock and backorder_limit (copied from the variant, in the
-- transaction that changes it, with the levels locked), so the trigger below runs only for variant-wide ones and
-- the hot path of every other variant pays nothing. A variant-wide level holds no safety stock of its own
-- (safety_stock 0): the variant's is taken from the sum.
ALTER TABLE stock_levels ADD COLUMN variant_wide boolean NOT NULL DEFAULT false;

-- Invariant 1 for variant-wide limits: promising stock may never take the variant's available summed over its
-- warehouses, less its safety stock, below its backorder limit (0 for deny). AFTER the statement's rows are all
-- updated, so one statement moving holds between levels of a variant is judged on where it leaves them. The
-- sum is of the `available` column, whatever it subtracts. Every writer of reserved locks all of the variant's
-- levels first (applyMovements, lockLevels), so the sum cannot move under the check.
CREATE FUNCTION stock_levels_check_variant_reservable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
  variant record;
BEGIN
  SELECT safety_stock, backorder_limit INTO variant FROM variants WHERE id = NEW.variant_id;
  SELECT sum(available) INTO total FROM stock_levels WHERE variant_id = NEW.variant_id;
  IF total - variant.safety_stock < -variant.backorder_limit THEN
    RAISE EXCEPTION 'reservation would take the variant''s available below its variant-wide limit (variant %)',
      NEW.variant_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_variant_reservable AFTER UPDATE ON stock_levels
  FOR EACH ROW WHEN (NEW.reserved > OLD.reserved AND NEW.variant_wide)
  EXECUTE FUNCTION stock_levels_check_variant_reservable();

-- A line of an untracked variant records where the order would ship from but holds nothing: no ledger row,
-- and reconcile leaves it out of what open reservations hold.
ALTER TABLE reservation_lines ADD COLUMN holds_stock boolean NOT NULL DEFAULT true;
