-- Historical metrics: raw samples from the collector, rolled up to 1 m / 5 m / 1 h with retention per resolution.
-- pool and tenant are '' when a series has no such label (so they can be part of keys).

CREATE TABLE IF NOT EXISTS metric_sample (
  ts     timestamptz      NOT NULL,
  metric text             NOT NULL,
  pool   text             NOT NULL DEFAULT '',
  tenant text             NOT NULL DEFAULT '',
  value  double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_sample_series_idx ON metric_sample (metric, pool, tenant, ts);
CREATE INDEX IF NOT EXISTS metric_sample_ts_idx ON metric_sample (ts);

CREATE TABLE IF NOT EXISTS metric_rollup (
  resolution text             NOT NULL,
  bucket     timestamptz      NOT NULL,
  metric     text             NOT NULL,
  pool       text             NOT NULL DEFAULT '',
  tenant     text             NOT NULL DEFAULT '',
  min        double precision NOT NULL,
  max        double precision NOT NULL,
  avg        double precision NOT NULL,
  sum        double precision NOT NULL,
  count      bigint           NOT NULL,
  p50        double precision,
  p95        double precision,
  p99        double precision,
  CONSTRAINT metric_rollup_pkey PRIMARY KEY (resolution, metric, pool, tenant, bucket),
  CONSTRAINT metric_rollup_resolution_valid CHECK (resolution IN ('1m', '5m', '1h'))
);
CREATE INDEX IF NOT EXISTS metric_rollup_bucket_idx ON metric_rollup (resolution, bucket);
