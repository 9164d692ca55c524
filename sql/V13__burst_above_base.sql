-- Burst is billed on the usage above the base quota over time, not on whole jobs admitted above it.
-- job.burst_seconds: the integral, over the job's last attempt, of the fraction of its tenant's usage that was above
-- the base quota (so the attempt's usage above base is cpu_m x burst_seconds, and memory_mb x burst_seconds).
ALTER TABLE job ADD COLUMN IF NOT EXISTS burst_seconds double precision;
-- cost_record.burst_fraction: the part of a job row's usage (and amount) that was above its tenant's base quota.
-- Rows written before it billed whole burst attempts: they keep that (1 on a burst grant, else 0).
ALTER TABLE cost_record ADD COLUMN IF NOT EXISTS burst_fraction numeric(12,9);
UPDATE cost_record SET burst_fraction = CASE WHEN burst_grant_id IS NOT NULL THEN 1 ELSE 0 END
  WHERE burst_fraction IS NULL;
ALTER TABLE cost_record ALTER COLUMN burst_fraction SET DEFAULT 0;
ALTER TABLE cost_record ALTER COLUMN burst_fraction SET NOT NULL;
ALTER TABLE cost_record DROP CONSTRAINT IF EXISTS cost_record_burst_fraction_range;
ALTER TABLE cost_record ADD CONSTRAINT cost_record_burst_fraction_range CHECK (burst_fraction >= 0 AND burst_fraction <= 1);
