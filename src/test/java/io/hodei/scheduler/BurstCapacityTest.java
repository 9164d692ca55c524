package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Time-boxed quota overage: granted, enforced, metered, held back first, revocable. */
class BurstCapacityTest {
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100,
        ConfigSchema.BURST_MAX_OVERAGE, 200));
    fx = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject quota(int concurrent) {
    return new JsonObject().put("cpu_m", 100_000).put("memory_mb", 100_000).put("max_concurrent_jobs", concurrent)
        .put("max_queued_jobs", 100);
  }

  private static JsonObject longJob(String pool, long ms) {
    return Fixtures.spec(pool, "work").put("payload", new JsonObject().put("duration_ms", ms));
  }

  private static long running(String token, List<String> ids) {
    return ids.stream().filter(id -> fx.job(token, id).getString("state").equals("running")).count();
  }

  @Test
  void aGrantRaisesTheQuotaUntilRevokedAndIsMetered() {
    String admin = fx.tenant("bursty", quota(2), 1, "tenant-admin");
    fx.pool(Fixtures.simulatedPool("burst-pool", 6, 10), 6);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) ids.add(fx.submitted(admin, longJob("burst-pool", 1500)));
    Poll.until(() -> running(admin, ids), n -> n == 2, Duration.ofSeconds(20), "2 running within quota");

    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/bursty/burst", admin,
        new JsonObject().put("max_overage_percentage", 300)), 422);
    Response granted = server.send(HttpMethod.POST, "/api/v1/tenants/bursty/burst", admin,
        new JsonObject().put("max_overage_percentage", 200).put("duration_minutes", 30).put("reason", "release day"));
    assertThat(granted.status()).as(granted.toString()).isEqualTo(201);
    assertThat(granted.json().getJsonObject("effective_quota").getLong("max_concurrent_jobs")).isEqualTo(4);
    Poll.until(() -> running(admin, ids), n -> n == 4, Duration.ofSeconds(20), "4 running with burst");
    assertThat(ids.stream().map(id -> fx.job(admin, id)).filter(j -> j.getBoolean("burst", false)).count())
        .isGreaterThanOrEqualTo(2);

    for (String id : ids) fx.awaitState(admin, id, "succeeded");
    JsonObject burst = Poll.until(() -> server.get("/api/v1/tenants/bursty/burst", admin).json(),
        b -> b.getJsonObject("active").getLong("burst_jobs") >= 2, Duration.ofSeconds(10), "burst metered");
    assertThat(Double.parseDouble(burst.getJsonObject("active").getValue("consumed_cpu_m_seconds").toString()))
        .isGreaterThan(0);
    assertThat(burst.getJsonArray("history")).hasSize(1);
    assertThat(server.get("/metrics", null).body()).contains("hodei_tenant_burst_cpu_m_seconds_total{tenant_id=\"bursty\"}");

    assertProblem(server.send(HttpMethod.DELETE, "/api/v1/tenants/bursty/burst", admin, null), 403);
    assertThat(server.admin(HttpMethod.DELETE, "/api/v1/tenants/bursty/burst", null).status()).isEqualTo(200);
    List<String> after = new ArrayList<>();
    for (int i = 0; i < 4; i++) after.add(fx.submitted(admin, longJob("burst-pool", 800)));
    Poll.until(() -> running(admin, after), n -> n == 2, Duration.ofSeconds(20), "back to 2 after revoke");
    JsonObject waiting = fx.job(admin, after.get(3)).getJsonObject("waiting");
    assertThat(waiting.getJsonArray("reasons").stream().map(r -> ((JsonObject) r).getString("code")))
        .contains("quota_max_concurrent_jobs");
    for (String id : after) fx.awaitState(admin, id, "succeeded");
  }

  @Test
  void burstWorkIsHeldBackWhenCapacityIsContended() {
    String a = fx.tenant("burst-a", quota(1), 1, "tenant-admin");
    String b = fx.tenant("steady-b", quota(5), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("contended", 2, 10), 2);
    assertThat(server.send(HttpMethod.POST, "/api/v1/tenants/burst-a/burst", a, new JsonObject()).status())
        .isEqualTo(201);
    // Both workers busy: A's long job and B's shorter one. Then A (needing burst) and B (within quota) both wait.
    String aFirst = fx.submitted(a, longJob("contended", 3000));
    String bFirst = fx.submitted(b, longJob("contended", 1000));
    fx.awaitState(a, aFirst, "running");
    fx.awaitState(b, bFirst, "running");
    String aBurst = fx.submitted(a, longJob("contended", 200));
    String bJob = fx.submitted(b, longJob("contended", 200));
    assertThat(fx.job(a, aBurst).getJsonObject("waiting").getJsonArray("reasons").stream()
        .map(r -> ((JsonObject) r).getString("code"))).contains("burst");
    fx.awaitState(b, bJob, "succeeded");
    fx.awaitState(a, aBurst, "succeeded");
    assertThat(fx.job(b, bJob).getString("started_at")).isLessThan(fx.job(a, aBurst).getString("started_at"));
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/steady-b/burst", a, new JsonObject()), 404);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/tenants/steady-b/burst", b, new JsonObject()), 403);
  }
}
