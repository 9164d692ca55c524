package io.hodei.cost;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.CostBreakdown;
import io.hodei.grpc.v1.CostOptimizationServiceGrpcClient;
import io.hodei.grpc.v1.CostReport;
import io.hodei.grpc.v1.CostRow;
import io.hodei.grpc.v1.GenerateReportRequest;
import io.hodei.grpc.v1.GetCostBreakdownRequest;
import io.hodei.grpc.v1.GetRecommendationsRequest;
import io.hodei.grpc.v1.Recommendations;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.sqlclient.Tuple;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.GrpcTestClient.statusOf;
import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cost tracking end to end on real PostgreSQL: a known workload (worker and job rows with known timestamps on pools
 * with known, versioned prices) is attributed by the ledger and read back through REST (JSON and CSV), gRPC and
 * /metrics with exactly the expected amounts.
 *
 * <p>Pool "exact" (workers 4000 cpu_m / 8192 MB): 3.60/h until base+1h, then 7.20/h. Worker W1 lives base..base+2h
 * (3.60 + 7.20 = 10.80). Job A (alpha, 2000 cpu_m = share 0.5) runs base..+30m: 0.90. Job B (beta, share 1, burst)
 * runs +30m..+90m: 1.80 + 3.60 = 5.40. Job C (alpha, 1024 of 8192... share 0.25) waits +40m..+90m behind B and runs
 * +90m..+100m at 7.20: 0.30. Jobs 6.60, idle 4.20. Beta's burst delayed C by 3000 s.
 */
class CostTrackingTest {
  private static final Instant BASE = Instant.now().truncatedTo(ChronoUnit.DAYS).minus(Duration.ofDays(1))
      .plus(Duration.ofHours(10));
  private static TestServer server;
  private static Fixtures fixtures;
  private static String alpha;
  private static String beta;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.COST_SWEEP_INTERVAL, 1));
    fixtures = new Fixtures(server);
    alpha = fixtures.tenant("alpha", null, 1, "viewer");
    beta = fixtures.tenant("beta", null, 1, "viewer");
    fixtures.tenant("roomy", new JsonObject().put("cpu_m", 64000).put("memory_mb", 65536)
        .put("max_concurrent_jobs", 10).put("max_queued_jobs", 100), 1, "viewer");
    fixtures.pool(pool("exact", 0, "7.2"), 0);
    fixtures.pool(pool("over", 3, "1.0"), 3);
    fixtures.pool(pool("fit", 1, "2.0"), 1);
    price("exact", "3.6", BASE);
    price("exact", "7.2", at(60));

    worker("w-exact-1", "exact", 0, 120);
    worker("w-over-1", "over", 0, 120);
    worker("w-fit-1", "fit", 0, 120);
    job("job-a", "alpha", "exact", "w-exact-1", 2000, 1024, 0, 0, 30, null);
    job("job-b", "beta", "exact", "w-exact-1", 4000, 4096, 30, 30, 90, "bg-test");
    job("job-c", "alpha", "exact", "w-exact-1", 1000, 2048, 40, 90, 100, null);
    job("job-d", "alpha", "over", "w-over-1", 500, 512, 0, 0, 60, null);
    job("job-e", "beta", "fit", "w-fit-1", 4000, 8192, 0, 0, 110, null);
    Response swept = server.admin(HttpMethod.POST, "/api/v1/cost/sweep", null);
    assertThat(swept.status()).as(swept.toString()).isEqualTo(200);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static JsonObject pool(String id, int size, String price) {
    return Fixtures.simulatedPool(id, size, 10).put("price_per_worker_hour", price);
  }

  private static Instant at(int minutes) { return BASE.plus(Duration.ofMinutes(minutes)); }

  private static void price(String pool, String price, Instant effective) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/cost/prices", new JsonObject().put("pool_id", pool)
        .put("price_per_worker_hour", price).put("effective_from", effective.toString()));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  private static void sql(String statement, Tuple args) {
    server.server().database().pool().preparedQuery(statement).execute(args).await();
  }

  private static void worker(String id, String pool, int fromMinute, int toMinute) {
    sql("INSERT INTO worker (id, pool_id, state, health, cpu_m, memory_mb, created_at, started_at, terminated_at) "
            + "VALUES ($1, $2, 'terminated', 'unknown', 4000, 8192, $3, $3, $4)",
        Tuple.of(id, pool, at(fromMinute).atOffset(ZoneOffset.UTC), at(toMinute).atOffset(ZoneOffset.UTC)));
  }

  private static void job(String id, String tenant, String pool, String worker, long cpuM, long memoryMb,
                          int submitted, int started, int finished, String burstGrant) {
    // the scheduler logs every end: the job row holds its end event's sequence and the event log names the job
    sql("INSERT INTO job (id, tenant_id, state, priority, cpu_m, memory_mb, pool_id, command, timeout_s, "
            + "max_attempts, attempts, max_queue_seconds, submitted_at, started_at, finished_at, placed_pool_id, "
            + "worker_id, run_ms, burst_grant_id, end_seq, last_seq) VALUES ($1, $2, 'succeeded', 50, $3, $4, $5, "
            + "'[\"true\"]'::jsonb, 60, 1, 1, 3600, $6, $7, $8, $5, $9, $10, $11, nextval('job_event_id_seq'), "
            + "currval('job_event_id_seq'))",
        Tuple.from(new Object[] {id, tenant, cpuM, memoryMb, pool, at(submitted).atOffset(ZoneOffset.UTC),
            at(started).atOffset(ZoneOffset.UTC), at(finished).atOffset(ZoneOffset.UTC), worker,
            (long) (finished - started) * 60_000, burstGrant}));
    sql("INSERT INTO job_event_log (last_seq, first_seq, job_ids, ends) SELECT end_seq, end_seq, ARRAY[id], true "
        + "FROM job WHERE id = $1", Tuple.of(id));
  }

  private static String period() {
    return "from=" + enc(BASE.toString()) + "&to=" + enc(at(180).toString());
  }

  private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

  private static JsonObject report(String query, String token) {
    Response r = server.get("/api/v1/cost-reports?" + period() + query, token);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  private static Map<String, JsonObject> rows(JsonObject report, String key) {
    Map<String, JsonObject> out = new HashMap<>();
    report.getJsonArray("rows").forEach(r -> out.put(((JsonObject) r).getString(key), (JsonObject) r));
    return out;
  }

  @Test
  void knownWorkloadGivesExactPerJobTenantAndPoolAmounts() {
    Map<String, JsonObject> jobs = rows(report("&group_by=job&pool_id=exact", TestServer.ADMIN_TOKEN), "job_id");
    assertThat(jobs).containsOnlyKeys("job-a", "job-b", "job-c");
    assertThat(jobs.get("job-a").getString("job_cost")).isEqualTo("0.900000");
    // the price change at base+1h is honoured inside the job's run
    assertThat(jobs.get("job-b").getString("job_cost")).isEqualTo("5.400000");
    assertThat(jobs.get("job-b").getString("burst_grant_id")).isEqualTo("bg-test");
    assertThat(jobs.get("job-c").getString("job_cost")).isEqualTo("0.300000");

    Map<String, JsonObject> tenants = rows(report("&group_by=tenant&pool_id=exact", TestServer.ADMIN_TOKEN),
        "tenant_id");
    assertThat(tenants.get("alpha").getString("job_cost")).isEqualTo("1.200000");
    assertThat(tenants.get("alpha").getString("burst_cost")).isEqualTo("0.000000");
    assertThat(tenants.get("beta").getString("job_cost")).isEqualTo("5.400000");
    assertThat(tenants.get("beta").getString("burst_cost")).isEqualTo("5.400000");
    assertThat(tenants.get("beta").getString("burst_cpu_m_seconds")).isEqualTo("14400000.000");

    JsonObject byPool = report("&group_by=pool", TestServer.ADMIN_TOKEN);
    JsonObject exact = rows(byPool, "pool_id").get("exact");
    assertThat(exact.getString("pool_cost")).isEqualTo("10.800000");
    assertThat(exact.getString("job_cost")).isEqualTo("6.600000");
    assertThat(exact.getString("idle_cost")).isEqualTo("4.200000");
    assertThat(exact.getString("efficiency")).isEqualTo("0.6111");
    assertThat(exact.getLong("jobs")).isEqualTo(3L);
    assertThat(rows(byPool, "pool_id").get("fit").getString("job_cost")).isEqualTo("3.666667");
    JsonObject reconciliation = byPool.getJsonObject("reconciliation");
    assertThat(reconciliation.getBoolean("reconciled")).isTrue();
    assertThat(reconciliation.getString("pool_cost")).isEqualTo("16.800000");
    assertThat(new java.math.BigDecimal(reconciliation.getString("job_cost"))
        .add(new java.math.BigDecimal(reconciliation.getString("idle_cost"))))
        .isEqualByComparingTo(reconciliation.getString("pool_cost"));

    JsonArray days = report("&group_by=day&pool_id=exact", TestServer.ADMIN_TOKEN).getJsonArray("rows");
    assertThat(days).hasSize(1);
    assertThat(days.getJsonObject(0).getString("day")).isEqualTo(BASE.toString().substring(0, 10));
    assertThat(days.getJsonObject(0).getString("idle_cost")).isEqualTo("4.200000");
  }

  @Test
  void csvIsValidAndCarriesTheSameAmounts() {
    Response r = server.send(server.request(HttpMethod.GET, "/api/v1/cost-reports?" + period()
        + "&group_by=pool", TestServer.ADMIN_TOKEN).putHeader("Accept", "text/csv"), null);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("text/csv");
    List<List<String>> table = parseCsv(r.body());
    List<String> header = table.get(0);
    assertThat(header).startsWith("pool_id", "job_cost").contains("pool_cost", "idle_cost");
    assertThat(table.subList(1, table.size())).allSatisfy(row -> assertThat(row).hasSameSizeAs(header));
    List<String> exact = table.stream().filter(row -> row.get(0).equals("exact")).findFirst().orElseThrow();
    assertThat(exact.get(header.indexOf("pool_cost"))).isEqualTo("10.800000");
    assertThat(exact.get(header.indexOf("idle_cost"))).isEqualTo("4.200000");
  }

  @Test
  void asyncReportIsStoredAndServedAsJsonAndCsv() {
    Response created = server.admin(HttpMethod.POST, "/api/v1/cost-reports", new JsonObject()
        .put("from", BASE.toString()).put("to", at(180).toString()).put("group_by", "tenant"));
    assertThat(created.status()).as(created.toString()).isEqualTo(202);
    String id = created.json().getString("id");
    assertThat(created.json().getString("status")).isEqualTo("pending");
    JsonObject done = Poll.until(() -> server.get("/api/v1/cost-reports/" + id, TestServer.ADMIN_TOKEN).json(),
        j -> "done".equals(j.getString("status")), Duration.ofSeconds(20), "report " + id + " done");
    Map<String, JsonObject> tenants = rows(done.getJsonObject("result"), "tenant_id");
    // alpha: A + C on exact (1.20) + D on over (0.125); beta: B (5.40) + E on fit (3.6666666667)
    assertThat(tenants.get("alpha").getString("job_cost")).isEqualTo("1.325000");
    assertThat(tenants.get("beta").getString("job_cost")).isEqualTo("9.066667");
    Response csv = server.send(server.request(HttpMethod.GET, "/api/v1/cost-reports/" + id, TestServer.ADMIN_TOKEN)
        .putHeader("Accept", "text/csv"), null);
    assertThat(csv.status()).as(csv.toString()).isEqualTo(200);
    List<List<String>> table = parseCsv(csv.body());
    assertThat(table.get(0).get(0)).isEqualTo("tenant_id");
    assertThat(table).anySatisfy(row -> assertThat(row).startsWith("beta", "9.066667"));
    // a tenant token cannot read a report it did not scope to itself
    assertProblem(server.get("/api/v1/cost-reports/" + id, alpha), 404);
    assertProblem(server.get("/api/v1/cost-reports/cr-nope", TestServer.ADMIN_TOKEN), 404);
  }

  @Test
  void tenantTokensSeeOnlyTheirOwnCosts() {
    JsonObject mine = report("&group_by=tenant", alpha);
    assertThat(mine.getString("tenant_id")).isEqualTo("alpha");
    assertThat(rows(mine, "tenant_id")).containsOnlyKeys("alpha");
    assertThat(mine.containsKey("reconciliation")).isFalse();
    assertThat(mine.getJsonObject("totals").containsKey("pool_cost")).isFalse();
    JsonObject byPool = report("&group_by=pool", alpha);
    assertThat(byPool.getJsonArray("columns")).doesNotContain("pool_cost", "idle_cost");
    assertThat(rows(byPool, "pool_id").get("exact").getString("job_cost")).isEqualTo("1.200000");
    assertProblem(server.get("/api/v1/cost-reports?" + period() + "&tenant_id=beta", alpha), 404);
    JsonObject breakdown = server.get("/api/v1/cost-optimization/breakdown?" + period(), beta).json();
    assertThat(breakdown.containsKey("pools")).isFalse();
    assertThat(breakdown.getJsonArray("tenants")).hasSize(1);
    assertThat(breakdown.getJsonArray("tenants").getJsonObject(0).getString("tenant_id")).isEqualTo("beta");
  }

  @Test
  void breakdownShowsEfficiencyWastageAndBurstImpact() {
    Response r = server.get("/api/v1/cost-optimization/breakdown?" + period(), TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject exact = rows(new JsonObject().put("rows", r.json().getJsonArray("pools")), "pool_id").get("exact");
    assertThat(exact.getString("wastage")).isEqualTo("4.200000");
    assertThat(exact.getString("wastage_ratio")).isEqualTo("0.3889");
    JsonObject betaRow = rows(new JsonObject().put("rows", r.json().getJsonArray("tenants")), "tenant_id").get("beta");
    // job C of alpha waited 40m..90m while beta's burst job B ran 30m..90m
    assertThat(betaRow.getString("burst_impact_seconds")).isEqualTo("3000.000");
    assertThat(betaRow.getLong("burst_delayed_jobs")).isEqualTo(1L);
  }

  @Test
  void recommendationsFlagTheOverProvisionedPoolAndNotTheWellSizedOne() {
    Response r = server.get("/api/v1/cost-optimization/recommendations?window_hours=72", TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    List<JsonObject> all = new ArrayList<>();
    r.json().getJsonArray("recommendations").forEach(o -> all.add((JsonObject) o));
    List<String> over = all.stream().filter(o -> "over".equals(o.getString("pool_id")))
        .map(o -> o.getString("type")).toList();
    assertThat(over).contains("pool_min_too_high", "workers_too_large", "idle_time");
    assertThat(all).noneMatch(o -> "fit".equals(o.getString("pool_id")));
    JsonObject minTooHigh = all.stream().filter(o -> "over".equals(o.getString("pool_id"))
        && "pool_min_too_high".equals(o.getString("type"))).findFirst().orElseThrow();
    assertThat(minTooHigh.getJsonObject("evidence").getLong("peak_concurrent_jobs")).isEqualTo(1L);
    // (3 - 1) workers x 1.00/h x 72 h
    assertThat(minTooHigh.getString("estimated_saving")).isEqualTo("144.000000");
    assertThat(all).anyMatch(o -> "tenant_unused_quota".equals(o.getString("type"))
        && "roomy".equals(o.getString("tenant_id")));
    JsonArray alphaOnly = server.get("/api/v1/cost-optimization/recommendations", alpha).json()
        .getJsonArray("recommendations");
    assertThat(alphaOnly).allSatisfy(o -> assertThat(((JsonObject) o).getString("pool_id")).isNull());
  }

  @Test
  void aPoolPriceUpdateBecomesANewVersion() {
    Response before = server.get("/api/v1/cost/prices?pool_id=fit", TestServer.ADMIN_TOKEN);
    assertThat(before.status()).as(before.toString()).isEqualTo(200);
    Response patched = server.admin(HttpMethod.PATCH, "/api/v1/pools/fit",
        new JsonObject().put("price_per_worker_hour", "3.5"));
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    JsonObject after = Poll.until(() -> server.get("/api/v1/cost/prices?pool_id=fit", TestServer.ADMIN_TOKEN).json(),
        j -> j.getJsonArray("items").stream().anyMatch(i -> "3.500000".equals(((JsonObject) i)
            .getString("price_per_worker_hour"))), Duration.ofSeconds(20), "price version of fit");
    JsonObject last = after.getJsonArray("items").getJsonObject(after.getJsonArray("items").size() - 1);
    assertThat(last.getString("source")).isEqualTo("pool");
    assertThat(Instant.parse(last.getString("effective_from"))).isAfter(BASE.plus(Duration.ofHours(3)));
  }

  @Test
  void badInputIsRejected() {
    String to = "&to=" + enc(at(60).toString());
    assertProblem(server.get("/api/v1/cost-reports?from=yesterday" + to, TestServer.ADMIN_TOKEN), 400);
    assertProblem(server.get("/api/v1/cost-reports?" + period() + "&colour=red", TestServer.ADMIN_TOKEN), 400);
    assertProblem(server.get("/api/v1/cost-reports?from=" + enc(at(60).toString()) + "&to=" + enc(BASE.toString()),
        TestServer.ADMIN_TOKEN), 422);
    assertProblem(server.get("/api/v1/cost-reports?from=" + enc(BASE.minus(Duration.ofDays(40)).toString()) + to,
        TestServer.ADMIN_TOKEN), 422);
    assertProblem(server.get("/api/v1/cost-reports?" + period() + "&group_by=planet", TestServer.ADMIN_TOKEN), 422);
    assertProblem(server.get("/api/v1/cost-reports" , TestServer.ADMIN_TOKEN), 422);
    assertProblem(server.get("/api/v1/cost-optimization/recommendations?window_hours=0", TestServer.ADMIN_TOKEN),
        422);
    assertProblem(server.get("/api/v1/cost-optimization/recommendations?window_hours=abc", TestServer.ADMIN_TOKEN),
        400);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/cost/prices",
        new JsonObject().put("pool_id", "exact").put("price_per_worker_hour", "-1")), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/cost/prices",
        new JsonObject().put("pool_id", "nope").put("price_per_worker_hour", "1")), 404);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/cost/prices", alpha,
        new JsonObject().put("pool_id", "exact").put("price_per_worker_hour", "1")), 403);
    assertProblem(server.get("/api/v1/cost-reports?" + period(), null), 401);
  }

  @Test
  void metricsCarryTenantAndPoolCost() {
    List<Prometheus.Sample> samples = Poll.until(() -> Prometheus.parse(server.get("/metrics", null).body()),
        s -> value(s, "hodei_tenant_burst_impact_seconds_total", "tenant_id", "beta") != null,
        Duration.ofSeconds(20), "cost metrics");
    assertThat(value(samples, "hodei_tenant_cost_total", "tenant_id", "beta")).isGreaterThanOrEqualTo(9.06);
    assertThat(value(samples, "hodei_tenant_burst_cost_total", "tenant_id", "beta")).isEqualTo(5.4);
    assertThat(value(samples, "hodei_tenant_burst_impact_seconds_total", "tenant_id", "beta")).isEqualTo(3000.0);
    assertThat(value(samples, "hodei_pool_idle_cost_total", "pool", "exact")).isEqualTo(4.2);
    assertThat(value(samples, "hodei_pool_cost_total", "pool", "exact")).isEqualTo(10.8);
    assertThat(value(samples, "hodei_tenant_cost_per_hour", "tenant_id", "alpha")).isNotNull();
  }

  private static Double value(List<Prometheus.Sample> samples, String name, String label, String labelValue) {
    return samples.stream().filter(s -> s.name().equals(name) && labelValue.equals(s.labels().get(label)))
        .map(Prometheus.Sample::value).findFirst().orElse(null);
  }

  @Test
  void grpcServesReportsBreakdownAndRecommendations() {
    CostOptimizationServiceGrpcClient admin = CostOptimizationServiceGrpcClient.create(
        GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN),
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
    CostReport report = admin.generateReport(GenerateReportRequest.newBuilder().setFrom(BASE.toString())
        .setTo(at(180).toString()).setGroupBy("pool").setPoolId("exact").build()).await();
    assertThat(report.getRowsList()).hasSize(1);
    CostRow exact = report.getRows(0);
    assertThat(exact.getPoolCost()).isEqualTo("10.800000");
    assertThat(exact.getIdleCost()).isEqualTo("4.200000");
    assertThat(report.getReconciliation().getReconciled()).isTrue();

    CostBreakdown breakdown = admin.getCostBreakdown(GetCostBreakdownRequest.newBuilder().setFrom(BASE.toString())
        .setTo(at(180).toString()).build()).await();
    assertThat(breakdown.getPoolsList()).anyMatch(p -> p.getPoolId().equals("exact")
        && p.getWastage().equals("4.200000"));
    Recommendations recs = admin.getOptimizationRecommendations(GetRecommendationsRequest.newBuilder()
        .setWindowHours(72).build()).await();
    assertThat(recs.getRecommendationsList()).anyMatch(rec -> rec.getPoolId().equals("over")
        && rec.getType().equals("pool_min_too_high") && new JsonObject(rec.getEvidence()).getLong("min_size") == 3);

    assertThat(statusOf(admin.generateReport(GenerateReportRequest.newBuilder().setFrom(at(60).toString())
        .setTo(BASE.toString()).build()))).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    CostOptimizationServiceGrpcClient tenant = CostOptimizationServiceGrpcClient.create(
        GrpcTestClient.create(vertx).bearer(alpha), SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
    CostReport own = tenant.generateReport(GenerateReportRequest.newBuilder().setFrom(BASE.toString())
        .setTo(at(180).toString()).build()).await();
    assertThat(own.getRowsList()).extracting(CostRow::getTenantId).containsOnly("alpha");
    assertThat(statusOf(CostOptimizationServiceGrpcClient.create(GrpcTestClient.create(vertx),
        SocketAddress.inetSocketAddress(server.port(), "127.0.0.1")).generateReport(GenerateReportRequest
        .newBuilder().setFrom(BASE.toString()).setTo(at(180).toString()).build())))
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }

  /** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks; lines end with CRLF. */
  static List<List<String>> parseCsv(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        row.add(field.toString());
        field.setLength(0);
      } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
        row.add(field.toString());
        field.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
        i++;
      } else {
        assertThat(c).as("bare line break or stray character in CSV").isNotIn('\r', '\n');
        field.append(c);
      }
    }
    assertThat(quoted).as("unterminated quote").isFalse();
    assertThat(row).as("last line ends with CRLF").isEmpty();
    return rows;
  }
}
