-- Secrets kept apart and out of sight (issue 12).
--
-- Channels: what a channel needs to send but must never show (a webhook's URL and signing secret, a Slack URL,
-- a Telegram bot token, an SMTP URL with its password) moves from config to its own column, secrets. Nothing
-- else in the database holds them: listings show a redacted target, and send errors are redacted before they
-- are logged or stored.
ALTER TABLE channels ADD COLUMN secrets jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE channels SET
  secrets = jsonb_strip_nulls(jsonb_build_object('url', config->'url', 'secret', config->'secret', 'bot_token', config->'bot_token', 'smtp_url', config->'smtp_url')),
  config = config - 'url' - 'secret' - 'bot_token' - 'smtp_url';
-- a failed send logged before this release may quote a receiver's URL or a bot token
UPDATE deliveries SET last_error = 'redacted: recorded before secrets were kept out of the log' WHERE last_error IS NOT NULL;
UPDATE delivery_attempts SET error = 'redacted: recorded before secrets were kept out of the log' WHERE error IS NOT NULL;

-- Pushed sync batches: the signature covers a timestamp (t=<unix>,v1=<HMAC of "t.body">) and each one is taken
-- once. Signatures seen within the tolerance window are remembered here, unique across every process; older ones
-- are refused by their timestamp alone, so they are pruned.
CREATE TABLE sync_signatures (
  source     text NOT NULL,
  signature  text NOT NULL,
  signed_at  timestamptz NOT NULL,
  PRIMARY KEY (source, signature)
);
CREATE INDEX sync_signatures_signed_at_idx ON sync_signatures (signed_at);

-- API keys: a public id that identifies a key without revealing any of it (generated keys read
-- sr_<public_id>_<secret>; an operator-supplied key such as STOCKROOM_ADMIN_KEY gets a random one), and the
-- secret stored as HMAC-SHA256 under a per-key random salt, found by public id and compared in constant time.
-- Rows from before keep their plain SHA-256 (hash_scheme 'sha256') and stay valid: each is rehashed with a salt
-- the first time it authenticates. prefix goes: for STOCKROOM_ADMIN_KEY it was the key's first 8 characters.
ALTER TABLE api_keys
  ADD COLUMN public_id text,
  ADD COLUMN origin text NOT NULL DEFAULT 'generated' CHECK (origin IN ('generated', 'operator')),
  ADD COLUMN salt text,
  ADD COLUMN hash_scheme text NOT NULL DEFAULT 'sha256' CHECK (hash_scheme IN ('sha256', 'hmac-sha256'));
ALTER TABLE api_keys ALTER COLUMN hash_scheme SET DEFAULT 'hmac-sha256', ADD CHECK ((hash_scheme = 'sha256') = (salt IS NULL));
-- a generated key's old prefix is the random part after sr_ and so already its public id; everything else (the
-- admin key, prefixes two keys share) gets a random id and is found by trying its hash
UPDATE api_keys k SET public_id = k.prefix
 WHERE k.prefix ~ '^[0-9a-f]{8}$' AND k.name <> 'STOCKROOM_ADMIN_KEY'
   AND NOT EXISTS (SELECT 1 FROM api_keys o WHERE o.prefix = k.prefix AND o.id <> k.id);
UPDATE api_keys SET public_id = substr(md5(gen_random_uuid()::text), 1, 12), origin = 'operator' WHERE public_id IS NULL;
ALTER TABLE api_keys ALTER COLUMN public_id SET NOT NULL, ADD CONSTRAINT api_keys_public_id_key UNIQUE (public_id), DROP COLUMN prefix;
CREATE INDEX api_keys_operator_idx ON api_keys (id) WHERE origin = 'operator' AND revoked_at IS NULL;

-- a scope for scrapers of /metrics, so Prometheus needs no admin key
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check,
  ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['storefront', 'checkout', 'warehouse', 'admin', 'metrics']);
