-- Resource pools, their workers, and the append-only log of worker state transitions.

CREATE TABLE IF NOT EXISTS pool (
  id                    text          NOT NULL,
  name                  text          NOT NULL,
  kind                  text          NOT NULL,
  provider              text          NOT NULL,
  state                 text          NOT NULL DEFAULT 'creating',
  min_size              integer       NOT NULL,
  max_size              integer       NOT NULL,
  target_size           integer       NOT NULL,
  worker_cpu_m          bigint        NOT NULL,
  worker_memory_mb      bigint        NOT NULL,
  price_per_worker_hour numeric(14,6) NOT NULL DEFAULT 0,
  auto_scaling_enabled  boolean       NOT NULL DEFAULT false,
  labels                jsonb         NOT NULL DEFAULT '{}'::jsonb,
  provider_config       jsonb         NOT NULL DEFAULT '{}'::jsonb,
  created_at            timestamptz   NOT NULL DEFAULT now(),
  updated_at            timestamptz   NOT NULL DEFAULT now(),
  version               bigint        NOT NULL DEFAULT 1,
  CONSTRAINT pool_pkey PRIMARY KEY (id),
  CONSTRAINT pool_kind_valid CHECK (kind IN ('static', 'dynamic')),
  CONSTRAINT pool_state_valid CHECK (state IN ('creating', 'active', 'paused', 'draining', 'stopped', 'deleting')),
  CONSTRAINT pool_size_bounds CHECK (min_size >= 0 AND min_size <= target_size AND target_size <= max_size),
  CONSTRAINT pool_shape_positive CHECK (worker_cpu_m > 0 AND worker_memory_mb > 0 AND price_per_worker_hour >= 0)
);
CREATE UNIQUE INDEX IF NOT EXISTS pool_name_key ON pool (lower(name));

CREATE TABLE IF NOT EXISTS worker (
  id                text        NOT NULL,
  pool_id           text        NOT NULL,
  state             text        NOT NULL,
  health            text        NOT NULL DEFAULT 'unknown',
  cpu_m             bigint      NOT NULL,
  memory_mb         bigint      NOT NULL,
  draining          boolean     NOT NULL DEFAULT false,
  current_job_id    text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  last_heartbeat_at timestamptz,
  provisioned_in_ms bigint,
  unhealthy_since   timestamptz,
  terminated_at     timestamptz,
  terminated_in_ms  bigint,
  failure_reason    text,
  CONSTRAINT worker_pkey PRIMARY KEY (id),
  CONSTRAINT worker_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE,
  CONSTRAINT worker_state_valid CHECK (state IN ('provisioning', 'idle', 'busy', 'terminating', 'terminated', 'unhealthy')),
  CONSTRAINT worker_health_valid CHECK (health IN ('healthy', 'unhealthy', 'unknown'))
);
CREATE INDEX IF NOT EXISTS worker_pool_state_idx ON worker (pool_id, state);

CREATE TABLE IF NOT EXISTS worker_event (
  id          bigserial   NOT NULL,
  worker_id   text        NOT NULL,
  pool_id     text        NOT NULL,
  from_state  text,
  to_state    text        NOT NULL,
  health      text        NOT NULL,
  reason      text,
  duration_ms bigint,
  at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT worker_event_pkey PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS worker_event_worker_idx ON worker_event (worker_id, at);
CREATE INDEX IF NOT EXISTS worker_event_pool_at_idx ON worker_event (pool_id, at);

-- Pools declared in resource_pools.pools are created once; a pool an operator deleted is not brought back.
CREATE TABLE IF NOT EXISTS config_pool_seed (
  pool_id   text        NOT NULL,
  seeded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT config_pool_seed_pkey PRIMARY KEY (pool_id)
);
