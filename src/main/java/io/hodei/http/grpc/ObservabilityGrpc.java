package io.hodei.http.grpc;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.DomainException;
import io.hodei.grpc.v1.HealthReport;
import io.hodei.grpc.v1.MetricsSnapshot;
import io.hodei.grpc.v1.ObservabilityServiceGrpcService;
import io.hodei.grpc.v1.PoolMetrics;
import io.hodei.metrics.MetricsAddresses;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * gRPC surface of the metrics domain ({@code hodei.v1.ObservabilityService}); the REST twin is MetricsRoutes.
 * GetHealth needs no token, like {@code /health}; an unhealthy report is still an OK call (REST answers 503).
 */
final class ObservabilityGrpc {
  private ObservabilityGrpc() {}

  static Service service(GrpcTranslator grpc) {
    return Service.service(ObservabilityServiceGrpcService.SERVICE_NAME,
            ObservabilityServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ObservabilityServiceGrpcService.GetHealth, grpc.unary(false, (call, request) ->
            call.request(MetricsAddresses.HEALTH, empty()).map(GrpcTranslator.<HealthReport>into(
                HealthReport::newBuilder))))
        .bind(ObservabilityServiceGrpcService.GetMetricsSnapshot, grpc.unary(true, (call, request) ->
            request.getPoolId().isEmpty() ? allPools(call) : onePool(call, request.getPoolId())
                .map(m -> snapshot(List.of(m)))))
        .build();
  }

  private static Future<JsonObject> onePool(GrpcTranslator.Call call, String poolId) {
    return call.request(MetricsAddresses.POOL,
        BusRequest.envelope(new JsonObject().put("id", poolId), new JsonObject(), new JsonObject(), null));
  }

  /** Every pool of the health report; a pool that vanished in between is left out. */
  private static Future<MetricsSnapshot> allPools(GrpcTranslator.Call call) {
    return call.request(MetricsAddresses.HEALTH, empty()).compose(health -> {
      if (!health.getJsonObject("collector", new JsonObject()).getBoolean("enabled", true)) {
        // as REST's per-pool answer: no metrics are collected at all
        return Future.failedFuture(DomainException.unavailable(
            "pool metrics collection is disabled (metrics.enabled=false)"));
      }
      List<Future<JsonObject>> pools = new ArrayList<>();
      for (Object item : health.getJsonArray("pools", new JsonArray())) {
        String id = ((JsonObject) item).getString("pool");
        pools.add(onePool(call, id).recover(err -> Bus.toDomain(err).status() == 404
            ? Future.succeededFuture(null) : Future.failedFuture(err)));
      }
      return Future.all(pools).map(all -> snapshot(pools.stream().map(Future::result).filter(Objects::nonNull)
          .toList()));
    });
  }

  private static MetricsSnapshot snapshot(List<JsonObject> pools) {
    MetricsSnapshot.Builder snapshot = MetricsSnapshot.newBuilder();
    for (JsonObject m : pools) snapshot.addPools(poolMetrics(m));
    return snapshot.build();
  }

  /** A pool's metrics answer (REST /api/v1/pools/{id}/metrics) as the PoolMetrics message. */
  static PoolMetrics poolMetrics(JsonObject m) {
    JsonObject health = m.getJsonObject("health", new JsonObject());
    JsonObject flat = new JsonObject().put("pool", m.getString("pool")).put("state", m.getString("state"))
        .put("kind", m.getString("kind")).put("provider", m.getString("provider"))
        .put("health_status", health.getString("status")).put("health_reasons", health.getJsonArray("reasons"))
        .put("collected_at", m.getString("collected_at")).put("metrics", m.encode());
    return ProtoJson.fromJson(flat, PoolMetrics.newBuilder());
  }

  private static JsonObject empty() {
    return BusRequest.envelope(new JsonObject(), new JsonObject(), new JsonObject(), null);
  }
}
