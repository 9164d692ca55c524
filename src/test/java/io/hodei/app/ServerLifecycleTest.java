package io.hodei.app;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Start-up, restart, readiness and fail-fast behaviour of a whole server. */
class ServerLifecycleTest {
  private static Path dataDir;

  @BeforeAll
  static void createDir() throws Exception {
    dataDir = Files.createTempDirectory("hodei-lifecycle-");
  }

  @AfterAll
  static void removeDir() throws Exception {
    try (Stream<Path> paths = Files.walk(dataDir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void restartKeepsDataAndReadinessFollowsTheDatabase() throws Exception {
    String tenantId;
    try (TestServer first = TestServer.startPersistent(dataDir, Map.of())) {
      Response created = first.admin(HttpMethod.POST, "/api/v1/tenants",
          new JsonObject().put("id", "durable").put("name", "Durable"));
      assertThat(created.status()).isEqualTo(201);
      tenantId = created.json().getString("id");
      Response token = first.admin(HttpMethod.POST, "/api/v1/tenants/durable/tokens",
          new JsonObject().put("role", "viewer"));
      String viewer = token.json().getString("token");

      try (TestServer second = TestServer.startPersistent(dataDir.resolve("unused"), Map.of(
          ConfigSchema.SERVER_PORT, first.port()))) {
        throw new AssertionError("a second server on a taken port must not start");
      } catch (RuntimeException e) {
        assertThat(e.getMessage()).contains("server.port").contains("address already in use");
      }
      try (TestServer second = TestServer.startPersistent(dataDir.resolve("unused-grpc"), Map.of(
          ConfigSchema.SERVER_GRPC_PORT, first.port()))) {
        throw new AssertionError("a server whose gRPC port is taken must not start");
      } catch (RuntimeException e) {
        assertThat(e.getMessage()).contains("server.grpc_port").contains("address already in use");
      }

      first.close();
      try (TestServer restarted = TestServer.startPersistent(dataDir, Map.of())) {
        Response again = restarted.get("/api/v1/tenants/" + tenantId, viewer);
        assertThat(again.status()).as(again.toString()).isEqualTo(200);
        assertThat(again.json().getString("name")).isEqualTo("Durable");
        assertThat(restarted.get("/health/ready", null).status()).isEqualTo(200);

        restarted.server().database().stopEmbeddedServer();
        long deadline = System.nanoTime() + 30_000_000_000L;
        int status = 200;
        while (System.nanoTime() < deadline && status != 503) {
          status = restarted.get("/health/ready", null).status();
        }
        assertThat(status).isEqualTo(503);
        assertThat(restarted.get("/health/live", null).status()).isEqualTo(200);
      }
    }
  }

  @Test
  void unreachableDatabaseFailsFastWithTheReason() {
    assertThatThrownBy(() -> TestServer.start(Map.of(ConfigSchema.DB_URL,
        "postgresql://hodei:wrong@127.0.0.1:1/hodei")))
        .hasMessageStartingWith("database:");
  }
}
