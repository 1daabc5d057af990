-- The warehouse floor (issue 17): bins become locations with a type, limits and an active flag; variants carry
-- what a unit weighs and takes up; a warehouse may state its capacity. Every limit is nullable: no limit stated
-- is no limit, so the bins of older databases keep taking whatever is put in them.
-- Weights are grams and volumes cubic centimetres (millilitres), whole numbers: a unit's volume from its
-- dimensions in millimetres is rounded up, so room is never overstated.
ALTER TABLE bins
  ADD COLUMN type           text NOT NULL DEFAULT 'bulk' CHECK (type IN ('bulk', 'pick_face', 'overflow')),
  ADD COLUMN max_weight_g   bigint CHECK (max_weight_g > 0),
  ADD COLUMN max_volume_cm3 bigint CHECK (max_volume_cm3 > 0),
  ADD COLUMN active         boolean NOT NULL DEFAULT true;

-- min_qty: a pick face's minimum for the variant (replenished from bulk below it); a row with qty 0 and a
-- minimum is a pick face assigned to the variant before any unit is in it. The two dates are kept by every move
-- and count of the location's units (cycle counts).
ALTER TABLE bin_stock
  ADD COLUMN min_qty         integer CHECK (min_qty >= 0),
  ADD COLUMN last_moved_at   timestamptz,
  ADD COLUMN last_counted_at timestamptz;

ALTER TABLE variants
  ADD COLUMN weight_g   integer CHECK (weight_g >= 0),
  ADD COLUMN length_mm  integer CHECK (length_mm > 0),
  ADD COLUMN width_mm   integer CHECK (width_mm > 0),
  ADD COLUMN height_mm  integer CHECK (height_mm > 0),
  ADD COLUMN volume_cm3 integer CHECK (volume_cm3 >= 0),
  -- dimensions go together: a unit with one side known has no volume to derive
  ADD CONSTRAINT variants_dimensions_check CHECK ((length_mm IS NULL) = (width_mm IS NULL) AND (width_mm IS NULL) = (height_mm IS NULL));

ALTER TABLE warehouses ADD COLUMN capacity_cm3 bigint CHECK (capacity_cm3 > 0);

-- Which location a ledger row's units left or entered, and how many (signed): a fulfilment names the locations
-- it was picked from, one row each; a move between locations ('relocate', on_hand unchanged) is two rows, out of
-- one and into the other. Null on every row that is not about a location (holds, counts of a whole level).
ALTER TABLE stock_movements
  ADD COLUMN bin_id    bigint REFERENCES bins (id),
  ADD COLUMN bin_delta integer,
  ADD CONSTRAINT stock_movements_bin_check CHECK ((bin_id IS NULL) = (bin_delta IS NULL));
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_type_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_type_check CHECK (type IN (
  'receive', 'adjust', 'count', 'transfer_out', 'transfer_in', 'sync', 'return', 'reserve', 'release', 'expire',
  'fulfil', 'unfulfil', 'state', 'relocate'));

-- Cycle counts: each count of a variant in a location, with what the location was thought to hold. The variance
-- report reads these; the count's ledger row (type 'count', reason cycle_count) carries the change of on hand.
CREATE TABLE location_counts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bin_id     bigint NOT NULL REFERENCES bins (id),
  variant_id bigint NOT NULL REFERENCES variants (id),
  expected   integer NOT NULL CHECK (expected >= 0),
  counted    integer NOT NULL CHECK (counted >= 0),
  variance   integer GENERATED ALWAYS AS (counted - expected) STORED,
  actor      text,
  counted_at timestamptz NOT NULL
);
CREATE INDEX location_counts_time_idx ON location_counts (counted_at);

-- The trim (0001) now stamps the locations it takes units out of, as every other move of a location's units does.
CREATE OR REPLACE FUNCTION stock_levels_trim_bins() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  excess integer;
  b record;
BEGIN
  SELECT coalesce(sum(s.qty), 0) - NEW.on_hand INTO excess
    FROM bin_stock s JOIN bins ON bins.id = s.bin_id
   WHERE s.variant_id = NEW.variant_id AND bins.warehouse_id = NEW.warehouse_id;
  IF excess <= 0 THEN
    RETURN NULL;
  END IF;
  FOR b IN SELECT s.bin_id, s.qty FROM bin_stock s JOIN bins ON bins.id = s.bin_id
            WHERE s.variant_id = NEW.variant_id AND bins.warehouse_id = NEW.warehouse_id AND s.qty > 0
            ORDER BY bins.code FOR UPDATE OF s LOOP
    EXIT WHEN excess <= 0;
    UPDATE bin_stock SET qty = qty - least(b.qty, excess), last_moved_at = now()
     WHERE bin_id = b.bin_id AND variant_id = NEW.variant_id;
    excess := excess - least(b.qty, excess);
  END LOOP;
  RETURN NULL;
END $$;
