-- API keys are stored as SHA-256 of the key: they are long random strings, so a slow hash adds nothing, and a
-- lookup by hash is one index probe per request. The prefix is the harmless part shown in listings.
CREATE TABLE api_keys (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  prefix      text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['storefront', 'checkout', 'warehouse', 'admin']),
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
