package io.hodei.scheduler;

import io.hodei.common.DomainException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.hodei.store.Timestamps.utc;
import static io.hodei.store.Timestamps.iso;

/** Jobs, their event log and their output in PostgreSQL. */
final class JobStore {
  private static final String COLUMNS = "id, tenant_id, name, state, priority, cpu_m, memory_mb, pool_id, pool_labels, "
      + "command, env, payload, labels, timeout_s, max_attempts, attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, admitted_at, started_at, finished_at, next_attempt_at, placed_pool_id, "
      + "worker_id, pid, process_started_at, exit_code, error_type, run_ms, cancel_requested, burst_grant_id, trace_id, version";
  private static final String INSERT = "INSERT INTO job (id, tenant_id, name, state, priority, cpu_m, memory_mb, "
      + "pool_id, pool_labels, command, env, payload, labels, timeout_s, max_attempts, max_queue_seconds, "
      + "sla_deadline, idempotency_key, submitted_at, trace_id) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, "
      + "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id";
  private static final String INSERT_EVENT = "INSERT INTO job_event (job_id, tenant_id, state, detail, at) "
      + "VALUES ($1, $2, $3, $4, $5)";
  private static final String BY_IDEMPOTENCY = "SELECT " + COLUMNS + " FROM job WHERE tenant_id = $1 "
      + "AND idempotency_key = $2";
  private static final String GET = "SELECT " + COLUMNS + " FROM job WHERE id = $1";
  private static final String LOAD_OPEN = "SELECT " + COLUMNS + " FROM job WHERE state IN ('queued', 'admitted', "
      + "'running') ORDER BY submitted_at, id";
  private static final String LIST = "SELECT " + COLUMNS + " FROM job WHERE ($1::text IS NULL OR tenant_id = $1) "
      + "AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR placed_pool_id = $3 OR pool_id = $3) "
      + "AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
  private static final String EVENTS = "SELECT id, state, detail, at FROM job_event WHERE job_id = $1 ORDER BY id";
  private static final String EVENTS_SINCE = "SELECT id, job_id, tenant_id, state, detail, at FROM job_event "
      + "WHERE id > $1 AND ($2::text IS NULL OR tenant_id = $2) AND ($3::text IS NULL OR job_id = $3) "
      + "ORDER BY id LIMIT $4";
  /**
   * Taken first by every transaction that writes job_event rows, held until it ends: event ids (the watch sequence)
   * are then drawn in commit order, so no reader can see sequence n+1 before n has committed or rolled back.
   */
  private static final String EVENT_ORDER_LOCK = "SELECT pg_advisory_xact_lock(7061010)";
  private static final String LOGS = "SELECT attempt, log, at FROM job_log WHERE job_id = $1 ORDER BY attempt";
  private static final String MARK_RUNNING = "UPDATE job SET state = 'running', attempts = $2, admitted_at = $3, "
      + "started_at = $4, placed_pool_id = $5, worker_id = $6, pid = $7, process_started_at = $8, "
      + "burst_grant_id = $9, next_attempt_at = NULL, version = version + 1 WHERE id = $1";
  private static final String MARK_FINISHED = "UPDATE job SET state = $2, finished_at = $3, exit_code = $4, "
      + "error_type = $5, run_ms = $6, version = version + 1 WHERE id = $1";
  private static final String MARK_REQUEUED = "UPDATE job SET state = 'queued', next_attempt_at = $2, "
      + "error_type = $3, worker_id = NULL, pid = NULL, process_started_at = NULL, version = version + 1 WHERE id = $1";
  private static final String MARK_CANCEL_REQUESTED = "UPDATE job SET cancel_requested = true, version = version + 1 "
      + "WHERE id = $1";
  private static final String INSERT_LOG = "INSERT INTO job_log (job_id, attempt, log) VALUES ($1, $2, $3) "
      + "ON CONFLICT (job_id, attempt) DO UPDATE SET log = EXCLUDED.log";

  private final Pool pool;

  JobStore(Pool pool) { this.pool = pool; }

  /**
   * Inserts jobs in one transaction, each with its {@code queued} event. A job whose idempotency key its tenant used
   * before is not inserted: the result holds the stored job instead, marked {@code idempotent_replay}. Results are in
   * input order; a successfully inserted job's result is an empty object (the caller holds the job).
   *
   * <p>The rows go as pipelined batches (job rows, then the events of the rows actually inserted, then the look-ups
   * of replays) so a batch of n jobs costs three round trips rather than 2n.
   */
  Future<List<JsonObject>> insert(List<Job> jobs) {
    if (jobs.isEmpty()) return Future.succeededFuture(new ArrayList<>());
    List<Tuple> rows = new ArrayList<>(jobs.size());
    for (Job j : jobs) {
      rows.add(Tuple.from(new Object[] {j.id, j.tenantId, j.name, j.priority, j.cpuM, j.memoryMb, j.poolId,
          j.poolLabels, j.command, j.env, j.payload, j.labels, j.timeoutSeconds, j.maxAttempts, j.maxQueueSeconds,
          utc(j.slaDeadline), j.idempotencyKey, utc(j.submittedAt), j.traceId}));
    }
    return pool.withTransaction(conn -> eventOrder(conn).compose(v -> conn.preparedQuery(INSERT).executeBatch(rows))
        .compose(first -> {
      boolean[] inserted = new boolean[jobs.size()];
      RowSet<Row> result = first;
      for (int i = 0; i < jobs.size(); i++) {
        inserted[i] = result.size() == 1;
        result = result.next();
      }
      List<Tuple> events = new ArrayList<>();
      List<Tuple> replays = new ArrayList<>();
      for (int i = 0; i < jobs.size(); i++) {
        Job j = jobs.get(i);
        if (inserted[i]) {
          events.add(Tuple.of(j.id, j.tenantId, JobStates.QUEUED, new JsonObject().put("reason", "submitted"),
              utc(j.submittedAt)));
        } else {
          replays.add(Tuple.of(j.tenantId, j.idempotencyKey));
        }
      }
      Future<?> eventsWritten = events.isEmpty() ? Future.succeededFuture()
          : conn.preparedQuery(INSERT_EVENT).executeBatch(events);
      return eventsWritten.compose(v -> replays.isEmpty() ? Future.succeededFuture((RowSet<Row>) null)
          : conn.preparedQuery(BY_IDEMPOTENCY).executeBatch(replays)).map(stored -> {
            List<JsonObject> results = new ArrayList<>(jobs.size());
            RowSet<Row> replay = stored;
            for (int i = 0; i < jobs.size(); i++) {
              if (inserted[i]) {
                results.add(new JsonObject());
              } else {
                results.add(toJson(replay.iterator().next()).put("idempotent_replay", true));
                replay = replay.next();
              }
            }
            return results;
          });
    }));
  }

  Future<JsonObject> get(String id) {
    return pool.preparedQuery(GET).execute(Tuple.of(id)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(DomainException.notFound("job", id))
        : Future.succeededFuture(toJson(rows.iterator().next())));
  }

  Future<List<JsonObject>> loadOpen() {
    return pool.query(LOAD_OPEN).execute().map(rows -> {
      List<JsonObject> result = new ArrayList<>();
      rows.forEach(r -> result.add(toJson(r)));
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

  /** Events after sequence {@code after}, optionally of one tenant and/or one job, in sequence order. */
  Future<JsonArray> eventsSince(long after, String tenantId, String jobId, int limit) {
    return pool.preparedQuery(EVENTS_SINCE).execute(Tuple.of(after, tenantId, jobId, limit)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("sequence", r.getLong("id"))
          .put("job_id", r.getString("job_id")).put("tenant_id", r.getString("tenant_id"))
          .put("state", r.getString("state")).put("detail", r.getValue("detail"))
          .put("at", iso(r.getOffsetDateTime("at")))));
      return result;
    });
  }

  private static Future<Void> eventOrder(SqlConnection conn) {
    return conn.query(EVENT_ORDER_LOCK).execute().mapEmpty();
  }

  Future<JsonArray> logs(String jobId) {
    return pool.preparedQuery(LOGS).execute(Tuple.of(jobId)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("attempt", r.getInteger("attempt"))
          .put("log", r.getString("log")).put("at", iso(r.getOffsetDateTime("at")))));
      return result;
    });
  }

  /** admitted + running in one transaction (placement is one decision). */
  Future<Void> markRunning(Job j, JsonObject placement) {
    return pool.withTransaction(conn -> eventOrder(conn)
        .compose(v -> conn.preparedQuery(MARK_RUNNING).execute(Tuple.from(new Object[] {j.id, j.attempts,
            utc(j.admittedAt), utc(j.startedAt), j.placedPoolId, j.workerId, j.pid, utc(j.processStartedAt), j.burstGrantId})))
        .compose(r -> event(conn, j, JobStates.ADMITTED, new JsonObject().put("attempt", j.attempts), j.admittedAt))
        .compose(r -> event(conn, j, JobStates.RUNNING, placement, j.startedAt))).mapEmpty();
  }

  Future<Void> markFinished(Job j, String state, Instant at, Integer exitCode, String errorType, Long runMs,
                            String log, JsonObject detail) {
    return pool.withTransaction(conn -> eventOrder(conn)
        .compose(v -> conn.preparedQuery(MARK_FINISHED).execute(Tuple.of(j.id, state, utc(at), exitCode, errorType,
            runMs)))
        .compose(r -> event(conn, j, state, detail, at))
        .compose(r -> log == null ? Future.succeededFuture()
            : conn.preparedQuery(INSERT_LOG).execute(Tuple.of(j.id, Math.max(1, j.attempts), log)).mapEmpty()))
        .mapEmpty();
  }

  Future<Void> markRequeued(Job j, String errorType, String log, JsonObject detail) {
    return pool.withTransaction(conn -> eventOrder(conn)
        .compose(v -> conn.preparedQuery(MARK_REQUEUED).execute(Tuple.of(j.id, utc(j.nextAttemptAt), errorType)))
        .compose(r -> event(conn, j, JobStates.QUEUED, detail, Instant.now()))
        .compose(r -> log == null ? Future.succeededFuture()
            : conn.preparedQuery(INSERT_LOG).execute(Tuple.of(j.id, Math.max(1, j.attempts), log)).mapEmpty()))
        .mapEmpty();
  }

  Future<Void> markCancelRequested(Job j) {
    return pool.preparedQuery(MARK_CANCEL_REQUESTED).execute(Tuple.of(j.id)).mapEmpty();
  }

  private static Future<Void> event(SqlConnection conn, Job j, String state, JsonObject detail, Instant at) {
    return conn.preparedQuery(INSERT_EVENT).execute(Tuple.of(j.id, j.tenantId, state,
        detail == null ? new JsonObject() : detail, utc(at))).mapEmpty();
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
        .put("trace_id", r.getString("trace_id"))
        .put("version", r.getLong("version"));
    return json;
  }


}
