-- Ledger rows and reservation lines belong to a stock level, and now say so: one key to stock_levels instead
-- of one to variants and one to warehouses. It is the stronger rule (the pair must be a level, not just two
-- things that exist), and the cheaper one on the hot path: checking a key takes a KEY SHARE lock on the row it
-- points at, and every order locked one of the few warehouse rows, so concurrent transactions queued on them
-- (multixacts). The level row is already locked FOR UPDATE by the transaction that writes the movement.
ALTER TABLE stock_movements
  DROP CONSTRAINT stock_movements_variant_id_fkey,
  DROP CONSTRAINT stock_movements_warehouse_id_fkey,
  ADD CONSTRAINT stock_movements_level_fkey FOREIGN KEY (variant_id, warehouse_id) REFERENCES stock_levels (variant_id, warehouse_id);

ALTER TABLE reservation_lines
  DROP CONSTRAINT reservation_lines_variant_id_fkey,
  DROP CONSTRAINT reservation_lines_warehouse_id_fkey,
  ADD CONSTRAINT reservation_lines_level_fkey FOREIGN KEY (variant_id, warehouse_id) REFERENCES stock_levels (variant_id, warehouse_id);
