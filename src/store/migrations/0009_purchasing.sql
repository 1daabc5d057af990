-- Suppliers, purchase orders and what the replenishment job needs.

CREATE TABLE suppliers (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code           text NOT NULL UNIQUE,
  name           text NOT NULL,
  email          text,
  lead_time_days integer CHECK (lead_time_days >= 0),
  -- where its orders are delivered unless an order says otherwise (the replenishment job's choice)
  warehouse_id   bigint REFERENCES warehouses (id),
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- who a variant is bought from: the replenishment job drafts its orders there
ALTER TABLE variants ADD COLUMN supplier_id bigint REFERENCES suppliers (id);
CREATE INDEX variants_supplier_idx ON variants (supplier_id) WHERE supplier_id IS NOT NULL;

CREATE TABLE purchase_orders (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  supplier_id   bigint NOT NULL REFERENCES suppliers (id),
  warehouse_id  bigint NOT NULL REFERENCES warehouses (id),
  status        text NOT NULL CHECK (status IN ('DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL', 'RECEIVED', 'CANCELLED')),
  expected_date date,
  origin        text NOT NULL CHECK (origin IN ('manual', 'replenishment')),
  reference     text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  sent_at       timestamptz,
  confirmed_at  timestamptz,
  closed_at     timestamptz,
  CHECK ((status IN ('RECEIVED', 'CANCELLED')) = (closed_at IS NOT NULL))
);
CREATE INDEX purchase_orders_open_idx ON purchase_orders (supplier_id) WHERE status IN ('DRAFT', 'SENT', 'CONFIRMED', 'PARTIAL');
CREATE INDEX purchase_orders_status_idx ON purchase_orders (status, id);

CREATE TABLE purchase_order_lines (
  purchase_order_id bigint NOT NULL REFERENCES purchase_orders (id),
  line_no           integer NOT NULL,
  variant_id        bigint NOT NULL REFERENCES variants (id),
  qty               integer NOT NULL CHECK (qty > 0),
  received_qty      integer NOT NULL DEFAULT 0 CHECK (received_qty BETWEEN 0 AND qty),
  PRIMARY KEY (purchase_order_id, line_no),
  UNIQUE (purchase_order_id, variant_id)
);
CREATE INDEX purchase_order_lines_variant_idx ON purchase_order_lines (variant_id);

-- What "incoming" means, in one place: units ordered from a supplier that has the order (sent, confirmed or
-- partly received; a draft is not an order yet) and not received yet, with the order's warehouse and date.
CREATE VIEW purchase_incoming AS
SELECT l.variant_id, o.warehouse_id, l.qty - l.received_qty AS qty, o.expected_date, o.id AS purchase_order_id
  FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.purchase_order_id
 WHERE o.status IN ('SENT', 'CONFIRMED', 'PARTIAL') AND l.received_qty < l.qty;

-- Incoming units and their expected dates are on the storefront ("ships in N days"): an order sent, confirmed,
-- received or cancelled, or a date moved, is announced like a stock change, so caches and streams follow it.
CREATE FUNCTION purchase_orders_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stockroom_announce((
    SELECT string_agg(DISTINCT v.sku, E'\n')
      FROM purchase_order_lines l JOIN variants v ON v.id = l.variant_id
     WHERE l.purchase_order_id IN (SELECT id FROM changed)));
  RETURN NULL;
END $$;
CREATE TRIGGER purchase_orders_announce AFTER UPDATE ON purchase_orders
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION purchase_orders_announce();

-- Jobs that run on a schedule in whichever server process finds them due; the row lock makes two runs of one
-- job (two processes, or the job and `stockroom replenish`) happen one after the other, never together.
CREATE TABLE scheduled_jobs (
  name        text PRIMARY KEY,
  last_run_at timestamptz
);
INSERT INTO scheduled_jobs (name) VALUES ('replenish');

-- demand history for replenishment: what shipped, per variant, by time
CREATE INDEX stock_movements_demand_idx ON stock_movements (variant_id, created_at) WHERE type = 'fulfil';
