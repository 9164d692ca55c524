package io.hodei.scheduler;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tenant that just used the whole pool yields to one that did not, by as much as the usage memory's formula says
 * (docs/scheduler.md, fair share: the split of the next W starts is B = W (1 + m) / 2, A = W (1 - m) / 2, with
 * m = 1 - 2^(-T/H) after A used the whole pool for T seconds).
 */
class FairShareMemoryTest {
  private static final int HALF_LIFE_SECONDS = 6;
  private static final int WORKERS = 8;
  private static final long WORKER_CPU_M = 4000;
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.POOLS_RECONCILE_INTERVAL, 1, ConfigSchema.SCHED_TICK, 100,
        ConfigSchema.SCHED_HALF_LIFE, HALF_LIFE_SECONDS));
    fx = new Fixtures(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject quota() {
    return new JsonObject().put("cpu_m", 1_000_000).put("memory_mb", 1_000_000).put("max_concurrent_jobs", 100)
        .put("max_queued_jobs", 100);
  }

  /** A job that takes a whole worker (so W of them are the whole pool, share 1) for {@code ms}. */
  private static JsonObject job(long ms) {
    return Fixtures.spec("memory-pool", "work").put("cpu_m", WORKER_CPU_M)
        .put("payload", new JsonObject().put("duration_ms", ms));
  }

  @Test
  void aTenantThatJustUsedTheWholePoolYieldsAsTheHalfLifeSays() {
    String a = fx.tenant("heavy", quota(), 1, "submitter");
    String b = fx.tenant("newcomer", quota(), 1, "submitter");
    fx.pool(Fixtures.simulatedPool("memory-pool", WORKERS, 10), WORKERS);

    // A alone: the whole pool for one half-life, with as many jobs again waiting
    List<String> firstWave = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) firstWave.add(fx.submitted(a, job(HALF_LIFE_SECONDS * 1000L)));
    Poll.until(() -> firstWave.stream().filter(id -> "running".equals(fx.job(a, id).getString("state"))).count(),
        n -> n == WORKERS, Duration.ofSeconds(20), "A holds the whole pool");
    List<String> nextOfA = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) nextOfA.add(fx.submitted(a, job(2000)));
    // B arrives while the pool is full: both wait for A's first wave to end
    List<String> nextOfB = new ArrayList<>();
    for (int i = 0; i < WORKERS; i++) nextOfB.add(fx.submitted(b, job(2000)));

    List<JsonObject> wave = firstWave.stream().map(id -> fx.awaitState(a, id, "succeeded")).toList();
    List<JsonObject> after = new ArrayList<>();
    nextOfA.forEach(id -> after.add(fx.awaitState(a, id, "succeeded")));
    nextOfB.forEach(id -> after.add(fx.awaitState(b, id, "succeeded")));

    // How long A held the whole pool before it started to free up, from the runs the API reports
    Instant heldFrom = wave.stream().map(j -> Instant.parse(j.getString("started_at"))).max(Comparator.naturalOrder())
        .orElseThrow();
    Instant freedAt = wave.stream().map(j -> Instant.parse(j.getString("finished_at"))).min(Comparator.naturalOrder())
        .orElseThrow();
    double heldSeconds = Duration.between(heldFrom, freedAt).toNanos() / 1e9;
    double remembered = 1 - Math.pow(2, -heldSeconds / HALF_LIFE_SECONDS);
    double expectedB = WORKERS * (1 + remembered) / 2;

    // The W starts that refilled the pool as A's first wave ended (later starts wait for those 2 s jobs to end)
    List<JsonObject> turnover = after.stream().sorted(Comparator.comparing(j -> Instant.parse(j.getString("started_at"))))
        .limit(WORKERS).toList();
    long startsOfB = turnover.stream().filter(j -> "newcomer".equals(j.getString("tenant_id"))).count();
    // Starts are whole jobs and a tie goes to the earlier submission (A's), so the split lands on a neighbour of
    // the formula's value; the memory moves by well under 1% over the tens of ms the refill takes. Within 1 start:
    // without memory (or the default 300 s half-life, m = 0.02) the split is 4:4, 2 starts away from 6 expected here.
    assertThat((double) startsOfB).as("B's starts among the %d that refilled the pool; expected %.2f (m = %.3f)",
        WORKERS, expectedB, remembered).isBetween(expectedB - 1, expectedB + 1);
    assertThat(startsOfB).as("B gets more than half").isGreaterThan(WORKERS / 2);
  }
}
