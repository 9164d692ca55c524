package io.hodei.http.bridge;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.http.bridge.BridgeClients.TIMEOUT;
import static io.hodei.http.bridge.BridgeClients.metric;
import static io.hodei.http.bridge.BridgeClients.publishUntilReceived;
import static org.assertj.core.api.Assertions.assertThat;

/** A bridge consumer that stops reading loses events and then its connection; the server carries on. */
class BridgeSlowConsumerTest {
  private static TestServer server;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.BRIDGE_TCP_PORT, 0, ConfigSchema.BRIDGE_MAX_BUFFERED, 5));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  @Test
  void aConsumerThatStopsReadingIsDroppedThenClosed() {
    String padding = "x".repeat(16 * 1024);
    try (BridgeClients.TcpClient client = BridgeClients.tcp(vertx, server.server().bridgeTcpPort())) {
      client.register("hodei.events.job.started", TestServer.ADMIN_TOKEN);
      publishUntilReceived(server, client, "job.started", null, UUID.randomUUID().toString(), null);
      client.stopReading();

      Poll.until(() -> {
        for (int i = 0; i < 200; i++) {
          server.server().vertx().eventBus().publish("hodei.events.job.started",
              new JsonObject().put("type", "job.started").put("padding", padding));
        }
        return metric(server, "hodei_event_bus_subscribers", null, null);
      }, subscribers -> subscribers == 0, TIMEOUT, "the stuck connection to be closed");

      assertThat(metric(server, "hodei_bridge_dropped_total", "reason", "slow_consumer")).isPositive();
      assertThat(server.get("/api/v1/pools", TestServer.ADMIN_TOKEN).status()).isEqualTo(200);
    }
  }
}
