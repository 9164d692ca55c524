package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Jobs through REST: submit, run for real, inspect, cancel; bad input; isolation; metrics. */
class JobApiTest {
  private static TestServer server;
  private static Fixtures fx;
  private static String alpha;
  private static String alphaViewer;
  private static String beta;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100));
    fx = new Fixtures(server);
    alpha = fx.tenant("alpha", null, 1, "submitter");
    alphaViewer = server.admin(HttpMethod.POST, "/api/v1/tenants/alpha/tokens", new JsonObject().put("role", "viewer"))
        .json().getString("token");
    beta = fx.tenant("beta", null, 1, "submitter");
    fx.pool(new JsonObject().put("id", "local").put("provider", "local").put("size", 2).put("worker_cpu_m", 2000)
        .put("worker_memory_mb", 2048).put("labels", new JsonObject().put("kind", "cpu")), 2);
    fx.pool(Fixtures.simulatedPool("sim", 4, 20), 4);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aRealCommandRunsAndItsLifecycleIsRecorded() {
    Response submitted = fx.submit(alpha, Fixtures.spec("local", "sh", "-c", "echo hello $WHO")
        .put("env", new JsonObject().put("WHO", "hodei")).put("name", "greeting"));
    assertThat(submitted.status()).as(submitted.toString()).isEqualTo(201);
    assertThat(submitted.json().getString("tenant_id")).isEqualTo("alpha");
    String id = submitted.json().getString("id");
    JsonObject done = fx.awaitState(alpha, id, "succeeded");
    assertThat(done.getInteger("exit_code")).isZero();
    assertThat(done.getString("placed_pool_id")).isEqualTo("local");
    assertThat(done.getString("worker_id")).startsWith("w-");
    assertThat(done.getInteger("attempts")).isEqualTo(1);

    JsonArray attempts = server.get("/api/v1/jobs/" + id + "/logs", alpha).json().getJsonArray("attempts");
    assertThat(attempts.getJsonObject(0).getString("log")).contains("hello hodei");
    JsonArray events = server.get("/api/v1/jobs/" + id + "/events", alphaViewer).json().getJsonArray("items");
    assertThat(events.stream().map(e -> ((JsonObject) e).getString("state")))
        .containsExactly("queued", "admitted", "running", "succeeded");
  }

  @Test
  void failuresAndTimeoutsEndWithTheirErrorType() {
    String failing = fx.submitted(alpha, Fixtures.spec("local", "sh", "-c", "exit 3"));
    JsonObject failed = fx.awaitState(alpha, failing, "failed");
    assertThat(failed.getInteger("exit_code")).isEqualTo(3);
    assertThat(failed.getString("error_type")).isEqualTo("exit_code");
    assertThat(failed.getInteger("attempts")).isEqualTo(1);

    String slow = fx.submitted(alpha, Fixtures.spec("local", "sleep", "30").put("timeout_s", 1));
    assertThat(fx.awaitState(alpha, slow, "timed_out").getString("error_type")).isEqualTo("timeout");

    String missing = fx.submitted(alpha, Fixtures.spec("local", "/no/such/program"));
    assertThat(fx.awaitState(alpha, missing, "failed").getString("error_type")).isEqualTo("invalid_command");
  }

  @Test
  void cancellationStopsQueuedAndRunningJobs() {
    String running = fx.submitted(alpha, Fixtures.spec("local", "sleep", "30"));
    fx.awaitState(alpha, running, "running");
    Response cancel = server.send(HttpMethod.POST, "/api/v1/jobs/" + running + "/cancel", alpha, null);
    assertThat(cancel.status()).as(cancel.toString()).isEqualTo(200);
    assertThat(fx.awaitState(alpha, running, "cancelled").getString("error_type")).isEqualTo("cancelled");
    assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs/" + running + "/cancel", alpha, null), 409);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs/" + running + "/cancel", beta, null), 404);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs/" + running + "/cancel", alphaViewer, null), 403);
  }

  @Test
  void idempotencyKeysReturnTheSameJob() {
    JsonObject body = Fixtures.spec("sim", "work");
    Response first = server.send(server.request(HttpMethod.POST, "/api/v1/jobs", alpha)
        .putHeader("Idempotency-Key", "order-42"), body);
    Response second = server.send(server.request(HttpMethod.POST, "/api/v1/jobs", alpha)
        .putHeader("Idempotency-Key", "order-42"), body);
    assertThat(first.status()).isEqualTo(201);
    assertThat(second.json().getString("id")).isEqualTo(first.json().getString("id"));
    assertThat(second.json().getBoolean("idempotent_replay")).isTrue();
    Response other = server.send(server.request(HttpMethod.POST, "/api/v1/jobs", beta)
        .putHeader("Idempotency-Key", "order-42"), body);
    assertThat(other.json().getString("id")).isNotEqualTo(first.json().getString("id"));
  }

  @Test
  void batchesAreAcceptedWholeOrNotAtAll() {
    JsonArray jobs = new JsonArray();
    for (int i = 0; i < 50; i++) jobs.add(Fixtures.spec("sim", "work", String.valueOf(i)));
    Response batch = server.send(HttpMethod.POST, "/api/v1/jobs:batch", alpha, new JsonObject().put("jobs", jobs));
    assertThat(batch.status()).as(batch.toString()).isEqualTo(201);
    List<String> ids = batch.json().getJsonArray("items").stream().map(j -> ((JsonObject) j).getString("id")).toList();
    assertThat(ids).hasSize(50).doesNotHaveDuplicates();
    Poll.until(() -> ids.stream().map(id -> fx.job(alpha, id)).filter(j -> !j.getString("state").equals("succeeded"))
        .toList(), List::isEmpty, Duration.ofSeconds(30), "50 batch jobs succeeded");

    int before = server.get("/api/v1/jobs?limit=500", alpha).json().getJsonArray("items").size();
    JsonArray bad = new JsonArray().add(Fixtures.spec("sim", "ok")).add(Fixtures.spec("sim", "bad").put("cpu_m", -1));
    JsonObject problem = assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs:batch", alpha,
        new JsonObject().put("jobs", bad)), 422);
    assertThat(problem.getJsonArray("errors").getJsonObject(0).getString("field")).isEqualTo("jobs[1].cpu_m");
    assertThat(server.get("/api/v1/jobs?limit=500", alpha).json().getJsonArray("items")).hasSize(before);
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 1001; i++) tooMany.add(Fixtures.spec("sim", "x"));
    assertProblem(server.send(HttpMethod.POST, "/api/v1/jobs:batch", alpha, new JsonObject().put("jobs", tooMany)),
        422);
  }

  @Test
  void aBatchRepeatingAnEarlierIdempotencyKeyReturnsTheStoredJob() {
    Response earlier = server.send(server.request(HttpMethod.POST, "/api/v1/jobs", alpha)
        .putHeader("Idempotency-Key", "nightly-7"), Fixtures.spec("sim", "work"));
    assertThat(earlier.status()).as(earlier.toString()).isEqualTo(201);
    String storedId = earlier.json().getString("id");
    int before = server.get("/api/v1/jobs?limit=500", alpha).json().getJsonArray("items").size();

    JsonArray jobs = new JsonArray()
        .add(Fixtures.spec("sim", "fresh", "1"))
        .add(Fixtures.spec("sim", "work").put("idempotency_key", "nightly-7"))
        .add(Fixtures.spec("sim", "fresh", "2").put("idempotency_key", "nightly-8"))
        .add(Fixtures.spec("sim", "fresh", "3"));
    Response batch = server.send(HttpMethod.POST, "/api/v1/jobs:batch", alpha, new JsonObject().put("jobs", jobs));
    assertThat(batch.status()).as(batch.toString()).isEqualTo(201);
    JsonArray items = batch.json().getJsonArray("items");
    assertThat(items).hasSize(4);
    assertThat(items.getJsonObject(1).getString("id")).isEqualTo(storedId);
    assertThat(items.getJsonObject(1).getBoolean("idempotent_replay")).isTrue();
    for (int i : new int[] {0, 2, 3}) {
      assertThat(items.getJsonObject(i).getString("id")).isNotEqualTo(storedId);
      assertThat(items.getJsonObject(i).getBoolean("idempotent_replay", false)).isFalse();
    }
    assertThat(items.getJsonObject(2).getString("idempotency_key")).isEqualTo("nightly-8");
    assertThat(server.get("/api/v1/jobs?limit=500", alpha).json().getJsonArray("items")).hasSize(before + 3);

    JsonArray again = new JsonArray().add(Fixtures.spec("sim", "fresh", "2").put("idempotency_key", "nightly-8"));
    JsonObject replayed = server.send(HttpMethod.POST, "/api/v1/jobs:batch", alpha, new JsonObject().put("jobs", again))
        .json().getJsonArray("items").getJsonObject(0);
    assertThat(replayed.getString("id")).isEqualTo(items.getJsonObject(2).getString("id"));
    assertThat(replayed.getBoolean("idempotent_replay")).isTrue();
    assertThat(server.get("/api/v1/jobs?limit=500", alpha).json().getJsonArray("items")).hasSize(before + 3);
    JsonArray events = server.get("/api/v1/jobs/" + storedId + "/events", alpha).json().getJsonArray("items");
    assertThat(events.stream().filter(e -> "queued".equals(((JsonObject) e).getString("state")))).hasSize(1);
  }

  @Test
  void badSubmissionsAreClearProblems() {
    JsonObject noPool = assertProblem(fx.submit(alpha, Fixtures.spec("nowhere", "true")), 422);
    assertThat(noPool.getString("reason")).isEqualTo("no_matching_pool");
    JsonObject tooBig = assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("cpu_m", 64_000)), 422);
    assertThat(tooBig.getString("reason")).isEqualTo("too_large_for_pools");
    assertProblem(fx.submit(alpha, new JsonObject().put("pool_labels", new JsonObject().put("kind", "gpu"))
        .put("command", new JsonArray().add("true"))), 422);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("colour", "red")), 400);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("command", "echo hi; rm -rf /")), 400);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("priority", 1000)), 422);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("memory_mb", -5)), 422);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("sla_deadline", "tomorrow")), 400);
    assertProblem(fx.submit(alpha, Fixtures.spec("local").put("command", new JsonArray())), 422);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("pool_labels", new JsonObject().put("a", "b"))),
        422);
    assertProblem(fx.submit(alphaViewer, Fixtures.spec("local", "true")), 403);
    assertProblem(fx.submit(alpha, Fixtures.spec("local", "true").put("tenant_id", "beta")), 404);
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/jobs", Fixtures.spec("local", "true")), 422);
    Response byAdmin = server.admin(HttpMethod.POST, "/api/v1/jobs", Fixtures.spec("sim", "true")
        .put("tenant_id", "beta"));
    assertThat(byAdmin.status()).isEqualTo(201);
    assertThat(byAdmin.json().getString("tenant_id")).isEqualTo("beta");
  }

  @Test
  void tenantsSeeOnlyTheirOwnJobs() {
    String mine = fx.submitted(alpha, Fixtures.spec("sim", "mine"));
    assertProblem(server.get("/api/v1/jobs/" + mine, beta), 404);
    assertProblem(server.get("/api/v1/jobs/" + mine + "/events", beta), 404);
    assertProblem(server.get("/api/v1/jobs/nope", alpha), 404);
    JsonArray betaJobs = server.get("/api/v1/jobs?limit=500", beta).json().getJsonArray("items");
    assertThat(betaJobs.stream().map(j -> ((JsonObject) j).getString("tenant_id"))).containsOnly("beta");
    assertProblem(server.get("/api/v1/jobs?tenant=alpha", beta), 404);
    assertProblem(server.get("/api/v1/jobs?state=sleeping", alpha), 422);
    JsonArray all = server.get("/api/v1/jobs?tenant=alpha&limit=2", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("items");
    assertThat(all).hasSize(2);
  }

  @Test
  void aTenantWithJobsIsNotDeleted() {
    String gamma = fx.tenant("gamma", null, 1, "submitter");
    String id = fx.submitted(gamma, Fixtures.spec("sim", "kept"));
    JsonObject problem = assertProblem(server.admin(HttpMethod.DELETE, "/api/v1/tenants/gamma", null), 409);
    assertThat(problem.getString("detail")).contains("has jobs");
    assertThat(fx.job(TestServer.ADMIN_TOKEN, id).getString("tenant_id")).isEqualTo("gamma");

    fx.tenant("delta", null, 1, "submitter");
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/tenants/delta", null).status()).isEqualTo(204);
  }

  @Test
  void schedulingIsMeasured() {
    String id = fx.submitted(beta, Fixtures.spec("sim", "measured"));
    fx.awaitState(beta, id, "succeeded");
    List<Prometheus.Sample> samples = Prometheus.parse(server.get("/metrics", null).body());
    assertThat(samples).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_jobs_scheduled_total");
      assertThat(s.labels()).containsEntry("tenant_id", "beta");
    });
    assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_jobs_completed_total"));
    assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_scheduling_latency_seconds_bucket"));
    assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_queue_wait_time_seconds_bucket"));
    assertThat(samples).anySatisfy(s -> {
      assertThat(s.name()).isEqualTo("hodei_scheduling_decisions_total");
      assertThat(s.labels()).containsEntry("decision_type", "place");
    });
    assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_jobs_queued"));
    assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_events_published_total"));
  }
}
