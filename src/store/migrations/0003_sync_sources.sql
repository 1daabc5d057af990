-- External warehouse systems that send (or are asked for) absolute on-hand numbers. The secret signs pushed
-- batches (HMAC-SHA256 needs the secret itself, so it is stored as given); last_sync_at is where the next pull
-- continues, written in the same transaction as the batch it follows.
CREATE TABLE sync_sources (
  name         text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  secret       text CHECK (secret IS NULL OR length(secret) >= 16),
  last_sync_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
