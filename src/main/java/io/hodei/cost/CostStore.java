package io.hodei.cost;

import io.hodei.store.ColumnArrays;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.hodei.store.Timestamps.utc;

/**
 * The cost ledger, price history and stored reports in PostgreSQL. Job and worker rows are read through the views
 * of {@code V15__cost_views.sql} ({@code cost_job}, {@code cost_job_end}, {@code cost_worker}), never the tables.
 */
final class CostStore {

  private static final String PRICES = "SELECT pool_id, effective_from, price_per_worker_hour, source, created_by, "
      + "created_at FROM pool_price ORDER BY pool_id, effective_from";
  private static final String POOL_PRICES = "SELECT pool_id, effective_from, price_per_worker_hour, source, "
      + "created_by, created_at FROM pool_price WHERE pool_id = $1 ORDER BY effective_from";
  private static final String INSERT_PRICE = "INSERT INTO pool_price (pool_id, effective_from, price_per_worker_hour, "
      + "source, created_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pool_id, effective_from) DO UPDATE SET "
      + "price_per_worker_hour = EXCLUDED.price_per_worker_hour, source = EXCLUDED.source, "
      + "created_by = EXCLUDED.created_by, created_at = now()";
  /** Ledger rows as one multi-row statement over column arrays (amounts as text: exact decimals). */
  private static final String UPSERT_RECORDS = "INSERT INTO cost_record (kind, source_id, bucket_start, pool_id, "
      + "worker_id, job_id, attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share, cpu_m, "
      + "memory_mb, amount, burst_fraction) SELECT kind, source_id, bucket_start, pool_id, worker_id, job_id, "
      + "attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share::numeric, cpu_m, memory_mb, "
      + "amount::numeric, burst_fraction::numeric "
      + "FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], "
      + "$7::timestamptz[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[], "
      + "$13::bigint[], $14::bigint[], $15::text[], $16::text[]) AS d(kind, source_id, bucket_start, pool_id, "
      + "worker_id, job_id, attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share, cpu_m, "
      + "memory_mb, amount, burst_fraction) "
      + "ON CONFLICT (kind, source_id, bucket_start) DO UPDATE SET segment_start = EXCLUDED.segment_start, "
      + "segment_end = EXCLUDED.segment_end, share = EXCLUDED.share, amount = EXCLUDED.amount, "
      + "burst_fraction = EXCLUDED.burst_fraction, updated_at = now()";
  private static final Class<?>[] RECORD_COLUMNS = {String.class, String.class, OffsetDateTime.class, String.class,
      String.class, String.class, OffsetDateTime.class, String.class, String.class, OffsetDateTime.class,
      OffsetDateTime.class, String.class, Long.class, Long.class, String.class, String.class};
  /** Workers whose lifetime is not fully in the ledger yet (open, or terminated after their cursor). */
  private static final String UNACCOUNTED_WORKERS = "SELECT w.id, w.pool_id, w.cpu_m, w.memory_mb, w.created_at, "
      + "w.terminated_at, c.accounted_until FROM cost_worker w LEFT JOIN cost_worker_cursor c ON c.worker_id = w.id "
      + "WHERE (c.accounted_until IS NULL OR w.terminated_at IS NULL OR c.accounted_until < w.terminated_at) "
      + "AND (w.terminated_at IS NULL OR w.terminated_at > $1) ORDER BY w.id LIMIT $2";
  private static final String UPSERT_CURSOR = "INSERT INTO cost_worker_cursor (worker_id, accounted_until) "
      + "VALUES ($1, $2) ON CONFLICT (worker_id) DO UPDATE SET accounted_until = EXCLUDED.accounted_until";
  /**
   * Terminal job events after the cursor ({@code $1}, exclusive), in log order, with the job attempt they end. The
   * walk is along job_event's primary key, so its cost follows the events since the last sweep, not the table.
   */
  private static final String JOBS_ENDED_AFTER = "SELECT event_id, id, tenant_id, placed_pool_id, worker_id, cpu_m, "
      + "memory_mb, started_at, finished_at, burst_grant_id, burst_seconds, worker_cpu_m, worker_memory_mb "
      + "FROM cost_job_end WHERE event_id > $1 AND log_seq > $1 ORDER BY event_id LIMIT $2";
  private static final String JOB_CURSOR = "SELECT last_event_id FROM cost_job_cursor WHERE id = 1";
  private static final String SET_JOB_CURSOR = "INSERT INTO cost_job_cursor (id, last_event_id) VALUES (1, $1) "
      + "ON CONFLICT (id) DO UPDATE SET last_event_id = EXCLUDED.last_event_id, updated_at = now()";
  /**
   * Cross-tenant impact of a burst attempt on {@code [$3, $4)}: other tenants' jobs on the same pool whose queue
   * wait {@code [submitted_at, started_at or still waiting)} overlaps it, and the overlapping seconds.
   */
  private static final String BURST_IMPACT = "SELECT count(*) AS jobs, coalesce(sum(extract(epoch FROM "
      + "least(coalesce(started_at, $4), $4) - greatest(submitted_at, $3))), 0) AS seconds FROM cost_job "
      + "WHERE tenant_id <> $1 AND coalesce(placed_pool_id, pool_id) = $2 AND submitted_at < $4 "
      + "AND coalesce(started_at, $4) > $3";
  private static final String INSERT_IMPACT = "INSERT INTO cost_burst_impact (job_id, started_at, finished_at, "
      + "tenant_id, pool_id, burst_grant_id, impact_seconds, delayed_jobs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
      + "ON CONFLICT (job_id, started_at) DO NOTHING";
  private static final String RECORDS_AFTER = "SELECT kind, source_id, bucket_start, pool_id, worker_id, job_id, "
      + "attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share, cpu_m, memory_mb, amount, "
      + "burst_fraction FROM cost_record WHERE pool_id = $1 AND segment_end > $2";
  private static final String UPDATE_AMOUNT = "UPDATE cost_record SET amount = $4, updated_at = now() "
      + "WHERE kind = $1 AND source_id = $2 AND bucket_start = $3";
  private static final String[] RETENTION = {
      "DELETE FROM cost_record WHERE bucket_start < $1",
      "DELETE FROM cost_burst_impact WHERE finished_at < $1",
      "DELETE FROM cost_report WHERE created_at < $1",
      "DELETE FROM cost_worker_cursor c WHERE accounted_until < $1 AND NOT EXISTS (SELECT 1 FROM cost_worker w "
          + "WHERE w.id = c.worker_id AND w.terminated_at IS NULL)"};

  /** The aggregates every grouping reports. */
  static final String AGGREGATES = "sum(amount) FILTER (WHERE kind = 'worker') AS pool_cost, "
      + "sum(amount) FILTER (WHERE kind = 'job') AS job_cost, "
      + "sum(amount * burst_fraction) FILTER (WHERE kind = 'job') AS burst_cost, "
      + "sum(cpu_m * extract(epoch FROM segment_end - segment_start) * burst_fraction) FILTER (WHERE kind = 'job') "
      + "AS burst_cpu_m_seconds, "
      + "count(DISTINCT source_id) FILTER (WHERE kind = 'job') AS jobs, "
      + "sum(extract(epoch FROM segment_end - segment_start)) FILTER (WHERE kind = 'job') AS job_seconds, "
      + "sum(extract(epoch FROM segment_end - segment_start)) FILTER (WHERE kind = 'worker') AS worker_seconds";
  /**
   * {@code $1..$2}: the bucket range; {@code $3}: only this tenant's job rows; {@code $4}: only this pool;
   * {@code $5}: job rows only.
   */
  private static final String WHERE = " FROM cost_record WHERE bucket_start >= $1 AND bucket_start < $2 "
      + "AND ($3::text IS NULL OR (kind = 'job' AND tenant_id = $3)) AND ($4::text IS NULL OR pool_id = $4) "
      + "AND ($5::boolean IS FALSE OR kind = 'job') ";
  /** Concurrency peaks over job rows overlapping {@code [$1, $2)}: jobs per pool and reserved cpu_m per tenant. */
  private static final String PEAKS = "SELECT 'pool' AS scope, pool_id AS key, max(c) AS peak FROM (SELECT pool_id, "
      + "sum(d) OVER (PARTITION BY pool_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS c FROM ("
      + "SELECT pool_id, segment_start AS t, 1 AS d FROM cost_record WHERE kind = 'job' AND segment_end > $1 "
      + "AND segment_start < $2 UNION ALL SELECT pool_id, segment_end, -1 FROM cost_record WHERE kind = 'job' "
      + "AND segment_end > $1 AND segment_start < $2) e) p GROUP BY pool_id UNION ALL "
      + "SELECT 'tenant', tenant_id, max(c) FROM (SELECT tenant_id, sum(d) OVER (PARTITION BY tenant_id ORDER BY t, d "
      + "ROWS UNBOUNDED PRECEDING) AS c FROM (SELECT tenant_id, segment_start AS t, cpu_m AS d FROM cost_record "
      + "WHERE kind = 'job' AND segment_end > $1 AND segment_start < $2 UNION ALL SELECT tenant_id, segment_end, "
      + "-cpu_m FROM cost_record WHERE kind = 'job' AND segment_end > $1 AND segment_start < $2) e) p "
      + "GROUP BY tenant_id";
  /** Largest job reservations per pool over {@code [$1, $2)}. */
  private static final String JOB_SHAPES = "SELECT pool_id, max(share) AS max_share, max(cpu_m) AS max_cpu_m, "
      + "max(memory_mb) AS max_memory_mb FROM cost_record WHERE kind = 'job' AND segment_end > $1 "
      + "AND segment_start < $2 GROUP BY pool_id";
  private static final String IMPACT_BY_TENANT = "SELECT tenant_id, sum(impact_seconds) AS impact_seconds, "
      + "sum(delayed_jobs) AS delayed_jobs FROM cost_burst_impact WHERE finished_at >= $1 AND finished_at < $2 "
      + "AND ($3::text IS NULL OR tenant_id = $3) GROUP BY tenant_id";
  /** Ledger totals for the meters: per tenant and per pool, all time and over the last hour. */
  private static final String METER_TOTALS = "SELECT 'tenant' AS scope, tenant_id AS key, sum(amount) AS total, "
      + "sum(amount * burst_fraction) FILTER (WHERE kind = 'job') AS burst, "
      + "sum(amount) FILTER (WHERE segment_end > $1) AS recent, NULL::numeric AS idle FROM cost_record "
      + "WHERE kind = 'job' GROUP BY tenant_id UNION ALL SELECT 'pool', pool_id, "
      + "sum(amount) FILTER (WHERE kind = 'worker'), NULL, NULL, "
      + "coalesce(sum(amount) FILTER (WHERE kind = 'worker'), 0) - coalesce(sum(amount) FILTER (WHERE kind = 'job'), 0) "
      + "FROM cost_record GROUP BY pool_id UNION ALL SELECT 'impact', tenant_id, sum(impact_seconds), NULL, NULL, NULL "
      + "FROM cost_burst_impact GROUP BY tenant_id "
      // every tenant and pool has its series from the start, at 0 until it costs something
      + "UNION ALL SELECT 'tenant', id, 0::numeric, 0::numeric, 0::numeric, NULL FROM tenant t WHERE NOT EXISTS "
      + "(SELECT 1 FROM cost_record c WHERE c.tenant_id = t.id AND c.kind = 'job') "
      + "UNION ALL SELECT 'pool', id, 0::numeric, NULL, NULL, 0::numeric FROM pool p WHERE NOT EXISTS "
      + "(SELECT 1 FROM cost_record c WHERE c.pool_id = p.id) "
      + "UNION ALL SELECT 'impact', id, 0::numeric, NULL, NULL, NULL FROM tenant t WHERE NOT EXISTS "
      + "(SELECT 1 FROM cost_burst_impact i WHERE i.tenant_id = t.id)";
  private static final String INSERT_REPORT = "INSERT INTO cost_report (id, status, tenant_id, created_by, params) "
      + "VALUES ($1, 'pending', $2, $3, $4) RETURNING id, status, tenant_id, params, result, error, created_at, "
      + "finished_at";
  private static final String GET_REPORT = "SELECT id, status, tenant_id, params, result, error, created_at, "
      + "finished_at FROM cost_report WHERE id = $1";
  private static final String FINISH_REPORT = "UPDATE cost_report SET status = $2, result = $3, error = $4, "
      + "finished_at = now() WHERE id = $1";
  private static final String UNFINISHED_REPORTS = "SELECT id, status, tenant_id, params, result, error, created_at, "
      + "finished_at FROM cost_report WHERE status IN ('pending', 'running') ORDER BY created_at";

  private final Pool pool;

  CostStore(Pool pool) { this.pool = pool; }

  Future<RowSet<Row>> prices() { return pool.query(PRICES).execute(); }

  Future<RowSet<Row>> prices(String poolId) { return pool.preparedQuery(POOL_PRICES).execute(Tuple.of(poolId)); }

  Future<Void> insertPrice(String poolId, Instant effectiveFrom, BigDecimal price, String source, String createdBy) {
    return pool.preparedQuery(INSERT_PRICE)
        .execute(Tuple.of(poolId, utc(effectiveFrom), price, source, createdBy)).mapEmpty();
  }

  Future<RowSet<Row>> unaccountedWorkers(Instant cutoff, int limit) {
    return pool.preparedQuery(UNACCOUNTED_WORKERS).execute(Tuple.of(utc(cutoff), limit));
  }

  /** Writes a batch of worker rows and moves their cursors, atomically. */
  Future<Void> writeWorkers(List<CostRecord> records, List<Tuple> cursors) {
    return pool.withTransaction(conn -> upsert(conn, records)
        .compose(v -> cursors.isEmpty() ? Future.succeededFuture()
            : conn.preparedQuery(UPSERT_CURSOR).executeBatch(cursors).mapEmpty()));
  }

  static Tuple cursor(String workerId, Instant accountedUntil) { return Tuple.of(workerId, utc(accountedUntil)); }

  Future<RowSet<Row>> jobsEndedAfter(long eventId, int limit) {
    return pool.preparedQuery(JOBS_ENDED_AFTER).execute(Tuple.of(eventId, limit));
  }

  /** The job event log cursor (0 when the ledger has never read the log). */
  Future<Long> jobCursor() {
    return pool.query(JOB_CURSOR).execute().map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong(0));
  }

  Future<Row> burstImpact(String tenantId, String poolId, Instant start, Instant end) {
    return pool.preparedQuery(BURST_IMPACT).execute(Tuple.of(tenantId, poolId, utc(start), utc(end)))
        .map(rows -> rows.iterator().next());
  }

  /** Writes a batch of job rows and the burst attempts' impact rows, and moves the event cursor, atomically. */
  Future<Void> writeJobs(List<CostRecord> records, List<Tuple> impacts, long cursor) {
    return pool.withTransaction(conn -> upsert(conn, records)
        .compose(v -> impacts.isEmpty() ? Future.succeededFuture()
            : conn.preparedQuery(INSERT_IMPACT).executeBatch(impacts).mapEmpty())
        .compose(v -> conn.preparedQuery(SET_JOB_CURSOR).execute(Tuple.of(cursor)).mapEmpty()));
  }

  static Tuple impact(CostRecord.Usage attempt, BigDecimal seconds, long jobs) {
    return Tuple.of(attempt.jobId(), utc(attempt.start()), utc(attempt.end()), attempt.tenantId(), attempt.poolId(),
        attempt.burstGrantId(), seconds, jobs);
  }

  /**
   * Upserts ledger rows in one statement. A statement may not upsert the same row twice, so a batch holding one key
   * twice keeps the last (rows are recomputed from their sources: the last is the current one).
   */
  private static Future<Void> upsert(SqlConnection conn, List<CostRecord> records) {
    if (records.isEmpty()) return Future.succeededFuture();
    Map<String, CostRecord> byKey = new LinkedHashMap<>();
    for (CostRecord r : records) byKey.put(r.kind() + '\u0000' + r.sourceId() + '\u0000' + r.bucketStart(), r);
    List<Object[]> rows = new ArrayList<>(byKey.size());
    for (CostRecord r : byKey.values()) {
      rows.add(new Object[] {r.kind(), r.sourceId(), utc(r.bucketStart()), r.poolId(), r.workerId(), r.jobId(),
          utc(r.attemptStartedAt()), r.tenantId(), r.burstGrantId(), utc(r.segmentStart()), utc(r.segmentEnd()),
          r.share().toPlainString(), r.cpuM(), r.memoryMb(), r.amount().toPlainString(),
          (r.burstFraction() == null ? java.math.BigDecimal.ZERO : r.burstFraction()).toPlainString()});
    }
    return conn.preparedQuery(UPSERT_RECORDS).execute(ColumnArrays.of(RECORD_COLUMNS, rows)).mapEmpty();
  }

  /** The rows of a pool whose segment ends after {@code since} (the ones a price version from then on changes). */
  Future<List<CostRecord>> recordsAfter(String poolId, Instant since) {
    return pool.preparedQuery(RECORDS_AFTER).execute(Tuple.of(poolId, utc(since))).map(rows -> {
      List<CostRecord> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new CostRecord(r.getString("kind"), r.getString("source_id"), instant(r, "bucket_start"),
            r.getString("pool_id"), r.getString("worker_id"), r.getString("job_id"),
            instant(r, "attempt_started_at"), r.getString("tenant_id"), r.getString("burst_grant_id"),
            instant(r, "segment_start"), instant(r, "segment_end"), r.getBigDecimal("share"), r.getLong("cpu_m"),
            r.getLong("memory_mb"), r.getBigDecimal("amount"), r.getBigDecimal("burst_fraction")));
      }
      return out;
    });
  }

  Future<Void> updateAmounts(List<CostRecord> records) {
    if (records.isEmpty()) return Future.succeededFuture();
    List<Tuple> rows = records.stream()
        .map(r -> Tuple.of(r.kind(), r.sourceId(), utc(r.bucketStart()), r.amount())).toList();
    return pool.withTransaction(conn -> conn.preparedQuery(UPDATE_AMOUNT).executeBatch(rows).mapEmpty());
  }

  Future<Void> applyRetention(Instant cutoff) {
    Future<Void> chain = Future.succeededFuture();
    for (String sql : RETENTION) {
      chain = chain.compose(v -> pool.preparedQuery(sql).execute(Tuple.of(utc(cutoff))).mapEmpty());
    }
    return chain;
  }

  /** The ledger aggregated by {@code keyColumns}/{@code groupBy} (constants of {@link CostReports}, never input). */
  Future<RowSet<Row>> aggregate(String keyColumns, String groupBy, boolean jobsOnly, Instant from, Instant to,
                                String tenantId, String poolId, int limit) {
    String sql = "SELECT " + keyColumns + ", " + AGGREGATES + WHERE + (groupBy == null ? "" : "GROUP BY " + groupBy
        + " ORDER BY 1 ") + "LIMIT " + limit;
    return pool.preparedQuery(sql).execute(Tuple.of(utc(from), utc(to), tenantId, poolId, jobsOnly));
  }

  Future<RowSet<Row>> peaks(Instant from, Instant to) {
    return pool.preparedQuery(PEAKS).execute(Tuple.of(utc(from), utc(to)));
  }

  Future<RowSet<Row>> jobShapes(Instant from, Instant to) {
    return pool.preparedQuery(JOB_SHAPES).execute(Tuple.of(utc(from), utc(to)));
  }

  Future<RowSet<Row>> impactByTenant(Instant from, Instant to, String tenantId) {
    return pool.preparedQuery(IMPACT_BY_TENANT).execute(Tuple.of(utc(from), utc(to), tenantId));
  }

  Future<RowSet<Row>> meterTotals(Instant recentSince) {
    return pool.preparedQuery(METER_TOTALS).execute(Tuple.of(utc(recentSince)));
  }

  Future<JsonObject> insertReport(String id, String tenantId, String createdBy, JsonObject params) {
    return pool.preparedQuery(INSERT_REPORT).execute(Tuple.of(id, tenantId, createdBy, params))
        .map(rows -> report(rows.iterator().next()));
  }

  Future<JsonObject> report(String id) {
    return pool.preparedQuery(GET_REPORT).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : report(rows.iterator().next()));
  }

  Future<Void> finishReport(String id, String status, JsonObject result, String error) {
    return pool.preparedQuery(FINISH_REPORT).execute(Tuple.of(id, status, result, error)).mapEmpty();
  }

  Future<List<JsonObject>> unfinishedReports() {
    return pool.query(UNFINISHED_REPORTS).execute().map(rows -> {
      List<JsonObject> out = new ArrayList<>();
      rows.forEach(r -> out.add(report(r)));
      return out;
    });
  }

  private static JsonObject report(Row r) {
    return new JsonObject().put("id", r.getString("id")).put("status", r.getString("status"))
        .put("tenant_id", r.getString("tenant_id")).put("params", (JsonObject) r.getJson("params"))
        .put("result", (JsonObject) r.getJson("result")).put("error", r.getString("error"))
        .put("created_at", iso(r, "created_at")).put("finished_at", iso(r, "finished_at"));
  }

  static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  private static String iso(Row row, String column) {
    Instant t = instant(row, column);
    return t == null ? null : t.toString();
  }
}
