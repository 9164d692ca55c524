-- Cost tracking (issue #9): versioned pool prices, the cost ledger, cross-tenant burst impact and stored reports.

-- Price history per pool: the price in force at t is the version with the latest effective_from <= t (before the
-- first version, the first version's price). source: 'pool' (observed from the pool's price_per_worker_hour) or
-- 'api' (set with POST /api/v1/cost/prices).
CREATE TABLE IF NOT EXISTS pool_price (
  pool_id               text          NOT NULL,
  effective_from        timestamptz   NOT NULL,
  price_per_worker_hour numeric(14,6) NOT NULL,
  source                text          NOT NULL,
  created_by            text          NOT NULL,
  created_at            timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT pool_price_pkey PRIMARY KEY (pool_id, effective_from),
  CONSTRAINT pool_price_non_negative CHECK (price_per_worker_hour >= 0),
  CONSTRAINT pool_price_source_valid CHECK (source IN ('pool', 'api'))
);

-- The ledger: one row per (kind, source, UTC hour bucket). kind 'worker' is a worker's lifetime inside the bucket
-- (pool cost); kind 'job' is one job attempt's run inside the bucket (share x worker cost). Idle cost of a pool is
-- its worker cost minus its job cost over the same buckets. Rows are recomputed in place (upsert) when a price
-- version changes or an open worker's bucket grows, so every write is idempotent.
CREATE TABLE IF NOT EXISTS cost_record (
  kind               text          NOT NULL,
  source_id          text          NOT NULL,
  bucket_start       timestamptz   NOT NULL,
  pool_id            text          NOT NULL,
  worker_id          text,
  job_id             text,
  attempt_started_at timestamptz,
  tenant_id          text,
  burst_grant_id     text,
  segment_start      timestamptz   NOT NULL,
  segment_end        timestamptz   NOT NULL,
  share              numeric(12,9) NOT NULL,
  cpu_m              bigint        NOT NULL,
  memory_mb          bigint        NOT NULL,
  amount             numeric(24,10) NOT NULL,
  updated_at         timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT cost_record_pkey PRIMARY KEY (kind, source_id, bucket_start),
  CONSTRAINT cost_record_kind_valid CHECK (kind IN ('worker', 'job')),
  CONSTRAINT cost_record_segment_valid CHECK (segment_end >= segment_start),
  CONSTRAINT cost_record_share_range CHECK (share >= 0 AND share <= 1)
);
CREATE INDEX IF NOT EXISTS cost_record_bucket_idx ON cost_record (bucket_start);
CREATE INDEX IF NOT EXISTS cost_record_pool_idx ON cost_record (pool_id, segment_end);
CREATE INDEX IF NOT EXISTS cost_record_tenant_idx ON cost_record (tenant_id, bucket_start) WHERE tenant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS cost_record_attempt_idx ON cost_record (job_id, attempt_started_at) WHERE kind = 'job';

-- How far each worker's lifetime has been written to the ledger (a terminated worker whose accounted_until equals
-- its terminated_at is done).
CREATE TABLE IF NOT EXISTS cost_worker_cursor (
  worker_id       text        NOT NULL,
  accounted_until timestamptz NOT NULL,
  CONSTRAINT cost_worker_cursor_pkey PRIMARY KEY (worker_id)
);

-- Cross-tenant impact of one burst attempt: queue-wait seconds of other tenants' jobs on the same pool that overlap
-- the burst attempt's run, and how many such jobs there were.
CREATE TABLE IF NOT EXISTS cost_burst_impact (
  job_id         text          NOT NULL,
  started_at     timestamptz   NOT NULL,
  finished_at    timestamptz   NOT NULL,
  tenant_id      text          NOT NULL,
  pool_id        text          NOT NULL,
  burst_grant_id text          NOT NULL,
  impact_seconds numeric(20,3) NOT NULL,
  delayed_jobs   bigint        NOT NULL,
  CONSTRAINT cost_burst_impact_pkey PRIMARY KEY (job_id, started_at)
);
CREATE INDEX IF NOT EXISTS cost_burst_impact_finished_idx ON cost_burst_impact (finished_at);

-- Reports generated in the background (POST /api/v1/cost-reports).
CREATE TABLE IF NOT EXISTS cost_report (
  id          text        NOT NULL,
  status      text        NOT NULL,
  tenant_id   text,
  created_by  text        NOT NULL,
  params      jsonb       NOT NULL,
  result      jsonb,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CONSTRAINT cost_report_pkey PRIMARY KEY (id),
  CONSTRAINT cost_report_status_valid CHECK (status IN ('pending', 'running', 'done', 'failed'))
);
CREATE INDEX IF NOT EXISTS cost_report_created_idx ON cost_report (created_at);

-- The catch-up sweep finds finished jobs by finish time.
CREATE INDEX IF NOT EXISTS job_finished_at_idx ON job (finished_at) WHERE finished_at IS NOT NULL;
