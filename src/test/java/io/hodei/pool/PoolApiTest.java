package io.hodei.pool;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Pools and workers through REST on the simulated provider, against real PostgreSQL. */
class PoolApiTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_HEALTH_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.POOLS_MAX_WORKERS, 2000));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static JsonObject simulatedPool(String id, String kind) {
    return new JsonObject().put("id", id).put("kind", kind).put("provider", "simulated")
        .put("provider_config", new JsonObject().put("provision_delay_ms", 5));
  }

  static JsonObject create(JsonObject body) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/pools", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json();
  }

  static JsonObject pool(String id) {
    Response r = server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  static JsonObject awaitPool(String id, String state, int idle) {
    return Poll.until(() -> pool(id), p -> p.getString("state").equals(state)
            && p.getJsonObject("workers").getInteger("idle") == idle
            && p.getJsonObject("workers").getInteger("total") == idle,
        Duration.ofSeconds(60), "pool " + id + " " + state + " with " + idle + " idle workers");
  }

  static JsonArray workers(String id, String state) {
    String query = state == null ? "" : "&state=" + state;
    return server.get("/api/v1/pools/" + id + "/workers?limit=500" + query, TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
  }

  static Response lifecycle(String id, String action) {
    return server.admin(HttpMethod.POST, "/api/v1/pools/" + id + "/lifecycle", new JsonObject().put("action", action));
  }

  @Test
  void staticPoolProvisionsAndResizes() {
    JsonObject created = create(simulatedPool("static-a", "static").put("size", 3).put("worker_cpu_m", 2000)
        .put("price_per_worker_hour", "0.125"));
    assertThat(created.getString("state")).isIn("creating", "active");
    assertThat(created.getValue("price_per_worker_hour").toString()).startsWith("0.125");
    awaitPool("static-a", "active", 3);
    JsonArray ws = workers("static-a", null);
    assertThat(ws).hasSize(3);
    assertThat(ws.getJsonObject(0).getString("health")).isEqualTo("healthy");
    assertThat(ws.getJsonObject(0).getLong("provisioned_in_ms")).isNotNull();
    assertThat(ws.getJsonObject(0).getLong("cpu_m")).isEqualTo(2000);

    Response grow = server.admin(HttpMethod.PUT, "/api/v1/pools/static-a/static", new JsonObject().put("size", 5));
    assertThat(grow.status()).as(grow.toString()).isEqualTo(200);
    awaitPool("static-a", "active", 5);
    server.admin(HttpMethod.PUT, "/api/v1/pools/static-a/static", new JsonObject().put("size", 2));
    awaitPool("static-a", "active", 2);
    Poll.until(() -> workers("static-a", "terminated"), t -> t.size() == 3, Duration.ofSeconds(20), "3 terminated");

    Response add = server.admin(HttpMethod.POST, "/api/v1/pools/static-a/workers", new JsonObject().put("count", 2));
    assertThat(add.status()).isEqualTo(202);
    awaitPool("static-a", "active", 4);
    String victim = workers("static-a", "idle").getJsonObject(0).getString("id");
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/pools/static-a/workers/" + victim, null).status())
        .isEqualTo(202);
    awaitPool("static-a", "active", 3);
    assertThat(workers("static-a", null).stream().map(w -> ((JsonObject) w).getString("id"))).doesNotContain(victim);
  }

  @Test
  void lifecycleFollowsTheStateMachine() {
    create(simulatedPool("life", "static").put("size", 2));
    awaitPool("life", "active", 2);
    assertThat(lifecycle("life", "pause").json().getString("state")).isEqualTo("paused");
    JsonObject illegal = assertProblem(lifecycle("life", "pause"), 409);
    assertThat(illegal.getJsonArray("allowed_actions")).contains("resume", "drain", "stop");
    assertThat(lifecycle("life", "resume").json().getString("state")).isEqualTo("active");

    assertProblem(server.admin(HttpMethod.DELETE, "/api/v1/pools/life", null), 409);
    assertThat(lifecycle("life", "drain").status()).isEqualTo(200);
    Poll.until(() -> pool("life"), p -> p.getString("state").equals("stopped")
        && p.getJsonObject("workers").getInteger("total") == 0, Duration.ofSeconds(30), "drained pool stopped");
    assertThat(lifecycle("life", "resume").json().getString("state")).isEqualTo("active");
    awaitPool("life", "active", 2);
    assertThat(lifecycle("life", "stop").status()).isEqualTo(200);
    Poll.until(() -> pool("life"), p -> p.getJsonObject("workers").getInteger("total") == 0,
        Duration.ofSeconds(30), "stopped pool empty");
    assertThat(lifecycle("life", "delete").status()).isEqualTo(200);
    assertProblem(server.get("/api/v1/pools/life", TestServer.ADMIN_TOKEN), 404);
    assertProblem(lifecycle("life", "resume"), 404);
  }

  @Test
  void dynamicPoolBoundsAreChecked() {
    JsonObject created = create(simulatedPool("dyn", "dynamic").put("min_size", 1).put("max_size", 4));
    assertThat(created.getInteger("target_size")).isEqualTo(1);
    assertThat(created.getBoolean("auto_scaling_enabled")).isTrue();
    // Created after the collector's last run (every 10 s here): metrics say "not sampled yet", never 404.
    Response early = server.get("/api/v1/pools/dyn/metrics", TestServer.ADMIN_TOKEN);
    assertThat(early.status()).as(early.toString()).isEqualTo(200);
    assertThat(early.json().containsKey("collected")).isTrue();
    assertProblem(server.get("/api/v1/pools/never-was/metrics", TestServer.ADMIN_TOKEN), 404);
    awaitPool("dyn", "active", 1);
    Response ok = server.admin(HttpMethod.PUT, "/api/v1/pools/dyn/dynamic",
        new JsonObject().put("min_size", 2).put("max_size", 6).put("target_size", 3));
    assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
    awaitPool("dyn", "active", 3);
    assertProblem(server.admin(HttpMethod.PUT, "/api/v1/pools/dyn/dynamic",
        new JsonObject().put("min_size", 5).put("max_size", 3)), 422);
    assertProblem(server.admin(HttpMethod.PUT, "/api/v1/pools/dyn/dynamic",
        new JsonObject().put("min_size", 1).put("max_size", 3).put("target_size", 9)), 422);
    assertProblem(server.admin(HttpMethod.PUT, "/api/v1/pools/dyn/static", new JsonObject().put("size", 2)), 409);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools/dyn/workers", new JsonObject().put("count", 10)), 422);
    Response stale = server.send(server.request(HttpMethod.PATCH, "/api/v1/pools/dyn", TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), new JsonObject().put("name", "renamed"));
    assertProblem(stale, 412);
  }

  @Test
  void badInputIsRejected() {
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("provider", "no-such")), 422);
    // a provider's required provider_config keys are required when provider_config is left out
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("provider", "kubernetes")), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools",
        new JsonObject().put("kind", "dynamic").put("min_size", 5).put("max_size", 2)), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("size", 100_000)), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("size", -1)), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("sise", 1)), 400);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("worker_cpu_m", 0)), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("price_per_worker_hour", -1)),
        422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("provider", "simulated")
        .put("provider_config", new JsonObject().put("provision_failure_rate", 7))), 422);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("kind", "elastic")), 422);
    create(simulatedPool("dup", "static").put("size", 0));
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", simulatedPool("dup", "static")), 409);
    assertProblem(server.get("/api/v1/pools/nope", TestServer.ADMIN_TOKEN), 404);
    assertProblem(server.get("/api/v1/pools/dup/workers?state=sleeping", TestServer.ADMIN_TOKEN), 422);
    assertProblem(lifecycle("dup", "explode"), 422);

    String tenant = server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("name", "Pool Viewer"))
        .json().getString("id");
    String viewer = server.admin(HttpMethod.POST, "/api/v1/tenants/" + tenant + "/tokens",
        new JsonObject().put("role", "viewer")).json().getString("token");
    assertThat(server.get("/api/v1/pools/dup", viewer).status()).isEqualTo(200);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/pools", viewer, simulatedPool("mine", "static")), 403);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/pools/dup/lifecycle", viewer,
        new JsonObject().put("action", "stop")), 403);
  }

  @Test
  void aThousandSimulatedWorkersComeUp() {
    create(simulatedPool("big", "static").put("size", 1000));
    JsonObject big = awaitPool("big", "active", 1000);
    assertThat(big.getJsonObject("workers").getInteger("total")).isEqualTo(1000);
    lifecycle("big", "stop");
    Poll.until(() -> pool("big"), p -> p.getJsonObject("workers").getInteger("total") == 0,
        Duration.ofSeconds(60), "1000 workers terminated");
  }

  @Test
  void unhealthyWorkersAreDetectedAndReplacedInDynamicPools() {
    create(simulatedPool("heal", "dynamic").put("min_size", 2).put("max_size", 4));
    awaitPool("heal", "active", 2);
    String victim = workers("heal", "idle").getJsonObject(0).getString("id");
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/heal/workers/" + victim + "/crash", null).status())
        .isEqualTo(202);
    Poll.until(() -> workers("heal", "terminated"), t -> t.stream()
        .anyMatch(w -> ((JsonObject) w).getString("id").equals(victim)), Duration.ofSeconds(30), "victim terminated");
    JsonObject healed = awaitPool("heal", "active", 2);
    assertThat(healed.getJsonObject("workers").getInteger("unhealthy")).isZero();
    assertThat(workers("heal", null).stream().map(w -> ((JsonObject) w).getString("id"))).doesNotContain(victim);

    create(simulatedPool("fixed", "static").put("size", 1));
    awaitPool("fixed", "active", 1);
    String sick = workers("fixed", "idle").getJsonObject(0).getString("id");
    server.admin(HttpMethod.POST, "/api/v1/pools/fixed/workers/" + sick + "/crash", null);
    Poll.until(() -> workers("fixed", "unhealthy"), u -> u.size() == 1, Duration.ofSeconds(30), "static unhealthy");
    assertThat(pool("fixed").getJsonObject("workers").getInteger("total")).isEqualTo(1);

    Response metrics = server.get("/metrics", null);
    assertThat(metrics.body()).contains("hodei_events_published_total{event_type=\"worker.state\"}")
        .contains("hodei_workers_total").contains("hodei_workers_healthy");
  }
}
