-- Where alerts and other outbox events go, and a log of getting them there.
--
-- Delivery is in two steps, each one transaction. Dispatch turns an outbox row into one delivery per channel that
-- wants its event, and marks the row dispatched (outbox.delivered_at). A sender then claims due deliveries by
-- pushing their next_attempt_at one lease ahead and counting the attempt, sends outside any transaction, and
-- records the outcome. A process that dies mid-send leaves its claim to expire: the delivery is sent again by
-- whoever comes next (at least once; receivers de-duplicate by the event id).

CREATE TABLE channels (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('webhook', 'slack', 'telegram', 'email')),
  name       text,
  events     text[] NOT NULL CHECK (cardinality(events) > 0),
  -- webhook: url, secret; slack: url; telegram: bot_token, chat_id, api_url; email: smtp_url, from, to
  config     jsonb NOT NULL,
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  CHECK (active = (removed_at IS NULL))
);

CREATE TABLE deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outbox_id       bigint NOT NULL REFERENCES outbox (id),
  channel_id      bigint NOT NULL REFERENCES channels (id),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- tries before this are spent: a dead letter sent again by hand gets a fresh budget of tries
  retried_after   integer NOT NULL DEFAULT 0 CHECK (retried_after <= attempts),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  UNIQUE (outbox_id, channel_id),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead_idx ON deliveries (id) WHERE status = 'dead';
CREATE INDEX deliveries_channel_idx ON deliveries (channel_id, id);
CREATE INDEX deliveries_outbox_idx ON deliveries (outbox_id);
-- what retention removes: deliveries that got through, and outbox rows dispatched long ago
CREATE INDEX deliveries_delivered_idx ON deliveries (delivered_at) WHERE status = 'delivered';
CREATE INDEX outbox_dispatched_idx ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- One row per try, whatever came of it: what an operator reads when a receiver says it saw nothing.
CREATE TABLE delivery_attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES deliveries (id),
  attempt     integer NOT NULL,
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  ok          boolean NOT NULL,
  status_code integer,
  error       text
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);
