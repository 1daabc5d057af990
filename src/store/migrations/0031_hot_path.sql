-- Issue 18: what the reservation path costs the database per group.
-- Change announcements: the SKUs of the statement's levels, by key. `IN (SELECT ... FROM changed)` let the planner
-- hash the transition table against a scan of every variant (1.2 ms a group of 64 on 10,000 variants).
CREATE OR REPLACE FUNCTION stock_levels_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_announce((
    SELECT string_agg(v.sku, E'\n') FROM variants v WHERE v.id = ANY(ARRAY(SELECT DISTINCT variant_id FROM changed))));
  RETURN NULL;
END $$;

-- Reservation lines and ledger rows name an existing level and reservation. Foreign keys checked that one row at a
-- time: four lookups per reservation, each a query of its own with a KEY SHARE lock, about a sixth of the database's
-- CPU per reservation (bench/README.md). The same rule is kept set-based: levels and reservations are never deleted,
-- re-keyed or truncated (the ledger and the lines keep their history), so a row that names them once names them for
-- good, and each statement that inserts lines or ledger rows checks all of its rows at once.
ALTER TABLE reservation_lines
  DROP CONSTRAINT reservation_lines_level_fkey,
  DROP CONSTRAINT reservation_lines_reservation_id_fkey;
ALTER TABLE stock_movements
  DROP CONSTRAINT stock_movements_level_fkey,
  DROP CONSTRAINT stock_movements_reservation_id_fkey;

CREATE FUNCTION stockroom_referenced_rows_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are kept for good: reservation lines and ledger rows refer to them', TG_TABLE_NAME
    USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER stock_levels_kept BEFORE DELETE OR UPDATE OF variant_id, warehouse_id ON stock_levels
  FOR EACH ROW EXECUTE FUNCTION stockroom_referenced_rows_kept();
CREATE TRIGGER stock_levels_kept_truncate BEFORE TRUNCATE ON stock_levels
  FOR EACH STATEMENT EXECUTE FUNCTION stockroom_referenced_rows_kept();
CREATE TRIGGER reservations_kept BEFORE DELETE OR UPDATE OF id ON reservations
  FOR EACH ROW EXECUTE FUNCTION stockroom_referenced_rows_kept();
CREATE TRIGGER reservations_kept_truncate BEFORE TRUNCATE ON reservations
  FOR EACH STATEMENT EXECUTE FUNCTION stockroom_referenced_rows_kept();

-- The rows a statement wrote that name a level or a reservation that does not exist (a ledger row names a
-- reservation only when it moved units for one). Found by key, one probe each, in one query for the statement:
-- scalar subqueries, which the planner keeps as probes; NOT EXISTS let a cached plan, knowing nothing of the
-- transition table, hash it against a scan of every reservation (2 ms a group, and growing).
CREATE FUNCTION stockroom_refuse_dangling(what text, dangling bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF dangling > 0 THEN
    RAISE EXCEPTION '% % name a stock level or reservation that does not exist', dangling, what
      USING ERRCODE = 'foreign_key_violation';
  END IF;
END $$;

CREATE FUNCTION reservation_lines_refer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_refuse_dangling('reservation lines', (
    SELECT count(*) FROM added a
     WHERE (SELECT 1 FROM stock_levels l WHERE l.variant_id = a.variant_id AND l.warehouse_id = a.warehouse_id) IS NULL
        OR (SELECT 1 FROM reservations r WHERE r.id = a.reservation_id) IS NULL));
  RETURN NULL;
END $$;
CREATE TRIGGER reservation_lines_refer AFTER INSERT ON reservation_lines
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reservation_lines_refer();

-- a line moved to another level (or reservation) is checked row by row: rare, and the WHEN spares every other update
CREATE FUNCTION reservation_line_refers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM stock_levels l WHERE l.variant_id = NEW.variant_id AND l.warehouse_id = NEW.warehouse_id)
     OR NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = NEW.reservation_id) THEN
    PERFORM stockroom_refuse_dangling('reservation lines', 1);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reservation_lines_refer_update AFTER UPDATE ON reservation_lines
  FOR EACH ROW WHEN ((OLD.variant_id, OLD.warehouse_id, OLD.reservation_id) IS DISTINCT FROM
                     (NEW.variant_id, NEW.warehouse_id, NEW.reservation_id))
  EXECUTE FUNCTION reservation_line_refers();

CREATE FUNCTION stock_movements_refer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_refuse_dangling('ledger rows', (
    SELECT count(*) FROM added a
     WHERE (SELECT 1 FROM stock_levels l WHERE l.variant_id = a.variant_id AND l.warehouse_id = a.warehouse_id) IS NULL
        OR (a.reservation_id IS NOT NULL AND (SELECT 1 FROM reservations r WHERE r.id = a.reservation_id) IS NULL)));
  RETURN NULL;
END $$;
CREATE TRIGGER stock_movements_refer AFTER INSERT ON stock_movements
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION stock_movements_refer();
