package io.hodei.http.bridge;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.http.bridge.BridgeClients.TIMEOUT;
import static io.hodei.http.bridge.BridgeClients.metric;
import static io.hodei.http.bridge.BridgeClients.publish;
import static io.hodei.http.bridge.BridgeClients.publishUntilReceived;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SockJS and TCP event-bus bridges as outside consumers see them: tokens, tenant filtering, infrastructure
 * events from a real simulated pool, and the bridge metrics, against a real server.
 */
class BridgeTest {
  private static final String JOB_STARTED = "hodei.events.job.started";
  private static final String WORKER_STATE = "hodei.events.worker.state";
  private static TestServer server;
  private static Vertx vertx;
  private static String tenantA;
  private static String tenantB;
  private static String tokenA;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.BRIDGE_TCP_PORT, 0, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1));
    vertx = Vertx.vertx();
    tenantA = tenant("bridge-a");
    tenantB = tenant("bridge-b");
    tokenA = token(tenantA);
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static String tenant(String id) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("id", id).put("name", id));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return id;
  }

  private static String token(String tenantId) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants/" + tenantId + "/tokens",
        new JsonObject().put("role", "viewer"));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("token");
  }

  private static String marker() { return UUID.randomUUID().toString(); }

  @Test
  void sockJsTenantSeesItsOwnEventsAndPoolEventsButNotOtherTenants() {
    try (BridgeClients.Client client = BridgeClients.sockJs(vertx, server.port())) {
      client.register(WORKER_STATE, tokenA);
      client.register(JOB_STARTED, null); // the token sent before signs the socket in
      String foreign = marker();
      publishUntilReceived(server, client, "job.started", tenantA, marker(),
          () -> publish(server, "job.started", tenantB, foreign));
      assertThat(client.received(foreign)).as("tenant B's event reaches tenant A").isFalse();
      assertThat(client.events()).allMatch(e -> tenantA.equals(e.getString("tenant_id")));
      assertThat(client.errors()).isEmpty();

      // Infrastructure events (no tenant_id) reach every token: first a synthetic one proves the registration...
      publishUntilReceived(server, client, "worker.state", null, marker(), null);
      // ...then a real pool's workers report their states.
      Response created = server.admin(HttpMethod.POST, "/api/v1/pools", new JsonObject().put("id", "bridge-pool")
          .put("provider", "simulated").put("kind", "static").put("size", 1)
          .put("provider_config", new JsonObject().put("provision_delay_ms", 5)));
      assertThat(created.status()).as(created.toString()).isEqualTo(201);
      JsonObject event = client.awaitEvent(e -> "bridge-pool".equals(e.getString("pool_id")), "a worker.state event");
      assertThat(event.getString("type")).isEqualTo("worker.state");
      assertThat(event.getString("worker_id")).isNotEmpty();
    }
  }

  @Test
  void adminSeesEveryTenant() {
    try (BridgeClients.Client client = BridgeClients.sockJs(vertx, server.port())) {
      client.register(JOB_STARTED, TestServer.ADMIN_TOKEN);
      publishUntilReceived(server, client, "job.started", tenantA, marker(), null);
      publishUntilReceived(server, client, "job.started", tenantB, marker(), null);
    }
  }

  @Test
  void noOrInvalidTokenGetsAnErrorAndNoEvents() {
    double unauthorized = metric(server, "hodei_bridge_dropped_total", "reason", "unauthorized");
    try (BridgeClients.Client none = BridgeClients.sockJs(vertx, server.port());
         BridgeClients.Client invalid = BridgeClients.sockJs(vertx, server.port());
         BridgeClients.Client valid = BridgeClients.sockJs(vertx, server.port())) {
      none.register(JOB_STARTED, null);
      invalid.register(JOB_STARTED, "not-a-token");
      Poll.until(none::errors, e -> !e.isEmpty(), TIMEOUT, "an err frame for no token");
      Poll.until(invalid::errors, e -> !e.isEmpty(), TIMEOUT, "an err frame for an invalid token");
      assertThat(none.errors().get(0).getString("failureType")).isEqualTo("unauthorized");
      assertThat(none.errors().get(0).getString("address")).isEqualTo(JOB_STARTED);

      valid.register(JOB_STARTED, TestServer.ADMIN_TOKEN);
      publishUntilReceived(server, valid, "job.started", null, marker(), null);
      assertThat(none.events()).isEmpty();
      assertThat(invalid.events()).isEmpty();
      assertThat(metric(server, "hodei_bridge_dropped_total", "reason", "unauthorized"))
          .isGreaterThanOrEqualTo(unauthorized + 2);
    }
  }

  @Test
  void tcpTenantSeesOnlyItsOwnEvents() {
    try (BridgeClients.Client client = BridgeClients.tcp(vertx, server.server().bridgeTcpPort());
         BridgeClients.Client anonymous = BridgeClients.tcp(vertx, server.server().bridgeTcpPort())) {
      client.register(JOB_STARTED, tokenA);
      String foreign = marker();
      publishUntilReceived(server, client, "job.started", tenantA, marker(),
          () -> publish(server, "job.started", tenantB, foreign));
      assertThat(client.received(foreign)).isFalse();
      assertThat(client.events()).allMatch(e -> tenantA.equals(e.getString("tenant_id")));
      assertThat(client.frames()).filteredOn(f -> "message".equals(f.getString("type")))
          .allMatch(f -> JOB_STARTED.equals(f.getString("address")));

      anonymous.register(JOB_STARTED, null);
      Poll.until(anonymous::errors, e -> !e.isEmpty(), TIMEOUT, "an err frame");
      assertThat(anonymous.errors().get(0).getString("message")).isEqualTo("unauthorized");
      assertThat(anonymous.errors().get(0).getString("address")).isEqualTo(JOB_STARTED);
      assertThat(anonymous.errors().get(0).getInteger("failureCode")).isEqualTo(401);
      anonymous.register("hodei.pool.create", TestServer.ADMIN_TOKEN);
      Poll.until(anonymous::errors, e -> e.size() == 2, TIMEOUT, "access_denied outside hodei.events");
      assertThat(anonymous.errors().get(1).getString("message")).isEqualTo("access_denied");
      assertThat(anonymous.events()).isEmpty();
    }
  }

  @Test
  void aConnectionHoldsAtMostAThousandRegistrationsOfBoundedAddresses() {
    try (BridgeClients.Client client = BridgeClients.tcp(vertx, server.server().bridgeTcpPort())) {
      for (int i = 0; i < 1001; i++) client.register("hodei.events.flood." + i, i == 0 ? tokenA : null);
      client.register("hodei.events." + "x".repeat(200), null);
      JsonObject tooMany = Poll.until(() -> client.errors().stream()
          .filter(e -> "max_handlers_reached".equals(e.getString("failureType"))).findFirst().orElse(null),
          e -> e != null, TIMEOUT, "the 1001st registration refused");
      assertThat(tooMany.getString("address")).isEqualTo("hodei.events.flood.1000");
      Poll.until(client::errors, e -> e.size() == 2, TIMEOUT, "the long address refused");
      assertThat(client.errors().get(1).getString("failureType")).isEqualTo("max_address_length_reached");
    }
  }

  @Test
  void sockJsConnectionThatSendsNothingForTenSecondsIsClosed() {
    try (BridgeClients.Client silent = BridgeClients.sockJs(vertx, server.port())) {
      silent.register(JOB_STARTED, tokenA);
      publishUntilReceived(server, silent, "job.started", tenantA, marker(), null);
      // no ping from now on: the keep-alive rule closes it (checked every 10 s)
      Poll.until(silent::closedByServer, closed -> closed, TIMEOUT, "the silent connection closed");
      assertThat(silent.frames()).noneMatch(f -> "binary frame".equals(f.getString("type")));
    }
  }

  @Test
  void metricsCountSubscribersAndDeliveredEvents() {
    double received = metric(server, "hodei_events_received_total", "event_type", "job.started");
    try (BridgeClients.Client sockJs = BridgeClients.sockJs(vertx, server.port());
         BridgeClients.Client tcp = BridgeClients.tcp(vertx, server.server().bridgeTcpPort())) {
      sockJs.register(JOB_STARTED, TestServer.ADMIN_TOKEN);
      tcp.register(JOB_STARTED, TestServer.ADMIN_TOKEN);
      String marker = marker();
      publishUntilReceived(server, sockJs, "job.started", tenantA, marker, null);
      // the two registrations complete independently: publish again until the TCP client has its copy too
      publishUntilReceived(server, tcp, "job.started", tenantA, marker, null);
      assertThat(metric(server, "hodei_event_bus_subscribers", null, null)).isGreaterThanOrEqualTo(2);
      assertThat(metric(server, "hodei_events_received_total", "event_type", "job.started"))
          .isGreaterThanOrEqualTo(received + 2);

      String unknown = marker();
      Poll.until(() -> {
        server.server().vertx().eventBus().publish(JOB_STARTED, new JsonObject().put("type", "made.up")
            .put("marker", unknown));
        return sockJs.received(unknown);
      }, done -> done, TIMEOUT, "an event of an unknown type");
      assertThat(metric(server, "hodei_events_received_total", "event_type", "other")).isPositive();
    }
    Poll.until(() -> metric(server, "hodei_event_bus_subscribers", null, null), v -> v == 0, TIMEOUT,
        "no subscribers once the clients are gone");
  }
}
