package io.hodei.cost;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ledger keeps job rows packed per sweep batch ({@code cost_job_batch}): a large ledger written by the ordinary
 * sweeps gives per-job, per-tenant, per-pool and per-day amounts equal to those computed independently from the job
 * rows, a re-read of the whole log gives the same again (nothing counted twice), repricing rewrites packed amounts
 * and their sums, and a sweep whose cursor is stale writes nothing.
 */
class CostJobBatchesTest {
  private static final Instant BASE = Instant.now().truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(1))
      .plus(Duration.ofHours(10));
  /** Jobs per tenant in the large ledger (below the 10,000 rows of a report, so group_by=job is complete). */
  private static final int JOBS_PER_TENANT = 5_000;
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.COST_SWEEP_INTERVAL, 1));
    Fixtures fixtures = new Fixtures(server);
    for (String tenant : List.of("bulk-a", "bulk-b", "repriced")) fixtures.tenant(tenant, null, 1, "viewer");
    for (String pool : List.of("bulk", "repriced", "stale", "live", "window")) {
      fixtures.pool(Fixtures.simulatedPool(pool, 0, 10).put("price_per_worker_hour", "3.6"), 0);
      price(pool, "3.6", BASE.minus(Duration.ofHours(1)));
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static void price(String pool, String price, Instant effective) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/cost/prices", new JsonObject().put("pool_id", pool)
        .put("price_per_worker_hour", price).put("effective_from", effective.toString()));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  private static io.vertx.sqlclient.RowSet<Row> sql(String statement, Tuple args) {
    return server.server().database().pool().preparedQuery(statement).execute(args).await();
  }

  private static java.time.OffsetDateTime at(Duration offset) { return BASE.plus(offset).atOffset(ZoneOffset.UTC); }

  /**
   * {@code count} ended jobs of {@code pool} as the scheduler leaves them (the job row, then its terminal event, in
   * end order), from {@code $5}: job n of the series starts n x 0.9 s + n mod 7 microseconds after it and runs
   * (n x 7919 mod 3000) s + n mod 1000 ms (up to 50 minutes, so many cross an hour), on cpu_m 1000 or 2000 of a
   * 4000 cpu_m worker (share 0.25 or 0.5); one in 499 ran on a burst grant (burst_seconds unknown: wholly burst).
   */
  /**
   * The scheduler's record of jobs ending, in the given order: each job gets its end event's sequence number and the
   * event log a row naming it (what the ledger walks).
   */
  private static final String ENDED_IN_ORDER_PREFIX = "WITH o AS (SELECT id FROM job ";
  private static final String ENDED_IN_ORDER_SUFFIX = "), s AS (SELECT id, nextval('job_event_id_seq') AS seq "
      + "FROM o), "
      + "u AS (UPDATE job j SET end_seq = s.seq, last_seq = s.seq FROM s WHERE j.id = s.id RETURNING j.id, s.seq) "
      + "INSERT INTO job_event_log (last_seq, first_seq, job_ids, ends) SELECT seq, seq, ARRAY[id], true FROM u";

  private static void endedJobs(String prefix, String pool, List<String> tenants, int count) {
    endedJobRows(prefix, pool, tenants, count);
    sql(ENDED_IN_ORDER_PREFIX + "WHERE id LIKE $1 || '%' ORDER BY finished_at, id" + ENDED_IN_ORDER_SUFFIX,
        Tuple.of(prefix));
  }

  /** The rows of {@link #endedJobs} without their end events. */
  private static void endedJobRows(String prefix, String pool, List<String> tenants, int count) {
    sql("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, pool_id, command, timeout_s, "
            + "max_attempts, attempts, max_queue_seconds, submitted_at, started_at, finished_at, placed_pool_id, "
            + "worker_id, run_ms, burst_grant_id) SELECT $1 || g, ($3::text[])[1 + g % cardinality($3::text[])], "
            + "'succeeded', 50, CASE WHEN g % 3 = 0 THEN 2000 ELSE 1000 END, 512, $2, '[\"true\"]'::jsonb, 3600, 1, "
            + "1, 3600, s, s, s + make_interval(secs => (g::bigint * 7919 % 3000) + (g % 1000) / 1000.0), $2, "
            + "'w-' || $2, 0, CASE WHEN g % 499 = 1 THEN 'bg-' || $2 END FROM (SELECT g, $5::timestamptz "
            + "+ g * interval '900 ms' + (g % 7) * interval '1 microsecond' AS s FROM generate_series(1, $4) g) x",
        Tuple.of(prefix, pool, tenants.toArray(new String[0]), count, at(Duration.ZERO)));
  }

  private static void worker(String id, String pool, Duration from, Duration to) {
    sql("INSERT INTO worker (id, pool_id, state, health, cpu_m, memory_mb, created_at, started_at, terminated_at) "
        + "VALUES ($1, $2, 'terminated', 'unknown', 4000, 8192, $3, $3, $4)", Tuple.of(id, pool, at(from), at(to)));
  }

  /**
   * What a job costs, from its row alone: (finished - started in whole milliseconds) x share x price / 3,600,000
   * (the ledger cuts the run at hour boundaries, which are whole milliseconds, so the pieces add up to this). With a
   * price of 3.60 per hour and shares of 0.25 and 0.5 no piece is rounded.
   */
  private static final String EXPECTED = "SELECT id, tenant_id, burst_grant_id, (floor(extract(epoch FROM "
      + "finished_at) * 1000) - floor(extract(epoch FROM started_at) * 1000)) * (cpu_m / 4000.0) * 3.6 / 3600000 "
      + "AS amount, extract(epoch FROM finished_at - started_at) AS seconds FROM job WHERE id LIKE $1 || '%'";

  private static JsonObject report(String query) {
    Response r = server.get("/api/v1/cost-reports?from=" + enc(BASE.toString()) + "&to="
        + enc(BASE.plus(Duration.ofHours(8)).toString()) + query, TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  /**
   * A re-read of the whole log, completed. On a loaded machine it may outlast its request (503 after 10 s) and go on;
   * the next request then waits for it and runs one more (every re-read gives the same ledger).
   */
  private static void fullSweep() {
    Poll.until(() -> server.admin(HttpMethod.POST, "/api/v1/cost/sweep", null), r -> r.status() == 200,
        Duration.ofSeconds(180), "a full cost sweep");
  }

  private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

  private static Map<String, JsonObject> rows(JsonObject report, String key) {
    Map<String, JsonObject> out = new HashMap<>();
    report.getJsonArray("rows").forEach(r -> out.put(((JsonObject) r).getString(key), (JsonObject) r));
    return out;
  }

  private static String money(BigDecimal amount) { return amount.setScale(6, RoundingMode.HALF_EVEN).toPlainString(); }

  @Test
  void aLargeLedgerWrittenByTheSweepsMatchesTheJobRowsAndARereadCountsNothingTwice() {
    worker("w-bulk", "bulk", Duration.ZERO, Duration.ofHours(7));
    endedJobs("bulk-", "bulk", List.of("bulk-a", "bulk-b"), 2 * JOBS_PER_TENANT);
    Map<String, BigDecimal> tenantCost = new HashMap<>();
    Map<String, BigDecimal> tenantBurst = new HashMap<>();
    Map<String, BigDecimal> tenantSeconds = new HashMap<>();
    Map<String, String> jobCost = new HashMap<>();
    for (Row r : sql(EXPECTED, Tuple.of("bulk-"))) {
      BigDecimal amount = r.getBigDecimal("amount");
      tenantCost.merge(r.getString("tenant_id"), amount, BigDecimal::add);
      if (r.getString("burst_grant_id") != null) tenantBurst.merge(r.getString("tenant_id"), amount, BigDecimal::add);
      tenantSeconds.merge(r.getString("tenant_id"), r.getBigDecimal("seconds"), BigDecimal::add);
      jobCost.put(r.getString("id"), money(amount));
    }
    BigDecimal allJobs = tenantCost.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);

    // the periodic sweep reads the new events in batches of 500
    Poll.until(() -> report("&group_by=tenant&pool_id=bulk"), r -> r.getJsonObject("totals").getLong("jobs")
        == 2L * JOBS_PER_TENANT, Duration.ofSeconds(60), "the sweeps to cost every bulk job");
    long batchRows = sql("SELECT count(*) FROM cost_job_batch WHERE pool_id = 'bulk'", Tuple.tuple()).iterator()
        .next().getLong(0);
    assertThat(batchRows).as("one row per sweep batch, bucket and tenant, not per job")
        .isBetween(2L * JOBS_PER_TENANT / CostLedger.BATCH, 2L * JOBS_PER_TENANT / 10);

    for (int pass = 0; pass < 2; pass++) {
      JsonObject byTenant = report("&group_by=tenant&pool_id=bulk");
      for (String tenant : List.of("bulk-a", "bulk-b")) {
        JsonObject row = rows(byTenant, "tenant_id").get(tenant);
        assertThat(row.getString("job_cost")).as(tenant).isEqualTo(money(tenantCost.get(tenant)));
        assertThat(row.getString("burst_cost")).as(tenant).isEqualTo(money(tenantBurst.get(tenant)));
        assertThat(tenantBurst.get(tenant)).isPositive();
        assertThat(row.getString("job_seconds")).as(tenant)
            .isEqualTo(tenantSeconds.get(tenant).setScale(3, RoundingMode.HALF_EVEN).toPlainString());
        assertThat(row.getLong("jobs")).as(tenant).isEqualTo((long) JOBS_PER_TENANT);
        // one row per attempt, each with its own exact amount
        JsonObject byJob = report("&group_by=job&pool_id=bulk&tenant_id=" + tenant);
        assertThat(byJob.getBoolean("truncated")).isFalse();
        Map<String, JsonObject> jobs = rows(byJob, "job_id");
        assertThat(jobs).hasSize(JOBS_PER_TENANT);
        jobs.forEach((id, r) -> assertThat(r.getString("job_cost")).as(id).isEqualTo(jobCost.get(id)));
      }
      JsonObject pool = rows(report("&group_by=pool"), "pool_id").get("bulk");
      assertThat(pool.getString("job_cost")).isEqualTo(money(allJobs));
      assertThat(pool.getString("pool_cost")).isEqualTo("25.200000");
      assertThat(pool.getString("idle_cost")).isEqualTo(money(new BigDecimal("25.2").subtract(allJobs)));
      assertThat(pool.getLong("jobs")).isEqualTo(2L * JOBS_PER_TENANT);
      JsonArray days = report("&group_by=day&pool_id=bulk").getJsonArray("rows");
      assertThat(days).hasSize(1);
      assertThat(days.getJsonObject(0).getString("job_cost")).isEqualTo(money(allJobs));
      assertThat(days.getJsonObject(0).getLong("jobs")).isEqualTo(2L * JOBS_PER_TENANT);

      // a re-read of the whole log rewrites the job rows: the same amounts, nothing counted twice
      fullSweep();
    }

    List<Prometheus.Sample> samples = Poll.until(() -> Prometheus.parse(server.get("/metrics", null).body()),
        s -> value(s, "hodei_tenant_cost_total", "bulk-b") != null
            && value(s, "hodei_tenant_cost_total", "bulk-b") > 0, Duration.ofSeconds(20), "cost metrics");
    for (String tenant : List.of("bulk-a", "bulk-b")) {
      assertThat(value(samples, "hodei_tenant_cost_total", tenant))
          .isCloseTo(tenantCost.get(tenant).doubleValue(), org.assertj.core.data.Offset.offset(1e-6));
      assertThat(value(samples, "hodei_tenant_burst_cost_total", tenant))
          .isCloseTo(tenantBurst.get(tenant).doubleValue(), org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  @Test
  void aNewPriceVersionReprisesThePackedJobRowsAndTheirSums() {
    worker("w-repriced", "repriced", Duration.ZERO, Duration.ofHours(3));
    // two jobs: one wholly before the new price, one across the hour it takes effect in (and a burst one)
    sql("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, pool_id, command, timeout_s, "
            + "max_attempts, attempts, max_queue_seconds, submitted_at, started_at, finished_at, placed_pool_id, "
            + "worker_id, run_ms, burst_grant_id) VALUES ('rp-early', 'repriced', 'succeeded', 50, 2000, 512, "
            + "'repriced', '[\"true\"]'::jsonb, 60, 1, 1, 3600, $1, $1, $2, 'repriced', 'w-repriced', 0, NULL), "
            + "('rp-across', 'repriced', 'succeeded', 50, 2000, 512, 'repriced', '[\"true\"]'::jsonb, 60, 1, 1, 3600, "
            + "$3, $3, $4, 'repriced', 'w-repriced', 0, 'bg-repriced')",
        Tuple.of(at(Duration.ofMinutes(0)), at(Duration.ofMinutes(20)), at(Duration.ofMinutes(40)),
            at(Duration.ofMinutes(100))));
    sql(ENDED_IN_ORDER_PREFIX + "WHERE id LIKE 'rp-%' ORDER BY finished_at" + ENDED_IN_ORDER_SUFFIX, Tuple.tuple());
    fullSweep();
    Map<String, JsonObject> jobs = rows(report("&group_by=job&pool_id=repriced"), "job_id");
    // 20 min x 0.5 x 3.60/h; 60 min x 0.5 x 3.60/h
    assertThat(jobs.get("rp-early").getString("job_cost")).isEqualTo("0.600000");
    assertThat(jobs.get("rp-across").getString("job_cost")).isEqualTo("1.800000");

    // 7.20/h from base + 70 min: rp-across ran 30 min of it
    price("repriced", "7.2", BASE.plus(Duration.ofMinutes(70)));
    jobs = rows(report("&group_by=job&pool_id=repriced"), "job_id");
    assertThat(jobs.get("rp-early").getString("job_cost")).isEqualTo("0.600000");
    assertThat(jobs.get("rp-across").getString("job_cost")).isEqualTo("2.700000");
    JsonObject tenant = rows(report("&group_by=tenant&pool_id=repriced"), "tenant_id").get("repriced");
    assertThat(tenant.getString("job_cost")).isEqualTo("3.300000");
    assertThat(tenant.getString("burst_cost")).isEqualTo("2.700000");
    // the batch rows' sums (what the meters read) follow their elements
    Row sums = sql("SELECT sum(amount) AS amount, sum(burst_amount) AS burst FROM cost_job_batch "
        + "WHERE pool_id = 'repriced'", Tuple.tuple()).iterator().next();
    assertThat(sums.getBigDecimal("amount")).isEqualByComparingTo("3.3");
    assertThat(sums.getBigDecimal("burst")).isEqualByComparingTo("2.7");
    // the worker row too: 70 min at 3.60, 110 min at 7.20
    JsonObject pool = rows(report("&group_by=pool&pool_id=repriced"), "pool_id").get("repriced");
    assertThat(pool.getString("pool_cost")).isEqualTo("17.400000");
  }

  /**
   * A sweep reads the log a window at a time (rows naming up to a batch of jobs): a log of rows naming a hundred jobs
   * each, most rows holding no end (a batch's starts), one naming more jobs than a batch, is costed whole and
   * exactly, and the cursor moves past trailing rows without an end.
   */
  @Test
  void aLogOfLargeRowsMostWithoutEndsIsCostedWholeAcrossWindows() {
    int jobs = 1_300;
    worker("w-window", "window", Duration.ZERO, Duration.ofHours(7));
    endedJobRows("window-", "window", List.of("bulk-a"), jobs);
    // per hundred jobs in end order: a row of their starts (no end in its range), then a row of their ends; after the
    // sixth hundred a row naming 700 of them (more than a batch) with no end; last, a start row again
    sql("DO $$ DECLARE k int; ids text[]; a bigint; b bigint; BEGIN FOR k IN 0..12 LOOP "
        + "SELECT array_agg(id ORDER BY finished_at, id) INTO ids FROM (SELECT id, finished_at FROM job "
        + "WHERE id LIKE 'window-%' ORDER BY finished_at, id OFFSET k * 100 LIMIT 100) x; "
        + "SELECT min(s), max(s) INTO a, b FROM (SELECT nextval('job_event_id_seq') AS s "
        + "FROM generate_series(1, 100)) q; "
        + "INSERT INTO job_event_log (last_seq, first_seq, job_ids) VALUES (b, a, ids); "
        + "WITH s AS (SELECT u.id, nextval('job_event_id_seq') AS seq FROM unnest(ids) WITH ORDINALITY u(id, o) "
        + "ORDER BY o), e AS (UPDATE job j SET end_seq = s.seq, last_seq = s.seq FROM s WHERE j.id = s.id "
        + "RETURNING s.seq) INSERT INTO job_event_log (last_seq, first_seq, job_ids, ends) "
        + "SELECT max(seq), min(seq), ids, true FROM e; "
        + "IF k = 5 OR k = 12 THEN SELECT array_agg(id) INTO ids FROM (SELECT id FROM job WHERE id LIKE 'window-%' "
        + "LIMIT 700) y; SELECT min(s), max(s) INTO a, b FROM (SELECT nextval('job_event_id_seq') AS s "
        + "FROM generate_series(1, 700)) q; INSERT INTO job_event_log (last_seq, first_seq, job_ids) "
        + "VALUES (b, a, ids); END IF; END LOOP; END $$", Tuple.tuple());
    long lastLogged = sql("SELECT max(last_seq) FROM job_event_log", Tuple.tuple()).iterator().next().getLong(0);
    BigDecimal expected = BigDecimal.ZERO;
    for (Row r : sql(EXPECTED, Tuple.of("window-"))) expected = expected.add(r.getBigDecimal("amount"));

    JsonObject pool = Poll.until(() -> rows(report("&group_by=pool&pool_id=window"), "pool_id").get("window"),
        p -> p != null && p.getLong("jobs") == jobs, Duration.ofSeconds(60), "the sweeps to cost every job");
    assertThat(pool.getString("job_cost")).isEqualTo(money(expected));
    assertThat(Poll.until(() -> sql("SELECT last_event_id FROM cost_job_cursor", Tuple.tuple()).iterator().next()
        .getLong(0), c -> c >= lastLogged, Duration.ofSeconds(30), "the cursor past the last row")).isPositive();
    fullSweep();
    pool = rows(report("&group_by=pool&pool_id=window"), "pool_id").get("window");
    assertThat(pool.getLong("jobs")).isEqualTo((long) jobs);
    assertThat(pool.getString("job_cost")).isEqualTo(money(expected));
  }

  @Test
  void aSweepWhoseCursorMovedMeanwhileWritesNothing() {
    // two jobs on a worker of unknown shape (wholly reserved): 10 minutes at 3.60/h each
    sql("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, pool_id, command, timeout_s, "
            + "max_attempts, attempts, max_queue_seconds, submitted_at, started_at, finished_at, placed_pool_id, "
            + "worker_id, run_ms) SELECT id, 'repriced', 'succeeded', 50, 1000, 512, 'stale', '[\"true\"]'::jsonb, "
            + "60, 1, 1, 3600, $1, $1, $2, 'stale', 'w-unknown', 0 FROM unnest(ARRAY['stale-1', 'stale-2']) id",
        Tuple.of(at(Duration.ofHours(5)), at(Duration.ofHours(5).plusMinutes(10))));
    sql(ENDED_IN_ORDER_PREFIX + "WHERE id LIKE 'stale-%' ORDER BY id" + ENDED_IN_ORDER_SUFFIX, Tuple.tuple());
    fullSweep();
    long stored = sql("SELECT last_event_id FROM cost_job_cursor", Tuple.tuple()).iterator().next().getLong(0);
    assertThat(stored).isGreaterThan(1L);
    long rowsBefore = sql("SELECT count(*) FROM cost_job_batch", Tuple.tuple()).iterator().next().getLong(0);

    // what a second writer that read the last event again from an older cursor would write (a deposed leader's
    // sweep, or a sweep retrying a write whose commit it did not see)
    CostStore store = new CostStore(server.server().database().pool());
    Instant start = BASE.plus(Duration.ofHours(5));
    CostRecord again = new CostRecord(CostRecord.JOB, "stale-2@" + start, start, "stale", null, "stale-2", start,
        "repriced", null, start, start.plus(Duration.ofMinutes(10)), new BigDecimal("1.000000000"), 1000, 512,
        new BigDecimal("0.6000000000"), BigDecimal.ZERO);
    long after = store.writeJobs(List.of(again), List.of(), stored - 1, stored, stored).await();

    assertThat(after).isEqualTo(stored);
    assertThat(sql("SELECT count(*) FROM cost_job_batch", Tuple.tuple()).iterator().next().getLong(0))
        .isEqualTo(rowsBefore);
    JsonObject pool = rows(report("&group_by=pool&pool_id=stale"), "pool_id").get("stale");
    assertThat(pool.getString("job_cost")).isEqualTo("1.200000");
    assertThat(pool.getLong("jobs")).isEqualTo(2L);
  }

  @Test
  void moreLiveWorkersThanOnePageAreAllCostedAndTheSweepEnds() {
    int workers = 2 * CostLedger.BATCH + 10;
    sql("INSERT INTO worker (id, pool_id, state, health, cpu_m, memory_mb, created_at, started_at) "
        + "SELECT 'live-' || lpad(g::text, 5, '0'), 'live', 'terminating', 'unknown', 4000, 8192, "
        + "now() - interval '5 minutes', now() - interval '5 minutes' FROM generate_series(1, $1) g",
        Tuple.of(workers));
    try {
      fullSweep();
      assertThat(sql("SELECT count(DISTINCT source_id) FROM cost_record WHERE pool_id = 'live'", Tuple.tuple())
          .iterator().next().getLong(0)).isEqualTo((long) workers);
      // a live worker's cursor is written once per bucket, not by every sweep
      long cursors = sql("SELECT count(*) FROM cost_worker_cursor WHERE worker_id LIKE 'live-%'", Tuple.tuple())
          .iterator().next().getLong(0);
      assertThat(cursors).isEqualTo(workers);
    } finally {
      sql("UPDATE worker SET state = 'terminated', terminated_at = now() WHERE pool_id = 'live'", Tuple.tuple());
    }
  }

  private static Double value(List<Prometheus.Sample> samples, String name, String tenant) {
    return samples.stream().filter(s -> s.name().equals(name) && tenant.equals(s.labels().get("tenant_id")))
        .map(Prometheus.Sample::value).findFirst().orElse(null);
  }
}
