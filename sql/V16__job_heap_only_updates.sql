-- A job's placement update (admitted + running in one write) stays heap-only: no new index entries, and the old row
-- version pruned in place instead of waiting for vacuum.
--
-- job_open_idx indexed `state`, which every transition changes, so every job update wrote a new entry in each of the
-- job's indexes. The open jobs (what a start or a reconciliation reads) are exactly the unfinished ones: every end of
-- a job sets finished_at in the same statement that sets its terminal state. An index whose key and predicate only
-- name submitted_at, id and finished_at is untouched by the placement and retry updates; only the end of a job, which
-- sets finished_at, writes index entries.
DROP INDEX IF EXISTS job_open_idx;
CREATE INDEX IF NOT EXISTS job_unfinished_idx ON job (submitted_at, id) WHERE finished_at IS NULL;
-- A heap-only update needs room on the row's own page: new rows leave part of each page free for their updates.
ALTER TABLE job SET (fillfactor = 60);

-- Nothing looks a ledger row up by job (reports read a bucket range, then group), yet every job's cost row wrote an
-- entry in this index.
DROP INDEX IF EXISTS cost_record_attempt_idx;
