package io.hodei.http.grpc;

import io.hodei.grpc.v1.DeleteTenantResponse;
import io.hodei.grpc.v1.IssuedToken;
import io.hodei.grpc.v1.ListTenantsResponse;
import io.hodei.grpc.v1.Quota;
import io.hodei.grpc.v1.Tenant;
import io.hodei.grpc.v1.TenantServiceGrpcService;
import io.hodei.grpc.v1.UpdateTenantRequest;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;

import static io.hodei.http.grpc.GrpcTranslator.into;

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
            TenantGrpc::page))
        .bind(TenantServiceGrpcService.UpdateTenant, grpc.unary(TenantAddresses.UPDATE,
            TenantGrpc::update, into(Tenant::newBuilder)))
        .bind(TenantServiceGrpcService.DeleteTenant, grpc.unary(TenantAddresses.DELETE,
            r -> Envelope.of(r).param("id", ID).ifMatch("if_match_version").build(),
            into(DeleteTenantResponse::newBuilder)))
        .bind(TenantServiceGrpcService.SetQuota, grpc.unary(TenantAddresses.QUOTA_SET,
            r -> Envelope.of(r).param("tenant_id", ID).ifMatch("if_match_version").build(), into(Quota::newBuilder)))
        .bind(TenantServiceGrpcService.GetQuota, grpc.unary(TenantAddresses.QUOTA_GET,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(Quota::newBuilder)))
        .bind(TenantServiceGrpcService.IssueToken, grpc.unary(TenantAddresses.TOKEN_ISSUE,
            r -> Envelope.of(r).param("tenant_id", ID).build(), into(IssuedToken::newBuilder)))
        .build();
  }

  /** A proto3 map cannot be unset, so clearing the labels is asked for with {@code replace_labels}. */
  private static JsonObject update(UpdateTenantRequest request) {
    Envelope envelope = Envelope.of(request).param("id", ID).ifMatch("if_match_version");
    JsonObject body = envelope.body();
    if (Boolean.TRUE.equals(body.remove("replace_labels")) && !body.containsKey("labels")) {
      body.put("labels", new JsonObject());
    }
    return envelope.build();
  }

  private static ListTenantsResponse page(JsonObject reply) {
    JsonObject renamed = reply.copy();
    Object next = renamed.remove("next_cursor");
    if (next != null) renamed.put("next_page_token", next);
    return ProtoJson.fromJson(renamed, ListTenantsResponse.newBuilder());
  }
}
