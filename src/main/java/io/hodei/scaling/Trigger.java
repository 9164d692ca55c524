package io.hodei.scaling;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * A scaling trigger: when {@code metric comparison threshold} has held for {@code forDurationS} seconds, it asks for
 * the pool's target plus (scale_out) or minus (scale_in) {@code step} workers.
 */
record Trigger(String id, String poolId, String metric, String comparison, double threshold, int forDurationS,
               String action, int step, boolean enabled, Instant createdAt, Instant updatedAt, long version) {
  static final String UTILISATION = "utilisation";
  static final String QUEUE_DEPTH = "queue_depth";
  static final String QUEUE_DEPTH_PER_WORKER = "queue_depth_per_worker";
  static final String QUEUE_WAIT_SECONDS = "queue_wait_seconds";
  static final String IDLE_WORKERS = "idle_workers";
  static final List<String> METRICS = List.of(UTILISATION, QUEUE_DEPTH, QUEUE_DEPTH_PER_WORKER, QUEUE_WAIT_SECONDS,
      IDLE_WORKERS);
  static final List<String> COMPARISONS = List.of("gt", "gte", "lt", "lte");
  static final String SCALE_OUT = "scale_out";
  static final String SCALE_IN = "scale_in";
  static final List<String> ACTIONS = List.of(SCALE_OUT, SCALE_IN);

  boolean holds(double value) {
    return switch (comparison) {
      case "gt" -> value > threshold;
      case "gte" -> value >= threshold;
      case "lt" -> value < threshold;
      case "lte" -> value <= threshold;
      default -> false;
    };
  }

  String describe() { return metric + " " + comparison + " " + threshold + " for " + forDurationS + " s"; }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("pool_id", poolId).put("metric", metric).put("comparison", comparison)
        .put("threshold", threshold).put("for_duration_s", forDurationS).put("action", action).put("step", step)
        .put("enabled", enabled).put("created_at", createdAt.toString()).put("updated_at", updatedAt.toString())
        .put("version", version);
  }
}
