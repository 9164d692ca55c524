-- Time-boxed quota overage per tenant; usage above the base quota is metered on the grant.

CREATE TABLE IF NOT EXISTS burst_grant (
  id                        text          NOT NULL,
  tenant_id                 text          NOT NULL,
  max_overage_pct           integer       NOT NULL,
  starts_at                 timestamptz   NOT NULL DEFAULT now(),
  ends_at                   timestamptz   NOT NULL,
  revoked_at                timestamptz,
  reason                    text,
  created_by                text          NOT NULL,
  consumed_cpu_m_seconds    numeric(20,3) NOT NULL DEFAULT 0,
  consumed_memory_mb_seconds numeric(20,3) NOT NULL DEFAULT 0,
  burst_jobs                bigint        NOT NULL DEFAULT 0,
  CONSTRAINT burst_grant_pkey PRIMARY KEY (id),
  CONSTRAINT burst_grant_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenant (id) ON DELETE CASCADE,
  CONSTRAINT burst_grant_pct_range CHECK (max_overage_pct BETWEEN 100 AND 1000),
  CONSTRAINT burst_grant_window CHECK (ends_at > starts_at)
);
CREATE INDEX IF NOT EXISTS burst_grant_tenant_idx ON burst_grant (tenant_id, ends_at);
