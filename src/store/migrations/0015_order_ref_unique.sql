-- One reservation per order (issue 14). An order_ref is unique among the open reservations (pending, committed,
-- partially_fulfilled) that ask for it; a caller may opt out per reservation ("unique_order_ref": false), which
-- is stored here so an opted-out reservation neither blocks nor is blocked, now or later. reserveGroup decides
-- under advisory locks on the order_refs (store/order-refs.ts); the partial unique index is the backstop that
-- makes a second open one impossible whatever the code does.
ALTER TABLE reservations ADD COLUMN unique_order_ref boolean NOT NULL DEFAULT true;

-- Databases from before this rule may hold several open reservations for one order_ref: all but the newest are
-- marked as opted out, so the index can be built and none of them changes status or stock.
UPDATE reservations r SET unique_order_ref = false, updated_at = now()
 WHERE r.status IN ('pending', 'committed', 'partially_fulfilled')
   AND EXISTS (SELECT 1 FROM reservations newer
                WHERE newer.order_ref = r.order_ref AND newer.status IN ('pending', 'committed', 'partially_fulfilled')
                  AND (newer.created_at, newer.id) > (r.created_at, r.id));

CREATE UNIQUE INDEX reservations_open_order_ref_key ON reservations (order_ref)
  WHERE unique_order_ref AND status IN ('pending', 'committed', 'partially_fulfilled');

-- Listing reservations newest first (store/reservation-search.ts) at millions of rows: every filter walks an
-- index in (created_at, id) order or finds its few rows through one. order_ref uses reservations_order_ref_idx
-- (0001), expires_before the due index (0001, pending only), sku 0014's lines index; a warehouse alone needs its
-- own lines index.
CREATE INDEX reservations_created_idx ON reservations (created_at, id);
CREATE INDEX reservations_status_created_idx ON reservations (status, created_at, id);
CREATE INDEX reservation_lines_warehouse_idx ON reservation_lines (warehouse_id, reservation_id);
