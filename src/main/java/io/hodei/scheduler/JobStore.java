package io.hodei.scheduler;

import io.hodei.common.DomainException;
import io.hodei.store.ConnectionSource;
import io.hodei.store.GroupCommit;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static io.hodei.store.Timestamps.utc;
import static io.hodei.store.Timestamps.iso;

/** Jobs, their event log and their output in PostgreSQL, and how a stored row maps to a {@link Job}. */
final class JobStore {
  static final String COLUMNS = "id, tenant_id, name, state, priority, cpu_m, memory_mb, pool_id, pool_labels, "
      + "command, env, payload, labels, timeout_s, max_attempts, attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, admitted_at, started_at, finished_at, next_attempt_at, placed_pool_id, "
      + "worker_id, pid, process_started_at, exit_code, error_type, run_ms, cancel_requested, burst_grant_id, trace_id, version";
  // The three writes of every job are multi-row statements (GroupCommit row statements): the group commit runs the
  // rows of one layer as one execution over column arrays, whatever the number of jobs.

  private static final String GET = "SELECT " + COLUMNS + " FROM job WHERE id = $1";
  private static final String REPRIORITIZE = "UPDATE job SET priority = $2, version = version + 1 WHERE id = $1 "
      + "AND state = 'queued' RETURNING version";
  /** Open = not finished (every end sets finished_at); read along job_unfinished_idx (V16). */
  private static final String LOAD_OPEN = "SELECT " + COLUMNS + " FROM job WHERE finished_at IS NULL "
      + "AND state IN ('queued', 'admitted', 'running') ORDER BY submitted_at, id";
  private static final String LIST = "SELECT " + COLUMNS + " FROM job WHERE ($1::text IS NULL OR tenant_id = $1) "
      + "AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR placed_pool_id = $3 OR pool_id = $3) "
      + "AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
  /** A job's events (the job_event view builds them from the job row: V22). */
  private static final String EVENTS = "SELECT id, state, detail, at FROM job_event WHERE job_id = $1 ORDER BY id";
  /** The log rows after a sequence, in order: which jobs changed, and up to which sequence ({@code $2} rows). */
  private static final String LOG_AFTER = "SELECT last_seq, first_seq, job_ids FROM job_event_log "
      + "WHERE last_seq > $1 ORDER BY last_seq LIMIT $2";
  /** The events of the jobs {@code $2} with a sequence in ({@code $1}, {@code $3}], optionally of one tenant. */
  private static final String EVENTS_OF = "SELECT id, job_id, tenant_id, state, detail, at FROM job_event "
      + "WHERE job_id = ANY($2::text[]) AND id > $1 AND id <= $3 AND ($4::text IS NULL OR tenant_id = $4) "
      + "ORDER BY id LIMIT $5";
  /** One job's events after a sequence (its row holds them all: no walk of the log). */
  private static final String JOB_EVENTS_AFTER = "SELECT id, job_id, tenant_id, state, detail, at FROM job_event "
      + "WHERE job_id = $1 AND id > $2 AND ($3::text IS NULL OR tenant_id = $3) ORDER BY id LIMIT $4";
  /**
   * Each attempt's output. An attempt that ended with no output has no job_log row (none is written for an empty
   * output at the end): the job's last attempt, once ended, is listed with an empty log all the same.
   */
  private static final String LOGS = "SELECT attempt, log, at FROM job_log WHERE job_id = $1 UNION ALL "
      + "SELECT j.attempts, '', j.finished_at FROM job j WHERE j.id = $1 AND j.finished_at IS NOT NULL "
      + "AND j.attempts >= 1 AND NOT EXISTS (SELECT 1 FROM job_log l WHERE l.job_id = j.id AND l.attempt = j.attempts) "
      + "ORDER BY attempt";
  // Every transition says which rows it may change, so a state never goes backwards in the database and a write tried
  // again after a COMMIT whose answer was lost (it had committed) changes nothing and logs no second event: a start
  // only a job that has not ended and is not at that attempt yet, an end only a job that has not ended, a retry only
  // a running job. (Not by state lists on the multi-row statements: a generic plan would then scan the partial index
  // of open jobs, all of them, for every statement.)

  // A job has ended once its end event's sequence is set (end_seq, written with finished_at): the writes test that,
  // not finished_at IS NULL, which the BRIN index on finished_at answers: a generic plan would scan every block
  // range holding an open job for each statement instead of looking the jobs up by key.
  // Events live in the job row (V22): a transition sets its event's sequence number (drawn from job_event_id_seq)
  // beside the columns that say when and where, and every statement adds one job_event_log row naming the jobs it
  // changed and the sequences it drew. The columns a start or an end sets come after the fixed ones and no index
  // covers them, so both updates are heap-only and log only what changed.

  /** The admitted and running events of a job's current run, appended to its history (old column values). */
  static final String RUN_TO_HISTORY = "coalesce(job.history, '[]'::jsonb) || jsonb_build_array("
      + "jsonb_build_array(job.admitted_seq, 'admitted', job.admitted_at, jsonb_build_object('attempt', job.attempts)), "
      + "jsonb_build_array(job.running_seq, 'running', job.started_at, job_running_detail(job.placement, "
      + "job.placement_keys, job.placed_pool_id, job.worker_id, job.attempts, job.pid)))";
  /**
   * Placement is one decision: the rows with their admitted and running events. A job that ran before and was not
   * queued again in between (a run re-placed after a restart) keeps that run's events in its history.
   */
  static final String MARK_RUNNING = "WITH d AS (SELECT *, nextval('job_event_id_seq') AS s1, "
      + "nextval('job_event_id_seq') AS s2 FROM unnest($1::text[], $2::int[], $3::timestamptz[], "
      + "$4::timestamptz[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[], $9::text[], $10::text[], "
      + "$11::smallint[]) AS d(id, attempts, admitted_at, started_at, pool_id, worker_id, pid, process_started_at, "
      + "burst_grant_id, placement, placement_keys)), u AS (UPDATE job SET attempts = d.attempts, admitted_at = d.admitted_at, started_at = "
      + "d.started_at, admitted_seq = least(d.s1, d.s2), running_seq = greatest(d.s1, d.s2), pid = d.pid, "
      + "process_started_at = d.process_started_at, next_attempt_at = NULL, placed_pool_id = d.pool_id, "
      + "worker_id = d.worker_id, burst_grant_id = d.burst_grant_id, placement = d.placement::jsonb, "
      + "placement_keys = d.placement_keys, history = CASE WHEN job.running_seq IS NULL THEN job.history ELSE " + RUN_TO_HISTORY + " END, "
      + "last_seq = greatest(d.s1, d.s2), version = job.version + 1, state = 'running' FROM d "
      + "WHERE job.id = d.id AND job.end_seq IS NULL AND job.attempts < d.attempts "
      + "RETURNING job.id, job.admitted_seq, job.running_seq) "
      + "INSERT INTO job_event_log (last_seq, first_seq, job_ids) SELECT max(running_seq), min(admitted_seq), "
      + "array_agg(id) FROM u HAVING count(*) > 0";
  private static final Class<?>[] RUNNING_COLUMNS = {String.class, Integer.class, OffsetDateTime.class,
      OffsetDateTime.class, String.class, String.class, Long.class, OffsetDateTime.class, String.class,
      String.class, Short.class};
  static final String MARK_FINISHED = "WITH d AS (SELECT *, nextval('job_event_id_seq') AS seq FROM "
      + "unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::bigint[], $7::text[], "
      + "$8::float8[], $9::smallint[]) AS d(id, state, at, exit_code, error_type, run_ms, detail, burst_seconds, "
      + "end_keys)), "
      + "u AS (UPDATE job SET finished_at = d.at, end_seq = d.seq, run_ms = d.run_ms, burst_seconds = "
      + "d.burst_seconds, exit_code = d.exit_code, error_type = d.error_type, end_detail = d.detail::jsonb, "
      + "end_keys = d.end_keys, last_seq = d.seq, version = job.version + 1, state = d.state FROM d "
      + "WHERE job.id = d.id AND job.end_seq IS NULL RETURNING job.id, job.end_seq) "
      + "INSERT INTO job_event_log (last_seq, first_seq, job_ids, ends) SELECT max(end_seq), min(end_seq), "
      + "array_agg(id), true FROM u HAVING count(*) > 0";
  private static final Class<?>[] FINISHED_COLUMNS = {String.class, String.class, OffsetDateTime.class,
      Integer.class, String.class, Long.class, String.class, Double.class, Short.class};
  /** Queued again: the run's events and the new queued event go to the history; the run's columns are cleared. */
  static final String MARK_REQUEUED = "WITH s AS (SELECT nextval('job_event_id_seq') AS seq), "
      + "u AS (UPDATE job SET history = (CASE WHEN job.running_seq IS NULL THEN coalesce(job.history, '[]'::jsonb) "
      + "ELSE " + RUN_TO_HISTORY + " END) || jsonb_build_array(jsonb_build_array(s.seq, 'queued', "
      + "$5::timestamptz, $4::jsonb)), admitted_seq = NULL, running_seq = NULL, placement = NULL, pid = NULL, "
      + "process_started_at = NULL, next_attempt_at = $2, worker_id = NULL, error_type = $3, last_seq = s.seq, "
      + "version = job.version + 1, state = 'queued' FROM s WHERE job.id = $1 AND job.state = 'running' "
      + "RETURNING job.id, s.seq) "
      + "INSERT INTO job_event_log (last_seq, first_seq, job_ids) SELECT seq, seq, ARRAY[id] FROM u";
  private static final String MARK_CANCEL_REQUESTED = "UPDATE job SET cancel_requested = true, version = version + 1 "
      + "WHERE id = $1";
  /** An attempt's output; a multi-row statement like the job writes (nearly every finished job has some). */
  private static final String INSERT_LOG = "INSERT INTO job_log (job_id, attempt, log) SELECT * FROM "
      + "unnest($1::text[], $2::int[], $3::text[]) ON CONFLICT (job_id, attempt) DO UPDATE SET log = EXCLUDED.log";
  private static final Class<?>[] LOG_COLUMNS = {String.class, Integer.class, String.class};

  /**
   * Deletes up to {@code $2} jobs that ended before {@code $1}, with their output; answers how many and the
   * last event sequence among them.
   */
  private static final String TRIM_JOBS = "WITH gone AS (DELETE FROM job WHERE id IN (SELECT id FROM job "
      + "WHERE finished_at < $1 LIMIT $2) RETURNING id, last_seq), "
      + "logs AS (DELETE FROM job_log WHERE job_id IN (SELECT id FROM gone)) "
      + "SELECT count(*) AS jobs, coalesce(max(last_seq), 0) AS upto FROM gone";
  /** Event log rows up to {@code $1} none of whose jobs is left. */
  private static final String TRIM_LOG = "DELETE FROM job_event_log g WHERE g.last_seq <= $1 "
      + "AND NOT EXISTS (SELECT 1 FROM job j WHERE j.id = ANY(g.job_ids))";
  /** Jobs deleted per trim statement. */
  static final int TRIM_BATCH = 5_000;

  /** Most statements in one group transaction (a 1,000-job batch is one write and may exceed it alone). */
  private static final int GROUP_STATEMENTS = 2000;

  /** Submissions between two refreshes of the job table's statistics. */
  static final int ANALYZE_EVERY = 20_000;
  /**
   * The job columns whose statistics plan the reads: what they select by (key, tenant, state, pool, worker, end,
   * idempotency key) and sort by (submission). Statistics of the command, environment, payload and event details
   * (wide text and JSON) plan nothing, and computing them took two thirds of an {@code ANALYZE job} (a 120,000-job
   * table: 421 ms for all columns, 136..170 ms for these).
   */
  static final List<String> PLANNED_COLUMNS = List.of("id", "tenant_id", "state", "pool_id", "placed_pool_id",
      "worker_id", "submitted_at", "finished_at", "end_seq", "idempotency_key");
  private static final String ANALYZE = "ANALYZE job (" + String.join(", ", PLANNED_COLUMNS) + ")";
  /**
   * The statistics target of the refresh (PostgreSQL's default is 100): it samples 300 rows per unit, 3,000 rows
   * instead of 30,000, enough for what the reads are planned by (which states are rare, how many rows a tenant or a
   * time range holds), and a tenth of the work (a 120,000-job table: 18 ms instead of 177 ms). Autovacuum's own
   * analyses still use the default.
   */
  static final int STATISTICS_TARGET = 10;
  private static final String SAMPLE = "SET LOCAL default_statistics_target = " + STATISTICS_TARGET;
  private final Pool pool;
  private final GroupCommit writer;
  private int insertedSinceAnalyze = ANALYZE_EVERY / 2;
  private boolean analyzing;
  private final JobInserts inserts;

  /**
   * Every job write goes through one group-commit writer: transactions commit one at a time in queue order, so
   * job_event ids (the WatchJobs sequence) become visible in id order without a lock. Create on the scheduler's
   * event loop.
   */
  JobStore(Vertx vertx, Pool pool, ConnectionSource writerConnections) {
    this.pool = pool;
    this.writer = new GroupCommit("jobs", vertx, writerConnections, GROUP_STATEMENTS);
    this.inserts = new JobInserts(pool, writer);
  }

  /** Inserts submitted jobs (see {@link JobInserts#insert}). */
  Future<List<JsonObject>> insert(List<Job> jobs) {
    return inserts.insert(jobs).onSuccess(rows -> analyzeAfter(rows.size()));
  }

  /**
   * Refreshes the job table's statistics every {@value #ANALYZE_EVERY} submissions. Autovacuum analyzes at its own
   * pace (a minute apart by default); until then a burst of submissions leaves the planner estimating, say, no
   * running job at all, and listing the newest running jobs becomes a read of the whole table and a sort. Only the
   * {@link #PLANNED_COLUMNS columns the reads select, join or sort by} are analyzed (autovacuum keeps all of them).
   */
  private void analyzeAfter(int inserted) {
    insertedSinceAnalyze += inserted;
    if (insertedSinceAnalyze < ANALYZE_EVERY || analyzing) return;
    insertedSinceAnalyze = 0;
    analyzing = true;
    refreshStatistics(pool).onComplete(ar -> analyzing = false);
  }

  /** Analyzes the {@link #PLANNED_COLUMNS} at the {@link #STATISTICS_TARGET}. */
  static Future<Void> refreshStatistics(Pool pool) {
    return pool.withTransaction(c -> c.query(SAMPLE).execute().compose(r -> c.query(ANALYZE).execute())).mapEmpty();
  }


  Future<JsonObject> get(String id) {
    return pool.preparedQuery(GET).execute(Tuple.of(id)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(DomainException.notFound("job", id))
        : Future.succeededFuture(toJson(rows.iterator().next())));
  }

  /** The open jobs (queued, admitted, running), in submission order. */
  Future<List<Job>> loadOpen() {
    return pool.query(LOAD_OPEN).execute().map(rows -> {
      List<Job> result = new ArrayList<>();
      rows.forEach(r -> result.add(toJob(toJson(r))));
      return result;
    });
  }

  Future<List<JsonObject>> list(String tenantId, String state, String poolId, String beforeId, int limit) {
    return pool.preparedQuery(LIST).execute(Tuple.of(tenantId, state, poolId, beforeId, limit)).map(rows -> {
      List<JsonObject> result = new ArrayList<>();
      rows.forEach(r -> result.add(toJson(r)));
      return result;
    });
  }

  Future<JsonArray> events(String jobId) {
    return pool.preparedQuery(EVENTS).execute(Tuple.of(jobId)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("seq", r.getLong("id")).put("state", r.getString("state"))
          .put("detail", r.getValue("detail")).put("at", iso(r.getOffsetDateTime("at")))));
      return result;
    });
  }

  /**
   * Events after sequence {@code after}, optionally of one tenant and/or one job, in sequence order: {@code items}
   * (at most {@code limit}), {@code last_sequence} (where the next read starts: the last item's, or as far as the
   * log was read when fewer matched) and {@code more} (whether the log may hold more after it now).
   */
  Future<JsonObject> eventsSince(long after, String tenantId, String jobId, int limit) {
    if (jobId != null) {
      return pool.preparedQuery(JOB_EVENTS_AFTER).execute(Tuple.of(jobId, after, tenantId, limit))
          .map(rows -> page(rows, after, limit, false));
    }
    return pool.preparedQuery(LOG_AFTER).execute(Tuple.of(after, limit)).compose(log -> {
      if (log.size() == 0) return Future.succeededFuture(page(null, after, limit, false));
      // each job a log row names has an event in its range: rows naming `limit` jobs hold at least `limit` events,
      // so the read stops there (a log of large batches would otherwise name thousands of jobs per page)
      Set<String> jobs = new LinkedHashSet<>();
      long upTo = after;
      int read = 0;
      for (Row r : log) {
        read++;
        upTo = Math.max(upTo, r.getLong("last_seq"));
        for (Object id : r.getArrayOfStrings("job_ids")) jobs.add((String) id);
        if (jobs.size() >= limit) break;
      }
      long scanned = upTo;
      boolean fullLog = read < log.size() || log.size() == limit;
      return pool.preparedQuery(EVENTS_OF).execute(Tuple.of(after, jobs.toArray(new String[0]), scanned, tenantId,
          limit)).map(rows -> page(rows, scanned, limit, fullLog));
    });
  }

  /** A page of events; when fewer than {@code limit} matched, the next read starts after {@code scanned}. */
  private static JsonObject page(RowSet<Row> rows, long scanned, int limit, boolean moreLog) {
    JsonArray items = new JsonArray();
    if (rows != null) {
      rows.forEach(r -> items.add(new JsonObject().put("sequence", r.getLong("id"))
          .put("job_id", r.getString("job_id")).put("tenant_id", r.getString("tenant_id"))
          .put("state", r.getString("state")).put("detail", r.getValue("detail"))
          .put("at", iso(r.getOffsetDateTime("at")))));
    }
    boolean full = items.size() == limit;
    long last = full ? items.getJsonObject(items.size() - 1).getLong("sequence")
        : items.isEmpty() ? scanned : Math.max(scanned, items.getJsonObject(items.size() - 1).getLong("sequence"));
    return new JsonObject().put("items", items).put("last_sequence", last).put("more", full || moreLog);
  }

  Future<JsonArray> logs(String jobId) {
    return pool.preparedQuery(LOGS).execute(Tuple.of(jobId)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("attempt", r.getInteger("attempt"))
          .put("log", r.getString("log")).put("at", iso(r.getOffsetDateTime("at")))));
      return result;
    });
  }

  /**
   * Deletes the jobs that ended before {@code cutoff} (rows, output, and the event log rows left without a job), in
   * batches; completes with how many jobs. Finished jobs never change again, so this runs beside the job writer.
   */
  Future<Long> trim(Instant cutoff) {
    return pool.preparedQuery(TRIM_JOBS).execute(Tuple.of(utc(cutoff), TRIM_BATCH)).compose(rows -> {
      Row r = rows.iterator().next();
      long jobs = r.getLong("jobs");
      if (jobs == 0) return Future.succeededFuture(0L);
      Future<Long> rest = jobs < TRIM_BATCH ? Future.succeededFuture(0L) : trim(cutoff);
      return pool.preparedQuery(TRIM_LOG).execute(Tuple.of(r.getLong("upto"))).compose(v -> rest)
          .map(more -> jobs + more);
    });
  }

  /** Sets a queued job's priority: true once committed, false when the job is no longer queued. */
  Future<Boolean> reprioritize(String id, int priority) {
    return pool.preparedQuery(REPRIORITIZE).execute(Tuple.of(id, priority)).map(rows -> rows.rowCount() == 1);
  }

  /** admitted + running as one write (placement is one decision). */
  Future<Void> markRunning(Job j, JsonObject placement) {
    Compact rest = Compact.of(placement, "pool_id", j.placedPoolId, "worker_id", j.workerId, "attempt", j.attempts,
        "pid", j.pid, "process_started_at", null);
    return writer.write(GroupCommit.Statement.row(j.id, MARK_RUNNING, RUNNING_COLUMNS, new Object[] {j.id,
        j.attempts, utc(j.admittedAt), utc(j.startedAt), j.placedPoolId, j.workerId, j.pid,
        utc(j.processStartedAt), j.burstGrantId, rest.json, rest.keys}, null));
  }

  Future<Void> markFinished(Job j, String state, Instant at, Integer exitCode, String errorType, Long runMs,
                            String log, JsonObject detail) {
    Compact rest = Compact.of(detail == null ? new JsonObject() : detail, "outcome", state, "exit_code", exitCode,
        "error_type", null, "worker_id", j.workerId, "pool_id", j.placedPoolId);
    GroupCommit.Statement row = GroupCommit.Statement.row(j.id, MARK_FINISHED, FINISHED_COLUMNS, new Object[] {j.id,
        state, utc(at), exitCode, errorType, runMs, rest.json, j.burstSeconds, rest.keys}, null);
    // no row for an empty output: the last attempt is listed with an empty log without one (LOGS)
    return log == null || log.isEmpty() ? writer.write(row) : writer.write(row, logRow(j, log));
  }

  /**
   * An event detail without the entries the job row's columns already hold: {@code keys} has bit n set when the
   * detail held the n-th (name, value) pair given, with that value (null: a JSON null), and {@code json} is the
   * rest (null when nothing is left). job_running_detail / job_end_detail (V22) put the entries back.
   */
  record Compact(String json, short keys) {
    static Compact of(JsonObject detail, Object... pairs) {
      JsonObject rest = null;
      short keys = 0;
      for (int i = 0, bit = 1; i < pairs.length; i += 2, bit <<= 1) {
        String name = (String) pairs[i];
        Object value = pairs[i + 1];
        if (!detail.containsKey(name) || !sameValue(detail.getValue(name), value)) continue;
        if (rest == null) rest = detail.copy();
        rest.remove(name);
        keys |= (short) bit;
      }
      JsonObject left = rest == null ? detail : rest;
      return new Compact(left.isEmpty() ? null : left.encode(), keys);
    }

    private static boolean sameValue(Object stored, Object column) {
      if (stored == null || column == null) return stored == null && column == null;
      if (stored instanceof Number a && column instanceof Number b) {
        return !(a instanceof Double || a instanceof Float) && a.longValue() == b.longValue();
      }
      return stored.equals(column);
    }
  }

  Future<Void> markRequeued(Job j, String errorType, String log, JsonObject detail) {
    GroupCommit.Statement row = GroupCommit.Statement.of(j.id, MARK_REQUEUED, Tuple.of(j.id, utc(j.nextAttemptAt),
        errorType, detail == null ? new JsonObject() : detail, utc(Instant.now())));
    return log == null ? writer.write(row) : writer.write(row, logRow(j, log));
  }

  Future<Void> markCancelRequested(Job j) {
    return writer.write(GroupCommit.Statement.of(j.id, MARK_CANCEL_REQUESTED, Tuple.of(j.id)));
  }

  /** Completes when every queued write has landed (shutdown). */
  Future<Void> drain() { return writer.drain(); }

  /** Stops retrying writes that wait for the database (after a bounded drain at shutdown). */
  void close() { writer.close(); }

  /** Whether job writes commit now (false while the writer waits for the database). */
  boolean writable() { return writer.healthy(); }

  /** Runs {@code listener} each time job writes commit again after the database was unavailable. */
  void onRecovered(Runnable listener) { writer.onRecovered(listener); }

  /** A JSON column value as text for a multi-row statement's text array. */
  static String json(Object value) {
    if (value == null) return null;
    if (value instanceof JsonObject o) return o.isEmpty() ? "{}" : o.encode();
    return ((JsonArray) value).encode();
  }


  private static GroupCommit.Statement logRow(Job j, String log) {
    // a job's statements run in successive layers, so no execution holds two rows of one (job, attempt)
    return GroupCommit.Statement.row(j.id, INSERT_LOG, LOG_COLUMNS, new Object[] {j.id, Math.max(1, j.attempts), log},
        null);
  }

  static JsonObject toJson(Row r) {
    JsonObject json = new JsonObject()
        .put("id", r.getString("id"))
        .put("tenant_id", r.getString("tenant_id"))
        .put("name", r.getString("name"))
        .put("state", r.getString("state"))
        .put("priority", r.getInteger("priority"))
        .put("cpu_m", r.getLong("cpu_m"))
        .put("memory_mb", r.getLong("memory_mb"))
        .put("pool_id", r.getString("pool_id"))
        .put("pool_labels", r.getValue("pool_labels"))
        .put("command", r.getValue("command"))
        .put("env", r.getValue("env"))
        .put("payload", r.getValue("payload"))
        .put("labels", r.getValue("labels"))
        .put("timeout_s", r.getInteger("timeout_s"))
        .put("max_attempts", r.getInteger("max_attempts"))
        .put("attempts", r.getInteger("attempts"))
        .put("max_queue_seconds", r.getInteger("max_queue_seconds"))
        .put("sla_deadline", iso(r.getOffsetDateTime("sla_deadline")))
        .put("idempotency_key", r.getString("idempotency_key"))
        .put("submitted_at", iso(r.getOffsetDateTime("submitted_at")))
        .put("admitted_at", iso(r.getOffsetDateTime("admitted_at")))
        .put("started_at", iso(r.getOffsetDateTime("started_at")))
        .put("finished_at", iso(r.getOffsetDateTime("finished_at")))
        .put("next_attempt_at", iso(r.getOffsetDateTime("next_attempt_at")))
        .put("placed_pool_id", r.getString("placed_pool_id"))
        .put("worker_id", r.getString("worker_id"))
        .put("pid", r.getLong("pid"))
        .put("process_started_at", iso(r.getOffsetDateTime("process_started_at")))
        .put("exit_code", r.getInteger("exit_code"))
        .put("error_type", r.getString("error_type"))
        .put("run_ms", r.getLong("run_ms"))
        .put("cancel_requested", r.getBoolean("cancel_requested"))
        .put("burst_grant_id", r.getString("burst_grant_id"))
        .put("burst", r.getString("burst_grant_id") != null)
        .put("trace_id", r.getString("trace_id"))
        .put("version", r.getLong("version"));
    return json;
  }

  /** The job a stored row (as {@link #toJson}) describes, as the scheduler holds it. */
  static Job toJob(JsonObject r) {
    Job job = new Job();
    job.id = r.getString("id");
    job.tenantId = r.getString("tenant_id");
    job.name = r.getString("name");
    job.state = JobState.fromWire(r.getString("state"));
    job.priority = r.getInteger("priority");
    job.cpuM = r.getLong("cpu_m");
    job.memoryMb = r.getLong("memory_mb");
    job.poolId = r.getString("pool_id");
    job.poolLabels = r.getJsonObject("pool_labels");
    job.command = r.getJsonArray("command");
    job.env = r.getJsonObject("env");
    job.payload = r.getJsonObject("payload");
    job.labels = r.getJsonObject("labels");
    job.timeoutSeconds = r.getInteger("timeout_s");
    job.maxAttempts = r.getInteger("max_attempts");
    job.attempts = r.getInteger("attempts");
    job.maxQueueSeconds = r.getInteger("max_queue_seconds");
    job.slaDeadline = instant(r.getString("sla_deadline"));
    job.idempotencyKey = r.getString("idempotency_key");
    job.submittedAt = instant(r.getString("submitted_at"));
    job.nextAttemptAt = instant(r.getString("next_attempt_at"));
    job.queuedAt = job.nextAttemptAt != null ? job.nextAttemptAt : job.submittedAt;
    job.placedPoolId = r.getString("placed_pool_id");
    job.workerId = r.getString("worker_id");
    job.pid = r.getLong("pid") == null ? -1 : r.getLong("pid");
    job.processStartedAt = instant(r.getString("process_started_at"));
    job.cancelRequested = r.getBoolean("cancel_requested", false);
    job.burstGrantId = r.getString("burst_grant_id");
    job.traceId = r.getString("trace_id");
    job.version = r.getLong("version", 1L);
    return job;
  }

  private static Instant instant(String iso) { return iso == null ? null : Instant.parse(iso); }
}
