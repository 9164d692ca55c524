package io.hodei.metrics;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.GetPoolRequest;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcClient;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's own metrics through the public surface: GET /api/v1/metrics/performance|resources|application,
 * tenant metrics, and their hodei_service_* / hodei_db_* / hodei_host_* series on /metrics.
 */
class RuntimeMetricsApiTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject get(String path) {
    Response r = server.get(path, TestServer.ADMIN_TOKEN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  private static JsonObject endpoint(JsonObject service, String name) {
    return service.getJsonArray("endpoints").stream().map(JsonObject.class::cast)
        .filter(e -> e.getString("endpoint").equals(name)).findFirst().orElse(null);
  }

  @Test
  void restPerformanceHasRatesErrorsAndQuantilesPerEndpoint() {
    for (int i = 0; i < 5; i++) server.get("/api/v1/tenants", TestServer.ADMIN_TOKEN);
    server.get("/api/v1/tenants/missing", TestServer.ADMIN_TOKEN);
    JsonObject rest = get("/api/v1/metrics/performance/rest").getJsonObject("services").getJsonObject("rest");
    JsonObject list = endpoint(rest, "GET /api/v1/tenants");
    assertThat(list.getLong("requests")).isGreaterThanOrEqualTo(5);
    JsonObject latency = list.getJsonObject("latency");
    assertThat(latency.getDouble("p50_ms")).isNotNull().isPositive();
    assertThat(latency.getDouble("p50_ms")).isLessThanOrEqualTo(latency.getDouble("p95_ms"));
    assertThat(latency.getDouble("p95_ms")).isLessThanOrEqualTo(latency.getDouble("p99_ms"));
    JsonObject missing = endpoint(rest, "GET /api/v1/tenants/{id}");
    assertThat(missing.getLong("client_errors")).isGreaterThanOrEqualTo(1);
    assertThat(missing.getDouble("error_ratio")).isPositive();
    // rates are over the last sampling interval: after a sample the burst above shows
    Poll.until(() -> endpoint(get("/api/v1/metrics/performance/all").getJsonObject("services")
        .getJsonObject("rest"), "GET /api/v1/tenants"), e -> e.getDouble("rate_per_second") > 0, DEADLINE,
        "a request rate");
  }

  @Test
  void eventBusAndGrpcPerformanceAreMeasured() {
    server.get("/api/v1/tenants", TestServer.ADMIN_TOKEN);
    JsonObject eventbus = Poll.until(() -> get("/api/v1/metrics/performance/eventbus").getJsonObject("services")
        .getJsonObject("eventbus"), s -> endpoint(s, "hodei.tenant.list") != null, DEADLINE, "event-bus meters");
    assertThat(endpoint(eventbus, "hodei.tenant.list").getJsonObject("latency").getLong("count")).isPositive();

    Vertx vertx = Vertx.vertx();
    try {
      GrpcTestClient client = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
      ResourcePoolServiceGrpcClient pools = ResourcePoolServiceGrpcClient.create(client,
          SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
      GrpcTestClient.statusOf(pools.getPool(GetPoolRequest.newBuilder().setId("missing").build()));
    } finally {
      vertx.close().await();
    }
    JsonObject grpc = Poll.until(() -> get("/api/v1/metrics/performance/grpc").getJsonObject("services")
        .getJsonObject("grpc"), s -> endpoint(s, "hodei.v1.ResourcePoolService/GetPool") != null, DEADLINE,
        "gRPC meters");
    assertThat(endpoint(grpc, "hodei.v1.ResourcePoolService/GetPool").getLong("client_errors")).isEqualTo(1);
  }

  @Test
  void unknownServiceOrTypeIs404WithTheAllowedValues() {
    assertThat(assertProblem(server.get("/api/v1/metrics/performance/soap", TestServer.ADMIN_TOKEN), 404)
        .getString("detail")).contains("rest, grpc, eventbus, all");
    assertThat(assertProblem(server.get("/api/v1/metrics/resources/gpu", TestServer.ADMIN_TOKEN), 404)
        .getString("detail")).contains("jvm", "database");
    assertThat(assertProblem(server.get("/api/v1/metrics/application/cats", TestServer.ADMIN_TOKEN), 404)
        .getString("detail")).contains("jobs", "workers", "pools", "tenants", "queues");
    assertProblem(server.get("/api/v1/metrics/performance/rest", null), 401);
  }

  @Test
  void resourcesCoverJvmProcessEventLoopHostAndDatabase() {
    JsonObject all = Poll.until(() -> get("/api/v1/metrics/resources/all"),
        r -> r.getJsonObject("process").getValue("cpu_ratio") != null
            && r.getJsonObject("database").getJsonObject("transactions").getValue("commit") != null
            && r.getJsonObject("host").getJsonObject("network").getValue("receive_bytes_per_second") != null,
        DEADLINE, "sampled resources");
    assertThat(all.getJsonObject("jvm").getLong("heap_used_bytes")).isPositive();
    assertThat(all.getJsonObject("process").getDouble("resident_memory_bytes")).isPositive();
    assertThat(all.getJsonObject("eventloop").getDouble("delay_ms")).isNotNull();
    assertThat(all.getJsonObject("host").getJsonObject("disk").containsKey("read_bytes")).isTrue();
    JsonObject db = all.getJsonObject("database");
    assertThat(db.getJsonObject("pool").getInteger("size")).isEqualTo(4);
    assertThat(db.getJsonObject("transactions").getDouble("commit")).isPositive();
    assertThat(db.getJsonObject("queries").getJsonObject("select").getLong("count")).isPositive();
    assertThat(get("/api/v1/metrics/resources/jvm").fieldNames()).contains("jvm").doesNotContain("database");

    List<Prometheus.Sample> samples = Prometheus.parse(server.get("/metrics", null).body());
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_db_query_duration_seconds_bucket")
        && "select".equals(s.labels().get("kind")));
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_db_transactions_total")
        && "commit".equals(s.labels().get("result")) && s.value() > 0);
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_service_requests_total")
        && "rest".equals(s.labels().get("service")));
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_db_pool_connections")
        && "size".equals(s.labels().get("state")) && s.value() == 4);
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_event_loop_delay_seconds"));
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_host_network_io_bytes_total"));
  }

  @Test
  void applicationSnapshotsAndTenantMetricsAreScopedToTheCaller() {
    Fixtures fixtures = new Fixtures(server);
    String mine = fixtures.tenant("rt-mine", null, 1, "viewer");
    fixtures.tenant("rt-other", null, 1, "viewer");
    JsonObject jobs = get("/api/v1/metrics/application/jobs");
    JsonArray metrics = jobs.getJsonObject("groups").getJsonArray("jobs");
    assertThat(metrics.stream().map(m -> ((JsonObject) m).getString("name")))
        .contains("hodei_jobs_scheduled_total", "hodei_jobs_queued");
    assertThat(get("/api/v1/metrics/application/all").getJsonObject("groups").fieldNames())
        .contains("jobs", "workers", "pools", "tenants", "queues", "models");

    Response own = server.get("/api/v1/tenants/rt-mine/metrics", mine);
    assertThat(own.status()).as(own.toString()).isEqualTo(200);
    assertThat(own.json().getString("tenant_id")).isEqualTo("rt-mine");
    assertThat(own.json().getLong("jobs_running")).isZero();
    assertProblem(server.get("/api/v1/tenants/rt-other/metrics", mine), 404);
    assertProblem(server.get("/api/v1/tenants/nobody/metrics", TestServer.ADMIN_TOKEN), 404);
  }
}
