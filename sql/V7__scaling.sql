-- Autoscaling of dynamic pools: policies, triggers, cooldowns (configuration, removed with their pool) and the
-- decision ledger (kept after its pool is deleted: it is the audit trail).

CREATE TABLE IF NOT EXISTS scaling_policy (
  id          text             NOT NULL,
  pool_id     text             NOT NULL,
  type        text             NOT NULL,
  enabled     boolean          NOT NULL DEFAULT true,
  target      double precision,
  min_step    integer          NOT NULL DEFAULT 1,
  max_step    integer          NOT NULL DEFAULT 10,
  schedule    jsonb            NOT NULL DEFAULT '[]'::jsonb,
  created_at  timestamptz      NOT NULL DEFAULT now(),
  updated_at  timestamptz      NOT NULL DEFAULT now(),
  version     bigint           NOT NULL DEFAULT 1,
  CONSTRAINT scaling_policy_pkey PRIMARY KEY (id),
  CONSTRAINT scaling_policy_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE,
  CONSTRAINT scaling_policy_type_valid CHECK (type IN ('target_utilisation', 'queue_depth_per_worker',
    'queue_wait_time', 'scheduled')),
  CONSTRAINT scaling_policy_steps_valid CHECK (min_step >= 1 AND min_step <= max_step)
);
CREATE INDEX IF NOT EXISTS scaling_policy_pool_idx ON scaling_policy (pool_id);

CREATE TABLE IF NOT EXISTS scaling_trigger (
  id              text             NOT NULL,
  pool_id         text             NOT NULL,
  metric          text             NOT NULL,
  comparison      text             NOT NULL,
  threshold       double precision NOT NULL,
  for_duration_s  integer          NOT NULL DEFAULT 0,
  action          text             NOT NULL,
  step            integer          NOT NULL DEFAULT 1,
  enabled         boolean          NOT NULL DEFAULT true,
  created_at      timestamptz      NOT NULL DEFAULT now(),
  updated_at      timestamptz      NOT NULL DEFAULT now(),
  version         bigint           NOT NULL DEFAULT 1,
  CONSTRAINT scaling_trigger_pkey PRIMARY KEY (id),
  CONSTRAINT scaling_trigger_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE,
  CONSTRAINT scaling_trigger_action_valid CHECK (action IN ('scale_out', 'scale_in')),
  CONSTRAINT scaling_trigger_step_valid CHECK (step >= 1 AND for_duration_s >= 0)
);
CREATE INDEX IF NOT EXISTS scaling_trigger_pool_idx ON scaling_trigger (pool_id);

CREATE TABLE IF NOT EXISTS scaling_cooldown (
  pool_id                   text        NOT NULL,
  scale_out_cooldown_s      integer     NOT NULL,
  scale_in_cooldown_s       integer     NOT NULL,
  scale_in_stabilisation_s  integer     NOT NULL,
  updated_at                timestamptz NOT NULL DEFAULT now(),
  version                   bigint      NOT NULL DEFAULT 1,
  CONSTRAINT scaling_cooldown_pkey PRIMARY KEY (pool_id),
  CONSTRAINT scaling_cooldown_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE,
  CONSTRAINT scaling_cooldown_non_negative CHECK (scale_out_cooldown_s >= 0 AND scale_in_cooldown_s >= 0
    AND scale_in_stabilisation_s >= 0)
);

CREATE TABLE IF NOT EXISTS scaling_event (
  id                    bigserial        NOT NULL,
  pool_id               text             NOT NULL,
  at                    timestamptz      NOT NULL DEFAULT now(),
  source                text             NOT NULL,
  source_id             text,
  reason_code           text             NOT NULL,
  direction             text             NOT NULL,
  size_before           integer          NOT NULL,
  size_after            integer          NOT NULL,
  inputs                jsonb            NOT NULL,
  reason                text             NOT NULL,
  cooldown              jsonb            NOT NULL,
  capacity_ready_ms     bigint,
  capacity_ready_at     timestamptz,
  idle_worker_seconds   double precision NOT NULL DEFAULT 0,
  CONSTRAINT scaling_event_pkey PRIMARY KEY (id),
  CONSTRAINT scaling_event_direction_valid CHECK (direction IN ('scale_out', 'scale_in'))
);
CREATE INDEX IF NOT EXISTS scaling_event_pool_at_idx ON scaling_event (pool_id, id DESC);
