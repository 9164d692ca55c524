-- What the cost ledger reads of the job and worker tables, as views. The ledger (CostStore) reads these views, not
-- the tables, so a schema change shows its dependents: PostgreSQL refuses to drop or retype a column a view uses,
-- and \d+ on the table lists the views that read it.

-- A worker's lifetime and shape: what a worker costs.
CREATE OR REPLACE VIEW cost_worker AS
  SELECT id, pool_id, cpu_m, memory_mb, created_at, terminated_at
    FROM worker;

-- A job's reservation, placement and times: what a job attempt costs and whose queue wait a burst delays.
CREATE OR REPLACE VIEW cost_job AS
  SELECT id, tenant_id, pool_id, placed_pool_id, worker_id, cpu_m, memory_mb, submitted_at, started_at, finished_at,
         burst_grant_id, burst_seconds
    FROM job;

-- Terminal job events in log order with the attempt they end and the shape of the worker it ran on.
CREATE OR REPLACE VIEW cost_job_end AS
  SELECT e.id AS event_id, j.id, j.tenant_id, j.placed_pool_id, j.worker_id, j.cpu_m, j.memory_mb, j.started_at,
         j.finished_at, j.burst_grant_id, j.burst_seconds, w.cpu_m AS worker_cpu_m, w.memory_mb AS worker_memory_mb
    FROM job_event e
    JOIN cost_job j ON j.id = e.job_id
    LEFT JOIN cost_worker w ON w.id = j.worker_id
   WHERE e.state IN ('succeeded', 'failed', 'cancelled', 'timed_out', 'abandoned');
