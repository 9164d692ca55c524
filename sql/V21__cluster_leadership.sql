-- Cluster leadership (cluster.enabled): one row naming the leading node and its epoch, the fencing token. A node that
-- wins the leadership advisory lock (key 4801001, held on a connection of its own) bumps the epoch under the exclusive
-- fence lock (key 4801002); every group-commit transaction of the leader (placements, job and worker changes) starts
-- with hodei_fence(its epoch), which takes the fence lock shared until the transaction ends and refuses a stale
-- epoch. So a takeover waits for the old leader's transactions in flight, and none of its later ones commits.
-- (Numbered with a gap so that migrations of other branches can be merged before it.)
CREATE TABLE IF NOT EXISTS leadership (
  id int PRIMARY KEY CHECK (id = 1),
  epoch bigint NOT NULL,
  node text,
  since timestamptz
);
INSERT INTO leadership (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

-- VOLATILE: its SELECT reads a fresh snapshot after the lock is granted (a takeover that committed meanwhile is seen).
CREATE OR REPLACE FUNCTION hodei_fence(expected bigint) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  current_epoch bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(4801002);
  SELECT epoch INTO current_epoch FROM leadership WHERE id = 1;
  IF current_epoch IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'leadership epoch % is stale (the current epoch is %)', expected, current_epoch
      USING ERRCODE = 'HF001';
  END IF;
END
$$;
