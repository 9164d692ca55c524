-- Historical metrics, packed (replaces V5's metric_sample / metric_rollup; pre-release schema, no data migration:
-- the old history is dropped).
--   metric_series: one row per stored series (metric name with its extra labels, pool, tenant; '' when absent).
--   metric_raw:    one row per series per UTC minute; the samples of that minute as parallel arrays (second within the
--                  minute, value), appended by an upsert at every sample. The 1 m resolution is computed from these
--                  rows at query time, so they are kept for the longer of the raw and the 1 m retention.
--   metric_rollup: 5 m (step 300) and 1 h (step 3600) buckets keyed by series id.
-- Each append leaves the previous version of its minute row dead; a low vacuum scale factor lets autovacuum make that
-- space reusable often (closed minutes are never updated again, so vacuum skips their all-visible pages).
-- BRIN indexes on the time columns serve the retention deletes at a few pages per table.

DROP TABLE IF EXISTS metric_sample;
DROP TABLE IF EXISTS metric_rollup;

CREATE TABLE metric_series (
  id     serial PRIMARY KEY,
  metric text NOT NULL,
  pool   text NOT NULL DEFAULT '',
  tenant text NOT NULL DEFAULT '',
  CONSTRAINT metric_series_key UNIQUE (metric, pool, tenant)
);

CREATE TABLE metric_raw (
  series_id int              NOT NULL,
  minute    timestamptz      NOT NULL,
  offsets   smallint[]       NOT NULL,
  vals      double precision[] NOT NULL,
  CONSTRAINT metric_raw_pkey PRIMARY KEY (series_id, minute)
) WITH (autovacuum_vacuum_scale_factor = 0.01);
CREATE INDEX metric_raw_minute_brin ON metric_raw USING brin (minute);

CREATE TABLE metric_rollup (
  series_id int              NOT NULL,
  step      int              NOT NULL,
  bucket    timestamptz      NOT NULL,
  min       double precision NOT NULL,
  max       double precision NOT NULL,
  avg       double precision NOT NULL,
  sum       double precision NOT NULL,
  count     int              NOT NULL,
  p50       double precision,
  p95       double precision,
  p99       double precision,
  CONSTRAINT metric_rollup_pkey PRIMARY KEY (series_id, step, bucket),
  CONSTRAINT metric_rollup_step_valid CHECK (step IN (300, 3600))
);
CREATE INDEX metric_rollup_bucket_brin ON metric_rollup USING brin (bucket);
