package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What an operator sees of waiting jobs: queue status, /health, the wait explanation and the job counters. */
class QueueVisibilityTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static TestServer server;
  private static Fixtures fx;
  private static String token;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1));
    fx = new Fixtures(server);
    token = fx.tenant("vis", null, 1, "submitter");
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static void paused(String pool) {
    fx.pool(Fixtures.simulatedPool(pool, 1, 10), 1);
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools/" + pool + "/lifecycle",
        new JsonObject().put("action", "pause"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    Poll.until(() -> server.get("/api/v1/pools/" + pool, TestServer.ADMIN_TOKEN).json(),
        p -> "paused".equals(p.getString("state")), DEADLINE, pool + " paused");
  }

  private static List<String> submit(String pool, int jobs) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < jobs; i++) ids.add(fx.submitted(token, Fixtures.spec(pool, "sim")));
    return ids;
  }

  private static Optional<JsonObject> row(JsonArray rows, String key, String pool) {
    return rows.stream().map(JsonObject.class::cast).filter(r -> pool.equals(r.getString(key))).findFirst();
  }

  @Test
  void aPausedPoolWithWaitingJobsIsListedWithItsStateAndItsQueueDepthIsInHealth() {
    paused("vis-paused");
    submit("vis-paused", 5);

    JsonObject status = server.get("/api/v1/queues/status", TestServer.ADMIN_TOKEN).json();
    JsonObject row = row(status.getJsonArray("pools"), "pool_id", "vis-paused")
        .orElseThrow(() -> new AssertionError("vis-paused missing from " + status));
    assertThat(row.getInteger("queued")).isEqualTo(5);
    assertThat(row.getString("state")).isEqualTo("paused");
    assertThat(row.getInteger("queued_for_capacity")).as("a paused pool is no demand for workers").isZero();

    JsonObject inHealth = Poll.until(() -> row(server.get("/health", null).json().getJsonArray("pools"), "pool",
            "vis-paused"), Optional::isPresent, DEADLINE, "vis-paused in /health").orElseThrow();
    assertThat(inHealth.getInteger("queue_depth")).isEqualTo(5);
  }

  @Test
  void aPoolResizedToZeroExplainsAWaitingJobAsNoWorkersNotBusy() {
    fx.pool(Fixtures.simulatedPool("vis-empty", 1, 10), 1);
    Response resized = server.admin(HttpMethod.PUT, "/api/v1/pools/vis-empty/static", new JsonObject().put("size", 0));
    assertThat(resized.status()).as(resized.toString()).isEqualTo(200);
    Poll.until(() -> server.get("/api/v1/pools/vis-empty", TestServer.ADMIN_TOKEN).json(),
        p -> p.getJsonObject("workers").getInteger("total") == 0, DEADLINE, "vis-empty without workers");
    String id = fx.submitted(token, Fixtures.spec("vis-empty", "sim"));

    JsonArray reasons = Poll.until(() -> fx.job(token, id).getJsonObject("waiting").getJsonArray("reasons"),
        r -> r.stream().map(JsonObject.class::cast).anyMatch(x -> "no_workers".equals(x.getString("code"))),
        DEADLINE, "no_workers reason");
    JsonObject noWorkers = reasons.stream().map(JsonObject.class::cast)
        .filter(x -> "no_workers".equals(x.getString("code"))).findFirst().orElseThrow();
    assertThat(noWorkers.getString("detail")).contains("vis-empty").contains("no workers").contains("size 0");
    assertThat(reasons.stream().map(JsonObject.class::cast).map(x -> x.getString("code"))).doesNotContain("capacity");
  }

  @Test
  void aCancelledJobIsCountedAsCancelledNotAsFailed() {
    paused("vis-cancel");
    String id = submit("vis-cancel", 1).get(0);
    Response cancel = server.send(HttpMethod.POST, "/api/v1/jobs/" + id + "/cancel", token, null);
    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    fx.awaitState(token, id, "cancelled");

    List<Prometheus.Sample> samples = Poll.until(() -> Prometheus.parse(server.get("/metrics", null).body()),
        s -> value(s, "hodei_jobs_cancelled_total", Map.of("tenant_id", "vis")) >= 1, DEADLINE,
        "hodei_jobs_cancelled_total counts the cancel");
    assertThat(value(samples, "hodei_jobs_cancelled_total", Map.of("tenant_id", "vis"))).isEqualTo(1.0);
    assertThat(value(samples, "hodei_jobs_failed_total", Map.of("tenant_id", "vis", "error_type", "cancelled")))
        .as("a cancel is not a failure").isZero();
    assertThat(server.get("/api/v1/tenants/vis/metrics", token).json().getLong("jobs_cancelled")).isEqualTo(1L);
  }

  static double value(List<Prometheus.Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name))
        .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(Prometheus.Sample::value).sum();
  }
}
