-- Issue 14 adds two kinds of ledger row: 'unfulfil' (a shipment undone: on_hand comes back, tied to its
-- reservation) and 'state' (units moved between stock states such as damaged or quality_control at one level:
-- on_hand and reserved stay, the row records why). One migration declares both, so the branches that build them
-- do not each redeclare the list.
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_type_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_type_check CHECK (type IN (
  'receive', 'adjust', 'count', 'transfer_out', 'transfer_in', 'sync', 'return', 'reserve', 'release', 'expire',
  'fulfil', 'unfulfil', 'state'));
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_reason_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_reason_check CHECK (reason IN (
  'received', 'restock', 'correction', 'cycle_count', 'damaged', 'shrinkage', 'promotion', 'return', 'transfer',
  'sync', 'other', 'quality_control'));
