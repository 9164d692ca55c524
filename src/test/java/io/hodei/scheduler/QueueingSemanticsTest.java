package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Queueing semantics over REST: a job that cannot be placed holds back only jobs for the same pools, and a worker
 * freed by a job's end takes the next job at once, not at the next scheduler tick. The tick is set to a minute here,
 * so anything that waits for it cannot pass.
 */
class QueueingSemanticsTest {
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 60_000));
    fx = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject quota() {
    return new JsonObject().put("cpu_m", 100_000).put("memory_mb", 100_000).put("max_concurrent_jobs", 100)
        .put("max_queued_jobs", 1000);
  }

  private static JsonObject simJob(String pool, long durationMs) {
    return Fixtures.spec(pool, "work").put("payload", new JsonObject().put("duration_ms", durationMs));
  }

  @Test
  void aJobThatCannotBePlacedDoesNotHoldBackTheTenantsJobsForOtherPools() {
    String token = fx.tenant("hol", quota(), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("hol-x", 1, 10), 1);
    fx.pool(Fixtures.simulatedPool("hol-y", 2, 10), 2);
    String x1 = fx.submitted(token, simJob("hol-x", 30_000));
    fx.awaitState(token, x1, "running");
    String x2 = fx.submitted(token, simJob("hol-x", 10));
    String y1 = fx.submitted(token, simJob("hol-y", 30_000));
    // y1 starts while x1 still holds pool X's only worker and x2 waits for it
    fx.awaitState(token, y1, "running");
    assertThat(fx.job(token, x1).getString("state")).isEqualTo("running");
    JsonObject waiting = fx.job(token, x2);
    assertThat(waiting.getString("state")).isEqualTo("queued");
    assertThat(waiting.getJsonObject("waiting").getInteger("position_in_tenant_queue")).isEqualTo(1);
    for (String id : List.of(x1, y1)) server.send(io.vertx.core.http.HttpMethod.POST, "/api/v1/jobs/" + id + "/cancel",
        token, null);
  }

  @Test
  void aFreedWorkerTakesTheNextJobWithoutWaitingForTheTick() {
    String token = fx.tenant("gap", quota(), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("gap-1", 1, 10), 1);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 15; i++) ids.add(fx.submitted(token, simJob("gap-1", 20)));
    // fifteen 20 ms jobs one after the other on one worker take well under a second when each end places the next;
    // waiting for a periodic wake-up instead (the pool view's 2 s refresh; the tick is a minute here) takes ~15 s
    String last = ids.get(ids.size() - 1);
    Poll.until(() -> fx.job(token, last), j -> "succeeded".equals(j.getString("state")), Duration.ofSeconds(6),
        "the last of 15 jobs on one worker succeeded without waiting for a periodic wake-up");
  }
}
