-- A sync source's signing secret is sealed at rest as channel secrets are (AES-256-GCM with STOCKROOM_SECRET_KEY,
-- a key the database never sees), when the server has a key: then it is kept in secret_sealed and `secret` is
-- null. Without a key it is kept as given in `secret`, as before (HMAC-SHA256 needs the secret itself, so a hash
-- will not do). A source has one or the other, or neither (it takes unsigned batches).
ALTER TABLE sync_sources
  ADD COLUMN secret_sealed text,
  ADD CONSTRAINT sync_sources_one_secret CHECK (secret IS NULL OR secret_sealed IS NULL);
