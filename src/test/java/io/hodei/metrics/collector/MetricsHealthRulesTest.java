package io.hodei.metrics.collector;

import io.hodei.metrics.HealthStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The pool health rules on hand-made snapshots (the end-to-end cases are in MetricsCollectorTest). */
class MetricsHealthRulesTest {
  static JsonObject pool(String state, int target, String... workerStates) {
    JsonArray detail = new JsonArray();
    JsonObject counts = new JsonObject().put("total", workerStates.length);
    for (String s : workerStates) {
      detail.add(new JsonObject().put("state", s).put("health", switch (s) {
        case "unhealthy" -> "unhealthy";
        case "provisioning" -> "unknown";
        default -> "healthy";
      }));
      counts.put(s, counts.getLong(s, 0L) + 1);
    }
    return new JsonObject().put("state", state).put("target_size", target).put("workers", counts)
        .put("workers_detail", detail);
  }

  static HealthStatus status(JsonObject pool) { return PoolHealth.assess(pool).status(); }

  @Test
  void activePoolsFollowTheRules() {
    assertThat(status(pool("active", 2, "idle", "busy"))).isEqualTo(HealthStatus.HEALTHY);
    assertThat(status(pool("active", 0))).isEqualTo(HealthStatus.HEALTHY);
    assertThat(status(pool("active", 2, "idle", "unhealthy"))).isEqualTo(HealthStatus.DEGRADED);
    assertThat(status(pool("active", 3, "idle", "idle"))).isEqualTo(HealthStatus.DEGRADED);
    assertThat(status(pool("active", 1, "unhealthy"))).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(status(pool("creating", 2, "provisioning", "provisioning"))).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(status(pool("draining", 2, "idle", "idle"))).isEqualTo(HealthStatus.DEGRADED);
    assertThat(PoolHealth.assess(pool("active", 2, "idle", "unhealthy")).reasons())
        .contains("1 unhealthy worker", "1 of 2 target workers healthy");
  }

  @Test
  void pausedAndStoppedPoolsAreReportedButNotCounted() {
    PoolHealth.Assessment stopped = PoolHealth.assess(pool("stopped", 2));
    assertThat(stopped.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(stopped.countsTowardOverall()).isFalse();
    PoolHealth.Assessment paused = PoolHealth.assess(pool("paused", 2, "unhealthy", "unhealthy"));
    assertThat(paused.status()).isEqualTo(HealthStatus.DEGRADED);
    assertThat(paused.countsTowardOverall()).isFalse();
    assertThat(PoolHealth.assess(pool("draining", 1, "busy")).countsTowardOverall()).isTrue();
  }

  @Test
  void reservoirQuantilesUseTheNearestRank() {
    Reservoir r = new Reservoir();
    assertThat(r.quantile(0.5)).isNull();
    for (int i = 1; i <= 100; i++) r.add(i);
    assertThat(r.quantile(0.50)).isEqualTo(50.0);
    assertThat(r.quantile(0.95)).isEqualTo(95.0);
    assertThat(r.quantile(0.99)).isEqualTo(99.0);
    for (int i = 0; i < Reservoir.CAPACITY; i++) r.add(1000);
    assertThat(r.size()).isEqualTo(Reservoir.CAPACITY);
    assertThat(r.quantile(0.01)).isEqualTo(1000.0);
  }
}
