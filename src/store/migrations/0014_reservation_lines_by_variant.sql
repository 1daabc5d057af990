-- Reservations found by what they hold: listing them by SKU (and warehouse), and summing what open ones hold per
-- level (committed apart from pending in stock reads), without reading every line.
CREATE INDEX reservation_lines_variant_idx ON reservation_lines (variant_id, warehouse_id, reservation_id);
