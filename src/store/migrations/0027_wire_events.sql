-- Batch rows written in the form their events are sent (issue 14). A statement's batch row (migration 0019) held
-- {"events": [{"id", "key", "data"}]}; a batch webhook's delivery was read back as json, taken apart, rebuilt as
-- {"id", "type", "created_at", "data"} per event and written out again: about 15 microseconds of the server's CPU
-- an event, more than writing it. The checkout's statements (migrations 0023) now write each event as it is sent,
-- {"events": [{"id": "<id>", "type", "created_at", "data"}]}, and the events' ordering keys, in the same order,
-- beside it in `keys`; a delivery's request body is then the rows' texts joined (readGathered), read as text and
-- never parsed. Rows of the older form (the triggers' for any other statement) have no `keys` and are read as
-- before.
ALTER TABLE outbox ADD COLUMN keys text[];

-- An event's created_at as it is sent: the outbox row's (the transaction's start), as JavaScript's toISOString
-- writes it (milliseconds, UTC), quoted. STABLE: one value per statement.
CREATE FUNCTION stockroom_event_time() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT '"' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'
$$;
