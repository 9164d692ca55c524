-- The cost ledger's job rows, packed: one row per sweep batch, hour bucket, pool and tenant instead of one row per
-- job attempt and bucket.
--
-- A job row in cost_record cost its heap tuple and four index entries (the key, bucket, pool and tenant indexes):
-- five WAL records and 700 to 800 bytes of WAL per job (measured with the throughput bench). A sweep costs up to
-- 500 job ends in one transaction; written as one row per (bucket, pool, tenant) holding the attempts as parallel
-- arrays (stored compressed, out of line), a job costs its array elements (tens of bytes) and a share of one heap
-- tuple and one key entry. Every amount stays per attempt and exact: the view cost_ledger below shows the ledger
-- one row per (kind, source, bucket) as before, and the totals kept per batch row are exact sums of its elements.
--
-- A job end is logged once (its end update is guarded by finished_at IS NULL), so an attempt lands in exactly one
-- batch: a sweep writes its batch and moves the job cursor in one transaction, after checking (under the cursor's
-- row lock) that the cursor is still where the sweep started reading. A re-read of the whole log (POST
-- /api/v1/cost/sweep) first deletes the batches it rebuilds.
--
-- The segment of an attempt inside its bucket starts at greatest(attempt_started_at, bucket_start) (how the ledger
-- cuts runs into buckets), so it is not stored; nor is the worker (no report reads it; the job row keeps it).
CREATE TABLE IF NOT EXISTS cost_job_batch (
  bucket_start       timestamptz    NOT NULL,
  pool_id            text           NOT NULL,
  tenant_id          text           NOT NULL,
  -- the job cursor after the sweep batch that wrote the row (the last job event it read)
  last_event_id      bigint         NOT NULL,
  jobs               integer        NOT NULL,
  -- exact sums over the elements: sum(amounts) and sum(amounts x burst_fraction)
  amount             numeric        NOT NULL,
  burst_amount       numeric        NOT NULL,
  job_id             text[]         NOT NULL,
  attempt_started_at timestamptz[]  NOT NULL,
  burst_grant_id     text[]         NOT NULL,
  segment_end        timestamptz[]  NOT NULL,
  share              numeric[]      NOT NULL,
  cpu_m              bigint[]       NOT NULL,
  memory_mb          bigint[]       NOT NULL,
  amounts            numeric[]      NOT NULL,
  burst_fraction     numeric[]      NOT NULL,
  CONSTRAINT cost_job_batch_pkey PRIMARY KEY (bucket_start, pool_id, tenant_id, last_event_id),
  CONSTRAINT cost_job_batch_arrays CHECK (jobs > 0 AND cardinality(job_id) = jobs
    AND cardinality(attempt_started_at) = jobs AND cardinality(burst_grant_id) = jobs
    AND cardinality(segment_end) = jobs AND cardinality(share) = jobs AND cardinality(cpu_m) = jobs
    AND cardinality(memory_mb) = jobs AND cardinality(amounts) = jobs AND cardinality(burst_fraction) = jobs)
);

-- Job rows already in the ledger move into batch rows (one per bucket, pool and tenant), as of the job cursor.
INSERT INTO cost_job_batch (bucket_start, pool_id, tenant_id, last_event_id, jobs, amount, burst_amount, job_id,
                            attempt_started_at, burst_grant_id, segment_end, share, cpu_m, memory_mb, amounts,
                            burst_fraction)
SELECT bucket_start, pool_id, tenant_id, coalesce((SELECT last_event_id FROM cost_job_cursor WHERE id = 1), 0),
       count(*), sum(amount), sum(amount * burst_fraction), array_agg(job_id ORDER BY source_id),
       array_agg(coalesce(attempt_started_at, segment_start) ORDER BY source_id),
       array_agg(burst_grant_id ORDER BY source_id), array_agg(segment_end ORDER BY source_id),
       array_agg(share ORDER BY source_id), array_agg(cpu_m ORDER BY source_id),
       array_agg(memory_mb ORDER BY source_id), array_agg(amount ORDER BY source_id),
       array_agg(burst_fraction ORDER BY source_id)
  FROM cost_record
 WHERE kind = 'job' AND tenant_id IS NOT NULL AND job_id IS NOT NULL
 GROUP BY bucket_start, pool_id, tenant_id
ON CONFLICT DO NOTHING;
DELETE FROM cost_record WHERE kind = 'job';

-- cost_record keeps the worker rows (one per worker and hour, rewritten by each sweep while the worker lives). The
-- pool index was read only by repricing (which now bounds bucket_start) and held segment_end, which every rewrite
-- changes, so no rewrite was heap-only; the tenant index served job rows only. With both gone, and room left on
-- each page, a sweep's rewrite of a live worker's row is heap-only.
DROP INDEX IF EXISTS cost_record_pool_idx;
DROP INDEX IF EXISTS cost_record_tenant_idx;
ALTER TABLE cost_record SET (fillfactor = 70);
ALTER TABLE cost_record DROP CONSTRAINT IF EXISTS cost_record_worker_rows;
ALTER TABLE cost_record ADD CONSTRAINT cost_record_worker_rows CHECK (kind = 'worker');

-- The ledger one row per (kind, source, bucket), as every report reads it: worker rows as stored, and one row per
-- attempt of each batch row (source_id: the job id; the ledger keeps only the final attempt of a job). The arrays
-- are expanded in the select list (one pass over all of them in step), which is cheaper than a function scan in
-- FROM; a filter on bucket_start, pool_id or tenant_id still applies to the batch rows before they are expanded.
CREATE OR REPLACE VIEW cost_ledger AS
  SELECT kind, source_id, bucket_start, pool_id, tenant_id, job_id, attempt_started_at, burst_grant_id,
         segment_start, segment_end, share, cpu_m, memory_mb, amount, burst_fraction
    FROM cost_record
  UNION ALL
  SELECT 'job'::text, j.job_id, j.bucket_start, j.pool_id, j.tenant_id, j.job_id, j.attempt_started_at,
         j.burst_grant_id, greatest(j.attempt_started_at, j.bucket_start), j.segment_end, j.share, j.cpu_m,
         j.memory_mb, j.amount, j.burst_fraction
    FROM (SELECT b.bucket_start, b.pool_id, b.tenant_id, unnest(b.job_id) AS job_id,
                 unnest(b.attempt_started_at) AS attempt_started_at, unnest(b.burst_grant_id) AS burst_grant_id,
                 unnest(b.segment_end) AS segment_end, unnest(b.share) AS share, unnest(b.cpu_m) AS cpu_m,
                 unnest(b.memory_mb) AS memory_mb, unnest(b.amounts) AS amount,
                 unnest(b.burst_fraction) AS burst_fraction
            FROM cost_job_batch b) j;
-- A parallel scan would hand every expanded attempt from a worker process to the leader, which costs more than
-- expanding them in the leader.
ALTER TABLE cost_job_batch SET (parallel_workers = 0);
