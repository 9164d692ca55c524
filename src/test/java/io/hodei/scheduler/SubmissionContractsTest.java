package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
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

/** The contracts of refusals: idempotency keys, batch errors, pool bounds, and scaling reasons that name their cap. */
class SubmissionContractsTest {
  private static TestServer server;
  private static Fixtures fx;
  private static String token;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SCALING_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.METRICS_INTERVAL, 1));
    fx = new Fixtures(server);
    token = fx.tenant("contracts", new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 10_000_000)
        .put("max_concurrent_jobs", 1000).put("max_queued_jobs", 1000), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("ct-pool", 1, 10), 1);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static Response submitWithKey(String key, JsonObject body) {
    return server.send(server.request(HttpMethod.POST, "/api/v1/jobs", token).putHeader("Idempotency-Key", key),
        body);
  }

  @Test
  void anIdempotencyKeyReusedWithAnotherBodyIsRefusedAndTheSameBodyReplays() {
    JsonObject first = Fixtures.spec("ct-pool", "sim").put("name", "first").put("labels", new JsonObject()
        .put("a", "1").put("b", "2"));
    Response created = submitWithKey("key-1", first);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String id = created.json().getString("id");

    JsonObject reordered = new JsonObject().put("labels", new JsonObject().put("b", "2").put("a", "1"))
        .put("name", "first").put("memory_mb", 256).put("cpu_m", 500).put("pool_id", "ct-pool")
        .put("command", new JsonArray().add("sim"));
    Response replay = submitWithKey("key-1", reordered);
    assertThat(replay.status()).as(replay.toString()).isIn(200, 201);
    assertThat(replay.json().getString("id")).as("the same submission answers the first job").isEqualTo(id);

    Response reused = submitWithKey("key-1", first.copy().put("name", "second"));
    JsonObject problem = assertProblem(reused, 422);
    assertThat(problem.getString("detail")).contains("key-1");
    assertThat(problem.getJsonArray("errors").getJsonObject(0).getString("field")).isEqualTo("idempotency_key");

    // the same body still answers the first job after a refusal
    assertThat(submitWithKey("key-1", first).json().getString("id")).isEqualTo(id);
  }

  @Test
  void aBatchWithAnUnknownPoolNamesTheJobsField() {
    JsonObject batch = new JsonObject().put("jobs", new JsonArray().add(Fixtures.spec("ct-pool", "sim"))
        .add(Fixtures.spec("no-such-pool", "sim")));
    JsonObject problem = assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs:batch", token, batch), 422);
    JsonArray errors = problem.getJsonArray("errors");
    assertThat(errors).as(problem.encode()).isNotNull();
    assertThat(errors.stream().map(JsonObject.class::cast).map(e -> e.getString("field")))
        .contains("jobs[1].pool_id");
    assertThat(problem.getInteger("index")).isEqualTo(1);
  }

  @Test
  void aPoolWhoseMinSizeIsAboveItsMaxSizeNamesMinSize() {
    JsonObject pool = new JsonObject().put("id", "ct-bounds").put("kind", "dynamic").put("provider", "simulated")
        .put("min_size", 5).put("max_size", 2);
    JsonObject problem = assertProblem(server.admin(HttpMethod.POST, "/api/v1/pools", pool), 422);
    JsonObject error = problem.getJsonArray("errors").getJsonObject(0);
    assertThat(error.getString("field")).isEqualTo("min_size");
    assertThat(error.getString("message")).contains("max_size");

    fx.pool(new JsonObject().put("id", "ct-dyn").put("kind", "dynamic").put("provider", "simulated")
        .put("min_size", 0).put("max_size", 3).put("provider_config", new JsonObject().put("provision_delay_ms", 1)),
        0);
    JsonObject resize = assertProblem(server.admin(HttpMethod.PUT, "/api/v1/pools/ct-dyn/dynamic",
        new JsonObject().put("min_size", 3).put("max_size", 1)), 422);
    assertThat(resize.getJsonArray("errors").getJsonObject(0).getString("field")).isEqualTo("min_size");
  }

  @Test
  void aScaleOutCappedByMaxStepSaysSo() {
    String id = "ct-step";
    fx.pool(new JsonObject().put("id", id).put("kind", "dynamic").put("provider", "simulated").put("min_size", 1)
        .put("max_size", 10).put("target_size", 1).put("auto_scaling_enabled", true).put("worker_cpu_m", 1000)
        .put("worker_memory_mb", 1024).put("provider_config", new JsonObject().put("provision_delay_ms", 1)
            .put("job_duration_ms", 60_000)), 1);
    Response policy = server.admin(HttpMethod.POST, "/api/v1/pools/" + id + "/scaling/policies",
        new JsonObject().put("type", "queue_depth_per_worker").put("target", 1).put("max_step", 1));
    assertThat(policy.status()).as(policy.toString()).isEqualTo(201);
    for (int i = 0; i < 6; i++) fx.submitted(token, Fixtures.spec(id, "sim").put("cpu_m", 1000).put("memory_mb", 512));

    JsonArray history = Poll.until(() -> server.get("/api/v1/pools/" + id + "/scaling/history", TestServer.ADMIN_TOKEN)
        .json().getJsonArray("items"), h -> !h.isEmpty(), Duration.ofSeconds(60), "a scaling decision");
    JsonObject decision = history.getJsonObject(history.size() - 1);
    assertThat(decision.getInteger("size_after") - decision.getInteger("size_before")).isEqualTo(1);
    assertThat(decision.getString("reason")).as(decision.encode()).contains("capped by max_step 1");
  }
}
