package io.hodei.pool.provider;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a pool's {@code provider_config} strictly, collecting every problem as a {@code field: message} string:
 * unknown keys, wrong types and out-of-range values. Absent (or null) keys take their defaults.
 */
final class ConfigReader {
  private final JsonObject config;
  private final List<String> errors = new ArrayList<>();

  private ConfigReader(JsonObject config, String... allowed) {
    this.config = config == null ? new JsonObject() : config;
    Set<String> known = new LinkedHashSet<>(Arrays.asList(allowed));
    for (String key : this.config.fieldNames()) {
      if (!known.contains(key)) {
        errors.add(key + ": unknown key; " + (known.isEmpty() ? "this provider takes no configuration"
            : "allowed: " + String.join(", ", known)));
      }
    }
  }

  /** Starts reading, rejecting keys not in {@code allowed}. */
  static ConfigReader of(JsonObject config, String... allowed) {
    return new ConfigReader(config, allowed);
  }

  /** A whole number in {@code [min, max]}. */
  long integer(String key, long defaultValue, long min, long max) {
    Object value = config.getValue(key);
    if (value == null) return defaultValue;
    if (!(value instanceof Number n) || value instanceof BigInteger || !isWhole(n)) {
      errors.add(key + ": must be a whole number");
      return defaultValue;
    }
    double d = n.doubleValue();
    if (d < min || d > max) {
      errors.add(key + ": must be between " + min + " and " + max);
      return defaultValue;
    }
    return n.longValue();
  }

  /** A number in {@code [min, max]}. */
  double decimal(String key, double defaultValue, double min, double max) {
    Object value = config.getValue(key);
    if (value == null) return defaultValue;
    if (!(value instanceof Number n)) {
      errors.add(key + ": must be a number");
      return defaultValue;
    }
    double d = n.doubleValue();
    if (!(d >= min && d <= max)) {
      errors.add(key + ": must be between " + min + " and " + max);
      return defaultValue;
    }
    return d;
  }

  List<String> errors() { return List.copyOf(errors); }

  private static boolean isWhole(Number n) {
    if (n instanceof Double || n instanceof Float || n instanceof BigDecimal) {
      double d = n.doubleValue();
      return !Double.isInfinite(d) && d == Math.rint(d);
    }
    return true;
  }
}
