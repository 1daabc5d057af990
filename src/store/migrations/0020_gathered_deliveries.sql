-- A batch webhook gets one delivery per dispatch, not one per outbox row (issue 14's cost target). Under load a
-- group commit of ~10 orders writes two outbox rows (its stock.changed and its reservation.created batches), and a
-- batch channel had a delivery for each: inserted, claimed and settled alone, a claim, a POST and a settle in turn,
-- since a batch is a barrier in its channel's stream. Now one dispatch gives each batch channel ONE delivery holding
-- every outbox row it took for that channel (`outbox_ids`, in id order; `outbox_id` is the first of them, so the
-- delivery still names a row), and the channel's deliveries go out one at a time in the order they were dispatched
-- (their own id: dispatchers take turns, so a later dispatch's delivery has a higher id). That order keeps each
-- variant's and each reservation's events in order: a later event of a key is written after the earlier one
-- committed, so it is dispatched with it or after it, never before.
ALTER TABLE deliveries ADD COLUMN outbox_ids bigint[];

-- the claim's question for a batch channel: its first pending delivery, in dispatch order
CREATE INDEX deliveries_channel_pending_idx ON deliveries (channel_id, id) WHERE status = 'pending';
-- pruning's question: is an old outbox row still in a gathered delivery that has not got through?
CREATE INDEX deliveries_gathered_idx ON deliveries (id) WHERE outbox_ids IS NOT NULL AND status IN ('pending', 'dead');
