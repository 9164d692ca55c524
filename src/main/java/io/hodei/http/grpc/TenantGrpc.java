package io.hodei.http.grpc;

import io.hodei.grpc.v1.BurstSession;
import io.hodei.grpc.v1.DeleteTenantResponse;
import io.hodei.grpc.v1.IssuedToken;
import io.hodei.grpc.v1.ListTenantsResponse;
import io.hodei.grpc.v1.Quota;
import io.hodei.grpc.v1.Tenant;
import io.hodei.grpc.v1.TenantMetrics;
import io.hodei.grpc.v1.TenantServiceGrpcService;
import io.hodei.grpc.v1.UpdateTenantRequest;
import io.hodei.metrics.MetricsAddresses;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;

import static io.hodei.http.grpc.GrpcTranslator.into;
import static io.hodei.http.grpc.GrpcTranslator.page;

/** gRPC surface of the tenant domain ({@code hodei.v1.TenantService}); the REST twin is TenantRoutes. */
final class TenantGrpc {
  private static final String ID = "id";

  private TenantGrpc() {}

  static Service service(GrpcTranslator grpc) {
    return Service.service(TenantServiceGrpcService.SERVICE_NAME, TenantServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(TenantServiceGrpcService.CreateTenant, grpc.unary(TenantAddresses.CREATE,
            r -> Envelope.of(r).build(), into(Tenant::newBuilder)))
        .bind(TenantServiceGrpcService.GetTenant, grpc.unary(TenantAddresses.GET,
            r -> Envelope.of(r).param("id", ID).build(), into(Tenant::newBuilder)))
        .bind(TenantServiceGrpcService.ListTenants, grpc.unary(TenantAddresses.LIST,
            r -> Envelope.of(r).query("page_size", "limit").query("page_token", "cursor").build(),
            page(ListTenantsResponse::newBuilder)))
        .bind(TenantServiceGrpcService.UpdateTenant, grpc.unary(TenantAddresses.UPDATE,
            TenantGrpc::update, into(Tenant::newBuilder)))
        .bind(TenantServiceGrpcService.DeleteTenant, grpc.unary(TenantAddresses.DELETE,
            r -> Envelope.of(r).param("id", ID).ifMatch("if_match_version").build(),
            into(DeleteTenantResponse::newBuilder)))
        .bind(TenantServiceGrpcService.SetQuota, grpc.unary(TenantAddresses.QUOTA_SET,
            r -> Envelope.of(r).param("tenant_id", ID).ifMatch("if_match_version").build(), into(Quota::newBuilder)))
        .bind(TenantServiceGrpcService.GetQuota, grpc.unary(TenantAddresses.QUOTA_GET,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(Quota::newBuilder)))
        .bind(TenantServiceGrpcService.GetTenantMetrics, grpc.unary(MetricsAddresses.TENANT,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(TenantMetrics::newBuilder)))
        .bind(TenantServiceGrpcService.RequestBurstCapacity, grpc.unary(TenantAddresses.BURST_GRANT,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(BurstSession::newBuilder)))
        .bind(TenantServiceGrpcService.IssueToken, grpc.unary(TenantAddresses.TOKEN_ISSUE,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(IssuedToken::newBuilder)))
        .build();
  }

  private static JsonObject update(UpdateTenantRequest request) {
    return Envelope.of(request).param("id", ID).ifMatch("if_match_version").replaceLabels().build();
  }
}
