package io.hodei.http.grpc;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.ChangePoolLifecycleRequest;
import io.hodei.grpc.v1.CreatePoolRequest;
import io.hodei.grpc.v1.DrainWorkerRequest;
import io.hodei.grpc.v1.GetPoolRequest;
import io.hodei.grpc.v1.GetWorkerRequest;
import io.hodei.grpc.v1.ListPoolsRequest;
import io.hodei.grpc.v1.ListPoolsResponse;
import io.hodei.grpc.v1.ListWorkersRequest;
import io.hodei.grpc.v1.ResourcePool;
import io.hodei.grpc.v1.ResourcePoolServiceGrpcClient;
import io.hodei.grpc.v1.SetDynamicBoundsRequest;
import io.hodei.grpc.v1.SetStaticSizeRequest;
import io.hodei.grpc.v1.UpdatePoolRequest;
import io.hodei.grpc.v1.Worker;
import io.hodei.grpc.v1.WorkerServiceGrpcClient;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.GrpcTestClient.statusOf;
import static org.assertj.core.api.Assertions.assertThat;

/** hodei.v1.ResourcePoolService and WorkerService through the generated clients, on simulated pools. */
class GrpcPoolServiceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static TestServer server;
  private static Vertx vertx;
  private static GrpcTestClient admin;
  private static ResourcePoolServiceGrpcClient pools;
  private static WorkerServiceGrpcClient workers;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.POOLS_HEALTH_INTERVAL, 1));
    vertx = Vertx.vertx();
    admin = GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN);
    pools = ResourcePoolServiceGrpcClient.create(admin, address());
    workers = WorkerServiceGrpcClient.create(admin, address());
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static SocketAddress address() { return SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"); }

  private static CreatePoolRequest.Builder simulated(String id, String kind) {
    return CreatePoolRequest.newBuilder().setId(id).setKind(kind).setProvider("simulated")
        .setProviderConfig("{\"provision_delay_ms\": 5}");
  }

  private static ResourcePool get(String id) {
    return pools.getPool(GetPoolRequest.newBuilder().setId(id).build()).await();
  }

  private static ResourcePool awaitIdle(String id, int idle) {
    return Poll.until(() -> get(id), p -> p.getState().equals("active") && p.getWorkers().getIdle() == idle
        && p.getWorkers().getTotal() == idle, TIMEOUT, "pool " + id + " active with " + idle + " idle workers");
  }

  @Test
  void createGetListAndUpdateMirrorTheRestResource() {
    ResourcePool created = pools.createPool(simulated("grpc-a", "static").setSize(2).setWorkerCpuM(2000)
        .setPricePerWorkerHour("0.125").putLabels("team", "data").build()).await();
    assertThat(created.getId()).isEqualTo("grpc-a");
    assertThat(created.getKind()).isEqualTo("static");
    assertThat(created.getTargetSize()).isEqualTo(2);
    assertThat(created.getWorkerCpuM()).isEqualTo(2000);
    assertThat(created.getPricePerWorkerHour()).startsWith("0.125");
    assertThat(created.getLabelsMap()).containsEntry("team", "data");
    assertThat(new JsonObject(created.getProviderConfig()).getInteger("provision_delay_ms")).isEqualTo(5);
    assertThat(created.getVersion()).isEqualTo(1);

    ResourcePool active = awaitIdle("grpc-a", 2);
    assertThat(active.getAllowedActionsList()).contains("pause", "drain", "stop");
    Response rest = server.get("/api/v1/pools/grpc-a", TestServer.ADMIN_TOKEN);
    assertThat(rest.json().getString("name")).isEqualTo(active.getName());

    ListPoolsResponse page = pools.listPools(ListPoolsRequest.newBuilder().setState("active").setPageSize(500)
        .build()).await();
    assertThat(page.getItemsList()).extracting(ResourcePool::getId).contains("grpc-a");
    assertThat(page.getNextPageToken()).isEmpty();

    ResourcePool renamed = pools.updatePool(UpdatePoolRequest.newBuilder().setId("grpc-a").setName("Grpc A")
        .setIfMatchVersion(active.getVersion()).build()).await();
    assertThat(renamed.getName()).isEqualTo("Grpc A");
    assertThat(renamed.getVersion()).isGreaterThan(active.getVersion());
    assertThat(renamed.getLabelsMap()).as("unset fields are left alone").containsEntry("team", "data");
    assertThat(statusOf(pools.updatePool(UpdatePoolRequest.newBuilder().setId("grpc-a").setName("stale")
        .setIfMatchVersion(active.getVersion()).build()))).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    ResourcePool cleared = pools.updatePool(UpdatePoolRequest.newBuilder().setId("grpc-a").setReplaceLabels(true)
        .build()).await();
    assertThat(cleared.getLabelsMap()).isEmpty();
  }

  @Test
  void lifecycleAndResizing() {
    pools.createPool(simulated("grpc-life", "static").setSize(2).build()).await();
    awaitIdle("grpc-life", 2);
    ResourcePool paused = pools.changePoolLifecycle(ChangePoolLifecycleRequest.newBuilder().setId("grpc-life")
        .setAction("pause").build()).await();
    assertThat(paused.getState()).isEqualTo("paused");
    assertThat(statusOf(pools.changePoolLifecycle(ChangePoolLifecycleRequest.newBuilder().setId("grpc-life")
        .setAction("pause").build()))).as("an illegal transition").isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(admin.last().statusMessage()).contains("paused");
    assertThat(pools.changePoolLifecycle(ChangePoolLifecycleRequest.newBuilder().setId("grpc-life")
        .setAction("resume").build()).await().getState()).isEqualTo("active");

    ResourcePool grown = pools.setStaticSize(SetStaticSizeRequest.newBuilder().setId("grpc-life").setSize(3).build())
        .await();
    assertThat(grown.getTargetSize()).isEqualTo(3);
    awaitIdle("grpc-life", 3);

    pools.createPool(simulated("grpc-dyn", "dynamic").setMinSize(0).setMaxSize(4).build()).await();
    ResourcePool bounded = pools.setDynamicBounds(SetDynamicBoundsRequest.newBuilder().setId("grpc-dyn")
        .setMinSize(1).setMaxSize(3).setTargetSize(2).build()).await();
    assertThat(List.of(bounded.getMinSize(), bounded.getMaxSize(), bounded.getTargetSize())).containsExactly(1, 3, 2);
    awaitIdle("grpc-dyn", 2);
    assertThat(statusOf(pools.setDynamicBounds(SetDynamicBoundsRequest.newBuilder().setId("grpc-dyn")
        .setMinSize(5).setMaxSize(2).build()))).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
  }

  @Test
  void workersAreListedReadAndDrained() {
    pools.createPool(simulated("grpc-workers", "static").setSize(2).build()).await();
    awaitIdle("grpc-workers", 2);
    List<Worker> live = workers.listWorkers(ListWorkersRequest.newBuilder().setPoolId("grpc-workers").build()).await()
        .getItemsList();
    assertThat(live).hasSize(2).allMatch(w -> w.getPoolId().equals("grpc-workers") && w.getState().equals("idle"));
    Worker first = live.get(0);
    Worker read = workers.getWorker(GetWorkerRequest.newBuilder().setPoolId("grpc-workers")
        .setWorkerId(first.getId()).build()).await();
    assertThat(read.getId()).isEqualTo(first.getId());
    assertThat(read.getHealth()).isEqualTo("healthy");
    assertThat(statusOf(workers.getWorker(GetWorkerRequest.newBuilder().setPoolId("grpc-workers")
        .setWorkerId("wk-nope").build()))).isEqualTo(GrpcStatus.NOT_FOUND);

    Worker drained = workers.drainWorker(DrainWorkerRequest.newBuilder().setPoolId("grpc-workers")
        .setWorkerId(first.getId()).build()).await();
    assertThat(drained.getId()).isEqualTo(first.getId());
    awaitIdle("grpc-workers", 1);
    assertThat(workers.listWorkers(ListWorkersRequest.newBuilder().setPoolId("grpc-workers").build()).await()
        .getItemsList()).extracting(Worker::getId).doesNotContain(first.getId());
    // terminated workers are listed from the database: the termination shows once its write committed
    Poll.until(() -> workers.listWorkers(ListWorkersRequest.newBuilder().setPoolId("grpc-workers")
        .setState("terminated").build()).await().getItemsList().stream().map(Worker::getId).toList(),
        ids -> ids.contains(first.getId()), Duration.ofSeconds(10), "the drained worker listed as terminated");
  }

  @Test
  void errorsMapToGrpcStatuses() {
    assertThat(statusOf(pools.getPool(GetPoolRequest.newBuilder().setId("grpc-missing").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(pools.createPool(simulated("grpc-bad", "dynamic").setMinSize(5).setMaxSize(2).build())))
        .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    pools.createPool(simulated("grpc-dup", "static").setSize(0).build()).await();
    assertThat(statusOf(pools.createPool(simulated("grpc-dup", "static").setSize(0).build())))
        .isEqualTo(GrpcStatus.ALREADY_EXISTS);

    Response tenant = server.admin(HttpMethod.POST, "/api/v1/tenants", new JsonObject().put("name", "Grpc Viewer"));
    String viewer = server.admin(HttpMethod.POST, "/api/v1/tenants/" + tenant.json().getString("id") + "/tokens",
        new JsonObject().put("role", "viewer")).json().getString("token");
    ResourcePoolServiceGrpcClient asViewer = ResourcePoolServiceGrpcClient.create(
        GrpcTestClient.create(vertx).bearer(viewer), address());
    assertThat(asViewer.getPool(GetPoolRequest.newBuilder().setId("grpc-dup").build()).await().getId())
        .as("pools are readable by any token").isEqualTo("grpc-dup");
    assertThat(statusOf(asViewer.createPool(simulated("grpc-viewer", "static").build())))
        .isEqualTo(GrpcStatus.PERMISSION_DENIED);
    ResourcePoolServiceGrpcClient anonymous = ResourcePoolServiceGrpcClient.create(GrpcTestClient.create(vertx),
        address());
    assertThat(statusOf(anonymous.listPools(ListPoolsRequest.getDefaultInstance())))
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }
}
