package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Burst is billed on the usage above the base quota over time, the same in the grant, the metric and cost reports. */
class BurstBillingTest {
  private static final String TENANT = "billed";
  private static final long CPU_M = 500;
  private static final int BASE_CONCURRENT = 2;
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100));
    fx = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void onlyUsageAboveTheBaseQuotaIsMeteredOnTheGrantTheMetricAndTheCostReport() {
    Instant testStart = Instant.now();
    // base: 2 concurrent jobs; CPU and memory quotas far above what 3 jobs use, so concurrency is what is exceeded
    String admin = fx.tenant(TENANT, new JsonObject().put("cpu_m", 100_000).put("memory_mb", 100_000)
        .put("max_concurrent_jobs", BASE_CONCURRENT).put("max_queued_jobs", 100), 1, "tenant-admin");
    // more idle workers than the grant allows jobs: a finished job's slot is taken again at once
    fx.pool(Fixtures.simulatedPool("billing-pool", 6, 10).put("price_per_worker_hour", "360"), 6);
    Response granted = server.send(HttpMethod.POST, "/api/v1/tenants/" + TENANT + "/burst", admin,
        new JsonObject().put("max_overage_percentage", 150).put("duration_minutes", 30));
    assertThat(granted.status()).as(granted.toString()).isEqualTo(201);
    assertThat(granted.json().getJsonObject("effective_quota").getLong("max_concurrent_jobs")).isEqualTo(3);

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      ids.add(fx.submitted(admin, Fixtures.spec("billing-pool", "work").put("cpu_m", CPU_M)
          .put("payload", new JsonObject().put("duration_ms", 1500))));
    }
    List<JsonObject> jobs = ids.stream().map(id -> fx.awaitState(admin, id, "succeeded")).toList();

    // Expected usage above base from the runs as the API reports them: between consecutive starts and ends, n jobs
    // run, and n - 2 of them (n - 2 jobs x 500 cpu_m) are above the base of 2 concurrent jobs.
    double expected = cpuAboveBase(jobs);
    double totalCpuMSeconds = jobs.stream().mapToDouble(j -> CPU_M * seconds(Instant.parse(j.getString("started_at")),
        Instant.parse(j.getString("finished_at")))).sum();
    long burstFlagged = jobs.stream().filter(j -> j.getBoolean("burst", false)).count();
    // three at a time for 9 jobs of 1.5 s: about three waves with one job above base, ~2,250 cpu_m·s; billing every
    // job admitted while above base whole (the bug) charged most of the 9 x 750
    assertThat(expected).as("usage above base from the job timings").isBetween(1500.0, 3000.0);
    assertThat(burstFlagged).as("jobs admitted on the grant keep burst: true").isGreaterThanOrEqualTo(3);
    // The scheduler integrates from the instant it stamps as started_at to the instant it handles the end, taken
    // just before it stamps finished_at (microseconds; timestamps are kept to the microsecond): over 18 boundaries
    // that is well under 1 ms x 500 cpu_m each. 5% (~110 cpu_m·s) is generous for that, and far below what billing
    // whole burst jobs adds (750 cpu_m·s per extra job).
    double tolerance = 0.05 * expected;

    JsonObject active = Poll.until(() -> server.get("/api/v1/tenants/" + TENANT + "/burst", admin).json()
            .getJsonObject("active"), a -> a.getLong("burst_jobs") >= burstFlagged, Duration.ofSeconds(15),
        "every burst job recorded on the grant");
    assertThat(active.getLong("burst_jobs")).isEqualTo(burstFlagged);
    assertThat(number(active.getValue("consumed_cpu_m_seconds"))).as("grant consumed cpu_m·s")
        .isCloseTo(expected, within(tolerance));
    // memory above base is the same part of the memory held (256 MB per job)
    assertThat(number(active.getValue("consumed_memory_mb_seconds"))).as("grant consumed memory_mb·s")
        .isCloseTo(expected * 256 / CPU_M, within(tolerance * 256 / CPU_M));

    double metered = Poll.until(BurstBillingTest::meteredCpu, v -> Math.abs(v - expected) <= tolerance,
        Duration.ofSeconds(10), "hodei_tenant_burst_cpu_m_seconds_total near " + expected);
    assertThat(metered).isCloseTo(number(active.getValue("consumed_cpu_m_seconds")), within(1.0));

    String period = "from=" + enc(testStart.truncatedTo(ChronoUnit.HOURS).toString()) + "&to="
        + enc(Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.HOURS).toString());
    JsonObject row = Poll.until(() -> {
      Response r = server.get("/api/v1/cost-reports?" + period + "&group_by=tenant&tenant_id=" + TENANT,
          TestServer.ADMIN_TOKEN);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      return r.json().getJsonArray("rows").isEmpty() ? new JsonObject() : r.json().getJsonArray("rows").getJsonObject(0);
    }, r -> r.getLong("jobs", 0L) == 9, Duration.ofSeconds(20), "the nine jobs in the cost ledger");
    assertThat(number(row.getValue("burst_cpu_m_seconds"))).as("cost report burst cpu_m·s")
        .isCloseTo(expected, within(tolerance));
    // burst cost is the same part of the jobs' cost as their usage above base is of their usage (equal shapes)
    double jobCost = number(row.getValue("job_cost"));
    assertThat(jobCost).isPositive();
    assertThat(number(row.getValue("burst_cost"))).as("cost report burst cost")
        .isCloseTo(jobCost * expected / totalCpuMSeconds, within(jobCost * 0.05 + 1e-5));
  }

  /**
   * Usage above base from the runs as the API reports them: between consecutive starts and ends n jobs run, and
   * n - 2 of them (n - 2 jobs x 500 cpu_m) are above the base of 2 concurrent jobs.
   */
  private static double cpuAboveBase(List<JsonObject> jobs) {
    TreeMap<Instant, Integer> steps = new TreeMap<>();
    for (JsonObject job : jobs) {
      steps.merge(Instant.parse(job.getString("started_at")), 1, Integer::sum);
      steps.merge(Instant.parse(job.getString("finished_at")), -1, Integer::sum);
    }
    double above = 0;
    int running = 0;
    Instant previous = null;
    for (Map.Entry<Instant, Integer> step : steps.entrySet()) {
      if (previous != null) above += Math.max(0, running - BASE_CONCURRENT) * CPU_M * seconds(previous, step.getKey());
      running += step.getValue();
      previous = step.getKey();
    }
    return above;
  }

  private static double meteredCpu() {
    return Prometheus.parse(server.get("/metrics", null).body()).stream()
        .filter(s -> s.name().equals("hodei_tenant_burst_cpu_m_seconds_total")
            && TENANT.equals(s.labels().get("tenant_id")))
        .mapToDouble(Prometheus.Sample::value).sum();
  }

  private static double seconds(Instant from, Instant to) { return Duration.between(from, to).toNanos() / 1e9; }

  private static double number(Object value) { return Double.parseDouble(String.valueOf(value)); }

  private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }
}
