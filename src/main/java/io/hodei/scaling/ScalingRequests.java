package io.hodei.scaling;

import io.hodei.common.JsonInput;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalTime;
import java.util.regex.Pattern;

/**
 * Reads policy, trigger and cooldown bodies strictly (400 unknown field or wrong type, 422 out of range) and rejects
 * contradictions with the reason: min_step above max_step, a window that ends before it starts or asks for more
 * workers than the pool's max_size, a threshold outside its metric's range, a negative cooldown.
 */
final class ScalingRequests {
  static final int MAX_ITEMS_PER_POOL = 20;
  static final int MAX_WINDOWS = 20;
  static final int MAX_STEP = 10_000;
  static final int MAX_SECONDS = 86_400;
  private static final Pattern HH_MM = Pattern.compile("([01]\\d|2[0-3]):[0-5]\\d|24:00");

  private ScalingRequests() {}

  /** A policy from a create or replace body; {@code poolMaxSize} bounds the scheduled windows. */
  static Policy policy(JsonObject body, String id, String poolId, int poolMaxSize, Instant createdAt, long version) {
    JsonInput in = JsonInput.of(body, "type", "target", "min_step", "max_step", "enabled", "schedule");
    String type = in.oneOf("type", true, Policy.TYPES);
    Double target = number(in, body, "target");
    Long minStep = in.integer("min_step", false, 1, MAX_STEP);
    Long maxStep = in.integer("max_step", false, 1, MAX_STEP);
    Boolean enabled = in.bool("enabled");
    JsonArray schedule = new JsonArray();
    if (type != null) {
      if (Policy.SCHEDULED.equals(type)) {
        if (body.getValue("target") != null) in.rangeError("target", "is not used by scheduled policies");
        schedule = windows(in, body.getValue("schedule"), poolMaxSize);
      } else {
        if (body.getValue("schedule") != null) in.rangeError("schedule", "is only used by scheduled policies");
        if (body.getValue("target") == null) in.rangeError("target", "is required for " + type + " policies");
        else if (target != null) targetRange(in, type, target);
      }
    }
    int min = minStep == null ? 1 : minStep.intValue();
    int max = maxStep == null ? Math.max(10, min) : maxStep.intValue();
    if (minStep != null && maxStep != null && min > max) {
      in.rangeError("min_step", "min_step " + min + " is greater than max_step " + max);
    }
    in.validate();
    Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    return new Policy(id, poolId, type, enabled == null || enabled, target, min, max, schedule,
        createdAt == null ? now : createdAt, now, version);
  }

  private static void targetRange(JsonInput in, String type, double target) {
    double max = switch (type) {
      case Policy.TARGET_UTILISATION -> 1.0;
      case Policy.QUEUE_WAIT_TIME -> MAX_SECONDS;
      default -> 10_000;
    };
    if (!(target > 0 && target <= max)) {
      in.rangeError("target", "must be above 0 and at most " + (max == 1.0 ? "1 (a busy/capacity ratio)"
          : String.valueOf((long) max)) + " for " + type + " policies");
    }
  }

  private static JsonArray windows(JsonInput in, Object value, int poolMaxSize) {
    JsonArray result = new JsonArray();
    if (value == null) {
      in.rangeError("schedule", "is required for scheduled policies");
      return result;
    }
    if (!(value instanceof JsonArray array)) {
      in.typeError("schedule", "must be an array of windows");
      return result;
    }
    if (array.isEmpty() || array.size() > MAX_WINDOWS) {
      in.rangeError("schedule", "must have 1 to " + MAX_WINDOWS + " windows");
    }
    for (int i = 0; i < array.size(); i++) {
      String field = "schedule[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject window)) {
        in.typeError(field, "must be an object {days, start, end, min_size}");
        continue;
      }
      for (String key : window.fieldNames()) {
        if (!java.util.List.of("days", "start", "end", "min_size").contains(key)) {
          in.typeError(field + "." + key, "unknown field; allowed: days, start, end, min_size");
        }
      }
      String start = clock(in, field + ".start", window.getValue("start"));
      String end = clock(in, field + ".end", window.getValue("end"));
      Integer minSize = null;
      Object size = window.getValue("min_size");
      if (size == null) {
        in.rangeError(field + ".min_size", "is required");
      } else if (!(size instanceof Integer || size instanceof Long)) {
        in.typeError(field + ".min_size", "must be a whole number");
      } else if (((Number) size).longValue() < 0) {
        in.rangeError(field + ".min_size", "must not be negative");
      } else if (((Number) size).longValue() > poolMaxSize) {
        in.rangeError(field + ".min_size", "is " + size + ", above the pool's max_size " + poolMaxSize);
      } else {
        minSize = ((Number) size).intValue();
      }
      JsonArray days = days(in, field + ".days", window.getValue("days"));
      if (start != null && end != null && !time(start).isBefore(time(end))) {
        in.rangeError(field + ".end", "the window ends at " + end + ", not after its start " + start);
      }
      result.add(new JsonObject().put("days", days).put("start", start).put("end", end).put("min_size", minSize));
    }
    return result;
  }

  static LocalTime time(String hhmm) { return hhmm.equals("24:00") ? LocalTime.MAX : LocalTime.parse(hhmm); }

  /** HH:MM text, or null (the problem recorded). */
  private static String clock(JsonInput in, String field, Object value) {
    if (value == null) {
      in.rangeError(field, "is required (HH:MM, UTC)");
    } else if (!(value instanceof String s)) {
      in.typeError(field, "must be a string HH:MM (UTC)");
    } else if (!HH_MM.matcher(s).matches()) {
      in.rangeError(field, "must be HH:MM (UTC), 00:00 to 24:00");
    } else {
      return s;
    }
    return null;
  }

  private static JsonArray days(JsonInput in, String field, Object value) {
    JsonArray days = new JsonArray();
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      if (value == null) in.rangeError(field, "is required: some of " + Policy.DAYS);
      else in.typeError(field, "must be a non-empty array of " + Policy.DAYS);
      return days;
    }
    for (Object d : array) {
      if (!(d instanceof String s) || !Policy.DAYS.contains(s)) {
        in.rangeError(field, "must contain only " + Policy.DAYS);
        return days;
      }
      if (!days.contains(s)) days.add(s);
    }
    return days;
  }

  /** A trigger from a create or replace body. */
  static Trigger trigger(JsonObject body, String id, String poolId, Instant createdAt, long version) {
    JsonInput in = JsonInput.of(body, "metric", "comparison", "threshold", "for_duration_s", "action", "step",
        "enabled");
    String metric = in.oneOf("metric", true, Trigger.METRICS);
    String comparison = in.oneOf("comparison", true, Trigger.COMPARISONS);
    Double threshold = number(in, body, "threshold");
    if (body.getValue("threshold") == null) in.rangeError("threshold", "is required");
    Long forDuration = in.integer("for_duration_s", false, 0, MAX_SECONDS);
    String action = in.oneOf("action", true, Trigger.ACTIONS);
    Long step = in.integer("step", false, 1, MAX_STEP);
    Boolean enabled = in.bool("enabled");
    if (threshold != null && metric != null) {
      double max = Trigger.UTILISATION.equals(metric) ? 1.0 : 1_000_000;
      if (threshold < 0 || threshold > max) {
        in.rangeError("threshold", "must be between 0 and " + (max == 1.0 ? "1" : "1000000") + " for metric "
            + metric);
      }
    }
    in.validate();
    Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    return new Trigger(id, poolId, metric, comparison, threshold, forDuration == null ? 0 : forDuration.intValue(),
        action, step == null ? 1 : step.intValue(), enabled == null || enabled, createdAt == null ? now : createdAt,
        now, version);
  }

  /** A cooldown change: fields not given keep {@code current}'s values. */
  static Cooldown cooldown(JsonObject body, Cooldown current) {
    JsonInput in = JsonInput.of(body, "scale_out_cooldown_s", "scale_in_cooldown_s", "scale_in_stabilisation_s");
    Long out = in.integer("scale_out_cooldown_s", false, 0, MAX_SECONDS);
    Long scaleIn = in.integer("scale_in_cooldown_s", false, 0, MAX_SECONDS);
    Long stabilisation = in.integer("scale_in_stabilisation_s", false, 0, MAX_SECONDS);
    in.validate();
    return new Cooldown(current.poolId(), out == null ? current.scaleOutS() : out.intValue(),
        scaleIn == null ? current.scaleInS() : scaleIn.intValue(),
        stabilisation == null ? current.stabilisationS() : stabilisation.intValue(), Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS),
        current.version() + 1);
  }

  /** A JSON number (whole or decimal), or null when absent or of the wrong type (recorded as a 400). */
  private static Double number(JsonInput in, JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) return null;
    if (!(value instanceof Number n) || Double.isNaN(n.doubleValue()) || Double.isInfinite(n.doubleValue())) {
      in.typeError(field, "must be a number");
      return null;
    }
    return n.doubleValue();
  }
}
