package io.hodei.pool;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Pools survive restarts; workers of the previous process are replaced; config pools are created once. */
class PoolRestartTest {

  @Test
  void restartReloadsPoolsAndReplacesLostWorkers() throws Exception {
    Path dir = Files.createTempDirectory("hodei-pool-restart-");
    Map<String, Object> config = Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.POOLS_LIST, List.of(Map.of("id", "cfg-pool", "type", "static", "provider", "simulated",
            "min_size", 1, "max_size", 4)));
    try {
      List<String> before;
      try (TestServer first = TestServer.startPersistent(dir, config)) {
        JsonObject cfg = awaitIdle(first, "cfg-pool", 1);
        assertThat(cfg.getString("kind")).isEqualTo("static");
        assertThat(cfg.getInteger("max_size")).isEqualTo(4);
        Response created = first.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", "kept")
            .put("provider", "simulated").put("size", 2).put("labels", new JsonObject().put("gpu", "none")));
        assertThat(created.status()).isEqualTo(201);
        awaitIdle(first, "kept", 2);
        before = ids(first.get("/api/v1/pools/kept/workers", TestServer.ADMIN_TOKEN).json().getJsonArray("items"));
        assertThat(first.admin(HttpMethod.POST, "/api/v1/pools/cfg-pool/lifecycle",
            new JsonObject().put("action", "stop")).status()).isEqualTo(200);
        Poll.until(() -> first.get("/api/v1/pools/cfg-pool", TestServer.ADMIN_TOKEN).json(),
            p -> p.getJsonObject("workers").getInteger("total") == 0, Duration.ofSeconds(20), "cfg-pool empty");
        Response deleted = first.admin(HttpMethod.DELETE, "/api/v1/pools/cfg-pool", null);
        assertThat(deleted.status()).as("DELETE answered %s", deleted).isEqualTo(204);
      }
      try (TestServer second = TestServer.startPersistent(dir, config)) {
        JsonObject kept = awaitIdle(second, "kept", 2);
        assertThat(kept.getJsonObject("labels").getString("gpu")).isEqualTo("none");
        List<String> after = ids(second.get("/api/v1/pools/kept/workers", TestServer.ADMIN_TOKEN).json()
            .getJsonArray("items"));
        assertThat(after).doesNotContainAnyElementsOf(before);
        JsonArray lost = second.get("/api/v1/pools/kept/workers?state=terminated", TestServer.ADMIN_TOKEN).json()
            .getJsonArray("items");
        assertThat(ids(lost)).containsAll(before);
        assertThat(lost.getJsonObject(0).getString("failure_reason")).isEqualTo("lost_on_restart");
        assertProblem(second.get("/api/v1/pools/cfg-pool", TestServer.ADMIN_TOKEN), 404);
      }
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static JsonObject awaitIdle(TestServer server, String id, int idle) {
    return Poll.until(() -> server.get("/api/v1/pools/" + id, TestServer.ADMIN_TOKEN).json(),
        p -> p.containsKey("workers") && p.getJsonObject("workers").getInteger("idle") == idle
            && "active".equals(p.getString("state")), Duration.ofSeconds(30), id + " ready");
  }

  private static List<String> ids(JsonArray items) {
    return items.stream().map(w -> ((JsonObject) w).getString("id")).toList();
  }
}
