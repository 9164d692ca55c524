package io.hodei.http.grpc;

import io.hodei.grpc.v1.GetScalingHistoryResponse;
import io.hodei.grpc.v1.ListPoolsResponse;
import io.hodei.grpc.v1.ListScalingPoliciesResponse;
import io.hodei.grpc.v1.ListWorkersResponse;
import io.hodei.grpc.v1.ResourcePool;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcService;
import io.hodei.grpc.v1.ScalingPolicy;
import io.hodei.grpc.v1.Worker;
import io.hodei.grpc.v1.WorkerServiceGrpcService;
import io.hodei.metrics.MetricsAddresses;
import io.hodei.pool.PoolAddresses;
import io.hodei.scaling.ScalingAddresses;
import io.vertx.grpc.server.Service;

import static io.hodei.http.grpc.GrpcTranslator.into;
import static io.hodei.http.grpc.GrpcTranslator.page;

/**
 * gRPC surface of the pool domain ({@code hodei.v1.ResourcePoolService} and {@code hodei.v1.WorkerService}); the
 * REST twin is PoolRoutes. {@code provider_config} travels as JSON object text.
 */
final class PoolGrpc {
  private static final String ID = "id";
  private static final String WORKER_ID = "worker_id";
  private static final String IF_MATCH = "if_match_version";

  private PoolGrpc() {}

  static Service pools(GrpcTranslator grpc) {
    return Service.service(ResourcePoolServiceGrpcService.SERVICE_NAME,
            ResourcePoolServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ResourcePoolServiceGrpcService.CreatePool, grpc.unary(PoolAddresses.CREATE,
            r -> Envelope.of(r).jsonObject("provider_config").build(), into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.GetPool, grpc.unary(PoolAddresses.GET,
            r -> Envelope.of(r).param("id", ID).build(), into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.GetPoolMetrics, grpc.unary(MetricsAddresses.POOL,
            r -> Envelope.of(r).param("id", ID).build(), ObservabilityGrpc::poolMetrics))
        .bind(ResourcePoolServiceGrpcService.ListPools, grpc.unary(PoolAddresses.LIST,
            r -> Envelope.of(r).query("state", "state").query("page_size", "limit").query("page_token", "cursor")
                .build(), page(ListPoolsResponse::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.UpdatePool, grpc.unary(PoolAddresses.UPDATE,
            r -> Envelope.of(r).param("id", ID).ifMatch(IF_MATCH).replaceLabels().build(),
            into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.ChangePoolLifecycle, grpc.unary(PoolAddresses.LIFECYCLE,
            r -> Envelope.of(r).param("id", ID).ifMatch(IF_MATCH).build(), into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.SetStaticSize, grpc.unary(PoolAddresses.SET_STATIC,
            r -> Envelope.of(r).param("id", ID).ifMatch(IF_MATCH).build(), into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.SetDynamicBounds, grpc.unary(PoolAddresses.SET_DYNAMIC,
            r -> Envelope.of(r).param("id", ID).ifMatch(IF_MATCH).build(), into(ResourcePool::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.ConfigureScalingPolicy, grpc.unary(true, (call, r) -> {
          boolean create = r.getPolicyId().isEmpty();
          Envelope envelope = Envelope.of(r).param("pool_id", ID).ifMatch(IF_MATCH);
          if (create) envelope.body().remove("policy_id");
          else envelope.param("policy_id", "item_id");
          return call.request(create ? ScalingAddresses.POLICY_CREATE : ScalingAddresses.POLICY_UPDATE,
              envelope.build()).map(into(ScalingPolicy::newBuilder));
        }))
        .bind(ResourcePoolServiceGrpcService.ListScalingPolicies, grpc.unary(ScalingAddresses.POLICY_LIST,
            r -> Envelope.of(r).param("pool_id", ID).build(), page(ListScalingPoliciesResponse::newBuilder)))
        .bind(ResourcePoolServiceGrpcService.GetScalingHistory, grpc.unary(ScalingAddresses.HISTORY,
            r -> Envelope.of(r).param("pool_id", ID).query("from", "from").query("to", "to")
                .query("page_size", "limit").query("page_token", "cursor").build(),
            page(GetScalingHistoryResponse::newBuilder)))
        .build();
  }

  static Service workers(GrpcTranslator grpc) {
    return Service.service(WorkerServiceGrpcService.SERVICE_NAME, WorkerServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(WorkerServiceGrpcService.ListWorkers, grpc.unary(PoolAddresses.WORKERS_LIST,
            r -> Envelope.of(r).param("pool_id", ID).query("state", "state").query("page_size", "limit")
                .query("page_token", "cursor").build(), page(ListWorkersResponse::newBuilder)))
        .bind(WorkerServiceGrpcService.GetWorker, grpc.unary(PoolAddresses.WORKER_GET,
            r -> Envelope.of(r).param("pool_id", ID).param("worker_id", WORKER_ID).build(), into(Worker::newBuilder)))
        .bind(WorkerServiceGrpcService.DrainWorker, grpc.unary(PoolAddresses.WORKER_REMOVE,
            r -> Envelope.of(r).param("pool_id", ID).param("worker_id", WORKER_ID).build(), into(Worker::newBuilder)))
        .build();
  }
}
