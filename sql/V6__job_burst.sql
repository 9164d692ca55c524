-- The burst grant a job's current attempt was admitted on (it ran above the tenant's base quota), or NULL.
-- Cost attribution meters burst usage separately from it.
ALTER TABLE job ADD COLUMN IF NOT EXISTS burst_grant_id text;

-- The trace_id of the request that submitted the job: job lifecycle events and spans carry it.
ALTER TABLE job ADD COLUMN IF NOT EXISTS trace_id text;
