package io.hodei.metrics;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The figures the requirement documents name, read where their users read them (/metrics, /health, the JSON APIs),
 * on a server with simulated pools and a real embedded PostgreSQL. docs/seed-conformance.md points here.
 */
class SeedConformanceTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestServer server;
  private static Fixtures fx;
  private static String submitter;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.POOLS_HEALTH_INTERVAL, 1,
        ConfigSchema.METRICS_MAX_WORKER_SERIES, 1));
    fx = new Fixtures(server);
    submitter = fx.tenant("seed", new JsonObject().put("cpu_m", 4000).put("memory_mb", 8192)
        .put("max_concurrent_jobs", 10), 1, "submitter");
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static List<Prometheus.Sample> scrape() {
    return Prometheus.parse(server.get("/metrics", null).body());
  }

  private static Double value(List<Prometheus.Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels))
        .map(Prometheus.Sample::value).findFirst().orElse(null);
  }

  private static double await(String name, Map<String, String> labels, java.util.function.DoublePredicate done) {
    List<Prometheus.Sample> samples = Poll.until(SeedConformanceTest::scrape, s -> {
      Double v = value(s, name, labels);
      return v != null && done.test(v);
    }, WAIT, name + labels);
    return value(samples, name, labels);
  }

  private static JsonObject pool(String id, int size, long jobMs) {
    return Fixtures.simulatedPool(id, size, jobMs);
  }

  /** Waits until the collector has seen the pool's workers idle. */
  private static void sampledIdle(String pool, int workers) {
    await("hodei_pool_workers", Map.of("pool", pool, "state", "idle"), v -> v == workers);
  }

  // ---------------------------------------------------------------- item 1 (000 AC-1, 001, 002), item 7 quota

  @Test
  void busyWorkersUsageIsServedPerWorkerPoolAndTenantWithinTheSeriesBound() {
    JsonObject body = pool("usage-pool", 2, 600_000);
    body.getJsonObject("provider_config").put("cpu_usage_percent", 40).put("memory_usage_mb", 300);
    fx.pool(body, 2);
    sampledIdle("usage-pool", 2);
    for (int i = 0; i < 2; i++) fx.submitted(submitter, Fixtures.spec("usage-pool", "work"));

    assertThat(await("hodei_pool_cpu_usage_percent", Map.of("pool", "usage-pool"), v -> v == 80)).isEqualTo(80);
    assertThat(await("hodei_pool_memory_usage_mb", Map.of("pool", "usage-pool"), v -> v == 600)).isEqualTo(600);
    assertThat(await("hodei_tenant_cpu_usage_percent", Map.of("tenant_id", "seed"), v -> v == 80)).isEqualTo(80);
    assertThat(await("hodei_tenant_memory_usage_mb", Map.of("tenant_id", "seed"), v -> v == 600)).isEqualTo(600);
    // each busy worker's own sample
    JsonArray workers = server.get("/api/v1/pools/usage-pool/workers", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
    assertThat(workers).hasSize(2).allSatisfy(w -> assertThat(((JsonObject) w).getDouble("cpu_usage_percent"))
        .isEqualTo(40.0));
    // metrics.max_worker_series = 1: one worker of the server has its own series, the others are counted without
    List<Prometheus.Sample> samples = Poll.until(SeedConformanceTest::scrape,
        s -> value(s, "hodei_worker_usage_series_dropped", Map.of()) != null
            && value(s, "hodei_worker_usage_series_dropped", Map.of()) >= 1, WAIT, "bound");
    assertThat(samples.stream().filter(s -> s.name().equals("hodei_cpu_usage_percent")).toList()).hasSize(1);
    assertThat(samples.stream().filter(s -> s.name().equals("hodei_memory_usage_mb")).toList()).hasSize(1);
    // quota utilisation (000 AC-5): 2 x 500 of 4000 millicores, 2 x 256 of 8192 MB, 2 of 10 jobs
    assertThat(await("hodei_tenant_quota_utilization_ratio", Map.of("tenant_id", "seed", "resource", "cpu_m"),
        v -> v == 0.25)).isEqualTo(0.25);
    assertThat(value(scrape(), "hodei_tenant_quota_utilization_ratio", Map.of("tenant_id", "seed",
        "resource", "jobs"))).isEqualTo(0.2);
    assertThat(value(scrape(), "hodei_tenant_quota_utilization_ratio", Map.of("tenant_id", "seed",
        "resource", "memory_mb"))).isEqualTo(512.0 / 8192);
    // idle time distribution (000 AC-4): both workers were seen idle, then busy: two idle periods
    assertThat(await("hodei_pool_worker_idle_seconds_count", Map.of("pool", "usage-pool"), v -> v >= 2))
        .isGreaterThanOrEqualTo(2);
    JsonObject json = server.get("/api/v1/pools/usage-pool/metrics", TestServer.ADMIN_TOKEN).json();
    assertThat(json.getJsonObject("usage").getDouble("cpu_percent")).isEqualTo(80.0);
    assertThat(json.getJsonObject("idle_time").getLong("count")).isGreaterThanOrEqualTo(2L);
  }

  // ---------------------------------------------------------------- item 3 (001 health JSON), item 4 (000 AC-1)

  @Test
  void aSaturatedPoolWithAQueueIsDegradedInTheDocumentsShapeAndAbandonedJobsCountOnIt() {
    fx.pool(pool("busy-pool", 1, 600_000), 1);
    sampledIdle("busy-pool", 1);
    fx.submitted(submitter, Fixtures.spec("busy-pool", "long"));
    String waiting = fx.submitted(submitter, Fixtures.spec("busy-pool", "waits"));

    JsonObject health = Poll.until(() -> new JsonObject(server.get("/health", null).body()),
        h -> "Degraded".equals(entry(h, "busy-pool").getString("status")), WAIT, "busy-pool degraded");
    JsonObject entry = entry(health, "busy-pool");
    assertThat(entry.getString("registry_key")).isEqualTo("busy-pool");
    assertThat(entry.getLong("queue_depth")).isEqualTo(1L);
    assertThat(entry.getJsonArray("reasons").encode()).contains("all 1 workers busy with 1 job waiting");
    assertThat(entry.getJsonObject("workers").fieldNames()).contains("total", "busy", "idle", "crashed");
    assertThat(entry.containsKey("avg_latency_ms")).isTrue();
    assertThat(health.getJsonArray("models")).isEqualTo(health.getJsonArray("pools"));
    // the overall status is the worst counted pool (another test's broken pool may still be there)
    assertThat(health.getString("status")).isIn("Degraded", "Unhealthy");
    JsonObject memory = health.getJsonObject("memory");
    assertThat(memory.fieldNames()).contains("used_mb", "total_mb", "percentage");
    assertThat(memory.getLong("total_mb")).isPositive();
    assertThat(health.getLong("timestamp")).isCloseTo(Instant.now().getEpochSecond(),
        org.assertj.core.data.Offset.offset(60L));

    // the waiting job is cancelled here; an abandoned one below (its own max_queue_seconds)
    server.send(HttpMethod.POST, "/api/v1/jobs/" + waiting + "/cancel", submitter, new JsonObject());
    JsonObject abandoning = Fixtures.spec("busy-pool", "never").put("max_queue_seconds", 1);
    String abandoned = fx.submitted(submitter, abandoning);
    fx.awaitState(submitter, abandoned, "abandoned");
    assertThat(await("hodei_pool_jobs_total", Map.of("pool", "busy-pool", "state", "abandoned"), v -> v == 1))
        .isEqualTo(1);
    assertThat(await("hodei_pool_requests_total", Map.of("pool", "busy-pool"), v -> v >= 1)).isGreaterThanOrEqualTo(1);
  }

  private static JsonObject entry(JsonObject health, String pool) {
    for (Object o : health.getJsonArray("pools", new JsonArray())) {
      if (o instanceof JsonObject p && pool.equals(p.getString("pool"))) return p;
    }
    return new JsonObject();
  }

  // ---------------------------------------------------------------- item 5 (SLA), item 6 (001 pool metrics)

  @Test
  void aFailedJobWithADeadlineIsBreachedInTheCounterAsOnItsSlaAndCountsAsAPoolError() {
    fx.pool(pool("fail-pool", 1, 20), 1);
    sampledIdle("fail-pool", 1);
    double before = value(scrape(), "hodei_sla_events_total", Map.of("status", "breached"));
    JsonObject job = Fixtures.spec("fail-pool", "fails").put("payload", new JsonObject().put("fail", true))
        .put("max_attempts", 1).put("sla_deadline", Instant.now().plusSeconds(3600).toString());
    String id = fx.submitted(submitter, job);
    fx.awaitState(submitter, id, "failed");
    Response sla = server.get("/api/v1/jobs/" + id + "/sla", submitter);
    assertThat(sla.json().getString("status")).as(sla.toString()).isEqualTo("breached");
    assertThat(await("hodei_sla_events_total", Map.of("status", "breached"), v -> v == before + 1))
        .isEqualTo(before + 1);

    // POOL_OBSERVABILITY's pool_requests_total / pool_errors_total / average latency, for every pool
    assertThat(await("hodei_pool_errors_total", Map.of("pool", "fail-pool"), v -> v == 1)).isEqualTo(1);
    assertThat(value(scrape(), "hodei_pool_requests_total", Map.of("pool", "fail-pool"))).isEqualTo(1);
    assertThat(await("hodei_pool_latency_avg_ms", Map.of("pool", "fail-pool"), v -> v > 0)).isPositive();
  }

  // ---------------------------------------------------------------- item 7 (000 AC-2 throughput, 003 AC2 disk)

  @Test
  void throughputAndDiskSpaceAreServed() {
    fx.pool(pool("fast-pool", 2, 20), 2);
    sampledIdle("fast-pool", 2);
    for (int i = 0; i < 6; i++) fx.submitted(submitter, Fixtures.spec("fast-pool", "quick"));
    assertThat(await("hodei_pool_throughput_jobs_per_minute", Map.of("pool", "fast-pool"), v -> v > 0)).isPositive();
    assertThat(value(scrape(), "hodei_pool_throughput_workers_per_second", Map.of("pool", "fast-pool")))
        .isNotNull();
    double total = await("hodei_host_disk_space_bytes", Map.of("state", "total"), v -> v > 0);
    double free = value(scrape(), "hodei_host_disk_space_bytes", Map.of("state", "free"));
    assertThat(free).isBetween(0.0, total);
  }

  // ---------------------------------------------------------------- item 8 (/health 503 in error_ratio)

  @Test
  void anUnhealthyAnswerOfHealthIsNotAServerError() {
    JsonObject broken = pool("broken-pool", 1, 20);
    broken.getJsonObject("provider_config").put("provision_failure_rate", 1.0);
    Response created = server.admin(HttpMethod.POST, "/api/v1/pools", broken);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    Response unhealthy = Poll.until(() -> server.get("/health", null), r -> r.status() == 503, WAIT, "503");
    assertThat(unhealthy.json().getString("status")).isEqualTo("Unhealthy");
    JsonObject rest = Poll.until(() -> server.get("/api/v1/metrics/performance/rest", TestServer.ADMIN_TOKEN).json(),
        p -> row(p, "GET /health") != null, WAIT, "GET /health row");
    assertThat(row(rest, "GET /health").getLong("server_errors")).isZero();
    assertThat(row(rest, "GET /health").getLong("requests")).isPositive();
    server.admin(HttpMethod.DELETE, "/api/v1/pools/broken-pool", null);
  }

  private static JsonObject row(JsonObject performance, String endpoint) {
    JsonObject rest = performance.getJsonObject("services", new JsonObject()).getJsonObject("rest", new JsonObject());
    for (Object o : rest.getJsonArray("endpoints", new JsonArray())) {
      if (o instanceof JsonObject r && endpoint.equals(r.getString("endpoint"))) return r;
    }
    return null;
  }

  // ---------------------------------------------------------------- item 8 (dashboards_dir, prometheus_alerts_dir)

  @Test
  void theShippedDashboardsAndRulesAreWrittenToTheConfiguredDirectories(@TempDir Path dir) throws IOException {
    Path dashboards = dir.resolve("grafana/dashboards");
    Path alerts = dir.resolve("prometheus/rules");
    Path notADirectory = Files.writeString(dir.resolve("file"), "x");
    try (TestServer other = TestServer.start(Map.of(ConfigSchema.GRAFANA_DIR, dashboards.toString(),
        ConfigSchema.ALERTS_DIR, notADirectory.resolve("rules").toString()))) {
      assertThat(other.get("/health/live", null).status()).isEqualTo(200);
      assertSameFiles(Path.of("dashboards"), dashboards, ".json");
    }
    try (TestServer other = TestServer.start(Map.of(ConfigSchema.GRAFANA_ENABLED, false,
        ConfigSchema.GRAFANA_DIR, dir.resolve("off").toString(), ConfigSchema.ALERTS_DIR, alerts.toString()))) {
      assertSameFiles(Path.of("alerts"), alerts, ".yml");
      assertThat(dir.resolve("off")).doesNotExist();
    }
  }

  private static void assertSameFiles(Path shipped, Path installed, String suffix) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(shipped)) {
      files = s.filter(p -> p.toString().endsWith(suffix)).toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      assertThat(installed.resolve(f.getFileName())).hasSameBinaryContentAs(f);
    }
  }
}
