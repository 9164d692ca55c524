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
 * The ledger keeps worker rows in {@code cost_record} and job rows packed per sweep batch in {@code cost_job_batch}
 * ({@code V23__cost_job_batches.sql}); reports read both through the view {@code cost_ledger}, one row per (kind,
 * source, bucket).
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
  /** Worker rows as one multi-row statement over column arrays (amounts as text: exact decimals). */
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
  /**
   * Workers whose lifetime is not fully in the ledger yet (open, or terminated after their cursor), by id after
   * {@code $3} (live workers always qualify: a page goes on from the last id of the previous one).
   */
  private static final String UNACCOUNTED_WORKERS = "SELECT w.id, w.pool_id, w.cpu_m, w.memory_mb, w.created_at, "
      + "w.terminated_at, c.accounted_until FROM cost_worker w LEFT JOIN cost_worker_cursor c ON c.worker_id = w.id "
      + "WHERE (c.accounted_until IS NULL OR w.terminated_at IS NULL OR c.accounted_until < w.terminated_at) "
      + "AND (w.terminated_at IS NULL OR w.terminated_at > $1) AND w.id > $3 ORDER BY w.id LIMIT $2";
  /**
   * A sweep batch's job rows: one row per (bucket, pool, tenant) holding the attempts as arrays in batch order, with
   * the exact sums of their amounts. {@code $13}: the job cursor after the batch.
   */
  private static final String INSERT_JOB_BATCHES = "INSERT INTO cost_job_batch (bucket_start, pool_id, tenant_id, "
      + "last_event_id, jobs, amount, burst_amount, job_id, attempt_started_at, burst_grant_id, segment_end, share, "
      + "cpu_m, memory_mb, amounts, burst_fraction) SELECT bucket_start, pool_id, tenant_id, $13, count(*), "
      + "sum(amount::numeric), sum(amount::numeric * burst_fraction::numeric), array_agg(job_id ORDER BY i), "
      + "array_agg(attempt_started_at ORDER BY i), array_agg(burst_grant_id ORDER BY i), "
      + "array_agg(segment_end ORDER BY i), array_agg(share::numeric(12,9) ORDER BY i), array_agg(cpu_m ORDER BY i), "
      + "array_agg(memory_mb ORDER BY i), array_agg(amount::numeric(24,10) ORDER BY i), "
      + "array_agg(burst_fraction::numeric(12,9) ORDER BY i) "
      + "FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], "
      + "$7::timestamptz[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[]) WITH ORDINALITY "
      + "AS d(bucket_start, pool_id, tenant_id, job_id, attempt_started_at, burst_grant_id, segment_end, share, cpu_m, "
      + "memory_mb, amount, burst_fraction, i) GROUP BY bucket_start, pool_id, tenant_id";
  private static final Class<?>[] JOB_COLUMNS = {OffsetDateTime.class, String.class, String.class, String.class,
      OffsetDateTime.class, String.class, OffsetDateTime.class, String.class, Long.class, Long.class, String.class,
      String.class};
  /** The job cursor, locked: one writer at a time checks that it is still where its batch started reading. */
  private static final String LOCK_JOB_CURSOR = "SELECT last_event_id FROM cost_job_cursor WHERE id = 1 FOR UPDATE";
  /** Before a re-read of the whole log rewrites them: the batches from its first event on. */
  private static final String DELETE_JOB_BATCHES = "DELETE FROM cost_job_batch WHERE last_event_id >= $1";
  private static final String UPSERT_CURSOR = "INSERT INTO cost_worker_cursor (worker_id, accounted_until) "
      + "VALUES ($1, $2) ON CONFLICT (worker_id) DO UPDATE SET accounted_until = EXCLUDED.accounted_until";
  /**
   * Terminal job events after the cursor ({@code $1}, exclusive) logged up to {@code $3}, in log order, with the job
   * attempt they end. The walk is along the event log's primary key from the cursor to {@code $3}: its cost follows
   * the log rows it is given, not the log (a sort over every event since the cursor would make a sweep that fell
   * behind by n events cost n each batch).
   */
  private static final String JOBS_ENDED_AFTER = "SELECT event_id, id, tenant_id, placed_pool_id, worker_id, cpu_m, "
      + "memory_mb, started_at, finished_at, burst_grant_id, burst_seconds, worker_cpu_m, worker_memory_mb "
      + "FROM cost_job_end WHERE event_id > $1 AND log_seq > $1 AND log_seq <= $3 ORDER BY event_id LIMIT $2";
  /**
   * How far a read of {@code $2} events after {@code $1} walks the event log: to the first log row by which the rows
   * after the cursor name {@code $2} jobs (each named job has an event in its row, so no later row can hold one of the
   * first {@code $2} events), or to the last row; and the log's last row ({@code seen}: the log goes on after the
   * bound when it is later). Null bound: no row. The running count stops at the bound: a batch's row names hundreds of
   * jobs (its array is stored out of line), and counting a fixed {@code $2 + 1} rows ahead read every one of them.
   */
  private static final String LOG_WINDOW = "SELECT coalesce((SELECT r.last_seq FROM (SELECT last_seq, "
      + "sum(cardinality(job_ids)) OVER (ORDER BY last_seq ROWS UNBOUNDED PRECEDING) AS named FROM job_event_log "
      + "WHERE last_seq > $1) r WHERE r.named >= $2 ORDER BY r.last_seq LIMIT 1), "
      + "(SELECT max(last_seq) FROM job_event_log WHERE last_seq > $1)) AS upto, "
      + "(SELECT max(last_seq) FROM job_event_log) AS seen";
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
  /**
   * Worker rows of pool {@code $1} whose segment ends after {@code $2}; {@code $3} is the bucket of {@code $2} (a
   * segment lies inside its bucket, so no earlier bucket has one), which the bucket index finds.
   */
  private static final String RECORDS_AFTER = "SELECT kind, source_id, bucket_start, pool_id, worker_id, job_id, "
      + "attempt_started_at, tenant_id, burst_grant_id, segment_start, segment_end, share, cpu_m, memory_mb, amount, "
      + "burst_fraction FROM cost_record WHERE kind = 'worker' AND pool_id = $1 AND bucket_start >= $3 "
      + "AND segment_end > $2";
  /** Every attempt of pool {@code $1}'s job batches from bucket {@code $2} on, with its place in its batch row. */
  private static final String JOB_SEGMENTS_AFTER = "SELECT b.bucket_start, b.tenant_id, b.last_event_id, u.i, "
      + "greatest(u.attempt_started_at, b.bucket_start) AS segment_start, u.segment_end, u.share "
      + "FROM cost_job_batch b CROSS JOIN LATERAL unnest(b.attempt_started_at, b.segment_end, b.share) "
      + "WITH ORDINALITY AS u(attempt_started_at, segment_end, share, i) "
      + "WHERE b.pool_id = $1 AND b.bucket_start >= $2";
  /** New amounts of whole job batch rows of pool {@code $1} (every element, in order), and their sums. */
  private static final String UPDATE_JOB_AMOUNTS = "UPDATE cost_job_batch b SET amounts = n.amounts, "
      + "amount = n.amount, burst_amount = (SELECT coalesce(sum(x.a * x.f), 0) FROM unnest(n.amounts, "
      + "b.burst_fraction) AS x(a, f)) FROM (SELECT bucket_start, tenant_id, last_event_id, "
      + "array_agg(a::numeric(24,10) ORDER BY i) AS amounts, sum(a::numeric) AS amount "
      + "FROM unnest($2::timestamptz[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) "
      + "AS d(bucket_start, tenant_id, last_event_id, i, a) GROUP BY 1, 2, 3) n WHERE b.pool_id = $1 "
      + "AND b.bucket_start = n.bucket_start AND b.tenant_id = n.tenant_id AND b.last_event_id = n.last_event_id "
      + "AND cardinality(n.amounts) = b.jobs";
  private static final Class<?>[] JOB_AMOUNT_COLUMNS = {OffsetDateTime.class, String.class, Long.class, Long.class,
      String.class};
  private static final String UPDATE_AMOUNT = "UPDATE cost_record SET amount = $4, updated_at = now() "
      + "WHERE kind = $1 AND source_id = $2 AND bucket_start = $3";
  private static final String[] RETENTION = {
      "DELETE FROM cost_record WHERE bucket_start < $1",
      "DELETE FROM cost_job_batch WHERE bucket_start < $1",
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
  private static final String WHERE = " FROM cost_ledger WHERE bucket_start >= $1 AND bucket_start < $2 "
      + "AND ($3::text IS NULL OR (kind = 'job' AND tenant_id = $3)) AND ($4::text IS NULL OR pool_id = $4) "
      + "AND ($5::boolean IS FALSE OR kind = 'job') ";
  /**
   * Job rows whose segment overlaps {@code [$1, $2)}. A segment lies inside its bucket, so only buckets from the
   * hour before {@code $1} to {@code $2} can hold one: the bound lets the ledger's bucket indexes find them.
   */
  private static final String OVERLAPPING = " FROM cost_ledger WHERE kind = 'job' AND bucket_start > $1::timestamptz "
      + "- interval '1 hour' AND bucket_start < $2 AND segment_end > $1 AND segment_start < $2";
  /**
   * Concurrency peaks over job rows overlapping {@code [$1, $2)}: jobs per pool and reserved cpu_m per tenant. The
   * rows are read once (each job batch row expanded once) for the four passes.
   */
  private static final String PEAKS = "WITH r AS MATERIALIZED (SELECT pool_id, tenant_id, segment_start, segment_end, "
      + "cpu_m" + OVERLAPPING + ") SELECT 'pool' AS scope, pool_id AS key, max(c) AS peak FROM (SELECT pool_id, "
      + "sum(d) OVER (PARTITION BY pool_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS c FROM ("
      + "SELECT pool_id, segment_start AS t, 1 AS d FROM r UNION ALL SELECT pool_id, segment_end, -1 FROM r) e) p "
      + "GROUP BY pool_id UNION ALL "
      + "SELECT 'tenant', tenant_id, max(c) FROM (SELECT tenant_id, sum(d) OVER (PARTITION BY tenant_id ORDER BY t, d "
      + "ROWS UNBOUNDED PRECEDING) AS c FROM (SELECT tenant_id, segment_start AS t, cpu_m AS d FROM r "
      + "UNION ALL SELECT tenant_id, segment_end, -cpu_m FROM r) e) p GROUP BY tenant_id";
  /** Largest job reservations per pool over {@code [$1, $2)}. */
  private static final String JOB_SHAPES = "SELECT pool_id, max(share) AS max_share, max(cpu_m) AS max_cpu_m, "
      + "max(memory_mb) AS max_memory_mb" + OVERLAPPING + " GROUP BY pool_id";
  private static final String IMPACT_BY_TENANT = "SELECT tenant_id, sum(impact_seconds) AS impact_seconds, "
      + "sum(delayed_jobs) AS delayed_jobs FROM cost_burst_impact WHERE finished_at >= $1 AND finished_at < $2 "
      + "AND ($3::text IS NULL OR tenant_id = $3) GROUP BY tenant_id";
  /**
   * Ledger totals for the meters: per tenant and per pool, all time (from the job batches' sums, without reading
   * their attempts) and over the last hour (the attempts of the buckets that can end after {@code $1}).
   */
  private static final String METER_TOTALS = "SELECT 'tenant' AS scope, tenant_id AS key, sum(total) AS total, "
      + "sum(burst) AS burst, sum(recent) AS recent, NULL::numeric AS idle FROM (SELECT tenant_id, amount AS total, "
      + "burst_amount AS burst, NULL::numeric AS recent FROM cost_job_batch UNION ALL SELECT tenant_id, NULL, NULL, "
      + "amount FROM cost_ledger WHERE kind = 'job' AND bucket_start > $1::timestamptz - interval '1 hour' "
      + "AND segment_end > $1) t GROUP BY tenant_id UNION ALL SELECT 'pool', pool_id, sum(worker), NULL, NULL, "
      + "coalesce(sum(worker), 0) - coalesce(sum(job), 0) FROM (SELECT pool_id, amount AS worker, NULL::numeric AS job "
      + "FROM cost_record UNION ALL SELECT pool_id, NULL, amount FROM cost_job_batch) p GROUP BY pool_id "
      + "UNION ALL SELECT 'impact', tenant_id, sum(impact_seconds), NULL, NULL, NULL "
      + "FROM cost_burst_impact GROUP BY tenant_id "
      // every tenant and pool has its series from the start, at 0 until it costs something
      + "UNION ALL SELECT 'tenant', id, 0::numeric, 0::numeric, 0::numeric, NULL FROM tenant t WHERE NOT EXISTS "
      + "(SELECT 1 FROM cost_job_batch c WHERE c.tenant_id = t.id) "
      + "UNION ALL SELECT 'pool', id, 0::numeric, NULL, NULL, 0::numeric FROM pool p WHERE NOT EXISTS "
      + "(SELECT 1 FROM cost_record c WHERE c.pool_id = p.id) AND NOT EXISTS (SELECT 1 FROM cost_job_batch c "
      + "WHERE c.pool_id = p.id) "
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

  Future<RowSet<Row>> unaccountedWorkers(Instant cutoff, String afterId, int limit) {
    return pool.preparedQuery(UNACCOUNTED_WORKERS).execute(Tuple.of(utc(cutoff), limit, afterId));
  }

  /** Writes a batch of worker rows and moves their cursors, atomically. */
  Future<Void> writeWorkers(List<CostRecord> records, List<Tuple> cursors) {
    return pool.withTransaction(conn -> upsert(conn, records)
        .compose(v -> cursors.isEmpty() ? Future.succeededFuture()
            : conn.preparedQuery(UPSERT_CURSOR).executeBatch(cursors).mapEmpty()));
  }

  static Tuple cursor(String workerId, Instant accountedUntil) { return Tuple.of(workerId, utc(accountedUntil)); }

  /**
   * Up to {@code limit} terminal events after {@code eventId} in log order, and how far the log was read for them
   * ({@link EndedJobs}). {@code whole}: the read walks the whole log after the cursor.
   */
  Future<EndedJobs> jobsEndedAfter(long eventId, int limit, boolean whole) {
    Future<Row> window = whole ? pool.query("SELECT max(last_seq) AS upto, max(last_seq) AS seen FROM job_event_log")
        .execute().map(rows -> rows.iterator().next())
        : pool.preparedQuery(LOG_WINDOW).execute(Tuple.of(eventId, limit)).map(rows -> rows.iterator().next());
    return window.compose(w -> {
      Long upTo = w.getLong("upto");
      if (upTo == null || upTo <= eventId) return Future.succeededFuture(new EndedJobs(List.of(), eventId, false));
      boolean more = w.getLong("seen") > upTo;
      return pool.preparedQuery(JOBS_ENDED_AFTER).execute(Tuple.of(eventId, limit, upTo)).map(rows -> {
        List<Row> list = new ArrayList<>(rows.size());
        rows.forEach(list::add);
        return new EndedJobs(list, upTo, more);
      });
    });
  }

  /**
   * Terminal events read from the log up to sequence {@code readTo}: when fewer than the limit came back, every end
   * event up to {@code readTo} is among them (the cursor may move there); {@code more}: the log goes on after it.
   */
  record EndedJobs(List<Row> rows, long readTo, boolean more) { }

  /** The job event log cursor (0 when the ledger has never read the log). */
  Future<Long> jobCursor() {
    return pool.query(JOB_CURSOR).execute().map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong(0));
  }

  Future<Row> burstImpact(String tenantId, String poolId, Instant start, Instant end) {
    return pool.preparedQuery(BURST_IMPACT).execute(Tuple.of(tenantId, poolId, utc(start), utc(end)))
        .map(rows -> rows.iterator().next());
  }

  /**
   * Writes the job rows and burst impact rows of the events after {@code from} up to {@code cursor}, and moves the
   * stored cursor to {@code cursor}, atomically; or, when the stored cursor is no longer {@code from} (another sweep
   * wrote those events, or a write whose commit was not confirmed did commit), writes nothing. A read from the start
   * ({@code from} 0) first deletes the job batches from its first event ({@code firstEvent}, null when the log is
   * empty) on, which it rewrites. Completes with the stored cursor afterwards.
   */
  Future<Long> writeJobs(List<CostRecord> records, List<Tuple> impacts, long from, Long firstEvent, long cursor) {
    return pool.withTransaction(conn -> conn.query(LOCK_JOB_CURSOR).execute().compose(rows -> {
      long stored = rows.size() == 0 ? 0L : rows.iterator().next().getLong(0);
      if (from != 0 && stored != from) return Future.succeededFuture(stored);
      Future<Void> cleared = from != 0 || firstEvent == null ? Future.succeededFuture()
          : conn.preparedQuery(DELETE_JOB_BATCHES).execute(Tuple.of(firstEvent)).mapEmpty();
      return cleared.compose(v -> insertJobs(conn, records, cursor))
          .compose(v -> impacts.isEmpty() ? Future.succeededFuture()
              : conn.preparedQuery(INSERT_IMPACT).executeBatch(impacts).mapEmpty())
          .compose(v -> conn.preparedQuery(SET_JOB_CURSOR).execute(Tuple.of(cursor)).map(cursor));
    }));
  }

  static Tuple impact(CostRecord.Usage attempt, BigDecimal seconds, long jobs) {
    return Tuple.of(attempt.jobId(), utc(attempt.start()), utc(attempt.end()), attempt.tenantId(), attempt.poolId(),
        attempt.burstGrantId(), seconds, jobs);
  }

  /**
   * Upserts worker rows in one statement. A statement may not upsert the same row twice, so a batch holding one key
   * twice keeps the last (rows are recomputed from their sources: the last is the current one).
   */
  private static Future<Void> upsert(SqlConnection conn, List<CostRecord> records) {
    if (records.isEmpty()) return Future.succeededFuture();
    List<Object[]> rows = new ArrayList<>();
    for (CostRecord r : lastPerKey(records)) {
      rows.add(new Object[] {r.kind(), r.sourceId(), utc(r.bucketStart()), r.poolId(), r.workerId(), r.jobId(),
          utc(r.attemptStartedAt()), r.tenantId(), r.burstGrantId(), utc(r.segmentStart()), utc(r.segmentEnd()),
          r.share().toPlainString(), r.cpuM(), r.memoryMb(), r.amount().toPlainString(),
          (r.burstFraction() == null ? java.math.BigDecimal.ZERO : r.burstFraction()).toPlainString()});
    }
    return conn.preparedQuery(UPSERT_RECORDS).execute(ColumnArrays.of(RECORD_COLUMNS, rows)).mapEmpty();
  }

  /** Inserts job rows as batch rows, one statement; an attempt listed twice (same key) counts once, the last. */
  private static Future<Void> insertJobs(SqlConnection conn, List<CostRecord> records, long cursor) {
    if (records.isEmpty()) return Future.succeededFuture();
    List<Object[]> rows = new ArrayList<>();
    for (CostRecord r : lastPerKey(records)) {
      rows.add(new Object[] {utc(r.bucketStart()), r.poolId(), r.tenantId(), r.jobId(), utc(r.attemptStartedAt()),
          r.burstGrantId(), utc(r.segmentEnd()), r.share().toPlainString(), r.cpuM(), r.memoryMb(),
          r.amount().toPlainString(), (r.burstFraction() == null ? BigDecimal.ZERO : r.burstFraction())
          .toPlainString()});
    }
    return conn.preparedQuery(INSERT_JOB_BATCHES).execute(ColumnArrays.of(JOB_COLUMNS, rows).addLong(cursor))
        .mapEmpty();
  }

  private static java.util.Collection<CostRecord> lastPerKey(List<CostRecord> records) {
    Map<String, CostRecord> byKey = new LinkedHashMap<>();
    for (CostRecord r : records) byKey.put(r.kind() + '\u0000' + r.sourceId() + '\u0000' + r.bucketStart(), r);
    return byKey.values();
  }

  /**
   * The worker rows of a pool whose segment ends after {@code since} (the ones a price version from then on
   * changes).
   */
  Future<List<CostRecord>> recordsAfter(String poolId, Instant since) {
    return pool.preparedQuery(RECORDS_AFTER).execute(Tuple.of(poolId, utc(since), utc(CostRecord.bucketOf(since))))
        .map(rows -> {
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

  /** One attempt's segment in a job batch row: the row's key, its place there, and what it is priced on. */
  record JobSegment(Instant bucketStart, String tenantId, long lastEventId, long index, Instant start, Instant end,
                    BigDecimal share) {}

  /**
   * Every attempt of the pool's job batch rows from the bucket of {@code since} on (the rows a price version from
   * then on may change; a segment ending earlier keeps its amount when repriced).
   */
  Future<List<JobSegment>> jobSegmentsAfter(String poolId, Instant since) {
    return pool.preparedQuery(JOB_SEGMENTS_AFTER).execute(Tuple.of(poolId, utc(CostRecord.bucketOf(since))))
        .map(rows -> {
          List<JobSegment> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new JobSegment(instant(r, "bucket_start"), r.getString("tenant_id"), r.getLong("last_event_id"),
                r.getLong("i"), instant(r, "segment_start"), instant(r, "segment_end"), r.getBigDecimal("share")));
          }
          return out;
        });
  }

  /**
   * Sets the amounts of whole job batch rows of the pool: {@code amounts.get(i)} for {@code segments.get(i)}, which
   * list every attempt of each row they name.
   */
  Future<Void> updateJobAmounts(String poolId, List<JobSegment> segments, List<BigDecimal> amounts) {
    if (segments.isEmpty()) return Future.succeededFuture();
    List<Object[]> rows = new ArrayList<>(segments.size());
    for (int i = 0; i < segments.size(); i++) {
      JobSegment s = segments.get(i);
      rows.add(new Object[] {utc(s.bucketStart()), s.tenantId(), s.lastEventId(), s.index(),
          amounts.get(i).toPlainString()});
    }
    Tuple args = Tuple.tuple().addString(poolId);
    Tuple columns = ColumnArrays.of(JOB_AMOUNT_COLUMNS, rows);
    for (int i = 0; i < columns.size(); i++) args.addValue(columns.getValue(i));
    return pool.preparedQuery(UPDATE_JOB_AMOUNTS).execute(args).mapEmpty();
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
