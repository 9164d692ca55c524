package io.hodei.http.grpc;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.CancelJobRequest;
import io.hodei.grpc.v1.GetHealthRequest;
import io.hodei.grpc.v1.GetJobRequest;
import io.hodei.grpc.v1.GetMetricsSnapshotRequest;
import io.hodei.grpc.v1.HealthReport;
import io.hodei.grpc.v1.Job;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.ListJobsRequest;
import io.hodei.grpc.v1.MetricsSnapshot;
import io.hodei.grpc.v1.ObservabilityServiceGrpcClient;
import io.hodei.grpc.v1.PoolHealth;
import io.hodei.grpc.v1.PoolMetrics;
import io.hodei.grpc.v1.SubmitJobRequest;
import io.hodei.grpc.v1.SubmitJobsRequest;
import io.hodei.grpc.v1.SubmitJobsResponse;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.GrpcTestClient.statusOf;
import static org.assertj.core.api.Assertions.assertThat;

/** hodei.v1.JobService (with WatchJobs) and ObservabilityService through the generated clients, on simulated pools. */
class GrpcJobServiceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static TestServer server;
  private static Fixtures fx;
  private static Vertx vertx;
  private static String gamma;
  private static String gammaViewer;
  private static String delta;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100,
        ConfigSchema.METRICS_INTERVAL, 1));
    fx = new Fixtures(server);
    gamma = fx.tenant("gamma", null, 1, "submitter");
    gammaViewer = server.admin(HttpMethod.POST, "/api/v1/tenants/gamma/tokens", new JsonObject().put("role", "viewer"))
        .json().getString("token");
    delta = fx.tenant("delta", null, 1, "submitter");
    fx.pool(Fixtures.simulatedPool("gsim", 3, 50), 3);
    fx.pool(Fixtures.simulatedPool("gheld", 1, 10), 1);
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/gheld/lifecycle", new JsonObject().put("action", "pause"))
        .status()).isEqualTo(200);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static SocketAddress address() { return SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"); }

  private static GrpcTestClient client(String token) { return GrpcTestClient.create(vertx).bearer(token); }

  private static JobServiceGrpcClient jobs(GrpcTestClient client) { return JobServiceGrpcClient.create(client, address()); }

  private static SubmitJobRequest.Builder spec(String pool) {
    return SubmitJobRequest.newBuilder().setPoolId(pool).addCommand("work").setCpuM(500).setMemoryMb(256);
  }

  @Test
  void submitGetListAndCancelMirrorTheRestJob() {
    JobServiceGrpcClient client = jobs(client(gamma));
    Job submitted = client.submitJob(spec("gsim").setName("grpc-one").putLabels("team", "data")
        .putEnv("WHO", "hodei").setPayload("{\"duration_ms\": 20}").build()).await();
    assertThat(submitted.getId()).startsWith("j-");
    assertThat(submitted.getTenantId()).isEqualTo("gamma");
    assertThat(submitted.getState()).isEqualTo("queued");
    assertThat(submitted.getCpuM()).isEqualTo(500);
    assertThat(submitted.getCommandList()).containsExactly("work");
    assertThat(submitted.getLabelsMap()).containsEntry("team", "data");

    Job done = Poll.until(() -> client.getJob(GetJobRequest.newBuilder().setId(submitted.getId()).build()).await(),
        j -> j.getState().equals("succeeded"), TIMEOUT, "job succeeded");
    assertThat(done.hasExitCode()).isTrue();
    assertThat(done.getExitCode()).isZero();
    assertThat(done.getPlacedPoolId()).isEqualTo("gsim");
    assertThat(done.getEnvMap()).containsEntry("WHO", "hodei");
    assertThat(new JsonObject(done.getPayload()).getInteger("duration_ms")).isEqualTo(20);
    assertThat(done.getName()).isEqualTo(fx.job(gamma, submitted.getId()).getString("name"));

    List<Job> listed = jobs(client(gammaViewer)).listJobs(ListJobsRequest.newBuilder().setPoolId("gsim")
        .setPageSize(500).build()).await().getItemsList();
    assertThat(listed).extracting(Job::getId).contains(submitted.getId());
    assertThat(listed).allMatch(j -> j.getTenantId().equals("gamma"));

    Job held = client.submitJob(spec("gheld").build()).await();
    Job waiting = client.getJob(GetJobRequest.newBuilder().setId(held.getId()).build()).await();
    assertThat(waiting.hasWaiting()).isTrue();
    assertThat(waiting.getWaiting().getReasonsList()).isNotEmpty();
    assertThat(client.cancelJob(CancelJobRequest.newBuilder().setId(held.getId()).build()).await().getId())
        .isEqualTo(held.getId());
    Poll.until(() -> client.getJob(GetJobRequest.newBuilder().setId(held.getId()).build()).await(),
        j -> j.getState().equals("cancelled"), TIMEOUT, "job cancelled");
  }

  @Test
  void batchesAndIdempotentReplays() {
    JobServiceGrpcClient client = jobs(client(gamma));
    SubmitJobsResponse batch = client.submitJobs(SubmitJobsRequest.newBuilder().addJobs(spec("gsim"))
        .addJobs(spec("gsim").setPayload("{\"duration_ms\": 5}")).addJobs(spec("gsim").setIdempotencyKey("b-1"))
        .build()).await();
    assertThat(batch.getItemsList()).hasSize(3).extracting(Job::getId).doesNotHaveDuplicates();

    GrpcTestClient caller = client(gamma);
    assertThat(statusOf(jobs(caller).submitJobs(SubmitJobsRequest.newBuilder().addJobs(spec("gsim"))
        .addJobs(spec("gsim").setCpuM(0)).build()))).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(caller.last().statusMessage()).contains("jobs[1]");

    Job first = client.submitJob(spec("gsim").setIdempotencyKey("grpc-key-1").build()).await();
    Job replay = client.submitJob(spec("gsim").setIdempotencyKey("grpc-key-1").build()).await();
    assertThat(replay.getId()).isEqualTo(first.getId());
    assertThat(replay.getIdempotentReplay()).isTrue();
    assertThat(replay.getIdempotencyKey()).isEqualTo("grpc-key-1");
  }

  @Test
  void errorsMapToGrpcStatuses() {
    GrpcTestClient caller = client(gamma);
    assertThat(statusOf(jobs(caller).submitJob(spec("gsim").setCpuM(0).build())))
        .isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(caller.last().statusMessage()).contains("cpu_m");
    assertThat(caller.trailer(GrpcTranslator.TRACE_ID_TRAILER)).isNotBlank();

    String deltas = jobs(client(delta)).submitJob(spec("gsim").build()).await().getId();
    assertThat(statusOf(jobs(caller).getJob(GetJobRequest.newBuilder().setId(deltas).build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(jobs(caller).cancelJob(CancelJobRequest.newBuilder().setId(deltas).build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(jobs(client(gammaViewer)).submitJob(spec("gsim").build())))
        .isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(statusOf(jobs(client(null)).getJob(GetJobRequest.newBuilder().setId(deltas).build())))
        .isEqualTo(GrpcStatus.UNAUTHENTICATED);

    String small = fx.tenant("gsmall", new JsonObject().put("cpu_m", 100_000).put("memory_mb", 100_000)
        .put("max_concurrent_jobs", 5).put("max_queued_jobs", 2), 1, "submitter");
    JobServiceGrpcClient smallJobs = jobs(client(small));
    smallJobs.submitJob(spec("gheld").build()).await();
    smallJobs.submitJob(spec("gheld").build()).await();
    GrpcTestClient over = client(small);
    assertThat(statusOf(jobs(over).submitJob(spec("gheld").build()))).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    assertThat(over.last().statusMessage()).contains("max_queued_jobs");
  }

  /** A WatchJobs stream collecting what it receives; {@link #cancel} ends it from the client side. */
  private static final class Watch {
    final List<JobEvent> events = new CopyOnWriteArrayList<>();
    final GrpcClientRequest<WatchJobsRequest, JobEvent> request;
    volatile GrpcStatus status;

    Watch(String token, WatchJobsRequest message) {
      request = client(token).request(address(), JobServiceGrpcClient.WatchJobs).await();
      request.end(message);
      request.response().onSuccess(response -> {
        response.handler(events::add);
        response.end().onComplete(ar -> status = response.status());
      }).onFailure(err -> status = GrpcStatus.UNKNOWN);
    }

    List<JobEvent> until(Predicate<List<JobEvent>> done, String what) {
      return Poll.until(() -> List.copyOf(events), done, TIMEOUT, what);
    }

    void cancel() { request.cancel(); }
  }

  private static List<String> states(List<JobEvent> events) { return events.stream().map(JobEvent::getState).toList(); }

  private static boolean finished(List<JobEvent> events, String jobId) {
    return events.stream().anyMatch(e -> e.getJobId().equals(jobId) && e.getState().equals("succeeded"));
  }

  @Test
  void watchingAJobStreamsItsLifecycleInOrderAndResumes() {
    int open = JobWatch.OPEN.get();
    String id = jobs(client(gamma)).submitJob(spec("gsim").setPayload("{\"duration_ms\": 200}").build()).await()
        .getId();
    Watch watch = new Watch(gammaViewer, WatchJobsRequest.newBuilder().setJobId(id).build());
    List<JobEvent> events = watch.until(e -> finished(e, id), "the job's events up to succeeded");
    assertThat(states(events)).containsExactly("queued", "admitted", "running", "succeeded");
    assertThat(events).allMatch(e -> e.getJobId().equals(id) && e.getTenantId().equals("gamma"));
    assertThat(events).extracting(JobEvent::getSequence).isSorted().doesNotHaveDuplicates();
    assertThat(new JsonObject(events.get(0).getDetail()).getString("reason")).isEqualTo("submitted");
    assertThat(events.get(3).getAt()).isNotBlank();
    watch.cancel();
    Poll.until(JobWatch.OPEN::get, n -> n <= open, TIMEOUT, "the cancelled stream released");

    long admitted = events.get(1).getSequence();
    Watch resumed = new Watch(gamma, WatchJobsRequest.newBuilder().setJobId(id).setFromSequence(admitted).build());
    List<JobEvent> later = resumed.until(e -> finished(e, id), "the events after admitted");
    assertThat(states(later)).containsExactly("running", "succeeded");
    assertThat(later).allMatch(e -> e.getSequence() > admitted);
    resumed.cancel();
  }

  @Test
  void watchersSeeOnlyTheirTenant() {
    Watch mine = new Watch(gamma, WatchJobsRequest.getDefaultInstance());
    Watch deltaByAdmin = new Watch(TestServer.ADMIN_TOKEN, WatchJobsRequest.newBuilder().setTenantId("delta").build());
    String deltas = jobs(client(delta)).submitJob(spec("gsim").build()).await().getId();
    String gammas = jobs(client(gamma)).submitJob(spec("gsim").build()).await().getId();
    List<JobEvent> seen = mine.until(e -> finished(e, gammas), "gamma's job in gamma's stream");
    assertThat(seen).allMatch(e -> e.getTenantId().equals("gamma"));
    assertThat(seen).extracting(JobEvent::getJobId).doesNotContain(deltas);
    assertThat(seen).extracting(JobEvent::getSequence).isSorted().doesNotHaveDuplicates();
    List<JobEvent> admins = deltaByAdmin.until(e -> finished(e, deltas), "delta's job in the admin's stream");
    assertThat(admins).allMatch(e -> e.getTenantId().equals("delta"));
    mine.cancel();
    deltaByAdmin.cancel();

    Watch other = new Watch(gamma, WatchJobsRequest.newBuilder().setJobId(deltas).build());
    Poll.until(() -> other.status, s -> s != null, TIMEOUT, "the stream refused");
    assertThat(other.status).isEqualTo(GrpcStatus.NOT_FOUND);
    Watch otherTenant = new Watch(gamma, WatchJobsRequest.newBuilder().setTenantId("delta").build());
    Poll.until(() -> otherTenant.status, s -> s != null, TIMEOUT, "the stream refused");
    assertThat(otherTenant.status).isEqualTo(GrpcStatus.NOT_FOUND);
    Watch anonymous = new Watch(null, WatchJobsRequest.getDefaultInstance());
    Poll.until(() -> anonymous.status, s -> s != null, TIMEOUT, "the stream refused");
    assertThat(anonymous.status).isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }

  @Test
  void concurrentWritersLoseNoEventAndRepeatNone() {
    Watch all = new Watch(TestServer.ADMIN_TOKEN, WatchJobsRequest.getDefaultInstance());
    List<io.vertx.core.Future<SubmitJobsResponse>> batches = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String token = i % 2 == 0 ? gamma : delta;
      batches.add(jobs(client(token)).submitJobs(SubmitJobsRequest.newBuilder()
          .addJobs(spec("gsim").setPayload("{\"duration_ms\": 5}")).addJobs(spec("gsim")).addJobs(spec("gsim"))
          .build()));
    }
    io.vertx.core.Future.all(batches).await();
    List<String> ids = batches.stream().flatMap(b -> b.result().getItemsList().stream()).map(Job::getId).toList();
    List<JobEvent> seen = all.until(e -> ids.stream().allMatch(id -> finished(e, id)), "every job finished");
    assertThat(seen).extracting(JobEvent::getSequence).isSorted().doesNotHaveDuplicates();
    for (String id : ids) {
      List<Long> logged = server.get("/api/v1/jobs/" + id + "/events", TestServer.ADMIN_TOKEN).json()
          .getJsonArray("items").stream().map(e -> ((JsonObject) e).getLong("seq")).toList();
      assertThat(seen.stream().filter(e -> e.getJobId().equals(id)).map(JobEvent::getSequence).toList())
          .as("job %s: the stream holds its log, once each", id).containsExactlyElementsOf(logged);
    }
    all.cancel();
  }

  @Test
  void healthAndMetricsSnapshots() {
    ObservabilityServiceGrpcClient anonymous = ObservabilityServiceGrpcClient.create(client(null), address());
    HealthReport health = Poll.until(() -> anonymous.getHealth(GetHealthRequest.getDefaultInstance()).await(),
        h -> h.getPoolsList().stream().anyMatch(p -> p.getPool().equals("gsim")), TIMEOUT, "gsim in the health");
    assertThat(health.getStatus()).isIn("Healthy", "Degraded", "Unhealthy");
    PoolHealth gsim = health.getPoolsList().stream().filter(p -> p.getPool().equals("gsim")).findFirst().orElseThrow();
    assertThat(gsim.getState()).isEqualTo("active");
    assertThat(new JsonObject(gsim.getWorkers()).getLong("total")).isEqualTo(3);
    assertThat(new JsonObject(health.getCollector()).containsKey("runs")).isTrue();
    assertThat(health.getStatus()).isEqualTo(server.get("/health", null).json().getString("status"));

    ObservabilityServiceGrpcClient viewer = ObservabilityServiceGrpcClient.create(client(gammaViewer), address());
    MetricsSnapshot one = viewer.getMetricsSnapshot(GetMetricsSnapshotRequest.newBuilder().setPoolId("gsim").build())
        .await();
    assertThat(one.getPoolsList()).hasSize(1);
    PoolMetrics metrics = one.getPools(0);
    assertThat(metrics.getPool()).isEqualTo("gsim");
    assertThat(metrics.getProvider()).isEqualTo("simulated");
    assertThat(metrics.getHealthStatus()).isNotBlank();
    assertThat(new JsonObject(metrics.getMetrics()).getJsonObject("workers").getLong("total")).isEqualTo(3);
    MetricsSnapshot all = viewer.getMetricsSnapshot(GetMetricsSnapshotRequest.getDefaultInstance()).await();
    assertThat(all.getPoolsList()).extracting(PoolMetrics::getPool).contains("gsim", "gheld");
    assertThat(statusOf(viewer.getMetricsSnapshot(GetMetricsSnapshotRequest.newBuilder().setPoolId("nope").build())))
        .isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(statusOf(ObservabilityServiceGrpcClient.create(client(null), address())
        .getMetricsSnapshot(GetMetricsSnapshotRequest.getDefaultInstance()))).isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }
}
