package io.hodei.pool;

import io.hodei.store.ConnectionSource;
import io.hodei.store.GroupCommit;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

import static io.hodei.store.Timestamps.utc;
import static io.hodei.store.Timestamps.iso;

/** Pools, workers and worker events in PostgreSQL. The pool verticle is the only writer. */
final class PoolStore {
  private static final String POOL_COLUMNS = "id, name, kind, provider, state, min_size, max_size, target_size, "
      + "worker_cpu_m, worker_memory_mb, price_per_worker_hour, auto_scaling_enabled, labels, provider_config, "
      + "created_at, updated_at, version";
  private static final String LOAD_POOLS = "SELECT " + POOL_COLUMNS + " FROM pool ORDER BY id";
  private static final String INSERT_POOL = "INSERT INTO pool (" + POOL_COLUMNS + ") VALUES ($1, $2, $3, $4, $5, $6, "
      + "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
  private static final String UPDATE_POOL = "UPDATE pool SET name = $2, state = $3, min_size = $4, max_size = $5, "
      + "target_size = $6, price_per_worker_hour = $7, auto_scaling_enabled = $8, labels = $9, provider_config = $10, "
      + "updated_at = $11, version = $12 WHERE id = $1";
  private static final String DELETE_POOL = "DELETE FROM pool WHERE id = $1";
  private static final String WORKER_COLUMNS = "id, pool_id, state, health, cpu_m, memory_mb, draining, "
      + "current_job_id, created_at, started_at, last_heartbeat_at, provisioned_in_ms, unhealthy_since, "
      + "terminated_at, terminated_in_ms, failure_reason";
  private static final String LOAD_LIVE_WORKERS = "SELECT " + WORKER_COLUMNS + " FROM worker "
      + "WHERE state <> 'terminated' ORDER BY created_at, id";
  /** A new worker row and its first event, one statement. */
  private static final String INSERT_WORKER = "WITH w AS (INSERT INTO worker (id, pool_id, state, health, cpu_m, "
      + "memory_mb, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, pool_id, state, health) "
      + "INSERT INTO worker_event (worker_id, pool_id, from_state, to_state, health, reason, duration_ms) "
      + "SELECT id, pool_id, NULL, state, health, $8::text, NULL FROM w";
  /**
   * Workers' current rows and one event each for the transition: a multi-row statement (the group commit runs the
   * transitions of one layer as one execution over column arrays).
   */
  /** The workers' new rows as column arrays, and the update of their rows from them. */
  private static final String WORKER_ROWS = "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
      + "$4::boolean[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::timestamptz[], "
      + "$10::timestamptz[], $11::bigint[], $12::text[], $13::text[], $14::text[], $15::bigint[]) AS d(id, state, "
      + "health, draining, current_job_id, started_at, last_heartbeat_at, provisioned_in_ms, unhealthy_since, "
      + "terminated_at, terminated_in_ms, failure_reason, from_state, reason, duration_ms))";
  private static final String SET_WORKER_ROWS = "UPDATE worker SET "
      + "state = d.state, health = d.health, draining = d.draining, current_job_id = d.current_job_id, started_at = "
      + "d.started_at, last_heartbeat_at = d.last_heartbeat_at, provisioned_in_ms = d.provisioned_in_ms, "
      + "unhealthy_since = d.unhealthy_since, terminated_at = d.terminated_at, terminated_in_ms = d.terminated_in_ms, "
      + "failure_reason = COALESCE(d.failure_reason, worker.failure_reason) FROM d WHERE worker.id = d.id";
  private static final String UPDATE_WORKER = WORKER_ROWS + ", w AS (" + SET_WORKER_ROWS
      + " RETURNING worker.id, worker.pool_id, d.from_state, d.state, d.health, d.reason, d.duration_ms) "
      + "INSERT INTO worker_event (worker_id, pool_id, from_state, to_state, health, reason, duration_ms) "
      + "SELECT id, pool_id, from_state, state, health, reason, duration_ms FROM w";
  /**
   * A worker taking or giving back a job: the row only. The job event log already records which worker ran which
   * job (running and end events carry worker_id), so these transitions, two per job, add no worker_event rows.
   */
  private static final String UPDATE_WORKER_ROW = WORKER_ROWS + " " + SET_WORKER_ROWS;
  private static final Class<?>[] UPDATE_WORKER_COLUMNS = {String.class, String.class, String.class, Boolean.class,
      String.class, OffsetDateTime.class, OffsetDateTime.class, Long.class, OffsetDateTime.class,
      OffsetDateTime.class, Long.class, String.class, String.class, String.class, Long.class};
  private static final String HEARTBEATS = "UPDATE worker SET last_heartbeat_at = $2 WHERE id = ANY($1)";
  private static final String LIST_WORKERS = "SELECT " + WORKER_COLUMNS + " FROM worker WHERE pool_id = $1 "
      + "AND (($2::text IS NULL AND state <> 'terminated') OR state = $2) AND ($3::text IS NULL OR id > $3) "
      + "ORDER BY id LIMIT $4";

  private static final String SEEDED = "SELECT pool_id FROM config_pool_seed";
  private static final String MARK_SEEDED = "INSERT INTO config_pool_seed (pool_id) VALUES ($1) ON CONFLICT DO NOTHING";

  /** Most statements in one group transaction of worker writes. */
  private static final int GROUP_STATEMENTS = 1000;
  /**
   * How long a worker's row may trail its taking or giving back a job (see {@link GroupCommit#GroupCommit(String,
   * Vertx, ConnectionSource, int, long)}): the job's row, written by the job writer, is what says which worker runs
   * which job; the worker's row follows within this, once per window however many jobs the worker ran meanwhile,
   * instead of a commit of its own per job that the job writer's commits would queue behind.
   */
  static final long ASSIGNMENT_LINGER_MS = 10;

  private final Pool pool;
  /** Worker writes: grouped into few transactions, landing in the order they were made. */
  private final GroupCommit writer;

  /** Create on the pool verticle's event loop: worker writes are queued from it. */
  PoolStore(Vertx vertx, Pool pool, ConnectionSource writerConnections) {
    this.pool = pool;
    this.writer = new GroupCommit("workers", vertx, writerConnections, GROUP_STATEMENTS, ASSIGNMENT_LINGER_MS);
  }

  Future<java.util.Set<String>> seededConfigPools() {
    return pool.query(SEEDED).execute().map(rows -> {
      java.util.Set<String> ids = new java.util.HashSet<>();
      rows.forEach(r -> ids.add(r.getString(0)));
      return ids;
    });
  }

  Future<Void> markSeeded(String poolId) {
    return pool.preparedQuery(MARK_SEEDED).execute(Tuple.of(poolId)).mapEmpty();
  }

  Future<List<io.hodei.pool.Pool>> loadPools() {
    return pool.query(LOAD_POOLS).execute().map(rows -> {
      List<io.hodei.pool.Pool> result = new ArrayList<>();
      rows.forEach(row -> result.add(toPool(row)));
      return result;
    });
  }

  Future<List<Worker>> loadLiveWorkers() {
    return pool.query(LOAD_LIVE_WORKERS).execute().map(rows -> {
      List<Worker> result = new ArrayList<>();
      rows.forEach(row -> result.add(toWorker(row)));
      return result;
    });
  }

  Future<Void> insertPool(io.hodei.pool.Pool p) {
    return pool.preparedQuery(INSERT_POOL).execute(Tuple.from(new Object[] {p.id, p.name, p.kind, p.provider, p.state,
        p.minSize, p.maxSize, p.targetSize, p.workerCpuM, p.workerMemoryMb, p.pricePerWorkerHour,
        p.autoScalingEnabled, p.labels, p.providerConfig, utc(p.createdAt), utc(p.updatedAt), p.version})).mapEmpty();
  }

  Future<Void> updatePool(io.hodei.pool.Pool p) {
    return pool.preparedQuery(UPDATE_POOL).execute(Tuple.from(new Object[] {p.id, p.name, p.state, p.minSize,
        p.maxSize, p.targetSize, p.pricePerWorkerHour, p.autoScalingEnabled, p.labels, p.providerConfig,
        utc(p.updatedAt), p.version})).mapEmpty();
  }

  Future<Void> deletePool(String id) {
    return pool.preparedQuery(DELETE_POOL).execute(Tuple.of(id)).mapEmpty();
  }

  Future<Void> insertWorker(Worker w, String reason) {
    return writer.write(GroupCommit.Statement.of(w.id, INSERT_WORKER,
        Tuple.from(new Object[] {w.id, w.poolId, w.state.wire(), w.health.wire(), w.cpuM, w.memoryMb,
            utc(w.createdAt), reason})));
  }

  /** Persists the worker's current row and one event for the transition from {@code fromState}. */
  Future<Void> updateWorker(Worker w, WorkerState fromState, String reason, Long durationMs, Instant terminatedAt,
                            Long terminatedInMs, String failureReason) {
    return updateWorker(UPDATE_WORKER, w, fromState, reason, durationMs, terminatedAt, terminatedInMs, failureReason);
  }

  /** The worker's row after it took or gave back a job (no worker_event row: see {@link #UPDATE_WORKER_ROW}). */
  Future<Void> updateWorkerAssignment(Worker w, WorkerState fromState, String reason) {
    return updateWorker(UPDATE_WORKER_ROW, w, fromState, reason, null, null, null, null);
  }

  private Future<Void> updateWorker(String sql, Worker w, WorkerState fromState, String reason, Long durationMs,
                                    Instant terminatedAt, Long terminatedInMs, String failureReason) {
    // an assignment row is the worker's whole state: a later one waiting with it replaces it (GroupCommit snapshot)
    GroupCommit.Statement row = GroupCommit.Statement.row(w.id, sql, UPDATE_WORKER_COLUMNS, new Object[] {w.id,
        w.state.wire(), w.health.wire(), w.draining, w.currentJobId, utc(w.startedAt), utc(w.lastHeartbeatAt),
        w.provisionedInMs, utc(w.unhealthySince), utc(terminatedAt), terminatedInMs, failureReason,
        fromState == null ? null : fromState.wire(), reason, durationMs},
        null);
    return sql.equals(UPDATE_WORKER_ROW) ? writer.writeSnapshot(row) : writer.write(row);
  }

  /** Completes when every queued worker write has landed, and releases the writer's connection (shutdown). */
  Future<Void> drain() { return writer.drain(); }

  /** Stops retrying writes that wait for the database (after a bounded drain at shutdown). */
  void close() { writer.close(); }

  Future<Void> heartbeats(List<String> workerIds, Instant at) {
    if (workerIds.isEmpty()) return Future.succeededFuture();
    return writer.write(GroupCommit.Statement.of("heartbeats", HEARTBEATS, Tuple.of(workerIds.toArray(String[]::new), utc(at))));
  }

  Future<List<JsonObject>> listWorkers(String poolId, String state, String afterId, int limit) {
    return pool.preparedQuery(LIST_WORKERS).execute(Tuple.of(poolId, state, afterId, limit)).map(rows -> {
      List<JsonObject> result = new ArrayList<>();
      rows.forEach(row -> {
        JsonObject json = toWorker(row).toJson();
        json.put("terminated_at", iso(row.getOffsetDateTime("terminated_at")));
        json.put("terminated_in_ms", row.getLong("terminated_in_ms"));
        json.put("failure_reason", row.getString("failure_reason"));
        result.add(json);
      });
      return result;
    });
  }

  private static io.hodei.pool.Pool toPool(Row row) {
    io.hodei.pool.Pool p = new io.hodei.pool.Pool();
    p.id = row.getString("id");
    p.name = row.getString("name");
    p.kind = row.getString("kind");
    p.provider = row.getString("provider");
    p.state = row.getString("state");
    p.minSize = row.getInteger("min_size");
    p.maxSize = row.getInteger("max_size");
    p.targetSize = row.getInteger("target_size");
    p.workerCpuM = row.getLong("worker_cpu_m");
    p.workerMemoryMb = row.getLong("worker_memory_mb");
    p.pricePerWorkerHour = row.getBigDecimal("price_per_worker_hour");
    p.autoScalingEnabled = row.getBoolean("auto_scaling_enabled");
    p.labels = json(row.getValue("labels"));
    p.providerConfig = json(row.getValue("provider_config"));
    p.createdAt = row.getOffsetDateTime("created_at").toInstant();
    p.updatedAt = row.getOffsetDateTime("updated_at").toInstant();
    p.version = row.getLong("version");
    return p;
  }

  private static Worker toWorker(Row row) {
    Worker w = new Worker();
    w.id = row.getString("id");
    w.poolId = row.getString("pool_id");
    w.state = WorkerState.fromWire(row.getString("state"));
    w.health = WorkerHealth.fromWire(row.getString("health"));
    w.cpuM = row.getLong("cpu_m");
    w.memoryMb = row.getLong("memory_mb");
    w.draining = row.getBoolean("draining");
    w.currentJobId = row.getString("current_job_id");
    w.createdAt = instant(row.getOffsetDateTime("created_at"));
    w.startedAt = instant(row.getOffsetDateTime("started_at"));
    w.lastHeartbeatAt = instant(row.getOffsetDateTime("last_heartbeat_at"));
    w.provisionedInMs = row.getLong("provisioned_in_ms");
    w.unhealthySince = instant(row.getOffsetDateTime("unhealthy_since"));
    return w;
  }

  private static JsonObject json(Object value) { return value instanceof JsonObject j ? j : new JsonObject(); }

  private static Instant instant(OffsetDateTime t) { return t == null ? null : t.toInstant(); }



  static JsonArray array(List<JsonObject> items) { return new JsonArray(new ArrayList<>(items)); }
}
