package io.hodei.pool;

import io.hodei.app.config.ConfigLoader;
import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A static pool keeps its size, so asking the autoscaler to size it is a contradiction: refused with a clear message
 * through the API and in the configuration, and the shipped configuration does not contain it.
 */
class StaticPoolAutoscalingTest {

  @Test
  void aStaticPoolWithAutoscalingIsRefusedThroughTheApi() {
    try (TestServer server = TestServer.start(Map.of())) {
      Response created = server.admin(HttpMethod.POST, "/api/v1/pools",
          Fixtures.simulatedPool("fixed", 1, 10).put("kind", "static").put("auto_scaling_enabled", true));
      assertProblem(created, 422);
      assertThat(created.json().getString("detail")).contains("auto_scaling_enabled is for dynamic pools");

      new Fixtures(server).pool(Fixtures.simulatedPool("fixed", 1, 10), 1);
      Response patched = server.admin(HttpMethod.PATCH, "/api/v1/pools/fixed",
          new JsonObject().put("auto_scaling_enabled", true));
      assertProblem(patched, 422);
      assertThat(server.get("/api/v1/pools/fixed", TestServer.ADMIN_TOKEN).json()
          .getBoolean("auto_scaling_enabled")).isFalse();
      assertThat(server.admin(HttpMethod.PATCH, "/api/v1/pools/fixed",
          new JsonObject().put("auto_scaling_enabled", false)).status()).isEqualTo(200);
    }
  }

  @Test
  void aConfiguredStaticPoolWithAutoscalingStopsTheStartWithTheEntryNamed() {
    Map<String, Object> bad = Map.of("id", "bad", "type", "static", "provider", "simulated", "size", 1,
        "auto_scaling_enabled", true);
    assertThatThrownBy(() -> TestServer.start(Map.of(ConfigSchema.POOLS_LIST, List.of(bad))).close())
        .hasStackTraceContaining("resource_pools.pools[0]: auto_scaling_enabled is for dynamic pools");
  }

  @Test
  void theShippedPoolsAreCoherentAndStart() {
    List<Map<String, Object>> shipped = ConfigLoader.load(Path.of("conf/hodei.yaml"), Map.of(), Map.of())
        .getList(ConfigSchema.POOLS_LIST);
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.POOLS_LIST, shipped))) {
      JsonObject pool = server.get("/api/v1/pools/pool-default", TestServer.ADMIN_TOKEN).json();
      assertThat(pool.getString("kind")).isEqualTo("dynamic");
      assertThat(pool.getBoolean("auto_scaling_enabled")).isTrue();
      assertThat(pool.getInteger("max_size")).isEqualTo(20);
    }
  }
}
