-- The event an outbox row carries, in one place (issue 13). An alert row's event is its alert's type (payload
-- type: low_stock, out_of_stock, back_in_stock); any other row's is its topic (stock.shortfall). Dispatch matched
-- it against the channels' events, the sender named it to receivers, and the delivery log showed it, each with
-- its own copy of that rule; now each of them reads this column. Stored, so the rule runs once per row, when it
-- is written, in whatever transaction writes it (the alert trigger of 0007 or the application).
ALTER TABLE outbox
  ADD COLUMN event text GENERATED ALWAYS AS (CASE WHEN topic = 'alert' THEN payload->>'type' ELSE topic END) STORED;
