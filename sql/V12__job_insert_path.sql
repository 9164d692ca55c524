-- A job insert does less per row (measured with pgbench on 100-job inserts with their events, PostgreSQL 17:
-- 280 -> 385 inserts/s, the same statement as the scheduler's):
--
-- The foreign key job -> tenant ran one lookup and one row lock of the tenant per job row (its trigger fires per
-- row). The job insert now locks each distinct tenant of the statement once (FOR KEY SHARE, what the key's trigger
-- took) and inserts only the rows whose tenant it locked; deleting a tenant locks it FOR UPDATE (which waits for
-- those inserts to commit) and then refuses while the tenant has jobs: the same guarantee, once per statement.
ALTER TABLE job DROP CONSTRAINT IF EXISTS job_tenant_fkey;

-- Most jobs have no idempotency key, and a unique index also holds an entry for every NULL key. Only keyed jobs are
-- indexed now (the insert's ON CONFLICT names the same predicate).
ALTER TABLE job DROP CONSTRAINT IF EXISTS job_idempotency_key;
CREATE UNIQUE INDEX IF NOT EXISTS job_idempotency_key_idx ON job (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
