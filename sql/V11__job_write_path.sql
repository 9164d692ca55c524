-- The job write path does less per job (every job writes four job_event rows and two job updates):
--
-- job_event rows are only written in the same statement as the job row they describe (an INSERT or UPDATE of job
-- ... RETURNING feeds the event INSERT), and jobs are never deleted, so the foreign key to job checked what cannot
-- happen, at the price of a lookup and a row lock of the job per event (a quarter of the execution time of a
-- 100-job submission with its events, measured with EXPLAIN ANALYZE on PostgreSQL 17).
ALTER TABLE job_event DROP CONSTRAINT IF EXISTS job_event_job_fkey;
-- The same for an attempt's output (written with the job's end, after the job row has long been committed).
ALTER TABLE job_log DROP CONSTRAINT IF EXISTS job_log_job_fkey;

-- The cost ledger reads finished jobs from the job event log since V10; nothing looks jobs up by finish time, and
-- the index made every job's final update write one more index entry.
DROP INDEX IF EXISTS job_finished_at_idx;

-- A worker's row changes state twice per job (idle -> busy -> idle). With state in an index, every such update was
-- a new row version with new entries in both indexes (40,000 per 20,000 jobs, bloating the small worker table
-- until vacuum). Indexed by pool and id instead (what the history listing filters and orders by), and with room
-- left in each page, these updates are heap-only: no index entry, and old versions pruned in place.
DROP INDEX IF EXISTS worker_pool_state_idx;
CREATE INDEX IF NOT EXISTS worker_pool_id_idx ON worker (pool_id, id);
ALTER TABLE worker SET (fillfactor = 50);
