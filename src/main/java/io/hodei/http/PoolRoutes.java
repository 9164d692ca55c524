package io.hodei.http;

import io.hodei.pool.PoolAddresses;
import io.hodei.tenant.TenantAddresses;
import io.vertx.core.http.HttpMethod;

/** REST surface of the pool domain. */
final class PoolRoutes {
  private PoolRoutes() {}

  static void bind(RestBinder rest) {
    rest.forward(HttpMethod.POST, "/api/v1/pools", PoolAddresses.CREATE, 201);
    rest.forward(HttpMethod.GET, "/api/v1/pools", PoolAddresses.LIST, 200);
    rest.forward(HttpMethod.GET, "/api/v1/pools/{id}", PoolAddresses.GET, 200);
    rest.forward(HttpMethod.PATCH, "/api/v1/pools/{id}", PoolAddresses.UPDATE, 200);
    rest.forward(HttpMethod.DELETE, "/api/v1/pools/{id}", PoolAddresses.DELETE, 204);
    rest.forward(HttpMethod.PUT, "/api/v1/pools/{id}/static", PoolAddresses.SET_STATIC, 200);
    rest.forward(HttpMethod.PUT, "/api/v1/pools/{id}/dynamic", PoolAddresses.SET_DYNAMIC, 200);
    rest.forward(HttpMethod.POST, "/api/v1/pools/{id}/lifecycle", PoolAddresses.LIFECYCLE, 200);
    rest.forward(HttpMethod.GET, "/api/v1/pools/{id}/workers", PoolAddresses.WORKERS_LIST, 200);
    rest.forward(HttpMethod.POST, "/api/v1/pools/{id}/workers", PoolAddresses.WORKERS_ADD, 202);
    rest.forward(HttpMethod.DELETE, "/api/v1/pools/{id}/workers/{worker_id}", PoolAddresses.WORKER_REMOVE, 202);
    rest.forward(HttpMethod.POST, "/api/v1/pools/{id}/workers/{worker_id}/crash", PoolAddresses.WORKER_CRASH, 202);
    rest.forward(HttpMethod.POST, "/api/v1/pools/{id}/agent-tokens", TenantAddresses.AGENT_TOKEN_ISSUE, 201);
    rest.forward(HttpMethod.GET, "/api/v1/pools/{id}/agent-tokens", TenantAddresses.AGENT_TOKEN_LIST, 200);
    rest.forward(HttpMethod.DELETE, "/api/v1/pools/{id}/agent-tokens/{token_id}", TenantAddresses.AGENT_TOKEN_REVOKE,
        200);
  }
}
