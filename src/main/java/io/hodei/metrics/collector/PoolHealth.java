package io.hodei.metrics.collector;

import io.hodei.metrics.HealthStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The health rules of a pool, applied to one pool of the pool snapshot.
 * <ul>
 *   <li>Unhealthy: the pool is {@code active} or {@code creating}, its target size is above 0 and no worker is
 *   healthy;</li>
 *   <li>Degraded: it has unhealthy workers, fewer healthy workers than its target, it is draining, or every worker
 *   is busy while jobs wait for it (POOL_OBSERVABILITY: {@code busy == total} is Degraded);</li>
 *   <li>Healthy otherwise.</li>
 * </ul>
 * Paused, stopped and deleting pools are reported but do not count towards the overall status; stopped and deleting
 * pools are not expected to have workers, so only unhealthy workers degrade them.
 */
public final class PoolHealth {
  private static final List<String> COUNTED_STATES = List.of("creating", "active", "draining");
  private static final List<String> WITHOUT_TARGET = List.of("stopped", "deleting");

  /** The verdict on one pool. */
  public record Assessment(HealthStatus status, List<String> reasons, boolean countsTowardOverall,
                           int healthyWorkers) {}

  private PoolHealth() {}

  public static Assessment assess(JsonObject pool) { return assess(pool, null); }

  /** @param queueDepth jobs waiting for the pool, null when unknown (then saturation is not judged) */
  public static Assessment assess(JsonObject pool, Long queueDepth) {
    return assess(pool, queueDepth, healthyWorkers(pool.getJsonArray("workers_detail", new JsonArray())));
  }

  /**
   * The same verdict with the pool's healthy worker count already known (counted once per snapshot: a pool's
   * worker detail can hold tens of thousands of workers, and /health asks again on every request).
   */
  static Assessment assess(JsonObject pool, Long queueDepth, int healthy) {
    String state = pool.getString("state", "");
    int target = pool.getInteger("target_size", 0);
    JsonObject counts = pool.getJsonObject("workers", new JsonObject());
    long unhealthy = counts.getLong("unhealthy", 0L);
    boolean counted = COUNTED_STATES.contains(state);
    List<String> reasons = new ArrayList<>();
    HealthStatus status = HealthStatus.HEALTHY;
    if ((state.equals("active") || state.equals("creating")) && target > 0 && healthy == 0) {
      status = HealthStatus.UNHEALTHY;
      reasons.add("no healthy worker (target " + target + ")");
    }
    if (unhealthy > 0) {
      status = status.worst(HealthStatus.DEGRADED);
      reasons.add(unhealthy + " unhealthy worker" + (unhealthy == 1 ? "" : "s"));
    }
    if (!WITHOUT_TARGET.contains(state) && healthy < target && status != HealthStatus.UNHEALTHY) {
      status = HealthStatus.DEGRADED;
      reasons.add(healthy + " of " + target + " target workers healthy");
    }
    long total = counts.getLong("total", 0L);
    long busy = counts.getLong("busy", 0L);
    if (queueDepth != null && queueDepth > 0 && total > 0 && busy == total) {
      status = status.worst(HealthStatus.DEGRADED);
      reasons.add("all " + total + " workers busy with " + queueDepth + " job" + (queueDepth == 1 ? "" : "s")
          + " waiting");
    }
    if (state.equals("draining")) {
      status = status.worst(HealthStatus.DEGRADED);
      reasons.add("pool is draining");
    }
    if (!counted) reasons.add("pool is " + state + " (not counted in the overall status)");
    return new Assessment(status, List.copyOf(reasons), counted, healthy);
  }

  /** Workers that can take jobs: healthy and idle or busy. */
  static int healthyWorkers(JsonArray workers) {
    int healthy = 0;
    for (Object o : workers) {
      if (!(o instanceof JsonObject w)) continue;
      String state = w.getString("state");
      if ("healthy".equals(w.getString("health")) && ("idle".equals(state) || "busy".equals(state))) healthy++;
    }
    return healthy;
  }
}
