-- A job's events live in its own row, and a job update writes only what changed.
--
-- Before: every job wrote four job_event rows (queued, admitted, running, an end), each with two index entries, and
-- each job update logged the whole job row (its changing columns sat among the fixed ones). Now:
--
-- * The events of a job's current attempt are columns of the job row: the sequence numbers of its queued, admitted,
--   running and end events (queued_seq, admitted_seq, running_seq, end_seq) beside the columns that already said
--   when and where (submitted_at, admitted_at, started_at + placement, finished_at + end_detail). Events of earlier
--   attempts, and the queued event of a retry, are kept whole in `history` (a JSON array of
--   [sequence, state, at, detail]), written when the job is queued again. A running event's detail (the placement)
--   and an end event's detail are stored without the entries the row's columns already hold (pool, worker, attempt,
--   pid, outcome = state, exit code): `placement_keys` and `end_keys` say which entries to put back
--   (job_running_detail, job_end_detail).
-- * The columns fixed at submission come first, then those a start sets, then those an end sets. PostgreSQL logs
--   only the bytes of a row that changed after an unchanged prefix (for an update within the page), so a start logs
--   the run's columns and an end the end's, not the command, environment and payload again.
-- * No index covers a column a start or an end changes, so both are heap-only updates: the open jobs are found
--   through a BRIN index on finished_at (its ranges with a NULL), read once when the scheduler loads.
-- * The order of all events (the WatchJobs sequence) is job_event_log: one row per job write statement, naming the
--   jobs it changed and the range of sequence numbers it drew. The job writer commits one transaction at a time, so
--   the rows become visible in sequence order.
-- * `job_event` is now a view with the columns of the former table, built from the job rows.
-- * The worker table gets the same order (fixed columns first, then health and lifetime, then state and the current
--   job, which change twice per job) and more room per page for heap-only updates.

DROP VIEW IF EXISTS cost_job_end;
DROP VIEW IF EXISTS cost_job;
DROP VIEW IF EXISTS cost_worker;

CREATE TABLE worker_v17 (
  id                text        NOT NULL,
  pool_id           text        NOT NULL,
  cpu_m             bigint      NOT NULL,
  memory_mb         bigint      NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  provisioned_in_ms bigint,
  draining          boolean     NOT NULL DEFAULT false,
  health            text        NOT NULL DEFAULT 'unknown',
  last_heartbeat_at timestamptz,
  unhealthy_since   timestamptz,
  terminated_at     timestamptz,
  terminated_in_ms  bigint,
  failure_reason    text,
  state             text        NOT NULL,
  current_job_id    text,
  CONSTRAINT worker_state_valid CHECK (state IN ('provisioning', 'idle', 'busy', 'terminating', 'terminated',
                                                 'unhealthy')),
  CONSTRAINT worker_health_valid CHECK (health IN ('healthy', 'unhealthy', 'unknown'))
) WITH (fillfactor = 20);
INSERT INTO worker_v17 (id, pool_id, cpu_m, memory_mb, created_at, started_at, provisioned_in_ms, draining, health,
                        last_heartbeat_at, unhealthy_since, terminated_at, terminated_in_ms, failure_reason, state,
                        current_job_id)
SELECT id, pool_id, cpu_m, memory_mb, created_at, started_at, provisioned_in_ms, draining, health, last_heartbeat_at,
       unhealthy_since, terminated_at, terminated_in_ms, failure_reason, state, current_job_id
  FROM worker;
DROP TABLE worker;
ALTER TABLE worker_v17 RENAME TO worker;
ALTER TABLE worker ADD CONSTRAINT worker_pkey PRIMARY KEY (id);
ALTER TABLE worker ADD CONSTRAINT worker_pool_fkey FOREIGN KEY (pool_id) REFERENCES pool (id) ON DELETE CASCADE;
CREATE INDEX worker_pool_id_idx ON worker (pool_id, id);

CREATE VIEW cost_worker AS
  SELECT id, pool_id, cpu_m, memory_mb, created_at, terminated_at
    FROM worker;

-- the sequence outlives the table it came with
ALTER SEQUENCE job_event_id_seq OWNED BY NONE;

CREATE TABLE job_v17 (
  -- fixed at submission
  id                      text        NOT NULL,
  tenant_id               text        NOT NULL,
  cpu_m                   bigint      NOT NULL,
  memory_mb               bigint      NOT NULL,
  submitted_at            timestamptz NOT NULL DEFAULT now(),
  queued_seq              bigint,
  timeout_s               integer     NOT NULL,
  max_attempts            integer     NOT NULL,
  max_queue_seconds       integer     NOT NULL,
  name                    text,
  pool_id                 text,
  pool_labels             jsonb,
  command                 jsonb       NOT NULL,
  env                     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  payload                 jsonb       NOT NULL DEFAULT '{}'::jsonb,
  labels                  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  sla_deadline            timestamptz,
  idempotency_key         text,
  idempotency_fingerprint text,
  trace_id                text,
  -- changed rarely (a reprioritisation, a cancel request, a retry)
  priority                integer     NOT NULL,
  cancel_requested        boolean     NOT NULL DEFAULT false,
  history                 jsonb,
  -- set when a run starts
  attempts                integer     NOT NULL DEFAULT 0,
  admitted_at             timestamptz,
  started_at              timestamptz,
  admitted_seq            bigint,
  running_seq             bigint,
  pid                     bigint,
  process_started_at      timestamptz,
  next_attempt_at         timestamptz,
  placed_pool_id          text,
  worker_id               text,
  burst_grant_id          text,
  placement               jsonb,
  placement_keys          smallint    NOT NULL DEFAULT 0,
  -- set when it ends
  finished_at             timestamptz,
  end_seq                 bigint,
  run_ms                  bigint,
  burst_seconds           double precision,
  exit_code               integer,
  error_type              text,
  end_detail              jsonb,
  end_keys                smallint    NOT NULL DEFAULT 0,
  -- changed by every transition
  last_seq                bigint      NOT NULL DEFAULT 0,
  version                 bigint      NOT NULL DEFAULT 1,
  state                   text        NOT NULL,
  CONSTRAINT job_state_valid CHECK (state IN ('queued', 'admitted', 'running', 'succeeded', 'failed', 'cancelled',
                                              'timed_out', 'abandoned'))
) WITH (fillfactor = 30);

-- existing jobs keep every event: a finished job's end event becomes its end columns (written at its finished_at, by
-- the same statement), every other event goes to its history
INSERT INTO job_v17 (id, tenant_id, cpu_m, memory_mb, submitted_at, timeout_s, max_attempts, max_queue_seconds, name,
                     pool_id, pool_labels, command, env, payload, labels, sla_deadline, idempotency_key,
                     idempotency_fingerprint, trace_id, priority, cancel_requested, history, attempts, admitted_at,
                     started_at, pid, process_started_at, next_attempt_at, placed_pool_id, worker_id, burst_grant_id,
                     finished_at, end_seq, end_detail, run_ms, burst_seconds, exit_code, error_type, last_seq, version,
                     state)
SELECT j.id, j.tenant_id, j.cpu_m, j.memory_mb, j.submitted_at, j.timeout_s, j.max_attempts, j.max_queue_seconds,
       j.name, j.pool_id, j.pool_labels, j.command, j.env, j.payload, j.labels, j.sla_deadline, j.idempotency_key,
       j.idempotency_fingerprint, j.trace_id, j.priority, j.cancel_requested, e.history, j.attempts, j.admitted_at,
       j.started_at, j.pid, j.process_started_at, j.next_attempt_at, j.placed_pool_id, j.worker_id, j.burst_grant_id,
       j.finished_at, e.end_seq, e.end_detail, j.run_ms, j.burst_seconds, j.exit_code, j.error_type,
       coalesce(e.last_seq, 0), j.version, j.state
  FROM job j
  LEFT JOIN (SELECT job_id, max(id) AS last_seq,
                    jsonb_agg(jsonb_build_array(id, state, at, detail) ORDER BY id) FILTER (WHERE NOT is_end)
                      AS history,
                    max(id) FILTER (WHERE is_end) AS end_seq,
                    (array_agg(detail) FILTER (WHERE is_end))[1] AS end_detail
               FROM (SELECT ev.*, coalesce(ev.id = max(ev.id) FILTER (WHERE ev.state IN ('succeeded', 'failed',
                              'cancelled', 'timed_out', 'abandoned')) OVER (PARTITION BY ev.job_id), false) AS is_end
                       FROM job_event ev) x
              GROUP BY job_id) e ON e.job_id = j.id;

CREATE TABLE job_event_log (
  last_seq  bigint NOT NULL,
  first_seq bigint NOT NULL,
  job_ids   text[] NOT NULL,
  CONSTRAINT job_event_log_pkey PRIMARY KEY (last_seq)
);
-- the existing events, one log row per event
INSERT INTO job_event_log (last_seq, first_seq, job_ids) SELECT id, id, ARRAY[job_id] FROM job_event;

DROP TABLE job_event;
DROP TABLE job;
ALTER TABLE job_v17 RENAME TO job;
ALTER TABLE job ADD CONSTRAINT job_pkey PRIMARY KEY (id);
CREATE INDEX job_tenant_id_idx ON job (tenant_id, id);
CREATE UNIQUE INDEX job_idempotency_key_idx ON job (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- a summarizing index: an end that sets finished_at stays a heap-only update
CREATE INDEX job_finished_brin ON job USING brin (finished_at) WITH (pages_per_range = 32);

-- The running event's detail: the stored rest of the placement and the entries placement_keys names, from columns.
CREATE FUNCTION job_running_detail(rest jsonb, keys smallint, pool_id text, worker_id text, attempts integer,
                                   pid bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((SELECT jsonb_object_agg(k, v) FROM (VALUES ('pool_id', to_jsonb(pool_id), 1),
                                                            ('worker_id', to_jsonb(worker_id), 2),
                                                            ('attempt', to_jsonb(attempts), 4),
                                                            ('pid', to_jsonb(pid), 8),
                                                            ('process_started_at', 'null'::jsonb, 16)) AS x(k, v, bit)
                    WHERE keys & bit <> 0), '{}'::jsonb) || coalesce(rest, '{}'::jsonb)
$$;

-- An end event's detail: the stored rest and the entries end_keys names, from columns.
CREATE FUNCTION job_end_detail(rest jsonb, keys smallint, state text, exit_code integer, worker_id text,
                               pool_id text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((SELECT jsonb_object_agg(k, v) FROM (VALUES ('outcome', to_jsonb(state), 1),
                                                            ('exit_code', to_jsonb(exit_code), 2),
                                                            ('error_type', 'null'::jsonb, 4),
                                                            ('worker_id', to_jsonb(worker_id), 8),
                                                            ('pool_id', to_jsonb(pool_id), 16)) AS x(k, v, bit)
                    WHERE keys & bit <> 0), '{}'::jsonb) || coalesce(rest, '{}'::jsonb)
$$;

-- Every event of a job: earlier ones from history, the current attempt's from its columns.
CREATE VIEW job_event AS
  SELECT e.id, j.id AS job_id, j.tenant_id, e.state, e.detail, e.at
    FROM job j
   CROSS JOIN LATERAL (
         SELECT (h->>0)::bigint, h->>1, h->3, (h->>2)::timestamptz FROM jsonb_array_elements(j.history) h
         UNION ALL SELECT j.queued_seq, 'queued', '{"reason":"submitted"}'::jsonb, j.submitted_at
                    WHERE j.queued_seq IS NOT NULL
         UNION ALL SELECT j.admitted_seq, 'admitted', jsonb_build_object('attempt', j.attempts), j.admitted_at
                    WHERE j.admitted_seq IS NOT NULL
         UNION ALL SELECT j.running_seq, 'running', job_running_detail(j.placement, j.placement_keys,
                                                 j.placed_pool_id, j.worker_id, j.attempts, j.pid), j.started_at
                    WHERE j.running_seq IS NOT NULL
         UNION ALL SELECT j.end_seq, j.state, job_end_detail(j.end_detail, j.end_keys, j.state, j.exit_code,
                                                             j.worker_id, j.placed_pool_id), j.finished_at
                    WHERE j.end_seq IS NOT NULL) AS e(id, state, detail, at);

CREATE VIEW cost_job AS
  SELECT id, tenant_id, pool_id, placed_pool_id, worker_id, cpu_m, memory_mb, submitted_at, started_at, finished_at,
         burst_grant_id, burst_seconds
    FROM job;

-- Terminal job events in log order with the attempt they end and the shape of the worker it ran on. log_seq (the
-- log row's last sequence, >= event_id) lets a reader bound its walk of the log: event_id > $1 AND log_seq > $1.
-- Each job named by the log is looked up by its key (OFFSET 0 keeps the planner from joining the whole job table).
CREATE VIEW cost_job_end AS
  SELECT x.event_id, g.last_seq AS log_seq, x.id, x.tenant_id, x.placed_pool_id, x.worker_id, x.cpu_m, x.memory_mb,
         x.started_at, x.finished_at, x.burst_grant_id, x.burst_seconds, x.worker_cpu_m, x.worker_memory_mb
    FROM job_event_log g
   CROSS JOIN LATERAL unnest(g.job_ids) AS u(job_id)
   CROSS JOIN LATERAL (
         SELECT e.end_seq AS event_id, j.id, j.tenant_id, j.placed_pool_id, j.worker_id, j.cpu_m, j.memory_mb,
                j.started_at, j.finished_at, j.burst_grant_id, j.burst_seconds, w.cpu_m AS worker_cpu_m,
                w.memory_mb AS worker_memory_mb
           FROM job e
           JOIN cost_job j ON j.id = e.id
           LEFT JOIN cost_worker w ON w.id = j.worker_id
          WHERE e.id = u.job_id AND e.end_seq BETWEEN g.first_seq AND g.last_seq
         OFFSET 0) AS x;

ANALYZE job;
ANALYZE worker;
ANALYZE job_event_log;
