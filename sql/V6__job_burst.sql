-- The burst grant a job's current attempt was admitted on (it ran above the tenant's base quota), or NULL.
-- Cost attribution meters burst usage separately from it.
ALTER TABLE job ADD COLUMN IF NOT EXISTS burst_grant_id text;
