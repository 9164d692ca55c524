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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.hodei.store.Timestamps.utc;
import static net.logstash.logback.argument.StructuredArguments.kv;
import static io.hodei.store.Timestamps.iso;

/** Jobs, their event log and their output in PostgreSQL. */
final class JobStore {
  private static final Logger LOG = LoggerFactory.getLogger(JobStore.class);
  private static final String COLUMNS = "id, tenant_id, name, state, priority, cpu_m, memory_mb, pool_id, pool_labels, "
      + "command, env, payload, labels, timeout_s, max_attempts, attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, admitted_at, started_at, finished_at, next_attempt_at, placed_pool_id, "
      + "worker_id, pid, process_started_at, exit_code, error_type, run_ms, cancel_requested, burst_grant_id, trace_id, version";
  // The three writes of every job are multi-row statements (GroupCommit row statements): the group commit runs the
  // rows of one layer as one execution over column arrays, whatever the number of jobs.

  /**
   * Job rows and their {@code queued} events. A row whose idempotency key its tenant used before is skipped, and so
   * is a row whose tenant no longer exists: each distinct tenant is locked once per statement (FOR KEY SHARE) in
   * place of a per-row foreign key, so a tenant deletion waits for the insert and then sees its jobs (V12).
   */
  private static final String INSERT = "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
      + "$4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
      + "$12::text[], $13::int[], $14::int[], $15::int[], $16::timestamptz[], $17::text[], $18::timestamptz[], "
      + "$19::text[], $20::text[]) AS d(id, tenant_id, name, priority, cpu_m, memory_mb, pool_id, pool_labels, "
      + "command, env, payload, labels, timeout_s, max_attempts, max_queue_seconds, sla_deadline, idempotency_key, "
      + "submitted_at, trace_id, idempotency_fingerprint)), "
      + "t AS (SELECT id FROM tenant WHERE id IN (SELECT DISTINCT tenant_id FROM d) FOR KEY SHARE), "
      + "j AS (INSERT INTO job (id, tenant_id, name, state, priority, cpu_m, memory_mb, pool_id, "
      + "pool_labels, command, env, payload, labels, timeout_s, max_attempts, max_queue_seconds, sla_deadline, "
      + "idempotency_key, submitted_at, trace_id, idempotency_fingerprint) SELECT id, tenant_id, name, 'queued', "
      + "priority, cpu_m, memory_mb, pool_id, pool_labels::jsonb, command::jsonb, env::jsonb, payload::jsonb, "
      + "labels::jsonb, timeout_s, max_attempts, max_queue_seconds, sla_deadline, idempotency_key, submitted_at, "
      + "trace_id, idempotency_fingerprint FROM d "
      + "WHERE tenant_id IN (SELECT id FROM t) ON CONFLICT (tenant_id, idempotency_key) "
      + "WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id, tenant_id, submitted_at) "
      + "INSERT INTO job_event (job_id, tenant_id, state, detail, at) "
      + "SELECT id, tenant_id, 'queued', '{\"reason\":\"submitted\"}'::jsonb, submitted_at FROM j RETURNING job_id";
  private static final Class<?>[] INSERT_COLUMNS = {String.class, String.class, String.class, Integer.class,
      Long.class, Long.class, String.class, String.class, String.class, String.class, String.class, String.class,
      Integer.class, Integer.class, Integer.class, OffsetDateTime.class, String.class, OffsetDateTime.class,
      String.class, String.class};
  private static final String BY_IDEMPOTENCY = "SELECT " + COLUMNS + ", idempotency_fingerprint FROM job "
      + "WHERE tenant_id = $1 AND idempotency_key = $2";
  private static final String FINGERPRINT = "SELECT id, idempotency_fingerprint FROM job WHERE tenant_id = $1 "
      + "AND idempotency_key = $2";
  private static final String GET = "SELECT " + COLUMNS + " FROM job WHERE id = $1";
  private static final String REPRIORITIZE = "UPDATE job SET priority = $2, version = version + 1 WHERE id = $1 "
      + "AND state = 'queued' RETURNING version";
  private static final String LOAD_OPEN = "SELECT " + COLUMNS + " FROM job WHERE state IN ('queued', 'admitted', "
      + "'running') ORDER BY submitted_at, id";
  private static final String LIST = "SELECT " + COLUMNS + " FROM job WHERE ($1::text IS NULL OR tenant_id = $1) "
      + "AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR placed_pool_id = $3 OR pool_id = $3) "
      + "AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
  private static final String EVENTS = "SELECT id, state, detail, at FROM job_event WHERE job_id = $1 ORDER BY id";
  private static final String EVENTS_SINCE = "SELECT id, job_id, tenant_id, state, detail, at FROM job_event "
      + "WHERE id > $1 AND ($2::text IS NULL OR tenant_id = $2) AND ($3::text IS NULL OR job_id = $3) "
      + "ORDER BY id LIMIT $4";
  private static final String LOGS = "SELECT attempt, log, at FROM job_log WHERE job_id = $1 ORDER BY attempt";
  // Every transition says which rows it may change, so a state never goes backwards in the database and a write tried
  // again after a COMMIT whose answer was lost (it had committed) changes nothing and logs no second event: a start
  // only a job that has not ended and is not at that attempt yet, an end only a job that has not ended, a retry only
  // a running job. (Not by state lists on the multi-row statements: a generic plan would then scan the partial index
  // of open jobs, all of them, for every statement.)

  /** Placement is one decision: the rows, then their admitted and then their running events. */
  private static final String MARK_RUNNING = "WITH d AS (SELECT * FROM unnest($1::text[], $2::int[], "
      + "$3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[], $9::text[], "
      + "$10::text[], $11::text[]) AS d(id, attempts, admitted_at, started_at, pool_id, worker_id, pid, "
      + "process_started_at, burst_grant_id, admitted_detail, running_detail)), u AS (UPDATE job SET state = "
      + "'running', attempts = d.attempts, admitted_at = d.admitted_at, started_at = d.started_at, placed_pool_id = "
      + "d.pool_id, worker_id = d.worker_id, pid = d.pid, process_started_at = d.process_started_at, burst_grant_id = "
      + "d.burst_grant_id, next_attempt_at = NULL, version = job.version + 1 FROM d WHERE job.id = d.id "
      + "AND job.finished_at IS NULL AND job.attempts < d.attempts "
      + "RETURNING job.id, job.tenant_id, d.admitted_at, d.started_at, d.admitted_detail, d.running_detail) "
      + "INSERT INTO job_event (job_id, tenant_id, state, detail, at) "
      + "SELECT id, tenant_id, 'admitted', admitted_detail::jsonb, admitted_at FROM u "
      + "UNION ALL SELECT id, tenant_id, 'running', running_detail::jsonb, started_at FROM u";
  private static final Class<?>[] RUNNING_COLUMNS = {String.class, Integer.class, OffsetDateTime.class,
      OffsetDateTime.class, String.class, String.class, Long.class, OffsetDateTime.class, String.class, String.class,
      String.class};
  private static final String MARK_FINISHED = "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], "
      + "$3::timestamptz[], $4::int[], $5::text[], $6::bigint[], $7::text[], $8::float8[]) AS d(id, state, at, "
      + "exit_code, error_type, run_ms, detail, burst_seconds)), u AS (UPDATE job SET state = d.state, finished_at = "
      + "d.at, exit_code = d.exit_code, error_type = d.error_type, run_ms = d.run_ms, burst_seconds = "
      + "d.burst_seconds, version = job.version + 1 FROM d "
      + "WHERE job.id = d.id AND job.finished_at IS NULL "
      + "RETURNING job.id, job.tenant_id, d.state, d.detail, d.at) "
      + "INSERT INTO job_event (job_id, tenant_id, state, detail, at) "
      + "SELECT id, tenant_id, state, detail::jsonb, at FROM u";
  private static final Class<?>[] FINISHED_COLUMNS = {String.class, String.class, OffsetDateTime.class,
      Integer.class, String.class, Long.class, String.class, Double.class};
  private static final String MARK_REQUEUED = "WITH u AS (UPDATE job SET state = 'queued', next_attempt_at = $2, "
      + "error_type = $3, worker_id = NULL, pid = NULL, process_started_at = NULL, version = version + 1 WHERE id = $1 "
      + "AND state = 'running' RETURNING id, tenant_id) INSERT INTO job_event (job_id, tenant_id, state, detail, at) "
      + "SELECT id, tenant_id, 'queued', $4::jsonb, $5::timestamptz FROM u";
  private static final String MARK_CANCEL_REQUESTED = "UPDATE job SET cancel_requested = true, version = version + 1 "
      + "WHERE id = $1";
  /** An attempt's output; a multi-row statement like the job writes (nearly every finished job has some). */
  private static final String INSERT_LOG = "INSERT INTO job_log (job_id, attempt, log) SELECT * FROM "
      + "unnest($1::text[], $2::int[], $3::text[]) ON CONFLICT (job_id, attempt) DO UPDATE SET log = EXCLUDED.log";
  private static final Class<?>[] LOG_COLUMNS = {String.class, Integer.class, String.class};

  /** Most statements in one group transaction (a 1,000-job batch is one write and may exceed it alone). */
  private static final int GROUP_STATEMENTS = 2000;

  private final Pool pool;
  private final GroupCommit writer;

  /**
   * Every job write goes through one group-commit writer: transactions commit one at a time in queue order, so
   * job_event ids (the WatchJobs sequence) become visible in id order without a lock. Create on the scheduler's
   * event loop.
   */
  JobStore(Vertx vertx, Pool pool, ConnectionSource writerConnections) {
    this.pool = pool;
    this.writer = new GroupCommit("jobs", vertx, writerConnections, GROUP_STATEMENTS);
  }

  /**
   * Inserts jobs, each with its {@code queued} event, in one write of the group commit (a batch commits whole or not
   * at all). A job whose idempotency key its tenant used before is not inserted: the result holds the stored job
   * instead, marked {@code idempotent_replay}. Results are in input order; an inserted job's result is an empty
   * object (the caller holds the job). Completes once committed.
   */
  Future<List<JsonObject>> insert(List<Job> jobs) {
    if (jobs.isEmpty()) return Future.succeededFuture(new ArrayList<>());
    return checkKeyReuse(jobs).compose(v -> write(jobs));
  }

  /**
   * 422 when an idempotency key comes with a submission other than the one it was first used for (by a stored job
   * or by another job of the same batch): nothing is written then. A key reused concurrently is caught after the
   * write, see {@link #write}.
   */
  private Future<Void> checkKeyReuse(List<Job> jobs) {
    List<Tuple> keyed = new ArrayList<>();
    List<Job> keyedJobs = new ArrayList<>();
    Map<String, String> inBatch = new HashMap<>();
    for (Job j : jobs) {
      if (j.idempotencyKey == null) continue;
      String first = inBatch.putIfAbsent(j.tenantId + '\n' + j.idempotencyKey, j.idempotencyFingerprint);
      if (first != null && !first.equals(j.idempotencyFingerprint)) return Future.failedFuture(keyReused(j, null));
      keyed.add(Tuple.of(j.tenantId, j.idempotencyKey));
      keyedJobs.add(j);
    }
    if (keyed.isEmpty()) return Future.succeededFuture();
    return pool.preparedQuery(FINGERPRINT).executeBatch(keyed).compose(rows -> {
      RowSet<Row> result = rows;
      for (Job j : keyedJobs) {
        for (Row r : result) {
          if (!sameSubmission(r.getString("idempotency_fingerprint"), j)) {
            return Future.failedFuture(keyReused(j, r.getString("id")));
          }
        }
        result = result.next();
      }
      return Future.succeededFuture();
    });
  }

  /** Rows stored before fingerprints were kept have none: they are answered as replays. */
  private static boolean sameSubmission(String storedFingerprint, Job j) {
    return storedFingerprint == null || storedFingerprint.equals(j.idempotencyFingerprint);
  }

  private static DomainException keyReused(Job j, String firstJobId) {
    JsonObject ext = new JsonObject().put("reason", "idempotency_key_reused").put("errors", new JsonArray()
        .add(new JsonObject().put("field", "idempotency_key").put("message",
            "was used for a different submission; send the same body to retry, or a new key for a new job")));
    if (firstJobId != null) ext.put("job_id", firstJobId);
    return new DomainException(422, "Unprocessable Content", "the idempotency key '" + j.idempotencyKey
        + "' was already used for a different job submission", ext);
  }

  private Future<List<JsonObject>> write(List<Job> jobs) {
    boolean[] inserted = new boolean[jobs.size()];
    // every row of one combined execution sees the same result: read its job ids once, not once per row
    Map<RowSet<Row>, Set<String>> returned = new IdentityHashMap<>();
    List<GroupCommit.Statement> rows = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      Job j = jobs.get(i);
      int index = i;
      rows.add(GroupCommit.Statement.row(j.id, INSERT, INSERT_COLUMNS, new Object[] {j.id, j.tenantId, j.name,
          j.priority, j.cpuM, j.memoryMb, j.poolId, json(j.poolLabels), json(j.command), json(j.env),
          j.payloadText != null ? j.payloadText : json(j.payload), json(j.labels), j.timeoutSeconds, j.maxAttempts,
          j.maxQueueSeconds, utc(j.slaDeadline),
          j.idempotencyKey, utc(j.submittedAt), j.traceId, j.idempotencyFingerprint},
          result -> inserted[index] = returned.computeIfAbsent(result, JobStore::jobIds).contains(j.id)));
    }
    return writer.tryWrite(rows).compose(v -> {
      List<Tuple> replays = new ArrayList<>();
      for (int i = 0; i < jobs.size(); i++) {
        Job j = jobs.get(i);
        if (inserted[i]) continue;
        // not inserted and no key to have conflicted on: its tenant was deleted since the caller checked it
        if (j.idempotencyKey == null) return Future.failedFuture(DomainException.notFound("tenant", j.tenantId));
        replays.add(Tuple.of(j.tenantId, j.idempotencyKey));
      }
      Future<RowSet<Row>> stored = replays.isEmpty() ? Future.succeededFuture(null)
          : pool.preparedQuery(BY_IDEMPOTENCY).executeBatch(replays);
      return stored.compose(replayed -> {
        List<JsonObject> results = new ArrayList<>(jobs.size());
        RowSet<Row> replay = replayed;
        for (int i = 0; i < jobs.size(); i++) {
          if (inserted[i]) {
            results.add(new JsonObject());
            continue;
          }
          if (replay.size() == 0) return Future.failedFuture(DomainException.notFound("tenant", jobs.get(i).tenantId));
          Row first = replay.iterator().next();
          if (!sameSubmission(first.getString("idempotency_fingerprint"), jobs.get(i))) {
            // the key was used concurrently for another submission; with nothing of this write committed it is
            // refused like one seen before the write, otherwise the batch's committed jobs must be answered
            if (noneInserted(inserted)) return Future.failedFuture(keyReused(jobs.get(i), first.getString("id")));
            LOG.warn("idempotency key reused concurrently within a committed batch: answered with the first job",
                kv("tenant_id", jobs.get(i).tenantId), kv("job_id", first.getString("id")));
          }
          results.add(toJson(first).put("idempotent_replay", true));
          replay = replay.next();
        }
        return Future.succeededFuture(results);
      });
    });
  }

  private static boolean noneInserted(boolean[] inserted) {
    for (boolean b : inserted) if (b) return false;
    return true;
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

  Future<JsonArray> logs(String jobId) {
    return pool.preparedQuery(LOGS).execute(Tuple.of(jobId)).map(rows -> {
      JsonArray result = new JsonArray();
      rows.forEach(r -> result.add(new JsonObject().put("attempt", r.getInteger("attempt"))
          .put("log", r.getString("log")).put("at", iso(r.getOffsetDateTime("at")))));
      return result;
    });
  }

  /** Sets a queued job's priority: true once committed, false when the job is no longer queued. */
  Future<Boolean> reprioritize(String id, int priority) {
    return pool.preparedQuery(REPRIORITIZE).execute(Tuple.of(id, priority)).map(rows -> rows.rowCount() == 1);
  }

  /** admitted + running as one write (placement is one decision). */
  Future<Void> markRunning(Job j, JsonObject placement) {
    return writer.write(GroupCommit.Statement.row(j.id, MARK_RUNNING, RUNNING_COLUMNS, new Object[] {j.id,
        j.attempts, utc(j.admittedAt), utc(j.startedAt), j.placedPoolId, j.workerId, j.pid,
        utc(j.processStartedAt), j.burstGrantId, new JsonObject().put("attempt", j.attempts).encode(),
        json(placement)}, null));
  }

  Future<Void> markFinished(Job j, String state, Instant at, Integer exitCode, String errorType, Long runMs,
                            String log, JsonObject detail) {
    GroupCommit.Statement row = GroupCommit.Statement.row(j.id, MARK_FINISHED, FINISHED_COLUMNS, new Object[] {j.id,
        state, utc(at), exitCode, errorType, runMs, detail == null ? "{}" : detail.encode(), j.burstSeconds}, null);
    return log == null ? writer.write(row) : writer.write(row, logRow(j, log));
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

  private static String json(Object value) {
    if (value == null) return null;
    if (value instanceof JsonObject o) return o.isEmpty() ? "{}" : o.encode();
    return ((JsonArray) value).encode();
  }

  /** The job ids a multi-row statement's RETURNING job_id holds. */
  private static Set<String> jobIds(RowSet<Row> result) {
    Set<String> ids = new HashSet<>();
    for (Row r : result) ids.add(r.getString(0));
    return ids;
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


}
