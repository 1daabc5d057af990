-- The inventory core. Invariants live here, not only in code (docs/design.md, "Invariants").

CREATE TABLE warehouses (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code       text NOT NULL UNIQUE,
  name       text NOT NULL,
  lat        double precision CHECK (lat BETWEEN -90 AND 90),
  lon        double precision CHECK (lon BETWEEN -180 AND 180),
  priority   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((lat IS NULL) = (lon IS NULL))
);

CREATE TABLE products (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE variants (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id          bigint NOT NULL REFERENCES products (id),
  sku                 text NOT NULL UNIQUE,
  attributes          jsonb NOT NULL DEFAULT '{}',
  low_stock_threshold integer NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
  safety_stock        integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
  backorder_policy    text NOT NULL DEFAULT 'deny' CHECK (backorder_policy IN ('deny', 'backorder', 'preorder')),
  backorder_limit     integer NOT NULL DEFAULT 0 CHECK (backorder_limit >= 0),
  backorder_lead_days integer CHECK (backorder_lead_days >= 0),
  reorder_point       integer CHECK (reorder_point >= 0),
  reorder_qty         integer CHECK (reorder_qty > 0),
  lead_time_days      integer CHECK (lead_time_days >= 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- a 'deny' variant can never be sold short, whatever its limit column says
  CHECK (backorder_policy <> 'deny' OR backorder_limit = 0)
);
CREATE INDEX variants_product_idx ON variants (product_id);

CREATE TABLE bins (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  warehouse_id bigint NOT NULL REFERENCES warehouses (id),
  code         text NOT NULL CHECK (code ~ '^[A-Z0-9]{1,8}-[A-Z0-9]{1,8}-[A-Z0-9]{1,8}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (warehouse_id, code)
);

-- One row per variant x warehouse, created with the variant or the warehouse, so that every stock
-- change is an UPDATE of an existing row. safety_stock and backorder_limit are copied from the
-- variant so that the database itself can check a reservation against them (see the trigger below).
CREATE TABLE stock_levels (
  variant_id      bigint NOT NULL REFERENCES variants (id),
  warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
  on_hand         integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
  reserved        integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  safety_stock    integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
  backorder_limit integer NOT NULL DEFAULT 0 CHECK (backorder_limit >= 0),
  -- what the storefront may sell; for reports and ad-hoc SQL (BEFORE triggers cannot see it, so they compute it)
  available       integer GENERATED ALWAYS AS (on_hand - reserved - safety_stock) STORED,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (variant_id, warehouse_id)
);
CREATE INDEX stock_levels_warehouse_idx ON stock_levels (warehouse_id);

-- Invariant 1: promising stock (raising reserved) may never take available below the backorder
-- limit. Physical facts (damage, counts, syncs) may still lower on_hand below what is promised:
-- that is a shortfall to flag, not a fact to refuse.
CREATE FUNCTION stock_levels_check_reservable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.on_hand - NEW.reserved - NEW.safety_stock < -NEW.backorder_limit THEN
    RAISE EXCEPTION 'reservation would take available below its limit (variant %, warehouse %)',
      NEW.variant_id, NEW.warehouse_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER stock_levels_reservable BEFORE UPDATE ON stock_levels
  FOR EACH ROW WHEN (NEW.reserved > OLD.reserved) EXECUTE FUNCTION stock_levels_check_reservable();

-- Where the units of a level are put away. The sum over bins never exceeds on_hand: when on_hand
-- drops, the trigger below takes the difference out of the bins in bin-code order (the pick path).
CREATE TABLE bin_stock (
  bin_id     bigint NOT NULL REFERENCES bins (id),
  variant_id bigint NOT NULL REFERENCES variants (id),
  qty        integer NOT NULL CHECK (qty >= 0),
  PRIMARY KEY (bin_id, variant_id)
);
CREATE INDEX bin_stock_variant_idx ON bin_stock (variant_id);

CREATE FUNCTION stock_levels_trim_bins() RETURNS trigger LANGUAGE plpgsql AS $$
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
    UPDATE bin_stock SET qty = qty - least(b.qty, excess) WHERE bin_id = b.bin_id AND variant_id = NEW.variant_id;
    excess := excess - least(b.qty, excess);
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_levels_trim_bins AFTER UPDATE ON stock_levels
  FOR EACH ROW WHEN (NEW.on_hand < OLD.on_hand) EXECUTE FUNCTION stock_levels_trim_bins();

CREATE TABLE reservations (
  id           uuid PRIMARY KEY,
  order_ref    text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'committed', 'partially_fulfilled', 'fulfilled', 'released', 'expired')),
  expires_at   timestamptz,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  committed_at timestamptz,
  closed_at    timestamptz,
  -- only a pending reservation has a deadline
  CHECK ((status = 'pending') = (expires_at IS NOT NULL))
);
CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'pending';
CREATE INDEX reservations_order_ref_idx ON reservations (order_ref);

CREATE TABLE reservation_lines (
  reservation_id uuid NOT NULL REFERENCES reservations (id),
  line_no        integer NOT NULL,
  variant_id     bigint NOT NULL REFERENCES variants (id),
  warehouse_id   bigint NOT NULL REFERENCES warehouses (id),
  qty            integer NOT NULL CHECK (qty > 0),
  backordered    integer NOT NULL DEFAULT 0 CHECK (backordered BETWEEN 0 AND qty),
  fulfilled_qty  integer NOT NULL DEFAULT 0 CHECK (fulfilled_qty >= 0),
  released_qty   integer NOT NULL DEFAULT 0 CHECK (released_qty >= 0),
  PRIMARY KEY (reservation_id, line_no),
  CHECK (fulfilled_qty + released_qty <= qty)
);

-- Invariant 2: the append-only ledger. Every change of on_hand or reserved is one row here, written by
-- the same statement that changes the level (store/levels.ts). on_hand_after/reserved_after make each row
-- self-explaining and let reconcile check the running totals, not only the sums.
CREATE TABLE stock_movements (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  variant_id     bigint NOT NULL REFERENCES variants (id),
  warehouse_id   bigint NOT NULL REFERENCES warehouses (id),
  type           text NOT NULL CHECK (type IN ('receive', 'adjust', 'count', 'transfer_out', 'transfer_in', 'sync', 'return', 'reserve', 'release', 'expire', 'fulfil')),
  delta_on_hand  integer NOT NULL,
  delta_reserved integer NOT NULL,
  on_hand_after  integer NOT NULL,
  reserved_after integer NOT NULL,
  reason         text CHECK (reason IN ('received', 'restock', 'correction', 'cycle_count', 'damaged', 'shrinkage', 'promotion', 'return', 'transfer', 'sync', 'other')),
  reference      text,
  actor          text,
  reservation_id uuid REFERENCES reservations (id),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_level_idx ON stock_movements (variant_id, warehouse_id, id);
CREATE INDEX stock_movements_created_idx ON stock_movements (created_at);

CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'stock_movements is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER stock_movements_no_update_delete BEFORE UPDATE OR DELETE ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
  FOR EACH STATEMENT EXECUTE FUNCTION stock_movements_append_only();

-- Returns are recorded whatever their condition; only resellable ones move on_hand (through the ledger).
CREATE TABLE returns (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  variant_id   bigint NOT NULL REFERENCES variants (id),
  warehouse_id bigint NOT NULL REFERENCES warehouses (id),
  qty          integer NOT NULL CHECK (qty > 0),
  condition    text NOT NULL CHECK (condition IN ('resellable', 'damaged')),
  reference    text NOT NULL,
  actor        text,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Invariant 3: a key applies once. request_hash tells a replay from a different request under the same key.
CREATE TABLE idempotency_keys (
  scope        text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  response     json, -- json keeps the stored text as it was, so a replay is byte-for-byte the first answer
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- Side effects (alerts, webhooks, live updates) are written here in the stock change's transaction
-- and delivered afterwards, so a crash can delay them but never lose them.
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic        text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  delivered_at timestamptz,
  last_error   text
);
CREATE INDEX outbox_pending_idx ON outbox (available_at) WHERE delivered_at IS NULL;
