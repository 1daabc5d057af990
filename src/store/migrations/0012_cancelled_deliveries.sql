-- A removed channel's deliveries are cancelled (issue 13). Removing a channel stopped new events reaching it, but
-- what it already had pending stayed due: it was claimed and sent again, after restarts too, and the delivery log
-- showed it pending for ever. Now removal cancels the channel's pending deliveries and its dead letters in the
-- same transaction: they stay in the log with their tries, are never due again and cannot be retried by hand.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries
  ADD CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled'));

-- channels removed before this version
UPDATE deliveries d SET status = 'cancelled'
  FROM channels c
 WHERE c.id = d.channel_id AND NOT c.active AND d.status IN ('pending', 'dead');
