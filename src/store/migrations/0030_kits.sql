-- Kits (issue 17): a kit is a variant sold as a set of other variants, its components, each so many to a kit. A
-- kit holds no stock of its own: what it can sell is what its components can make, and reserving one holds its
-- components. Components are tracked plain variants (no kit in a kit), so a kit is expanded in one step.
CREATE TABLE kit_components (
  kit_variant_id       bigint NOT NULL REFERENCES variants (id),
  component_variant_id bigint NOT NULL REFERENCES variants (id),
  qty                  integer NOT NULL CHECK (qty > 0),
  PRIMARY KEY (kit_variant_id, component_variant_id),
  CHECK (kit_variant_id <> component_variant_id)
);
-- which kits a component is in: a component's change changes their availability
CREATE INDEX kit_components_component_idx ON kit_components (component_variant_id);

-- A kit's levels are marked, and a marked level can hold nothing: whatever path would put units on a kit (a
-- receipt, a count, a sync, a return) is refused by the database itself, not only by the paths that know of kits.
ALTER TABLE stock_levels ADD COLUMN kit boolean NOT NULL DEFAULT false;
ALTER TABLE stock_levels
  ADD CONSTRAINT stock_levels_kit_holds_nothing CHECK (NOT kit OR (on_hand = 0 AND reserved = 0));

-- A level made later (a new warehouse) is a kit's if its variant is a kit. Levels are made rarely: the check costs
-- the hot path nothing.
CREATE FUNCTION stock_levels_mark_kit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.kit := EXISTS (SELECT 1 FROM kit_components k WHERE k.kit_variant_id = NEW.variant_id);
  RETURN NEW;
END $$;
CREATE TRIGGER stock_levels_mark_kit BEFORE INSERT ON stock_levels
  FOR EACH ROW EXECUTE FUNCTION stock_levels_mark_kit();

-- A reservation of a kit keeps a line for the kit (holds_stock false: it holds nothing itself) and one per
-- component at the same warehouse, which holds the units; kit_line_no ties a component's line to its kit's line.
ALTER TABLE reservation_lines ADD COLUMN kit_line_no integer;

-- The ledger names the kit a component's units moved for (null for everything else).
ALTER TABLE stock_movements ADD COLUMN kit_variant_id bigint REFERENCES variants (id);
