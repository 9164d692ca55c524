-- Jobs: accepted only once committed; every state change is a transaction with a job_event row.

CREATE TABLE IF NOT EXISTS job (
  id                 text        NOT NULL,
  tenant_id          text        NOT NULL,
  name               text,
  state              text        NOT NULL,
  priority           integer     NOT NULL,
  cpu_m              bigint      NOT NULL,
  memory_mb          bigint      NOT NULL,
  pool_id            text,
  pool_labels        jsonb,
  command            jsonb       NOT NULL,
  env                jsonb       NOT NULL DEFAULT '{}'::jsonb,
  payload            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  labels             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  timeout_s          integer     NOT NULL,
  max_attempts       integer     NOT NULL,
  attempts           integer     NOT NULL DEFAULT 0,
  max_queue_seconds  integer     NOT NULL,
  sla_deadline       timestamptz,
  idempotency_key    text,
  submitted_at       timestamptz NOT NULL DEFAULT now(),
  admitted_at        timestamptz,
  started_at         timestamptz,
  finished_at        timestamptz,
  next_attempt_at    timestamptz,
  placed_pool_id     text,
  worker_id          text,
  pid                bigint,
  process_started_at timestamptz,
  exit_code          integer,
  error_type         text,
  run_ms             bigint,
  cancel_requested   boolean     NOT NULL DEFAULT false,
  version            bigint      NOT NULL DEFAULT 1,
  CONSTRAINT job_pkey PRIMARY KEY (id),
  CONSTRAINT job_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenant (id) ON DELETE RESTRICT,
  CONSTRAINT job_state_valid CHECK (state IN ('queued', 'admitted', 'running', 'succeeded', 'failed', 'cancelled',
                                              'timed_out', 'abandoned')),
  CONSTRAINT job_idempotency_key UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS job_open_idx ON job (state) WHERE state IN ('queued', 'admitted', 'running');
CREATE INDEX IF NOT EXISTS job_tenant_id_idx ON job (tenant_id, id);

CREATE TABLE IF NOT EXISTS job_event (
  id        bigserial   NOT NULL,
  job_id    text        NOT NULL,
  tenant_id text        NOT NULL,
  state     text        NOT NULL,
  detail    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT job_event_pkey PRIMARY KEY (id),
  CONSTRAINT job_event_job_fkey FOREIGN KEY (job_id) REFERENCES job (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS job_event_job_idx ON job_event (job_id, id);

CREATE TABLE IF NOT EXISTS job_log (
  job_id    text        NOT NULL,
  attempt   integer     NOT NULL,
  log       text        NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT job_log_pkey PRIMARY KEY (job_id, attempt),
  CONSTRAINT job_log_job_fkey FOREIGN KEY (job_id) REFERENCES job (id) ON DELETE CASCADE
);
