-- How far the cost ledger has read the job event log: the id of the last terminal job_event it costed. One job
-- writer commits at a time, so job_event ids become visible in id order: every event after the cursor is still to
-- be costed, and nothing before it can appear later. Replaces scanning a look-back window of finished jobs.
CREATE TABLE IF NOT EXISTS cost_job_cursor (
  id            smallint NOT NULL DEFAULT 1,
  last_event_id bigint   NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cost_job_cursor_pkey PRIMARY KEY (id),
  CONSTRAINT cost_job_cursor_single CHECK (id = 1)
);
