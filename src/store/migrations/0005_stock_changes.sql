-- Every committed change of a stock level, or of a variant's settings (thresholds, backorder policy), is
-- announced on channel stockroom_stock with the SKUs it touched, one per line (a SKU holds no whitespace).
-- NOTIFY is delivered only when the transaction commits (never for one that rolls back), to every listening
-- connection, whichever process made the change: caches and live streams follow the database itself, not the
-- code paths that write to it.
-- A session may switch announcements off (SET stockroom.announce = off) for a bulk load: every NOTIFY takes a
-- database-wide lock at commit, which one-statement transactions feel.
CREATE FUNCTION stockroom_announce(skus text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF skus IS NOT NULL AND coalesce(current_setting('stockroom.announce', true), '') <> 'off' THEN
    -- a payload holds at most 8000 bytes: past that, the batch says "anything may have changed"
    PERFORM pg_notify('stockroom_stock', CASE WHEN octet_length(skus) > 7900 THEN '*' ELSE skus END);
  END IF;
END $$;

CREATE FUNCTION stock_levels_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_announce((
    SELECT string_agg(v.sku, E'\n') FROM variants v WHERE v.id IN (SELECT variant_id FROM changed)));
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_announce_update AFTER UPDATE ON stock_levels
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_announce();
CREATE TRIGGER stock_levels_announce_insert AFTER INSERT ON stock_levels
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_announce();

CREATE FUNCTION variants_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_announce((SELECT string_agg(sku, E'\n') FROM changed));
  RETURN NULL;
END $$;
CREATE TRIGGER variants_announce_update AFTER UPDATE ON variants
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION variants_announce();
