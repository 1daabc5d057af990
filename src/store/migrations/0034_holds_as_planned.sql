-- A reserve group plans its holds on levels it has locked, then writes them in one statement that is sent with
-- the COMMIT (one round trip: bench/README.md, issue 18). Whether every hold applied as planned is therefore
-- checked by that statement itself, not by the caller after it: a hold that did not apply, or left reserved at
-- another number than planned, means the plan was made on numbers that were not the level's, and the whole
-- group is refused before anything is committed.
CREATE FUNCTION stockroom_refuse_unplanned(diverged bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF diverged <> 0 THEN
    RAISE EXCEPTION '% holds planned on locked levels did not apply as planned', diverged
      USING ERRCODE = 'internal_error';
  END IF;
END $$;
