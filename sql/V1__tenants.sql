-- Tenants, their quotas and the API tokens that act for them.

CREATE TABLE IF NOT EXISTS tenant (
  id          text        NOT NULL,
  name        text        NOT NULL,
  weight      integer     NOT NULL DEFAULT 1,
  status      text        NOT NULL DEFAULT 'active',
  labels      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  version     bigint      NOT NULL DEFAULT 1,
  CONSTRAINT tenant_pkey PRIMARY KEY (id),
  CONSTRAINT tenant_weight_range CHECK (weight BETWEEN 1 AND 1000),
  CONSTRAINT tenant_status_valid CHECK (status IN ('active', 'suspended'))
);
CREATE UNIQUE INDEX IF NOT EXISTS tenant_name_key ON tenant (lower(name));

CREATE TABLE IF NOT EXISTS quota (
  tenant_id           text        NOT NULL,
  cpu_m               bigint      NOT NULL,
  memory_mb           bigint      NOT NULL,
  max_concurrent_jobs bigint      NOT NULL,
  max_queued_jobs     bigint      NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  version             bigint      NOT NULL DEFAULT 1,
  CONSTRAINT quota_pkey PRIMARY KEY (tenant_id),
  CONSTRAINT quota_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenant (id) ON DELETE CASCADE,
  CONSTRAINT quota_non_negative CHECK (cpu_m >= 0 AND memory_mb >= 0 AND max_concurrent_jobs >= 0 AND max_queued_jobs >= 0)
);

CREATE TABLE IF NOT EXISTS api_token (
  id          text        NOT NULL,
  token_hash  text        NOT NULL,
  name        text        NOT NULL,
  role        text        NOT NULL,
  tenant_id   text,
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  CONSTRAINT api_token_pkey PRIMARY KEY (id),
  CONSTRAINT api_token_hash_key UNIQUE (token_hash),
  CONSTRAINT api_token_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenant (id) ON DELETE CASCADE,
  CONSTRAINT api_token_role_valid CHECK (role IN ('admin', 'tenant-admin', 'submitter', 'viewer')),
  CONSTRAINT api_token_scope CHECK ((role = 'admin') = (tenant_id IS NULL))
);
CREATE INDEX IF NOT EXISTS api_token_tenant_idx ON api_token (tenant_id);
