package io.hodei.http.grpc;

import io.hodei.cost.CostAddresses;
import io.hodei.grpc.v1.CostBreakdown;
import io.hodei.grpc.v1.CostOptimizationServiceGrpcService;
import io.hodei.grpc.v1.CostReport;
import io.hodei.grpc.v1.Recommendations;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.Service;

import static io.hodei.http.grpc.GrpcTranslator.into;

/**
 * gRPC surface of the cost domain ({@code hodei.v1.CostOptimizationService}); the REST twin is CostRoutes. Every
 * request field is a REST query parameter.
 */
final class CostGrpc {
  private CostGrpc() {}

  static Service service(GrpcTranslator grpc) {
    return Service.service(CostOptimizationServiceGrpcService.SERVICE_NAME,
            CostOptimizationServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(CostOptimizationServiceGrpcService.GenerateReport, grpc.unary(CostAddresses.REPORT,
            r -> asQuery(Envelope.of(r)), into(CostReport::newBuilder)))
        .bind(CostOptimizationServiceGrpcService.GetCostBreakdown, grpc.unary(CostAddresses.BREAKDOWN,
            r -> asQuery(Envelope.of(r)), into(CostBreakdown::newBuilder)))
        .bind(CostOptimizationServiceGrpcService.GetOptimizationRecommendations,
            grpc.unary(CostAddresses.RECOMMENDATIONS, r -> asQuery(Envelope.of(r)), CostGrpc::recommendations))
        .build();
  }

  /** Moves every field the client set to the query string, as REST sends them. */
  private static JsonObject asQuery(Envelope envelope) {
    for (String field : envelope.body().fieldNames().toArray(String[]::new)) envelope.query(field, field);
    return envelope.build();
  }

  /** Each recommendation's evidence object travels as JSON text. */
  private static Recommendations recommendations(JsonObject json) {
    JsonObject copy = json.copy();
    JsonArray items = copy.getJsonArray("recommendations", new JsonArray());
    for (int i = 0; i < items.size(); i++) {
      JsonObject item = items.getJsonObject(i);
      item.put("evidence", item.getJsonObject("evidence", new JsonObject()).encode());
    }
    return ProtoJson.fromJson(copy, Recommendations.newBuilder());
  }
}
