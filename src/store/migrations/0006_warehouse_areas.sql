-- Which shoppers a warehouse serves, so the storefront can count only the stock that can reach them:
-- regions it ships to (none listed: every region), and how far from it it delivers (null: any distance).
ALTER TABLE warehouses
  ADD COLUMN regions text[] NOT NULL DEFAULT '{}',
  ADD COLUMN serves_within_km integer CHECK (serves_within_km > 0),
  ADD CONSTRAINT warehouses_radius_needs_a_place CHECK (serves_within_km IS NULL OR (lat IS NOT NULL AND lon IS NOT NULL));
