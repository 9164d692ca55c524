package io.hodei.metrics;

import io.hodei.common.MetricCatalog;
import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The metrics collector through the public surface: /metrics, /health and the JSON metric APIs. */
class MetricsCollectorTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_HEALTH_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.METRICS_INTERVAL, 1));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  // ------------------------------------------------------------------ helpers

  static JsonObject simulatedPool(String id, String kind, int provisionDelayMs) {
    return new JsonObject().put("id", id).put("kind", kind).put("provider", "simulated")
        .put("provider_config", new JsonObject().put("provision_delay_ms", provisionDelayMs));
  }

  static void create(JsonObject body) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  static JsonObject pool(String id) {
    return server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN).json();
  }

  static JsonObject awaitPool(String id, String state, int idle) {
    return Poll.until(() -> pool(id), p -> state.equals(p.getString("state"))
            && p.getJsonObject("workers").getInteger("idle") == idle
            && p.getJsonObject("workers").getInteger("total") == idle,
        DEADLINE, "pool " + id + " " + state + " with " + idle + " idle workers");
  }

  static String firstWorker(String id, String state) {
    return server.get("/api/v1/pools/" + id + "/workers?state=" + state, TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items").getJsonObject(0).getString("id");
  }

  static List<Prometheus.Sample> scrape() {
    Response r = server.get("/metrics", null);
    assertThat(r.status()).isEqualTo(200);
    return Prometheus.parse(r.body());
  }

  /** The value of the one sample with this name whose labels include {@code labels}. */
  static Optional<Double> value(List<Prometheus.Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name))
        .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
        .map(Prometheus.Sample::value).findFirst();
  }

  static double awaitValue(String name, Map<String, String> labels, double expected) {
    return Poll.until(() -> value(scrape(), name, labels).orElse(Double.NaN), v -> v == expected, DEADLINE,
        name + labels + " == " + expected);
  }

  static Response health() { return server.get("/health", null); }

  static Optional<JsonObject> poolHealth(Response health, String pool) {
    return health.json().getJsonArray("pools").stream().map(JsonObject.class::cast)
        .filter(p -> p.getString("pool").equals(pool)).findFirst();
  }

  static String awaitPoolStatus(String pool, String status) {
    return Poll.until(() -> poolHealth(health(), pool).map(p -> p.getString("status")).orElse("absent"),
        status::equals, DEADLINE, "pool " + pool + " " + status + " in /health");
  }

  /** As a domain publishes an event (the collector observes {@link io.hodei.common.Events#publish}). */
  static void publish(String type, JsonObject event) {
    new io.hodei.common.Events(server.server().vertx(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry())
        .publish(type, event);
  }

  // ------------------------------------------------------------------ tests

  @Test
  void staticPoolGaugesMatchTheRestCountsAndGoAwayWithThePool() {
    create(simulatedPool("m-static", "static", 5).put("size", 3).put("price_per_worker_hour", "0.5")
        .put("worker_memory_mb", 256));
    awaitPool("m-static", "active", 3);
    Map<String, String> pool = Map.of("pool", "m-static");
    awaitValue("hodei_pool_workers", Map.of("pool", "m-static", "state", "idle"), 3);
    List<Prometheus.Sample> samples = scrape();
    assertThat(value(samples, "hodei_pool_size", Map.of("pool", "m-static", "bound", "target"))).contains(3.0);
    assertThat(value(samples, "hodei_pool_size", Map.of("pool", "m-static", "bound", "current"))).contains(3.0);
    assertThat(value(samples, "hodei_pool_workers", Map.of("pool", "m-static", "state", "busy"))).contains(0.0);
    assertThat(value(samples, "hodei_pool_workers_health", Map.of("pool", "m-static", "health", "healthy")))
        .contains(3.0);
    assertThat(value(samples, "hodei_pool_health_status", pool)).contains(0.0);
    assertThat(value(samples, "hodei_pool_provisioning_seconds_count", pool)).contains(3.0);
    assertThat(value(samples, "hodei_pool_provisioning_total", Map.of("pool", "m-static", "result", "success")))
        .contains(3.0);
    assertThat(value(samples, "hodei_pool_cost_per_hour", pool)).contains(1.5);
    assertThat(value(samples, "hodei_pool_idle_workers_ratio", pool)).contains(1.0);
    Response openMetrics = server.send(server.request(HttpMethod.GET, "/metrics", null)
        .putHeader("Accept", "application/openmetrics-text"), null);
    assertThat(openMetrics.status()).isEqualTo(200);
    assertThat(openMetrics.body()).contains("hodei_pool_provisioning_total{pool=\"m-static\",result=\"success\"} 3")
        .contains("hodei_pool_provisioning_seconds_count{pool=\"m-static\"} 3");
    assertThat(openMetrics.body().trim()).endsWith("# EOF");

    JsonObject metrics = server.get("/api/v1/pools/m-static/metrics", TestServer.ADMIN_TOKEN).json();
    assertThat(metrics.getString("pool")).isEqualTo("m-static");
    assertThat(metrics.getJsonObject("size").getInteger("target")).isEqualTo(3);
    assertThat(metrics.getJsonObject("workers").getJsonObject("by_state").getInteger("idle")).isEqualTo(3);
    assertThat(metrics.getJsonObject("workers").getJsonObject("by_health").getInteger("healthy")).isEqualTo(3);
    assertThat(metrics.getJsonObject("health").getString("status")).isEqualTo("Healthy");
    JsonObject provisioning = metrics.getJsonObject("provisioning");
    assertThat(provisioning.getInteger("success")).isEqualTo(3);
    assertThat(provisioning.getDouble("success_ratio")).isEqualTo(1.0);
    JsonObject latency = provisioning.getJsonObject("latency");
    assertThat(latency.getLong("count")).isEqualTo(3);
    assertThat(latency.getDouble("p50_ms")).isLessThanOrEqualTo(latency.getDouble("p95_ms"));
    assertThat(latency.getDouble("p95_ms")).isLessThanOrEqualTo(latency.getDouble("p99_ms"));
    assertThat(latency.getDouble("mean_ms")).isNotNull();
    assertThat(metrics.getJsonObject("termination").getValue("success_ratio")).isNull();
    assertThat(metrics.getDouble("cost_per_hour")).isCloseTo(1.5, within(1e-9));
    assertThat(metrics.getDouble("idle_workers_ratio")).isEqualTo(1.0);
    assertThat(metrics.getJsonObject("memory").getLong("total_mb")).isEqualTo(768);
    assertThat(metrics.getJsonObject("jobs").getJsonObject("by_state").fieldNames())
        .containsExactlyInAnyOrder("succeeded", "failed", "timed_out", "cancelled", "abandoned");
    assertThat(metrics.getString("trace_id")).isNotBlank();

    JsonObject inHealth = poolHealth(health(), "m-static").orElseThrow();
    assertThat(inHealth.getJsonObject("workers").getInteger("total")).isEqualTo(3);
    assertThat(inHealth.getJsonObject("workers").getInteger("idle")).isEqualTo(3);
    assertThat(inHealth.getJsonObject("memory").getLong("total_mb")).isEqualTo(768);
    assertThat(inHealth.getInteger("queue_depth")).isZero();

    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/m-static/lifecycle",
        new JsonObject().put("action", "stop")).status()).isEqualTo(200);
    Poll.until(() -> pool("m-static"), p -> p.getJsonObject("workers").getInteger("total") == 0, DEADLINE,
        "m-static empty");
    awaitValue("hodei_pool_terminations_total", Map.of("pool", "m-static", "result", "success"), 3);
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/pools/m-static", null).status()).isEqualTo(204);
    Poll.until(() -> scrape().stream().anyMatch(s -> "m-static".equals(s.labels().get("pool"))), present -> !present,
        DEADLINE, "m-static series removed");
    assertProblem(server.get("/api/v1/pools/m-static/metrics", TestServer.ADMIN_TOKEN), 404);
  }

  @Test
  void aCrashInADynamicPoolIsRecoveredAndMeasured() {
    create(simulatedPool("m-dyn", "dynamic", 2500).put("min_size", 2).put("max_size", 3));
    awaitPool("m-dyn", "active", 2);
    awaitPoolStatus("m-dyn", "Healthy");
    String victim = firstWorker("m-dyn", "idle");
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/m-dyn/workers/" + victim + "/crash", null).status())
        .isEqualTo(202);
    awaitPoolStatus("m-dyn", "Degraded");
    assertThat(health().status()).isEqualTo(200);
    awaitPoolStatus("m-dyn", "Healthy");
    awaitValue("hodei_pool_recovery_seconds_count", Map.of("pool", "m-dyn"), 1);
    JsonObject metrics = server.get("/api/v1/pools/m-dyn/metrics", TestServer.ADMIN_TOKEN).json();
    assertThat(metrics.getJsonObject("recovery").getDouble("mttr_ms")).isPositive();
    assertThat(metrics.getJsonObject("recovery").getJsonObject("latency").getLong("count")).isEqualTo(1);
    assertThat(metrics.getJsonObject("provisioning").getInteger("success")).isEqualTo(3);
    assertThat(metrics.getJsonObject("provisioning").getJsonObject("latency").getLong("count")).isEqualTo(3);
    assertThat(metrics.getJsonObject("termination").getInteger("success")).isEqualTo(1);
  }

  @Test
  void aStaticPoolWithoutAHealthyWorkerIsUnhealthyUntilItIsPausedOrStopped() {
    create(simulatedPool("m-sick", "static", 5).put("size", 1));
    awaitPool("m-sick", "active", 1);
    server.admin(HttpMethod.POST, "/api/v1/pools/m-sick/workers/" + firstWorker("m-sick", "idle") + "/crash", null);
    awaitPoolStatus("m-sick", "Unhealthy");
    Response unhealthy = Poll.until(MetricsCollectorTest::health, r -> r.status() == 503, DEADLINE, "503");
    assertThat(unhealthy.json().getString("status")).isEqualTo("Unhealthy");
    assertThat(unhealthy.json().getString("trace_id")).isNotBlank();
    JsonObject sick = poolHealth(unhealthy, "m-sick").orElseThrow();
    assertThat(sick.getJsonArray("reasons")).isNotEmpty();
    assertThat(sick.getJsonObject("workers").getInteger("unhealthy")).isEqualTo(1);
    assertThat(server.get("/api/v1/observability/health", null).status()).isEqualTo(503);
    awaitValue("hodei_pool_health_status", Map.of("pool", "m-sick"), 2);

    server.admin(HttpMethod.POST, "/api/v1/pools/m-sick/lifecycle", new JsonObject().put("action", "pause"));
    Response paused = Poll.until(MetricsCollectorTest::health,
        r -> poolHealth(r, "m-sick").map(p -> p.getString("state").equals("paused")).orElse(false), DEADLINE,
        "m-sick paused in /health");
    assertThat(paused.status()).isEqualTo(200);
    assertThat(poolHealth(paused, "m-sick").orElseThrow().getBoolean("counts_toward_overall")).isFalse();

    server.admin(HttpMethod.POST, "/api/v1/pools/m-sick/lifecycle", new JsonObject().put("action", "stop"));
    Response after = Poll.until(MetricsCollectorTest::health,
        r -> poolHealth(r, "m-sick").map(p -> p.getString("state").equals("stopped")).orElse(false), DEADLINE,
        "m-sick stopped in /health");
    assertThat(after.status()).isEqualTo(200);
    assertThat(after.json().getString("status")).isNotEqualTo("Unhealthy");
    assertThat(poolHealth(after, "m-sick").orElseThrow().getBoolean("counts_toward_overall")).isFalse();
  }

  @Test
  void jobEventsFeedThePoolAndTenantMetrics() {
    create(simulatedPool("m-jobs", "static", 5).put("size", 1));
    awaitPool("m-jobs", "active", 1);
    awaitPoolStatus("m-jobs", "Healthy");
    for (String job : List.of("j-1", "j-2", "j-3")) {
      publish("job.started", new JsonObject().put("job_id", job).put("tenant_id", "t-metrics")
          .put("pool_id", "m-jobs").put("worker_id", "w-x").put("queue_wait_ms", 200).put("scheduling_latency_ms", 3));
    }
    awaitValue("hodei_pool_jobs_running", Map.of("pool", "m-jobs"), 3);
    awaitValue("hodei_tenant_jobs_running", Map.of("tenant_id", "t-metrics"), 3);
    publish("job.finished", finished("j-1", "succeeded", 1500L));
    publish("job.finished", finished("j-2", "failed", 500L).put("error_type", "exit_code"));
    publish("job.finished", finished("j-4", "cancelled", null).putNull("pool_id"));
    publish("job.finished", finished("j-5", "exploded", 10L));

    awaitValue("hodei_pool_jobs_total", Map.of("pool", "m-jobs", "state", "failed"), 1);
    awaitValue("hodei_tenant_jobs_total", Map.of("tenant_id", "t-metrics", "state", "cancelled"), 1);
    List<Prometheus.Sample> samples = scrape();
    assertThat(value(samples, "hodei_pool_jobs_total", Map.of("pool", "m-jobs", "state", "succeeded"))).contains(1.0);
    assertThat(value(samples, "hodei_pool_job_duration_seconds_count", Map.of("pool", "m-jobs"))).contains(2.0);
    assertThat(value(samples, "hodei_pool_job_duration_seconds_sum", Map.of("pool", "m-jobs"))).contains(2.0);
    assertThat(value(samples, "hodei_pool_job_queue_wait_seconds_count", Map.of("pool", "m-jobs"))).contains(3.0);
    assertThat(value(samples, "hodei_pool_jobs_running", Map.of("pool", "m-jobs"))).contains(1.0);
    assertThat(value(samples, "hodei_tenant_jobs_running", Map.of("tenant_id", "t-metrics"))).contains(1.0);
    assertThat(samples.stream().filter(s -> s.name().startsWith("hodei_pool_jobs_total"))
        .map(s -> s.labels().get("state"))).doesNotContain("exploded");

    JsonObject metrics = server.get("/api/v1/pools/m-jobs/metrics", TestServer.ADMIN_TOKEN).json();
    JsonObject jobs = metrics.getJsonObject("jobs");
    assertThat(jobs.getJsonObject("by_state").getInteger("succeeded")).isEqualTo(1);
    assertThat(jobs.getJsonObject("by_state").getInteger("failed")).isEqualTo(1);
    assertThat(jobs.getInteger("running")).isEqualTo(1);
    assertThat(jobs.getJsonObject("duration").getLong("count")).isEqualTo(2);
    assertThat(jobs.getJsonObject("duration").getDouble("mean_ms")).isEqualTo(1000.0);
    assertThat(jobs.getJsonObject("duration").getDouble("p99_ms")).isEqualTo(1500.0);
    assertThat(jobs.getJsonObject("queue_wait").getDouble("p50_ms")).isEqualTo(200.0);
    JsonObject inHealth = poolHealth(health(), "m-jobs").orElseThrow();
    assertThat(inHealth.getDouble("avg_job_latency_ms")).isEqualTo(1000.0);
  }

  private static JsonObject finished(String job, String state, Long durationMs) {
    return new JsonObject().put("job_id", job).put("tenant_id", "t-metrics").put("pool_id", "m-jobs")
        .put("worker_id", "w-x").put("state", state).put("duration_ms", durationMs).put("queue_wait_ms", 200);
  }

  @Test
  void theCollectorReportsItselfAndTheJsonApisCheckAccess() {
    Response collector = Poll.until(() -> server.get("/api/v1/observability/collector", TestServer.ADMIN_TOKEN),
        r -> r.json().getJsonObject("collector").getLong("runs") > 0, DEADLINE, "a collector run");
    JsonObject status = collector.json().getJsonObject("collector");
    assertThat(status.getBoolean("enabled")).isTrue();
    assertThat(status.getInteger("interval_seconds")).isEqualTo(1);
    assertThat(status.getString("last_run_at")).isNotNull();
    assertThat(status.getDouble("last_duration_ms")).isNotNull();
    JsonArray metrics = collector.json().getJsonArray("metrics");
    assertThat(metrics.stream().map(m -> ((JsonObject) m).getString("name")))
        .containsAll(MetricCatalog.COLLECTED.stream().map(MetricCatalog.Def::name).toList());
    assertThat(health().json().getJsonObject("collector").getLong("runs")).isPositive();
    List<Prometheus.Sample> scraped = Prometheus.parse(server.get("/metrics", null).body());
    assertThat(scraped).anyMatch(m -> m.name().equals(MetricCatalog.COLLECTOR_LAST_RUN.name()) && m.value() > 1.7e9);
    // what metrics cost: a run was measured, in the JSON status and on /metrics (one series per part)
    assertThat(collector.json().getJsonObject("self_cost").getJsonObject("seconds").getDouble("collect")).isPositive();
    assertThat(scraped).filteredOn(m -> m.name().equals(MetricCatalog.METRICS_SELF_SECONDS.name()))
        .extracting(m -> m.labels().get(MetricCatalog.PART))
        .containsExactlyInAnyOrder("tap", "apply", "collect", "runtime", "history");
    assertThat(scraped).anyMatch(m -> m.name().equals(MetricCatalog.METRICS_SELF_SECONDS.name())
        && "collect".equals(m.labels().get(MetricCatalog.PART)) && m.value() > 0);

    assertProblem(server.get("/api/v1/observability/collector", null), 401);
    assertProblem(server.get("/api/v1/pools/m-nope/metrics", null), 401);
    assertProblem(server.get("/api/v1/pools/m-nope/metrics", TestServer.ADMIN_TOKEN), 404);
  }

  @Test
  void withoutAnAlertmanagerTheAlertsApiSaysNotConfigured() {
    Response r = server.get("/api/v1/observability/alerts", TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().getBoolean("configured")).isFalse();
    assertThat(r.json().getJsonArray("alerts")).isEmpty();
  }
}
