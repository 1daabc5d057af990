-- A source takes unsigned pushes only when it was registered without a secret on purpose (`stockroom sync source
-- NAME`). Until now `stockroom sync pull` registered the source it pulled when none was, with no secret, and such a
-- source took unsigned pushes nobody chose to allow. A pull left no other mark, so a source that has been pulled and
-- has no secret may be one of those: it takes no unsigned push until `stockroom sync source NAME` registers it
-- again (it is pulled as before). One never pulled was registered by `sync source`, the only other writer, and
-- keeps taking them. A source with a secret is not concerned: its pushes are signed.
ALTER TABLE sync_sources ADD COLUMN takes_unsigned boolean NOT NULL DEFAULT false;
UPDATE sync_sources SET takes_unsigned = true
 WHERE secret IS NULL AND secret_sealed IS NULL AND last_sync_at IS NULL;
ALTER TABLE sync_sources ADD CONSTRAINT sync_sources_unsigned_without_secret
  CHECK (NOT takes_unsigned OR (secret IS NULL AND secret_sealed IS NULL));
