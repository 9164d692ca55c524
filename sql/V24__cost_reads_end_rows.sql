-- The cost ledger reads the job event log for job ends only.
--
-- The sweep walks the log rows after its cursor and looks up every job a row names (V22): a job is named by its
-- queued, start and end rows, so a sweep looked each job up three times to find its one end, and then a second time
-- through cost_job. A log row now says whether its statement ended jobs (`ends`): true for an end statement's row,
-- false for the others; rows written before this migration are null and still looked up. The view reads each job
-- row once.
ALTER TABLE job_event_log ADD COLUMN IF NOT EXISTS ends boolean;
ALTER TABLE job_event_log ALTER COLUMN ends SET DEFAULT false;

CREATE OR REPLACE VIEW cost_job_end AS
  SELECT x.event_id, g.last_seq AS log_seq, x.id, x.tenant_id, x.placed_pool_id, x.worker_id, x.cpu_m, x.memory_mb,
         x.started_at, x.finished_at, x.burst_grant_id, x.burst_seconds, x.worker_cpu_m, x.worker_memory_mb
    FROM job_event_log g
   CROSS JOIN LATERAL unnest(g.job_ids) AS u(job_id)
   CROSS JOIN LATERAL (
         SELECT j.end_seq AS event_id, j.id, j.tenant_id, j.placed_pool_id, j.worker_id, j.cpu_m, j.memory_mb,
                j.started_at, j.finished_at, j.burst_grant_id, j.burst_seconds, w.cpu_m AS worker_cpu_m,
                w.memory_mb AS worker_memory_mb
           FROM job j
           LEFT JOIN worker w ON w.id = j.worker_id
          WHERE j.id = u.job_id AND j.end_seq BETWEEN g.first_seq AND g.last_seq
         OFFSET 0) AS x
   WHERE g.ends IS NOT FALSE;
