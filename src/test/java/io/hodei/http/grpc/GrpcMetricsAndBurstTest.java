package io.hodei.http.grpc;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.BurstSession;
import io.hodei.grpc.v1.GetPoolMetricsRequest;
import io.hodei.grpc.v1.GetTenantMetricsRequest;
import io.hodei.grpc.v1.PoolMetrics;
import io.hodei.grpc.v1.RequestBurstRequest;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcClient;
import io.hodei.grpc.v1.TenantMetrics;
import io.hodei.grpc.v1.TenantServiceGrpcClient;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.GrpcTestClient.statusOf;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ResourcePoolService.GetPoolMetrics, TenantService.GetTenantMetrics and RequestBurstCapacity through the generated
 * clients: the same answers and rules as REST /api/v1/pools/{id}/metrics, /tenants/{id}/metrics and /burst.
 */
class GrpcMetricsAndBurstTest {
  private static TestServer server;
  private static Vertx vertx;
  private static Fixtures fixtures;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1));
    vertx = Vertx.vertx();
    fixtures = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static SocketAddress address() { return SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"); }

  private static TenantServiceGrpcClient tenants(String token) {
    return TenantServiceGrpcClient.create(GrpcTestClient.create(vertx).bearer(token), address());
  }

  @Test
  void getPoolMetricsAnswersLikeRest() {
    fixtures.pool(Fixtures.simulatedPool("grpc-metrics-pool", 2, 10), 2);
    ResourcePoolServiceGrpcClient pools = ResourcePoolServiceGrpcClient.create(
        GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN), address());
    PoolMetrics metrics = Poll.until(() -> pools.getPoolMetrics(GetPoolMetricsRequest.newBuilder()
            .setId("grpc-metrics-pool").build()).await(),
        m -> new JsonObject(m.getMetrics()).getBoolean("collected", false), Duration.ofSeconds(30), "sampled pool");
    assertThat(metrics.getPool()).isEqualTo("grpc-metrics-pool");
    assertThat(metrics.getHealthStatus()).isNotBlank();
    JsonObject rest = server.get("/api/v1/pools/grpc-metrics-pool/metrics", TestServer.ADMIN_TOKEN).json();
    assertThat(new JsonObject(metrics.getMetrics()).getJsonObject("size"))
        .isEqualTo(rest.getJsonObject("size"));
    assertThat(statusOf(pools.getPoolMetrics(GetPoolMetricsRequest.newBuilder().setId("nope").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
  }

  @Test
  void getTenantMetricsIsScopedToTheTenant() {
    String own = fixtures.tenant("grpc-tm", null, 1, "viewer");
    fixtures.tenant("grpc-tm-other", null, 1, "viewer");
    TenantMetrics metrics = tenants(own).getTenantMetrics(GetTenantMetricsRequest.newBuilder()
        .setTenantId("grpc-tm").build()).await();
    assertThat(metrics.getTenantId()).isEqualTo("grpc-tm");
    assertThat(metrics.getJobsRunning()).isZero();
    assertThat(statusOf(tenants(own).getTenantMetrics(GetTenantMetricsRequest.newBuilder()
        .setTenantId("grpc-tm-other").build()))).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(tenants(TestServer.ADMIN_TOKEN).getTenantMetrics(GetTenantMetricsRequest.newBuilder()
        .setTenantId("missing").build()))).isEqualTo(GrpcStatus.NOT_FOUND);
  }

  @Test
  void requestBurstCapacityGrantsLikeRest() {
    String tenantAdmin = fixtures.tenant("grpc-burst", new JsonObject().put("cpu_m", 1000).put("memory_mb", 1024)
        .put("max_concurrent_jobs", 2).put("max_queued_jobs", 10), 1, "tenant-admin");
    BurstSession session = tenants(tenantAdmin).requestBurstCapacity(RequestBurstRequest.newBuilder()
        .setTenantId("grpc-burst").setMaxOveragePercentage(120).setDurationMinutes(30).setReason("load test")
        .build()).await();
    assertThat(session.getTenantId()).isEqualTo("grpc-burst");
    assertThat(session.getActive().getMaxOveragePercentage()).isEqualTo(120);
    assertThat(session.getActive().getId()).startsWith("burst-");
    assertThat(session.getEffectiveQuota().getCpuM()).isEqualTo(1200);
    JsonObject rest = server.get("/api/v1/tenants/grpc-burst/burst", TestServer.ADMIN_TOKEN).json();
    assertThat(rest.getJsonObject("active").getString("id")).isEqualTo(session.getActive().getId());

    String viewer = fixtures.tenant("grpc-burst-viewer", null, 1, "viewer");
    assertThat(statusOf(tenants(viewer).requestBurstCapacity(RequestBurstRequest.newBuilder()
        .setTenantId("grpc-burst-viewer").build()))).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(statusOf(tenants(tenantAdmin).requestBurstCapacity(RequestBurstRequest.newBuilder()
        .setTenantId("grpc-burst").setMaxOveragePercentage(5000).build()))).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
  }
}
