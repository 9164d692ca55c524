package io.hodei.http;

import io.hodei.app.config.ConfigSchema;
import io.hodei.grpc.v1.CancelJobRequest;
import io.hodei.grpc.v1.CostOptimizationServiceGrpcClient;
import io.hodei.grpc.v1.DeleteTenantRequest;
import io.hodei.grpc.v1.GenerateReportRequest;
import io.hodei.grpc.v1.GetCostBreakdownRequest;
import io.hodei.grpc.v1.GetJobRequest;
import io.hodei.grpc.v1.GetQuotaRequest;
import io.hodei.grpc.v1.GetTenantMetricsRequest;
import io.hodei.grpc.v1.GetTenantRequest;
import io.hodei.grpc.v1.GetWorkerRequest;
import io.hodei.grpc.v1.IssueTokenRequest;
import io.hodei.grpc.v1.JobEvent;
import io.hodei.grpc.v1.JobServiceGrpcClient;
import io.hodei.grpc.v1.ListJobsRequest;
import io.hodei.grpc.v1.ListWorkersRequest;
import io.hodei.grpc.v1.RequestBurstRequest;
import io.hodei.grpc.v1.SetQuotaRequest;
import io.hodei.grpc.v1.SubmitJobRequest;
import io.hodei.grpc.v1.TenantServiceGrpcClient;
import io.hodei.grpc.v1.UpdateTenantRequest;
import io.hodei.grpc.v1.WatchJobsRequest;
import io.hodei.grpc.v1.Worker;
import io.hodei.grpc.v1.WorkerServiceGrpcClient;
import io.hodei.support.Fixtures;
import io.hodei.support.GrpcTestClient;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tenant isolation over the public surface: tenant B's tokens asking for what tenant A owns get exactly the answer
 * they get for an id that does not exist (status, problem body, gRPC status and message; only the id and trace_id
 * differ), on every REST route and gRPC method that takes such an id. And a worker shows the job it runs only to
 * admins and to that job's tenant.
 *
 * <p>To cover a new route or method, add a row to {@link #restCases} or {@link #grpcCases}.
 */
class TenantIsolationTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String POOL = "iso-pool";
  private static final String TENANT_A = "iso-a";
  private static final String TENANT_B = "iso-b";

  /** What an id names; each kind has one id tenant A owns and a fresh one that names nothing. */
  enum Kind { RUNNING_JOB, FINISHED_JOB, TENANT, TOKEN, COST_REPORT }

  record RestCase(String name, HttpMethod method, String path, String body, Kind kind) {}

  record GrpcCase(String name, Kind kind, BiFunction<GrpcTestClient, String, Future<?>> call) {}

  private static TestServer server;
  private static Fixtures fx;
  private static Vertx vertx;
  private static String aSubmitter;
  private static String aViewer;
  private static final Map<String, String> bTokens = new java.util.LinkedHashMap<>();
  private static final Map<Kind, String> owned = new java.util.EnumMap<>(Kind.class);

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100));
    fx = new Fixtures(server);
    aSubmitter = fx.tenant(TENANT_A, null, 1, "submitter");
    aViewer = token(TENANT_A, "viewer");
    bTokens.put("tenant-admin", fx.tenant(TENANT_B, null, 1, "tenant-admin"));
    bTokens.put("submitter", token(TENANT_B, "submitter"));
    bTokens.put("viewer", token(TENANT_B, "viewer"));
    fx.pool(Fixtures.simulatedPool(POOL, 2, 10), 2);
    vertx = Vertx.vertx();

    String finished = fx.submitted(aSubmitter, Fixtures.spec(POOL, "quick"));
    fx.awaitState(aSubmitter, finished, "succeeded");
    owned.put(Kind.FINISHED_JOB, finished);
    String running = fx.submitted(aSubmitter, Fixtures.spec(POOL, "long")
        .put("payload", new JsonObject().put("duration_ms", 600_000)));
    fx.awaitState(aSubmitter, running, "running");
    owned.put(Kind.RUNNING_JOB, running);
    owned.put(Kind.TENANT, TENANT_A);
    Response issued = server.admin(HttpMethod.POST, "/api/v1/tenants/" + TENANT_A + "/tokens",
        new JsonObject().put("role", "viewer"));
    owned.put(Kind.TOKEN, issued.json().getString("id"));
    Response report = server.send(HttpMethod.POST, "/api/v1/cost-reports", aViewer, new JsonObject()
        .put("from", Instant.now().minus(Duration.ofHours(2)).toString()).put("to", Instant.now().toString()));
    assertThat(report.status()).as(report.toString()).isEqualTo(202);
    owned.put(Kind.COST_REPORT, report.json().getString("id"));
  }

  @AfterAll
  static void stop() {
    if (vertx != null) vertx.close().await();
    if (server != null) server.close();
  }

  private static String token(String tenant, String role) {
    Response r = server.admin(HttpMethod.POST, "/api/v1/tenants/" + tenant + "/tokens", new JsonObject().put("role", role));
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.json().getString("token");
  }

  /** An id of the same shape as A's that names nothing. */
  private static String missing(Kind kind) {
    String random = UUID.randomUUID().toString().replace("-", "");
    return switch (kind) {
      case RUNNING_JOB, FINISHED_JOB -> "j-" + random.substring(0, 24);
      case TENANT -> "iso-" + random.substring(0, 8);
      case TOKEN -> "tok-" + random.substring(0, 12);
      case COST_REPORT -> "cr-" + random.substring(0, 12);
    };
  }

  private static List<RestCase> restCases() {
    String quota = new JsonObject().put("cpu_m", 1000).put("memory_mb", 1024).put("max_concurrent_jobs", 1)
        .put("max_queued_jobs", 1).encode();
    String period = "from=" + Instant.now().minus(Duration.ofHours(2)) + "&to=" + Instant.now();
    List<RestCase> cases = new ArrayList<>();
    for (Kind job : new Kind[] {Kind.RUNNING_JOB, Kind.FINISHED_JOB}) {
      cases.add(new RestCase("job", HttpMethod.GET, "/api/v1/jobs/{id}", null, job));
      cases.add(new RestCase("job cancel", HttpMethod.POST, "/api/v1/jobs/{id}/cancel", null, job));
      cases.add(new RestCase("job events", HttpMethod.GET, "/api/v1/jobs/{id}/events", null, job));
      cases.add(new RestCase("job logs", HttpMethod.GET, "/api/v1/jobs/{id}/logs", null, job));
      cases.add(new RestCase("job sla", HttpMethod.GET, "/api/v1/jobs/{id}/sla", null, job));
    }
    cases.add(new RestCase("jobs by tenant", HttpMethod.GET, "/api/v1/jobs?tenant={id}", null, Kind.TENANT));
    cases.add(new RestCase("submit for tenant", HttpMethod.POST, "/api/v1/jobs",
        Fixtures.spec(POOL, "x").put("tenant_id", "{id}").encode(), Kind.TENANT));
    cases.add(new RestCase("quota enforcement", HttpMethod.POST, "/api/v1/quotas/enforce",
        new JsonObject().put("tenant_id", "{id}").encode(), Kind.TENANT));
    cases.add(new RestCase("tenant", HttpMethod.GET, "/api/v1/tenants/{id}", null, Kind.TENANT));
    cases.add(new RestCase("tenant update", HttpMethod.PATCH, "/api/v1/tenants/{id}",
        new JsonObject().put("name", "renamed").encode(), Kind.TENANT));
    cases.add(new RestCase("tenant delete", HttpMethod.DELETE, "/api/v1/tenants/{id}", null, Kind.TENANT));
    cases.add(new RestCase("quota", HttpMethod.GET, "/api/v1/tenants/{id}/quotas", null, Kind.TENANT));
    cases.add(new RestCase("quota set", HttpMethod.PUT, "/api/v1/tenants/{id}/quotas", quota, Kind.TENANT));
    cases.add(new RestCase("token issue", HttpMethod.POST, "/api/v1/tenants/{id}/tokens",
        new JsonObject().put("role", "viewer").encode(), Kind.TENANT));
    cases.add(new RestCase("tokens", HttpMethod.GET, "/api/v1/tenants/{id}/tokens", null, Kind.TENANT));
    cases.add(new RestCase("token revoke", HttpMethod.DELETE, "/api/v1/tenants/{id}/tokens/tok-x", null, Kind.TENANT));
    cases.add(new RestCase("token revoke in own tenant", HttpMethod.DELETE,
        "/api/v1/tenants/" + TENANT_B + "/tokens/{id}", null, Kind.TOKEN));
    cases.add(new RestCase("burst grant", HttpMethod.POST, "/api/v1/tenants/{id}/burst",
        new JsonObject().put("duration_minutes", 5).encode(), Kind.TENANT));
    cases.add(new RestCase("burst", HttpMethod.GET, "/api/v1/tenants/{id}/burst", null, Kind.TENANT));
    cases.add(new RestCase("burst revoke", HttpMethod.DELETE, "/api/v1/tenants/{id}/burst", null, Kind.TENANT));
    cases.add(new RestCase("tenant metrics", HttpMethod.GET, "/api/v1/tenants/{id}/metrics", null, Kind.TENANT));
    cases.add(new RestCase("cost report for tenant", HttpMethod.GET, "/api/v1/cost-reports?" + period
        + "&tenant_id={id}", null, Kind.TENANT));
    cases.add(new RestCase("cost report request for tenant", HttpMethod.POST, "/api/v1/cost-reports",
        new JsonObject().put("from", Instant.now().minus(Duration.ofHours(2)).toString())
            .put("to", Instant.now().toString()).put("tenant_id", "{id}").encode(), Kind.TENANT));
    cases.add(new RestCase("cost breakdown for tenant", HttpMethod.GET,
        "/api/v1/cost-optimization/breakdown?tenant_id={id}", null, Kind.TENANT));
    cases.add(new RestCase("stored cost report", HttpMethod.GET, "/api/v1/cost-reports/{id}", null, Kind.COST_REPORT));
    return cases;
  }

  private static Future<?> watch(GrpcTestClient client, WatchJobsRequest request) {
    return client.request(address(), JobServiceGrpcClient.WatchJobs).compose(call -> {
      call.end(request);
      return call.response().compose(response -> {
        List<JobEvent> events = new ArrayList<>();
        response.handler(events::add);
        return response.end().transform(ar -> response.status() == GrpcStatus.OK
            ? Future.succeededFuture(events)
            : Future.failedFuture(new InvalidStatusException(GrpcStatus.OK, response.status())));
      });
    });
  }

  private static List<GrpcCase> grpcCases() {
    List<GrpcCase> cases = new ArrayList<>();
    for (Kind job : new Kind[] {Kind.RUNNING_JOB, Kind.FINISHED_JOB}) {
      cases.add(new GrpcCase("GetJob", job, (c, id) -> jobs(c).getJob(GetJobRequest.newBuilder().setId(id).build())));
      cases.add(new GrpcCase("CancelJob", job,
          (c, id) -> jobs(c).cancelJob(CancelJobRequest.newBuilder().setId(id).build())));
      cases.add(new GrpcCase("WatchJobs job_id", job,
          (c, id) -> watch(c, WatchJobsRequest.newBuilder().setJobId(id).build())));
    }
    cases.add(new GrpcCase("WatchJobs tenant_id", Kind.TENANT,
        (c, id) -> watch(c, WatchJobsRequest.newBuilder().setTenantId(id).build())));
    cases.add(new GrpcCase("ListJobs", Kind.TENANT,
        (c, id) -> jobs(c).listJobs(ListJobsRequest.newBuilder().setTenantId(id).build())));
    cases.add(new GrpcCase("SubmitJob", Kind.TENANT, (c, id) -> jobs(c).submitJob(SubmitJobRequest.newBuilder()
        .setTenantId(id).setPoolId(POOL).addCommand("x").setCpuM(500).setMemoryMb(256).build())));
    cases.add(new GrpcCase("GetTenant", Kind.TENANT,
        (c, id) -> tenants(c).getTenant(GetTenantRequest.newBuilder().setId(id).build())));
    cases.add(new GrpcCase("UpdateTenant", Kind.TENANT,
        (c, id) -> tenants(c).updateTenant(UpdateTenantRequest.newBuilder().setId(id).setName("renamed").build())));
    cases.add(new GrpcCase("DeleteTenant", Kind.TENANT,
        (c, id) -> tenants(c).deleteTenant(DeleteTenantRequest.newBuilder().setId(id).build())));
    cases.add(new GrpcCase("GetQuota", Kind.TENANT,
        (c, id) -> tenants(c).getQuota(GetQuotaRequest.newBuilder().setTenantId(id).build())));
    cases.add(new GrpcCase("SetQuota", Kind.TENANT, (c, id) -> tenants(c).setQuota(SetQuotaRequest.newBuilder()
        .setTenantId(id).setCpuM(1000).setMemoryMb(1024).setMaxConcurrentJobs(1).setMaxQueuedJobs(1).build())));
    cases.add(new GrpcCase("GetTenantMetrics", Kind.TENANT,
        (c, id) -> tenants(c).getTenantMetrics(GetTenantMetricsRequest.newBuilder().setTenantId(id).build())));
    cases.add(new GrpcCase("RequestBurstCapacity", Kind.TENANT,
        (c, id) -> tenants(c).requestBurstCapacity(RequestBurstRequest.newBuilder().setTenantId(id).build())));
    cases.add(new GrpcCase("IssueToken", Kind.TENANT,
        (c, id) -> tenants(c).issueToken(IssueTokenRequest.newBuilder().setTenantId(id).setRole("viewer").build())));
    cases.add(new GrpcCase("GenerateReport", Kind.TENANT, (c, id) -> costs(c).generateReport(GenerateReportRequest
        .newBuilder().setFrom(Instant.now().minus(Duration.ofHours(2)).toString()).setTo(Instant.now().toString())
        .setTenantId(id).build())));
    cases.add(new GrpcCase("GetCostBreakdown", Kind.TENANT,
        (c, id) -> costs(c).getCostBreakdown(GetCostBreakdownRequest.newBuilder().setTenantId(id).build())));
    return cases;
  }

  private static SocketAddress address() { return SocketAddress.inetSocketAddress(server.port(), "127.0.0.1"); }

  private static JobServiceGrpcClient jobs(GrpcTestClient c) { return JobServiceGrpcClient.create(c, address()); }

  private static TenantServiceGrpcClient tenants(GrpcTestClient c) { return TenantServiceGrpcClient.create(c, address()); }

  private static CostOptimizationServiceGrpcClient costs(GrpcTestClient c) {
    return CostOptimizationServiceGrpcClient.create(c, address());
  }

  private static WorkerServiceGrpcClient workers(GrpcTestClient c) { return WorkerServiceGrpcClient.create(c, address()); }

  /** Status, content type and body with the id and trace_id taken out: what must not tell two ids apart. */
  private static String answer(Response r, String id) {
    String body = r.body() == null ? "" : r.body();
    if (body.startsWith("{")) {
      JsonObject json = new JsonObject(body);
      json.remove("trace_id");
      body = json.encode();
    }
    return r.status() + " " + r.contentType() + " " + body.replace(id, "<id>");
  }

  private static Response rest(RestCase c, String token, String id) {
    String path = c.path().replace("{id}", id);
    return server.send(c.method(), path, token, c.body() == null ? null : c.body().replace("{id}", id));
  }

  @Test
  void anotherTenantsIdAnswersOnEveryRouteAsAnIdThatDoesNotExist() {
    List<String> checked = new ArrayList<>();
    for (RestCase c : restCases()) {
      for (Map.Entry<String, String> b : bTokens.entrySet()) {
        String theirs = owned.get(c.kind());
        String nothing = missing(c.kind());
        Response foreign = rest(c, b.getValue(), theirs);
        Response absent = rest(c, b.getValue(), nothing);
        String what = c.method() + " " + c.path() + " (" + c.name() + ", " + c.kind() + ") as B's " + b.getKey();
        assertThat(answer(foreign, theirs)).as(what).isEqualTo(answer(absent, nothing));
        if (c.kind() != Kind.TENANT) {
          assertThat(foreign.body()).as(what + " names no owner").doesNotContain(TENANT_A);
        }
        if (c.kind() != Kind.TENANT || foreign.status() >= 400) {
          assertThat(foreign.status()).as(what).isIn(403, 404);
        }
        if (foreign.status() == 404) {
          assertThat(foreign.json().getString("detail")).as(what).endsWith("'" + theirs + "' does not exist");
        }
        checked.add(what);
      }
    }
    assertThat(checked).hasSize(restCases().size() * bTokens.size());
    // A's resources are untouched by all of that
    assertThat(fx.job(aSubmitter, owned.get(Kind.RUNNING_JOB)).getString("state")).isEqualTo("running");
    assertThat(server.get("/api/v1/tenants/" + TENANT_A, aViewer).json().getString("name")).isEqualTo(TENANT_A);
  }

  @Test
  void anotherTenantsIdAnswersOnEveryGrpcMethodAsAnIdThatDoesNotExist() {
    for (GrpcCase c : grpcCases()) {
      for (Map.Entry<String, String> b : bTokens.entrySet()) {
        String what = c.name() + " (" + c.kind() + ") as B's " + b.getKey();
        String theirs = owned.get(c.kind());
        String nothing = missing(c.kind());
        GrpcTestClient client = GrpcTestClient.create(vertx).bearer(b.getValue());
        GrpcStatus foreign = GrpcTestClient.statusOf(c.call().apply(client, theirs));
        String foreignMessage = message(client, theirs);
        GrpcStatus absent = GrpcTestClient.statusOf(c.call().apply(client, nothing));
        String absentMessage = message(client, nothing);
        assertThat(foreign).as(what).isEqualTo(absent).isIn(GrpcStatus.NOT_FOUND, GrpcStatus.PERMISSION_DENIED);
        assertThat(foreignMessage).as(what).isEqualTo(absentMessage);
        if (foreign == GrpcStatus.NOT_FOUND) assertThat(foreignMessage).as(what).endsWith("'<id>' does not exist");
      }
    }
  }

  private static String message(GrpcTestClient client, String id) {
    return String.valueOf(client.last().statusMessage()).replace(id, "<id>");
  }

  @Test
  void aWorkerShowsItsJobOnlyToAdminsAndTheJobsTenant() {
    String job = owned.get(Kind.RUNNING_JOB);
    JsonObject byAdmin = busyWorker(TestServer.ADMIN_TOKEN, job);
    String workerId = byAdmin.getString("id");
    // the pool learns the job's tenant with the job; poll until the owner's view has it
    busyWorker(aViewer, job);
    for (String b : bTokens.values()) {
      Response list = server.get("/api/v1/pools/" + POOL + "/workers", b);
      assertThat(list.status()).isEqualTo(200);
      JsonObject worker = find(list.json().getJsonArray("items"), workerId);
      assertThat(worker.getString("state")).isEqualTo("busy");
      assertThat(worker.containsKey("current_job_id")).isTrue();
      assertThat(worker.getValue("current_job_id")).as("another tenant's job on a worker").isNull();
      assertThat(list.body()).doesNotContain(job);
      Response pool = server.get("/api/v1/pools/" + POOL, b);
      assertThat(pool.status()).isEqualTo(200);
      assertThat(pool.body()).doesNotContain(job);
      for (String other : List.of("/workers?state=terminated", "/metrics")) {
        assertThat(server.get("/api/v1/pools/" + POOL + other, b).body()).as(other).doesNotContain(job);
      }
    }

    WorkerServiceGrpcClient asB = workers(GrpcTestClient.create(vertx).bearer(bTokens.get("viewer")));
    WorkerServiceGrpcClient asA = workers(GrpcTestClient.create(vertx).bearer(aViewer));
    WorkerServiceGrpcClient asAdmin = workers(GrpcTestClient.create(vertx).bearer(TestServer.ADMIN_TOKEN));
    GetWorkerRequest get = GetWorkerRequest.newBuilder().setPoolId(POOL).setWorkerId(workerId).build();
    assertThat(asB.getWorker(get).await().getCurrentJobId()).isEmpty();
    assertThat(asA.getWorker(get).await().getCurrentJobId()).isEqualTo(job);
    assertThat(asAdmin.getWorker(get).await().getCurrentJobId()).isEqualTo(job);
    ListWorkersRequest list = ListWorkersRequest.newBuilder().setPoolId(POOL).build();
    assertThat(asB.listWorkers(list).await().getItemsList()).extracting(Worker::getCurrentJobId).containsOnly("");
    assertThat(asA.listWorkers(list).await().getItemsList()).extracting(Worker::getCurrentJobId).contains(job);
  }

  /** Polls the pool's workers as {@code token} until one shows {@code job} running. */
  private static JsonObject busyWorker(String token, String job) {
    JsonArray items = Poll.until(() -> server.get("/api/v1/pools/" + POOL + "/workers", token).json()
            .getJsonArray("items"), all -> all.stream().anyMatch(w -> job.equals(((JsonObject) w).getString("current_job_id"))),
        TIMEOUT, "a worker showing job " + job);
    return items.stream().map(w -> (JsonObject) w).filter(w -> job.equals(w.getString("current_job_id")))
        .findFirst().orElseThrow();
  }

  private static JsonObject find(JsonArray items, String id) {
    return items.stream().map(w -> (JsonObject) w).filter(w -> id.equals(w.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError("worker " + id + " not listed in " + items));
  }
}
