package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Quotas, fairness, explanations and SLAs, observed through REST on simulated pools. */
class SchedulingPolicyTest {
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100));
    fx = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject quota(int concurrent, int queued) {
    return new JsonObject().put("cpu_m", 100_000).put("memory_mb", 100_000).put("max_concurrent_jobs", concurrent)
        .put("max_queued_jobs", queued);
  }

  private static JsonObject simJob(String pool, long durationMs) {
    return Fixtures.spec(pool, "work").put("payload", new JsonObject().put("duration_ms", durationMs));
  }

  private static void lifecycle(String pool, String action) {
    assertThat(server.admin(HttpMethod.POST, "/api/v1/pools/" + pool + "/lifecycle",
        new JsonObject().put("action", action)).status()).isEqualTo(200);
  }

  @Test
  void concurrentSubmittersNeverExceedTheQueueQuota() {
    String token = fx.tenant("burst-q", quota(5, 10), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("paused-q", 1, 10), 1);
    lifecycle("paused-q", "pause");
    List<Future<HttpResponse<Buffer>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      inFlight.add(server.request(HttpMethod.POST, "/api/v1/jobs", token).sendJsonObject(simJob("paused-q", 10)));
    }
    Future.join(inFlight).await();
    long accepted = inFlight.stream().filter(f -> f.result().statusCode() == 201).count();
    long refused = inFlight.stream().filter(f -> f.result().statusCode() == 429).count();
    assertThat(accepted).isEqualTo(10);
    assertThat(refused).isEqualTo(30);
    JsonObject problem = new JsonObject(inFlight.stream().filter(f -> f.result().statusCode() == 429).findFirst()
        .orElseThrow().result().bodyAsString());
    assertThat(problem.getString("quota")).isEqualTo("max_queued_jobs");
    Response enforce = server.send(HttpMethod.POST, "/api/v1/quotas/enforce", token, new JsonObject().put("jobs", 1));
    assertThat(enforce.json().getBoolean("allowed")).isFalse();
    assertThat(enforce.json().getString("reason")).isEqualTo("quota_max_queued_jobs");
    assertThat(enforce.json().getJsonObject("headroom").getLong("queued_jobs")).isZero();

    String waiting = server.get("/api/v1/jobs?tenant=burst-q&limit=1", token).json().getJsonArray("items")
        .getJsonObject(0).getString("id");
    JsonObject why = fx.job(token, waiting).getJsonObject("waiting");
    assertThat(why.getJsonArray("reasons").stream().map(r -> ((JsonObject) r).getString("code")))
        .contains("pool_not_accepting");
    assertThat(why.getInteger("position")).isPositive();
    lifecycle("paused-q", "resume");
    Poll.until(() -> server.get("/api/v1/jobs?tenant=burst-q&state=succeeded&limit=500", token).json()
        .getJsonArray("items").size(), n -> n == 10, Duration.ofSeconds(30), "10 jobs done");
  }

  @Test
  void runningJobsStayWithinTheConcurrencyQuotaAndWaitingSaysSo() {
    String token = fx.tenant("capped", quota(2, 100), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("wide", 6, 10), 6);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) ids.add(fx.submitted(token, simJob("wide", 400)));
    boolean explained = false;
    boolean quotaHeldIsNoDemand = false;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    List<JsonObject> jobs = List.of();
    while (System.nanoTime() < deadline) {
      // the autoscaler's input: jobs held by their tenant's quota wait, but not for a worker
      for (Object row : server.get("/api/v1/queues/status", TestServer.ADMIN_TOKEN).json().getJsonArray("pools")) {
        JsonObject pool = (JsonObject) row;
        if (pool.getString("pool_id").equals("wide") && pool.getInteger("queued") > 0
            && pool.getInteger("queued_for_capacity") == 0) {
          quotaHeldIsNoDemand = true;
        }
      }
      jobs = ids.stream().map(id -> fx.job(token, id)).toList();
      for (JsonObject j : jobs) {
        JsonObject waiting = j.getJsonObject("waiting");
        if (waiting != null && waiting.getJsonArray("reasons").stream()
            .anyMatch(r -> ((JsonObject) r).getString("code").equals("quota_max_concurrent_jobs"))) {
          explained = true;
        }
      }
      if (jobs.stream().allMatch(j -> j.getString("state").equals("succeeded"))) break;
    }
    // The most jobs that ever ran at once, from the recorded start and end of each run.
    List<long[]> edges = new ArrayList<>();
    for (JsonObject j : jobs) {
      edges.add(new long[] {java.time.Instant.parse(j.getString("started_at")).toEpochMilli() * 2 + 1, 1});
      edges.add(new long[] {java.time.Instant.parse(j.getString("finished_at")).toEpochMilli() * 2, -1});
    }
    edges.sort(java.util.Comparator.comparingLong(e -> e[0]));
    int maxRunning = 0;
    int running = 0;
    for (long[] e : edges) {
      running += (int) e[1];
      maxRunning = Math.max(maxRunning, running);
    }
    assertThat(maxRunning).isBetween(1, 2);
    assertThat(explained).isTrue();
    assertThat(quotaHeldIsNoDemand).isTrue();
    Response status = server.get("/api/v1/queues/status", token);
    assertThat(status.json().getJsonArray("tenants").stream().map(t -> ((JsonObject) t).getString("tenant_id")))
        .allMatch(id -> id.equals("capped"));
  }

  /** Placement attempts the pools refused so far (each one is a wasted round trip and a requeue). */
  private static double refusedPlacements() {
    return Prometheus.parse(server.get("/metrics", null).body()).stream()
        .filter(s -> s.name().equals("hodei_scheduling_decisions_total")
            && "requeue".equals(s.labels().get("decision_type")))
        .mapToDouble(Prometheus.Sample::value).sum();
  }

  /** Submits {@code count} simulated jobs of {@code ms} as one batch and waits until every one has succeeded. */
  private static void runBatch(String token, String pool, int count, long ms) {
    JsonArray jobs = new JsonArray();
    for (int i = 0; i < count; i++) jobs.add(simJob(pool, ms));
    Response batch = server.send(HttpMethod.POST, "/api/v1/jobs:batch", token, new JsonObject().put("jobs", jobs));
    assertThat(batch.status()).isEqualTo(201);
    for (Object item : batch.json().getJsonArray("items")) {
      fx.awaitState(token, ((JsonObject) item).getString("id"), "succeeded");
    }
  }

  @Test
  void aBacklogIsSentOnlyToIdleWorkers() {
    String token = fx.tenant("backlog", quota(1000, 1000), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("narrow", 3, 10), 3);
    double refusedBefore = refusedPlacements();
    runBatch(token, "narrow", 40, 20);
    // 40 jobs on 3 workers: every worker that freed up used to draw a placement request for each waiting job
    assertThat(refusedPlacements() - refusedBefore).isZero();
  }

  @Test
  void aWorkerTakingAndGivingBackJobsUpdatesItsRowInPlace() {
    String token = fx.tenant("hot", quota(1000, 1000), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("hot-pool", 2, 10), 2);
    io.vertx.sqlclient.Pool db = server.server().database().pool();
    String stats = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'worker'";
    io.vertx.sqlclient.Row before = db.query(stats).execute().await().iterator().next();
    runBatch(token, "hot-pool", 20, 5);
    // two updates per job (idle -> busy -> idle); no indexed column changes, and pages keep room (V11): heap-only
    // updates, without new index entries. The statistics reach pg_stat_user_tables within a second or so.
    io.vertx.sqlclient.Row after = Poll.until(() -> db.query(stats).execute().await().iterator().next(),
        r -> r.getLong("n_tup_upd") - before.getLong("n_tup_upd") >= 40, Duration.ofSeconds(15),
        "worker updates counted");
    long updates = after.getLong("n_tup_upd") - before.getLong("n_tup_upd");
    long hot = after.getLong("n_tup_hot_upd") - before.getLong("n_tup_hot_upd");
    assertThat(hot).isGreaterThanOrEqualTo(updates * 9 / 10);
  }

  @Test
  void aNewTenantGetsTheNextFreeWorker() {
    String hog = fx.tenant("hog", quota(100, 1000), 1, "submitter");
    String late = fx.tenant("late", quota(100, 1000), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("fair", 2, 10), 2);
    List<String> hogJobs = new ArrayList<>();
    // Long hog jobs: none ends before the newcomer's submission is in, so the next free worker is the test.
    for (int i = 0; i < 4; i++) hogJobs.add(fx.submitted(hog, simJob("fair", 4000)));
    Poll.until(() -> hogJobs.stream().filter(id -> fx.job(hog, id).getString("state").equals("running")).count(),
        n -> n == 2, Duration.ofSeconds(20), "hog fills the pool");
    String lateJob = fx.submitted(late, simJob("fair", 100));
    JsonObject waiting = fx.job(late, lateJob).getJsonObject("waiting");
    if (waiting != null) assertThat(waiting.getInteger("position")).isLessThanOrEqualTo(2);
    fx.awaitState(late, lateJob, "succeeded");
    String lateStart = fx.job(late, lateJob).getString("started_at");
    long hogJobsStartedBefore = hogJobs.stream().map(id -> fx.job(hog, id).getString("started_at"))
        .filter(t -> t != null && t.compareTo(lateStart) < 0).count();
    // Only the two hog jobs already running went before: the first free worker went to the newcomer.
    assertThat(hogJobsStartedBefore).isEqualTo(2);
    JsonObject status = server.get("/api/v1/queues/status", TestServer.ADMIN_TOKEN).json();
    assertThat(status.getJsonArray("tenants").stream().map(t -> ((JsonObject) t).getString("tenant_id")))
        .contains("hog");
  }

  @Test
  void usageMemoryFavoursTheTenantThatUsedLess() {
    String heavy = fx.tenant("heavy", quota(100, 1000), 1, "submitter");
    String light = fx.tenant("light", quota(100, 1000), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("memory", 1, 10), 1);
    List<String> past = new ArrayList<>();
    for (int i = 0; i < 5; i++) past.add(fx.submitted(heavy, simJob("memory", 200)));
    for (String id : past) fx.awaitState(heavy, id, "succeeded");
    lifecycle("memory", "pause");
    String heavyNext = fx.submitted(heavy, simJob("memory", 50));
    String lightNext = fx.submitted(light, simJob("memory", 50));
    lifecycle("memory", "resume");
    fx.awaitState(heavy, heavyNext, "succeeded");
    fx.awaitState(light, lightNext, "succeeded");
    String heavyStart = fx.job(heavy, heavyNext).getString("started_at");
    String lightStart = fx.job(light, lightNext).getString("started_at");
    assertThat(lightStart).isLessThan(heavyStart);
    JsonObject status = server.get("/api/v1/queues/status", TestServer.ADMIN_TOKEN).json();
    assertThat(status).isNotNull();
  }

  @Test
  void slaRiskIsReportedBeforeTheBreach() {
    String token = fx.tenant("sla", quota(10, 100), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("sla-pool", 1, 10), 1);
    String warmup = fx.submitted(token, simJob("sla-pool", 1500));
    fx.awaitState(token, warmup, "succeeded");
    String blocker = fx.submitted(token, simJob("sla-pool", 1500));
    fx.awaitState(token, blocker, "running");
    String tight = fx.submitted(token, simJob("sla-pool", 1500).put("sla_seconds", 2));
    JsonObject sla = Poll.until(() -> server.get("/api/v1/jobs/" + tight + "/sla", token).json(),
        s -> !"on_track".equals(s.getString("status")), Duration.ofSeconds(20), "SLA at risk");
    assertThat(sla.getString("status")).isIn("at_risk", "breached");
    assertThat(sla.getString("deadline")).isNotNull();
    fx.awaitState(token, tight, "succeeded");
    assertThat(server.get("/api/v1/jobs/" + tight + "/sla", token).json().getString("status")).isEqualTo("breached");
    assertThat(server.get("/metrics", null).body()).contains("hodei_sla_events_total{status=\"at_risk\"}");
    String relaxed = fx.submitted(token, simJob("sla-pool", 10).put("sla_seconds", 3600));
    fx.awaitState(token, relaxed, "succeeded");
    assertThat(server.get("/api/v1/jobs/" + relaxed + "/sla", token).json().getString("status")).isEqualTo("met");
  }

  @Test
  void suspendedTenantsCannotSubmitAndQueuesAreAbandonedInTime() {
    String token = fx.tenant("short-wait", quota(10, 100), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("stopped-a", 1, 10), 1);
    lifecycle("stopped-a", "pause");
    String id = fx.submitted(token, simJob("stopped-a", 10).put("max_queue_seconds", 1));
    JsonObject abandoned = fx.awaitState(token, id, "abandoned");
    assertThat(abandoned.getString("error_type")).isEqualTo("max_queue_time");
    assertThat(server.admin(HttpMethod.PATCH, "/api/v1/tenants/short-wait",
        new JsonObject().put("status", "suspended")).status()).isEqualTo(200);
    Poll.until(() -> fx.submit(token, simJob("stopped-a", 10)).status(), s -> s == 409, Duration.ofSeconds(10),
        "suspended tenant refused");
    JsonArray events = server.get("/api/v1/jobs/" + id + "/events", token).json().getJsonArray("items");
    assertThat(events.stream().map(e -> ((JsonObject) e).getString("state"))).containsExactly("queued", "abandoned");
    assertProblem(fx.submit(token, simJob("stopped-a", 10)), 409);
  }
}
