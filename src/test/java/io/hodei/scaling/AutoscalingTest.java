package io.hodei.scaling;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Bursts of jobs on simulated dynamic pools, end to end: REST in, scaling decisions, the ledger, metrics. */
class AutoscalingTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static TestServer server;
  private static Fixtures fixtures;
  private static String submitter;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SCALING_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.METRICS_INTERVAL, 1));
    fixtures = new Fixtures(server);
    submitter = fixtures.tenant("scaling-team", new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 10_000_000)
        .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 1000), 1, "submitter");
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  static JsonObject dynamicPool(String id, int min, int max) {
    return new JsonObject().put("id", id).put("kind", "dynamic").put("provider", "simulated").put("min_size", min)
        .put("max_size", max).put("target_size", min).put("auto_scaling_enabled", true).put("worker_cpu_m", 1000)
        .put("worker_memory_mb", 1024).put("provider_config", new JsonObject().put("provision_delay_ms", 300));
  }

  private static void created(String path, JsonObject body) {
    Response r = server.admin(HttpMethod.POST, path, body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  private static List<String> burst(String pool, int jobs, long durationMs) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      ids.add(fixtures.submitted(submitter, Fixtures.spec(pool, "sim").put("payload",
          new JsonObject().put("duration_ms", durationMs))));
    }
    return ids;
  }

  private static JsonObject pool(String id) { return server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN).json(); }

  private static JsonArray history(String id) {
    Response r = server.get("/api/v1/pools/" + id + "/scaling/history?limit=500", TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getJsonArray("items");
  }

  @Test
  void burstScalesOutWithinCooldownsThenBackInAfterTheQueueEmpties() {
    String id = "burst-pool";
    fixtures.pool(dynamicPool(id, 1, 6), 1);
    server.admin(HttpMethod.PUT, "/api/v1/pools/" + id + "/scaling/cooldown", new JsonObject()
        .put("scale_out_cooldown_s", 2).put("scale_in_cooldown_s", 2).put("scale_in_stabilisation_s", 3));
    created("/api/v1/pools/" + id + "/scaling/policies", new JsonObject().put("type", "queue_depth_per_worker")
        .put("target", 1).put("max_step", 2));

    List<String> jobs = burst(id, 16, 3000);
    Poll.until(() -> pool(id), p -> p.getInteger("target_size") == 6, TIMEOUT, "scale out to max_size 6");
    for (String job : jobs) fixtures.awaitState(submitter, job, "succeeded");
    Poll.until(() -> pool(id), p -> p.getInteger("target_size") == 1 && p.getJsonObject("workers").getInteger("total") == 1,
        TIMEOUT, "scale back in to min_size 1");

    // newest first: reverse into the order things happened
    List<JsonObject> ledger = new ArrayList<>();
    history(id).forEach(e -> ledger.add(0, (JsonObject) e));
    List<JsonObject> outs = ledger.stream().filter(e -> e.getString("direction").equals("scale_out")).toList();
    assertThat(outs).as("%s", ledger).hasSizeGreaterThanOrEqualTo(3);
    for (int i = 0; i < outs.size(); i++) {
      JsonObject e = outs.get(i);
      assertThat(e.getInteger("size_after") - e.getInteger("size_before")).as("max_step 2: %s", e).isBetween(1, 2);
      assertThat(e.getJsonObject("inputs").getLong("queue_depth")).as("%s", e).isPositive();
      assertThat(e.getString("reason")).contains("queue_depth_per_worker").contains("jobs queued");
      assertThat(e.getString("reason_code")).isEqualTo("queue_depth_per_worker");
      assertThat(e.getJsonObject("cooldown").getInteger("scale_out_cooldown_s")).isEqualTo(2);
      if (i > 0) {
        Duration gap = Duration.between(Instant.parse(outs.get(i - 1).getString("at")), Instant.parse(e.getString("at")));
        assertThat(gap).as("scale-out cooldown between %s and %s", outs.get(i - 1), e)
            .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
      }
    }
    JsonObject lastOut = outs.get(outs.size() - 1);
    JsonObject firstIn = ledger.stream().filter(e -> e.getString("direction").equals("scale_in")).findFirst()
        .orElseThrow(() -> new AssertionError("no scale_in in " + ledger));
    assertThat(Instant.parse(firstIn.getString("at"))).isAfterOrEqualTo(Instant.parse(lastOut.getString("at")).plusSeconds(2));
    assertThat(firstIn.getJsonObject("inputs").getLong("queue_depth")).isZero();
    assertThat(firstIn.getString("reason")).contains("->");
    // outcomes are filled in afterwards: capacity ready time and idle worker-seconds
    JsonArray settled = Poll.until(() -> history(id), h -> h.stream().map(JsonObject.class::cast)
            .filter(e -> e.getString("direction").equals("scale_out")).allMatch(e -> e.getLong("capacity_ready_ms") != null),
        TIMEOUT, "capacity_ready_ms on every scale-out");
    assertThat(settled.stream().map(JsonObject.class::cast).mapToDouble(e -> e.getDouble("idle_worker_seconds")).sum())
        .isPositive();

    List<Prometheus.Sample> metrics = Prometheus.parse(server.get("/metrics", null).body());
    assertThat(value(metrics, "hodei_scaling_decisions_total",
        Map.of("pool", id, "direction", "scale_out", "reason", "queue_depth_per_worker"))).isEqualTo(outs.size());
    assertThat(value(metrics, "hodei_scaling_capacity_ready_seconds_count", Map.of("pool", id))).isPositive();
    assertThat(value(metrics, "hodei_scaling_efficiency_ratio", Map.of("pool", id))).isBetween(0.01, 1.0);
    assertThat(value(metrics, "hodei_events_published_total", Map.of("event_type", "pool.scaled"))).isPositive();
  }

  private static double value(List<Prometheus.Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(Prometheus.Sample::value).sum();
  }

  @Test
  void scaleInDrainsBusyWorkersAndNeverKillsARunningJob() {
    String id = "drain-pool";
    fixtures.pool(dynamicPool(id, 1, 5), 1);
    server.admin(HttpMethod.PUT, "/api/v1/pools/" + id + "/scaling/cooldown", new JsonObject()
        .put("scale_out_cooldown_s", 0).put("scale_in_cooldown_s", 0).put("scale_in_stabilisation_s", 0));
    created("/api/v1/pools/" + id + "/scaling/triggers", new JsonObject().put("metric", "queue_depth")
        .put("comparison", "gt").put("threshold", 0).put("action", "scale_out").put("step", 3));
    created("/api/v1/pools/" + id + "/scaling/triggers", new JsonObject().put("metric", "queue_depth")
        .put("comparison", "lte").put("threshold", 0).put("for_duration_s", 1).put("action", "scale_in").put("step", 4));

    List<String> jobs = burst(id, 4, 6000);
    Poll.until(() -> pool(id), p -> p.getJsonObject("workers").getInteger("busy") == 4, TIMEOUT, "4 jobs running");
    // the queue is empty while all four still run: the scale-in trigger asks for min_size while workers are busy
    JsonObject drained = Poll.until(() -> pool(id), p -> p.getInteger("target_size") == 1, TIMEOUT, "scale in to 1");
    assertThat(drained.getJsonObject("workers").getInteger("busy")).as("%s", drained).isGreaterThan(1);
    for (String job : jobs) {
      JsonObject done = fixtures.awaitState(submitter, job, "succeeded");
      assertThat(done.getInteger("attempts", 1)).as("%s", done).isEqualTo(1);
    }
    Poll.until(() -> pool(id), p -> p.getJsonObject("workers").getInteger("total") == 1, TIMEOUT, "drained to 1");
    JsonObject scaleIn = history(id).stream().map(JsonObject.class::cast)
        .filter(e -> e.getString("direction").equals("scale_in")).findFirst().orElseThrow();
    assertThat(scaleIn.getString("source")).isEqualTo("trigger");
    assertThat(scaleIn.getString("reason")).contains("queue_depth lte 0.0 for 1 s");
    assertThat(scaleIn.getJsonObject("inputs").getJsonObject("workers").getLong("busy")).isGreaterThan(1);
  }

  @Test
  void aPoolWithAutoscalingOffIsLeftAlone() {
    String id = "manual-pool";
    fixtures.pool(dynamicPool(id, 1, 4).put("auto_scaling_enabled", false), 1);
    created("/api/v1/pools/" + id + "/scaling/policies", new JsonObject().put("type", "queue_depth_per_worker")
        .put("target", 1));
    List<String> jobs = burst(id, 3, 300);
    for (String job : jobs) fixtures.awaitState(submitter, job, "succeeded");
    assertThat(pool(id).getInteger("target_size")).isEqualTo(1);
    assertThat(history(id)).isEmpty();
  }
}
