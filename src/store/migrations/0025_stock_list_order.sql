-- Number sorts of the stock list at a million levels (issue 16), without making reserving dearer. No index of
-- stock_levels may hold on_hand, reserved or available (0021: one such index made every level update non-HOT, 17%
-- more database CPU per reservation). The order is kept off the hot row instead: stock_list_order holds each
-- level's numbers as of the last refresh, with one index per number. It is refreshed before a read of it, never
-- on a timer (services/stock-list.ts): for the levels a server heard announced (0005, channel stockroom_stock), or
-- every level; a level changed many times between two reads is written once. A page walks one of these
-- indexes for its keys and shows the levels' live numbers (store/stock-list.ts).
CREATE TABLE stock_list_order (
  variant_id   bigint NOT NULL,
  warehouse_id bigint NOT NULL,
  on_hand      integer NOT NULL,
  reserved     integer NOT NULL,
  available    integer NOT NULL,
  PRIMARY KEY (variant_id, warehouse_id)
);
INSERT INTO stock_list_order (variant_id, warehouse_id, on_hand, reserved, available)
SELECT variant_id, warehouse_id, on_hand, reserved, available FROM stock_levels;
-- the ids complete each key, so a page after a cursor is one range of an index, whatever the ties
CREATE INDEX stock_list_order_on_hand_idx ON stock_list_order (on_hand, variant_id, warehouse_id);
CREATE INDEX stock_list_order_reserved_idx ON stock_list_order (reserved, variant_id, warehouse_id);
CREATE INDEX stock_list_order_available_idx ON stock_list_order (available, variant_id, warehouse_id);

-- A new level is in the order at once, with its numbers (levels are made by the catalog, never by a reservation:
-- this costs nothing on the hot path). A level is never deleted, only archived, and the list reads `archived` from
-- the level itself.
CREATE FUNCTION stock_levels_order_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stock_list_order (variant_id, warehouse_id, on_hand, reserved, available)
  SELECT variant_id, warehouse_id, on_hand, reserved, available FROM added
      ON CONFLICT (variant_id, warehouse_id) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_order_insert AFTER INSERT ON stock_levels
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_order_insert();

-- The attribute filter (attribute=name:value) reads variants by containment of {name: value}.
CREATE INDEX variants_attributes_idx ON variants USING gin (attributes jsonb_path_ops);
