package io.hodei.scaling;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;

/**
 * A scaling policy of a pool: one way of turning the inputs into a recommended size. {@code target} means, by type:
 * the busy/capacity ratio to keep (target_utilisation), queued jobs per worker to allow (queue_depth_per_worker),
 * seconds of queue wait to allow (queue_wait_time); scheduled policies use {@code schedule} windows instead.
 */
record Policy(String id, String poolId, String type, boolean enabled, Double target, int minStep, int maxStep,
              JsonArray schedule, Instant createdAt, Instant updatedAt, long version) {
  static final String TARGET_UTILISATION = "target_utilisation";
  static final String QUEUE_DEPTH_PER_WORKER = "queue_depth_per_worker";
  static final String QUEUE_WAIT_TIME = "queue_wait_time";
  static final String SCHEDULED = "scheduled";
  static final List<String> TYPES = List.of(TARGET_UTILISATION, QUEUE_DEPTH_PER_WORKER, QUEUE_WAIT_TIME, SCHEDULED);
  static final List<String> DAYS = List.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");

  /**
   * The size this policy asks for, before step limits, or null when it has no opinion now. The reason is written
   * into {@code why[0]}.
   */
  Integer recommend(Inputs in, Instant now, String[] why) {
    switch (type) {
      case TARGET_UTILISATION -> {
        int desired = (int) Math.ceil(in.busy() / target);
        if (in.capacity() == 0 && in.queued() > 0) desired = Math.max(desired, 1);
        why[0] = String.format(Locale.ROOT, "utilisation %.2f against target %.2f (%d busy of %d)",
            in.utilisation(), target, in.busy(), in.capacity());
        return desired;
      }
      case QUEUE_DEPTH_PER_WORKER -> {
        int desired = (int) (in.busy() + Math.ceil(in.queued() / target));
        why[0] = String.format(Locale.ROOT, "%d jobs queued, %d busy, target %.2f queued jobs per worker",
            in.queued(), in.busy(), target);
        return desired;
      }
      case QUEUE_WAIT_TIME -> {
        if (in.queueWaitSeconds() > target) {
          why[0] = String.format(Locale.ROOT, "queue wait %.1f s above target %.1f s", in.queueWaitSeconds(), target);
          return in.target() + minStep;
        }
        if (in.queued() == 0) {
          why[0] = "no job waiting; " + in.busy() + " busy workers are enough";
          return (int) in.busy();
        }
        return null;
      }
      case SCHEDULED -> {
        JsonObject window = activeWindow(now);
        if (window == null) return null;
        why[0] = "scheduled window " + window.getJsonArray("days").encode() + " " + window.getString("start") + "-"
            + window.getString("end") + " UTC keeps at least " + window.getInteger("min_size") + " workers";
        return Math.max(window.getInteger("min_size"), (int) in.busy());
      }
      default -> throw new IllegalStateException("unknown policy type " + type);
    }
  }

  /** The scheduled window covering {@code now} (UTC), or null. */
  JsonObject activeWindow(Instant now) {
    ZonedDateTime utc = now.atZone(ZoneOffset.UTC);
    String day = DAYS.get(utc.getDayOfWeek().getValue() - DayOfWeek.MONDAY.getValue());
    LocalTime time = utc.toLocalTime();
    for (int i = 0; i < schedule.size(); i++) {
      JsonObject w = schedule.getJsonObject(i);
      if (!w.getJsonArray("days").contains(day)) continue;
      LocalTime start = ScalingRequests.time(w.getString("start"));
      LocalTime end = ScalingRequests.time(w.getString("end"));
      if (!time.isBefore(start) && time.isBefore(end)) return w;
    }
    return null;
  }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("pool_id", poolId).put("type", type).put("enabled", enabled)
        .put("target", target).put("min_step", minStep).put("max_step", maxStep).put("schedule", schedule.copy())
        .put("created_at", createdAt.toString()).put("updated_at", updatedAt.toString()).put("version", version);
  }
}
