-- The cost ledger's read of ended jobs joins the workers once per read, not once per job.
--
-- cost_job_end (V24) looked each named job up in a LATERAL subquery (kept apart with OFFSET 0, so that each is one
-- primary-key lookup) that also joined the job's worker. Planned for one job at a time, that join could hash the one
-- job row and scan the whole worker table for each job of the read, depending on the job table's statistics (13 us
-- a job where the rest of the read takes 8). The worker is now joined to the read's rows as a whole: its join
-- condition names the log row too, so the planner cannot move it into the per-job lookup. Same columns.
CREATE OR REPLACE VIEW cost_job_end AS
  SELECT x.event_id, g.last_seq AS log_seq, x.id, x.tenant_id, x.placed_pool_id, x.worker_id, x.cpu_m, x.memory_mb,
         x.started_at, x.finished_at, x.burst_grant_id, x.burst_seconds, w.cpu_m AS worker_cpu_m,
         w.memory_mb AS worker_memory_mb
    FROM job_event_log g
   CROSS JOIN LATERAL unnest(g.job_ids) AS u(job_id)
   CROSS JOIN LATERAL (
         SELECT j.end_seq AS event_id, j.id, j.tenant_id, j.placed_pool_id, j.worker_id, j.cpu_m, j.memory_mb,
                j.started_at, j.finished_at, j.burst_grant_id, j.burst_seconds
           FROM job j
          WHERE j.id = u.job_id AND j.end_seq BETWEEN g.first_seq AND g.last_seq
         OFFSET 0) AS x
    LEFT JOIN worker w ON w.id = x.worker_id AND g.ends IS NOT FALSE
   WHERE g.ends IS NOT FALSE;
