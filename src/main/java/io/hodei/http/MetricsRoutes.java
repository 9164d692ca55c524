package io.hodei.http;

import io.hodei.cluster.ClusterStatus;
import io.hodei.metrics.HealthStatus;
import io.hodei.metrics.MetricsAddresses;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/**
 * REST surface of the metrics domain: pool health, one pool's metrics, the collector's own health, firing alerts,
 * the server's performance and resources, catalog snapshots, tenant metrics and pushed worker samples.
 */
final class MetricsRoutes {
  private MetricsRoutes() {}

  static void bind(RestBinder rest) {
    for (String path : new String[] {"/health", "/api/v1/observability/health"}) {
      rest.forwardPublic(HttpMethod.GET, path, MetricsAddresses.HEALTH,
          reply -> HealthStatus.UNHEALTHY.wire().equals(reply.getString("status")) ? 503 : 200,
          reply -> {
            // on a cluster node: this node, the leader and the members it sees (the pools' health is the leader's)
            JsonObject cluster = ClusterStatus.read(rest.vertx());
            if (cluster != null) reply.put("cluster", cluster);
          });
    }
    rest.forward(HttpMethod.GET, "/api/v1/pools/{id}/metrics", MetricsAddresses.POOL, 200);
    rest.forward(HttpMethod.GET, "/api/v1/observability/collector", MetricsAddresses.COLLECTOR, 200);
    rest.forward(HttpMethod.GET, "/api/v1/metrics/historical", MetricsAddresses.HISTORICAL, 200);
    rest.forward(HttpMethod.GET, "/api/v1/observability/alerts", MetricsAddresses.ALERTS, 200);
    rest.forward(HttpMethod.GET, "/api/v1/metrics/performance/{service}", MetricsAddresses.PERFORMANCE, 200);
    rest.forward(HttpMethod.GET, "/api/v1/metrics/resources/{service}", MetricsAddresses.RESOURCES, 200);
    rest.forward(HttpMethod.GET, "/api/v1/metrics/application/{metric_type}", MetricsAddresses.APPLICATION, 200);
    rest.forward(HttpMethod.GET, "/api/v1/tenants/{id}/metrics", MetricsAddresses.TENANT, 200);
    rest.forward(HttpMethod.POST, "/api/v1/metrics", MetricsAddresses.PUSH, 202);
  }
}
