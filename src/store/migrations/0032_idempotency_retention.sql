-- Idempotency keys are remembered for a retention (STOCKROOM_IDEMPOTENCY_RETENTION_HOURS, default 24), then
-- forgotten oldest first: without this index every pass would read the whole table to find them.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
