package io.hodei.http.grpc;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.CreateTenantRequest;
import io.hodei.grpc.v1.DeleteTenantRequest;
import io.hodei.grpc.v1.GetQuotaRequest;
import io.hodei.grpc.v1.GetTenantRequest;
import io.hodei.grpc.v1.IssueTokenRequest;
import io.hodei.grpc.v1.IssuedToken;
import io.hodei.grpc.v1.ListTenantsRequest;
import io.hodei.grpc.v1.ListTenantsResponse;
import io.hodei.grpc.v1.Quota;
import io.hodei.grpc.v1.QuotaInput;
import io.hodei.grpc.v1.SetQuotaRequest;
import io.hodei.grpc.v1.Tenant;
import io.hodei.grpc.v1.TenantServiceGrpcClient;
import io.hodei.grpc.v1.UpdateTenantRequest;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.GrpcTestClient.statusOf;
import static org.assertj.core.api.Assertions.assertThat;

/** hodei.v1.TenantService through the generated client, over h2c on the REST port, against real PostgreSQL. */
class GrpcTenantServiceTest {
  private static final String CREATE = "hodei.v1.TenantService/CreateTenant";
  private static TestServer server;
  private static Vertx vertx;
  private static GrpcTestClient admin;
  private static GrpcTestClient anonymous;
  private static TenantServiceGrpcClient tenants;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SERVER_GRPC_PORT, 0));
    vertx = Vertx.vertx();
    admin = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
    anonymous = GrpcTestClient.create(vertx);
    tenants = client(admin);
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static TenantServiceGrpcClient client(GrpcTestClient grpc) {
    return TenantServiceGrpcClient.create(grpc, SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"));
  }

  private static TenantServiceGrpcClient clientWithToken(String token) {
    return client(GrpcTestClient.create(vertx).bearer(token));
  }

  private static Tenant create(String name) {
    return tenants.createTenant(CreateTenantRequest.newBuilder().setName(name).build()).await();
  }

  private static String token(String tenantId, String role) {
    IssuedToken issued = tenants.issueToken(IssueTokenRequest.newBuilder().setTenantId(tenantId).setRole(role)
        .build()).await();
    assertThat(issued.getToken()).startsWith("hodei_");
    return issued.getToken();
  }

  @Test
  void createAndGetMirrorTheRestResource() {
    Tenant created = tenants.createTenant(CreateTenantRequest.newBuilder().setName("Grpc Acme").setWeight(4)
        .putLabels("team", "data").setQuota(QuotaInput.newBuilder().setCpuM(16000)).build()).await();
    assertThat(created.getId()).startsWith("tn-");
    assertThat(created.getName()).isEqualTo("Grpc Acme");
    assertThat(created.getWeight()).isEqualTo(4);
    assertThat(created.getStatus()).isEqualTo("active");
    assertThat(created.getLabelsMap()).containsEntry("team", "data");
    assertThat(created.getQuota().getCpuM()).isEqualTo(16000);
    assertThat(created.getQuota().getMaxConcurrentJobs()).as("default applies to unset quota fields").isEqualTo(10);
    assertThat(created.getVersion()).isEqualTo(1);
    assertThat(created.getCreatedAt()).isNotEmpty();

    Tenant fetched = tenants.getTenant(GetTenantRequest.newBuilder().setId(created.getId()).build()).await();
    assertThat(fetched).isEqualTo(created);
    Response rest = server.get("/api/v1/tenants/" + created.getId(), TestServer.ADMIN_TOKEN);
    assertThat(rest.json().getString("name")).isEqualTo("Grpc Acme");
  }

  @Test
  void listPagesWithTokens() {
    for (int i = 0; i < 3; i++) create("Grpc Paged " + i);
    ListTenantsResponse first = tenants.listTenants(ListTenantsRequest.newBuilder().setPageSize(2).build()).await();
    assertThat(first.getItemsList()).hasSize(2);
    assertThat(first.getNextPageToken()).isNotEmpty();
    ListTenantsResponse second = tenants.listTenants(ListTenantsRequest.newBuilder().setPageSize(500)
        .setPageToken(first.getNextPageToken()).build()).await();
    assertThat(second.getNextPageToken()).isEmpty();
    assertThat(second.getItemsList()).extracting(Tenant::getId)
        .doesNotContainAnyElementsOf(first.getItemsList().stream().map(Tenant::getId).toList());
  }

  @Test
  void updateSetQuotaAndDeleteUseVersions() {
    Tenant tenant = create("Grpc Versioned");
    Tenant updated = tenants.updateTenant(UpdateTenantRequest.newBuilder().setId(tenant.getId()).setWeight(3)
        .setIfMatchVersion(1).build()).await();
    assertThat(updated.getWeight()).isEqualTo(3);
    assertThat(updated.getVersion()).isEqualTo(2);
    assertThat(updated.getName()).as("unset optional fields are left alone").isEqualTo("Grpc Versioned");

    assertThat(statusOf(tenants.updateTenant(UpdateTenantRequest.newBuilder().setId(tenant.getId()).setWeight(7)
        .setIfMatchVersion(1).build()))).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(admin.last().statusMessage()).contains("version 2");
    assertThat(statusOf(tenants.updateTenant(UpdateTenantRequest.newBuilder().setId(tenant.getId()).build())))
        .as("an empty patch").isEqualTo(GrpcStatus.INVALID_ARGUMENT);

    Quota quota = tenants.setQuota(SetQuotaRequest.newBuilder().setTenantId(tenant.getId()).setCpuM(2000)
        .setMemoryMb(1024).setMaxConcurrentJobs(0).setMaxQueuedJobs(5).setIfMatchVersion(1).build()).await();
    assertThat(quota.getTenantId()).isEqualTo(tenant.getId());
    assertThat(quota.getCpuM()).isEqualTo(2000);
    assertThat(quota.getMaxConcurrentJobs()).as("an explicit zero is a value").isZero();
    assertThat(quota.getVersion()).isEqualTo(2);
    assertThat(tenants.getQuota(GetQuotaRequest.newBuilder().setTenantId(tenant.getId()).build()).await())
        .isEqualTo(quota);
    assertThat(statusOf(tenants.setQuota(SetQuotaRequest.newBuilder().setTenantId(tenant.getId()).setCpuM(1)
        .setMemoryMb(1).setMaxConcurrentJobs(1).setMaxQueuedJobs(1).setIfMatchVersion(1).build())))
        .isEqualTo(GrpcStatus.FAILED_PRECONDITION);

    assertThat(statusOf(tenants.deleteTenant(DeleteTenantRequest.newBuilder().setId(tenant.getId())
        .setIfMatchVersion(1).build()))).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(tenants.deleteTenant(DeleteTenantRequest.newBuilder().setId(tenant.getId()).setIfMatchVersion(2)
        .build()).await().getDeleted()).isTrue();
    assertThat(statusOf(tenants.getTenant(GetTenantRequest.newBuilder().setId(tenant.getId()).build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
  }

  @Test
  void labelsAreReplacedOrClearedOnRequest() {
    Tenant tenant = tenants.createTenant(CreateTenantRequest.newBuilder().setName("Grpc Labelled")
        .putLabels("a", "1").build()).await();
    Tenant renamed = tenants.updateTenant(UpdateTenantRequest.newBuilder().setId(tenant.getId()).setName("Grpc L2")
        .build()).await();
    assertThat(renamed.getLabelsMap()).containsEntry("a", "1");
    Tenant cleared = tenants.updateTenant(UpdateTenantRequest.newBuilder().setId(tenant.getId())
        .setReplaceLabels(true).build()).await();
    assertThat(cleared.getLabelsMap()).isEmpty();
  }

  @Test
  void issuedTokensWorkOverGrpcAndSeeOnlyTheirTenant() {
    Tenant mine = create("Grpc Mine");
    Tenant other = create("Grpc Other");
    TenantServiceGrpcClient tenantAdmin = clientWithToken(token(mine.getId(), "tenant-admin"));
    assertThat(tenantAdmin.getTenant(GetTenantRequest.newBuilder().setId(mine.getId()).build()).await().getName())
        .isEqualTo("Grpc Mine");
    ListTenantsResponse visible = tenantAdmin.listTenants(ListTenantsRequest.getDefaultInstance()).await();
    assertThat(visible.getItemsList()).extracting(Tenant::getId).containsExactly(mine.getId());
    assertThat(statusOf(tenantAdmin.getTenant(GetTenantRequest.newBuilder().setId(other.getId()).build())))
        .as("another tenant's id looks unknown").isEqualTo(GrpcStatus.NOT_FOUND);

    TenantServiceGrpcClient viewer = clientWithToken(token(mine.getId(), "viewer"));
    assertThat(statusOf(viewer.createTenant(CreateTenantRequest.newBuilder().setName("Grpc Nope").build())))
        .isEqualTo(GrpcStatus.PERMISSION_DENIED);
  }

  @Test
  void missingOrBadTokensAreUnauthenticated() {
    assertThat(statusOf(client(anonymous).createTenant(CreateTenantRequest.newBuilder().setName("Grpc Anon")
        .build()))).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(anonymous.last().statusMessage()).contains("Bearer");
    assertThat(statusOf(clientWithToken("hodei_not-a-real-token").listTenants(ListTenantsRequest
        .getDefaultInstance()))).isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }

  @Test
  void domainErrorsMapToGrpcStatuses() {
    assertThat(statusOf(tenants.getTenant(GetTenantRequest.newBuilder().setId("grpc-nope").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    create("Grpc Unique");
    assertThat(statusOf(tenants.createTenant(CreateTenantRequest.newBuilder().setName("GRPC UNIQUE").build())))
        .isEqualTo(GrpcStatus.ALREADY_EXISTS);
    assertThat(statusOf(tenants.createTenant(CreateTenantRequest.newBuilder().setName("Grpc W0").setWeight(0)
        .build()))).as("an explicit weight 0 is sent, and rejected").isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(admin.last().statusMessage()).contains("weight");
    assertThat(statusOf(tenants.createTenant(CreateTenantRequest.newBuilder().build())))
        .as("name is required").isEqualTo(GrpcStatus.INVALID_ARGUMENT);

    Tenant tenant = create("Grpc Quota Check");
    assertThat(statusOf(tenants.setQuota(SetQuotaRequest.newBuilder().setTenantId(tenant.getId()).setCpuM(-1)
        .setMemoryMb(-5).setMaxConcurrentJobs(1).setMaxQueuedJobs(1).build())))
        .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(admin.last().statusMessage()).contains("cpu_m").contains("memory_mb");
    assertThat(statusOf(tenants.setQuota(SetQuotaRequest.newBuilder().setTenantId(tenant.getId()).setCpuM(1)
        .build()))).as("a quota is set whole").isEqualTo(GrpcStatus.INVALID_ARGUMENT);
  }

  @Test
  void everyAnswerCarriesTheTraceIdTrailer() {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    GrpcTestClient traced = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN)
        .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01");
    client(traced).listTenants(ListTenantsRequest.getDefaultInstance()).await();
    assertThat(traced.trailer("trace-id")).isEqualTo(traceId);

    assertThat(statusOf(client(traced).getTenant(GetTenantRequest.newBuilder().setId("grpc-missing").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(traced.trailer("trace-id")).isEqualTo(traceId);

    assertThat(statusOf(client(anonymous).listTenants(ListTenantsRequest.getDefaultInstance())))
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(anonymous.trailer("trace-id")).as("a new trace").matches("[0-9a-f]{32}");
  }

  @Test
  void theSeparateGrpcPortServesTheSameServices() {
    assertThat(server.server().grpcPort()).isPositive().isNotEqualTo(server.port());
    TenantServiceGrpcClient onGrpcPort = TenantServiceGrpcClient.create(admin,
        SocketAddress.inetSocketAddress(server.server().grpcPort(), "127.0.0.1"));
    Tenant created = onGrpcPort.createTenant(CreateTenantRequest.newBuilder().setName("Grpc Port").build()).await();
    assertThat(tenants.getTenant(GetTenantRequest.newBuilder().setId(created.getId()).build()).await().getName())
        .isEqualTo("Grpc Port");
  }

  @Test
  void callsAreCountedInTheGrpcRequestsMetric() {
    create("Grpc Counted");
    statusOf(client(anonymous).createTenant(CreateTenantRequest.newBuilder().setName("Grpc Uncounted").build()));
    Response metrics = server.get("/metrics", null);
    List<Prometheus.Sample> samples = Prometheus.parse(metrics.body());
    assertThat(samples).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_grpc_requests_total");
      assertThat(s.labels()).containsEntry("method", CREATE).containsEntry("status_code", "OK");
      assertThat(s.value()).isGreaterThanOrEqualTo(1);
    });
    assertThat(samples).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_grpc_requests_total");
      assertThat(s.labels()).containsEntry("method", CREATE).containsEntry("status_code", "UNAUTHENTICATED");
    });
    assertThat(samples).noneSatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_http_requests_total");
      assertThat(s.labels().get("endpoint")).contains("TenantService");
    });
  }
}
