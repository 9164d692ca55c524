package io.hodei.scaling;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.ConfigureScalingPolicyRequest;
import io.hodei.grpc.v1.GetScalingHistoryRequest;
import io.hodei.grpc.v1.ListScalingPoliciesRequest;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcClient;
import io.hodei.grpc.v1.ScalingPolicy;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static io.hodei.support.GrpcTestClient.statusOf;
import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Policies, triggers, cooldown and history over REST and gRPC: validation, roles, persistence across a restart. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScalingApiTest {
  private static final String BASE = "/api/v1/pools/api-pool/scaling";
  private static final Map<String, Object> CONFIG = Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1);
  private static Path dataDir;
  private static TestServer server;
  private static String viewer;

  @BeforeAll
  static void start() throws Exception {
    dataDir = Files.createTempDirectory("hodei-scaling-api");
    server = TestServer.startPersistent(dataDir, CONFIG);
    Fixtures fixtures = new Fixtures(server);
    viewer = fixtures.tenant("scaling-viewers", null, 1, "viewer");
    fixtures.pool(AutoscalingTest.dynamicPool("api-pool", 1, 4).put("auto_scaling_enabled", false), 1);
    fixtures.pool(Fixtures.simulatedPool("api-static", 1, 10), 1);
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  private static Response post(String path, JsonObject body) { return server.admin(HttpMethod.POST, path, body); }

  @Test
  @Order(1)
  void policiesCrudWithOptimisticLocking() {
    Response created = post(BASE + "/policies", new JsonObject().put("type", "target_utilisation").put("target", 0.7)
        .put("min_step", 1).put("max_step", 3));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    JsonObject policy = created.json();
    String id = policy.getString("id");
    assertThat(created.header("Location")).isEqualTo(BASE + "/policies/" + id);
    assertThat(policy.getDouble("target")).isEqualTo(0.7);
    assertThat(policy.getBoolean("enabled")).isTrue();

    Response replaced = server.send(server.request(HttpMethod.PUT, BASE + "/policies/" + id, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), new JsonObject().put("type", "target_utilisation").put("target", 0.5));
    assertThat(replaced.status()).as(replaced.toString()).isEqualTo(200);
    assertThat(replaced.json().getLong("version")).isEqualTo(2);
    assertProblem(server.send(server.request(HttpMethod.PUT, BASE + "/policies/" + id, TestServer.ADMIN_TOKEN)
        .putHeader("If-Match", "\"1\""), new JsonObject().put("type", "target_utilisation").put("target", 0.6)), 412);

    Response list = server.get(BASE + "/policies", viewer);
    assertThat(list.status()).as(list.toString()).isEqualTo(200);
    assertThat(list.json().getJsonArray("items")).hasSize(1);
    assertThat(server.get(BASE + "/policies/" + id, viewer).json().getDouble("target")).isEqualTo(0.5);

    assertThat(server.admin(HttpMethod.DELETE, BASE + "/policies/" + id, null).status()).isEqualTo(204);
    assertProblem(server.get(BASE + "/policies/" + id, viewer), 404);
  }

  @Test
  @Order(2)
  void contradictionsAndBadValuesAre422WithTheReason() {
    JsonObject steps = assertProblem(post(BASE + "/policies", new JsonObject().put("type", "queue_depth_per_worker")
        .put("target", 1).put("min_step", 5).put("max_step", 2)), 422);
    assertThat(steps.getString("detail")).contains("min_step 5 is greater than max_step 2");
    assertThat(assertProblem(post(BASE + "/policies", new JsonObject().put("type", "sideways").put("target", 1)), 422)
        .getString("detail")).contains("must be one of");
    assertThat(assertProblem(post(BASE + "/policies", new JsonObject().put("type", "target_utilisation")
        .put("target", 1.5)), 422).getString("detail")).contains("at most 1");
    JsonObject window = new JsonObject().put("days", new JsonArray().add("mon")).put("start", "18:00")
        .put("end", "08:00").put("min_size", 9);
    JsonObject schedule = assertProblem(post(BASE + "/policies", new JsonObject().put("type", "scheduled")
        .put("schedule", new JsonArray().add(window))), 422);
    assertThat(schedule.getJsonArray("errors").encode()).contains("not after its start 18:00")
        .contains("above the pool's max_size 4");
    assertThat(assertProblem(post(BASE + "/triggers", new JsonObject().put("metric", "utilisation")
        .put("comparison", "gt").put("threshold", 2).put("action", "scale_out")), 422).getString("detail"))
        .contains("between 0 and 1");
    assertThat(assertProblem(post(BASE + "/triggers", new JsonObject().put("metric", "utilisation")
        .put("comparison", "about").put("threshold", 0.5).put("action", "scale_out")), 422).getString("detail"))
        .contains("comparison");
    assertThat(assertProblem(server.admin(HttpMethod.PUT, BASE + "/cooldown",
        new JsonObject().put("scale_in_cooldown_s", -5)), 422).getString("detail"))
        .contains("scale_in_cooldown_s").contains("between 0 and 86400");
    assertProblem(post(BASE + "/policies", new JsonObject().put("type", "queue_wait_time").put("target", "ten")), 400);
    assertProblem(post(BASE + "/policies", new JsonObject().put("type", "queue_wait_time").put("target", 10)
        .put("colour", "red")), 400);
    assertProblem(server.get(BASE + "/history?from=yesterday", viewer), 400);
  }

  @Test
  @Order(3)
  void rolesUnknownAndStaticPools() {
    assertProblem(server.send(HttpMethod.POST, BASE + "/policies", viewer, new JsonObject()
        .put("type", "queue_depth_per_worker").put("target", 1)), 403);
    assertProblem(server.send(HttpMethod.PUT, BASE + "/cooldown", viewer, new JsonObject()), 403);
    assertProblem(server.get("/api/v1/pools/nope/scaling/policies", viewer), 404);
    assertProblem(server.get(BASE + "/policies", null), 401);
    assertProblem(post("/api/v1/pools/api-static/scaling/policies", new JsonObject()
        .put("type", "queue_depth_per_worker").put("target", 1)), 409);
    Response cooldown = server.get(BASE + "/cooldown", viewer);
    assertThat(cooldown.json().getInteger("scale_out_cooldown_s")).isEqualTo(Cooldown.DEFAULT_SCALE_OUT_S);
    assertThat(cooldown.json().getLong("version")).isZero();
    Response history = server.get(BASE + "/history?from=2020-01-01T00:00:00Z&limit=10", viewer);
    assertThat(history.status()).as(history.toString()).isEqualTo(200);
    assertThat(history.json().getJsonArray("items")).isEmpty();
  }

  @Test
  @Order(4)
  void grpcConfigureScalingPolicy() {
    Vertx vertx = Vertx.vertx();
    try {
      GrpcTestClient admin = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
      ResourcePoolServiceGrpcClient pools = ResourcePoolServiceGrpcClient.create(admin,
          SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
      ScalingPolicy created = pools.configureScalingPolicy(ConfigureScalingPolicyRequest.newBuilder()
          .setPoolId("api-pool").setType("queue_wait_time").setTarget(30).setMaxStep(2).build()).await();
      assertThat(created.getId()).startsWith("sp-");
      assertThat(created.getTarget()).isEqualTo(30.0);
      ScalingPolicy replaced = pools.configureScalingPolicy(ConfigureScalingPolicyRequest.newBuilder()
          .setPoolId("api-pool").setPolicyId(created.getId()).setType("queue_wait_time").setTarget(45)
          .setIfMatchVersion(1).build()).await();
      assertThat(replaced.getVersion()).isEqualTo(2);
      assertThat(pools.listScalingPolicies(ListScalingPoliciesRequest.newBuilder().setPoolId("api-pool").build())
          .await().getItemsList()).extracting(ScalingPolicy::getId).contains(created.getId());
      assertThat(statusOf(pools.configureScalingPolicy(ConfigureScalingPolicyRequest.newBuilder()
          .setPoolId("api-pool").setType("queue_wait_time").setTarget(10).setMinStep(4).setMaxStep(1).build())))
          .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(statusOf(pools.configureScalingPolicy(ConfigureScalingPolicyRequest.newBuilder()
          .setPoolId("missing").setType("queue_wait_time").setTarget(10).build()))).isEqualTo(GrpcStatus.NOT_FOUND);
      assertThat(pools.getScalingHistory(GetScalingHistoryRequest.newBuilder().setPoolId("api-pool").build()).await()
          .getItemsCount()).isZero();
    } finally {
      vertx.close().await();
    }
  }

  @Test
  @Order(5)
  void policiesTriggersAndCooldownSurviveARestart() {
    Response trigger = post(BASE + "/triggers", new JsonObject().put("metric", "queue_wait_seconds")
        .put("comparison", "gte").put("threshold", 20).put("for_duration_s", 30).put("action", "scale_out")
        .put("step", 2));
    assertThat(trigger.status()).as(trigger.toString()).isEqualTo(201);
    Response cooldown = server.admin(HttpMethod.PUT, BASE + "/cooldown", new JsonObject()
        .put("scale_out_cooldown_s", 15).put("scale_in_cooldown_s", 120).put("scale_in_stabilisation_s", 300));
    assertThat(cooldown.status()).as(cooldown.toString()).isEqualTo(200);
    JsonArray policiesBefore = server.get(BASE + "/policies", viewer).json().getJsonArray("items");
    assertThat(policiesBefore).isNotEmpty();

    server.close();
    server = TestServer.startPersistent(dataDir, CONFIG);

    assertThat(server.get(BASE + "/policies", TestServer.ADMIN_TOKEN).json().getJsonArray("items"))
        .isEqualTo(policiesBefore);
    JsonObject restored = server.get(BASE + "/triggers/" + trigger.json().getString("id"), TestServer.ADMIN_TOKEN)
        .json();
    restored.remove("trace_id");
    JsonObject expected = trigger.json().copy();
    expected.remove("trace_id");
    assertThat(restored).isEqualTo(expected);
    JsonObject c = server.get(BASE + "/cooldown", TestServer.ADMIN_TOKEN).json();
    assertThat(c.getInteger("scale_in_stabilisation_s")).isEqualTo(300);
    assertThat(c.getLong("version")).isEqualTo(1);
  }
}
