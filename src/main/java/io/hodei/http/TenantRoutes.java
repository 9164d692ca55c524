package io.hodei.http;

import io.hodei.tenant.TenantAddresses;
import io.vertx.core.http.HttpMethod;

/** REST surface of the tenant domain. */
final class TenantRoutes {
  private TenantRoutes() {}

  static void bind(RestBinder rest) {
    rest.forward(HttpMethod.POST, "/api/v1/tenants", TenantAddresses.CREATE, 201);
    rest.forward(HttpMethod.GET, "/api/v1/tenants", TenantAddresses.LIST, 200);
    rest.forward(HttpMethod.GET, "/api/v1/tenants/{id}", TenantAddresses.GET, 200);
    rest.forward(HttpMethod.PATCH, "/api/v1/tenants/{id}", TenantAddresses.UPDATE, 200);
    rest.forward(HttpMethod.DELETE, "/api/v1/tenants/{id}", TenantAddresses.DELETE, 204);
    rest.forward(HttpMethod.GET, "/api/v1/tenants/{id}/quotas", TenantAddresses.QUOTA_GET, 200);
    rest.forward(HttpMethod.PUT, "/api/v1/tenants/{id}/quotas", TenantAddresses.QUOTA_SET, 200);
    rest.forward(HttpMethod.POST, "/api/v1/tenants/{id}/tokens", TenantAddresses.TOKEN_ISSUE, 201);
    rest.forward(HttpMethod.GET, "/api/v1/tenants/{id}/tokens", TenantAddresses.TOKEN_LIST, 200);
    rest.forward(HttpMethod.DELETE, "/api/v1/tenants/{id}/tokens/{token_id}", TenantAddresses.TOKEN_REVOKE, 204);
    rest.forward(HttpMethod.POST, "/api/v1/tenants/{id}/burst", TenantAddresses.BURST_GRANT, 201);
    rest.forward(HttpMethod.GET, "/api/v1/tenants/{id}/burst", TenantAddresses.BURST_GET, 200);
    rest.forward(HttpMethod.DELETE, "/api/v1/tenants/{id}/burst", TenantAddresses.BURST_REVOKE, 200);
  }
}
