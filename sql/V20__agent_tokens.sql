-- Agent tokens: an admin issues one for a pool; an agent presenting it may register into that pool only. They live
-- beside the API tokens (hashed the same way) but are not API credentials: REST and the other gRPC services refuse
-- them. (Numbered with a gap so that migrations of other branches can be merged before it.)
ALTER TABLE api_token ADD COLUMN IF NOT EXISTS pool_id text;
ALTER TABLE api_token DROP CONSTRAINT IF EXISTS api_token_role_valid;
ALTER TABLE api_token ADD CONSTRAINT api_token_role_valid
  CHECK (role IN ('admin', 'tenant-admin', 'submitter', 'viewer', 'agent'));
ALTER TABLE api_token DROP CONSTRAINT IF EXISTS api_token_scope;
ALTER TABLE api_token ADD CONSTRAINT api_token_scope
  CHECK ((role IN ('admin', 'agent')) = (tenant_id IS NULL) AND (role = 'agent') = (pool_id IS NOT NULL));
ALTER TABLE api_token DROP CONSTRAINT IF EXISTS api_token_pool_fkey;
ALTER TABLE api_token ADD CONSTRAINT api_token_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE;
CREATE INDEX IF NOT EXISTS api_token_pool_idx ON api_token (pool_id);
