package io.hodei.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a JSON request body strictly: unknown fields and wrong types are 400, values out of range are 422. All
 * problems are collected and reported together by {@link #validate()}, before anything is written.
 */
public final class JsonInput {
  public static final int MAX_LABELS = 32;
  public static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-/]{0,62}");
  public static final int MAX_LABEL_VALUE = 256;

  private final JsonObject json;
  /** Where problems are collected: the top-level input, shared by nested objects. */
  private final JsonInput root;
  private final String prefix;
  private final JsonArray errors = new JsonArray();
  private boolean malformed;

  private JsonInput(JsonObject json, JsonInput root, String prefix, String... allowed) {
    this.json = json == null ? new JsonObject() : json;
    this.root = root == null ? this : root;
    this.prefix = prefix;
    Set<String> known = new LinkedHashSet<>(Arrays.asList(allowed));
    for (String field : this.json.fieldNames()) {
      if (!known.contains(field)) typeError(field, "unknown field; allowed: " + String.join(", ", known));
    }
  }

  /** Starts reading {@code json}, rejecting any field not in {@code allowed}. */
  public static JsonInput of(JsonObject json, String... allowed) {
    return new JsonInput(json, null, "", allowed);
  }

  public boolean has(String field) { return json.containsKey(field) && json.getValue(field) != null; }

  public String string(String field, boolean required, int maxLength) {
    return string(field, required, maxLength, null, null);
  }

  public String string(String field, boolean required, int maxLength, Pattern pattern, String patternHint) {
    Object value = json.getValue(field);
    if (value == null) {
      if (required) rangeError(field, "is required");
      return null;
    }
    if (!(value instanceof String s)) {
      typeError(field, "must be a string");
      return null;
    }
    if (s.isBlank()) {
      rangeError(field, "must not be blank");
    } else if (s.length() > maxLength) {
      rangeError(field, "must have at most " + maxLength + " characters");
    } else if (pattern != null && !pattern.matcher(s).matches()) {
      rangeError(field, "must match " + patternHint);
    }
    return s;
  }

  public Long integer(String field, boolean required, long min, long max) {
    Object value = json.getValue(field);
    if (value == null) {
      if (required) rangeError(field, "is required");
      return null;
    }
    if (!(value instanceof Number n)) {
      typeError(field, "must be a whole number");
      return null;
    }
    if (value instanceof Double || value instanceof Float || value instanceof java.math.BigDecimal) {
      double d = n.doubleValue();
      if (d != Math.rint(d) || Double.isInfinite(d)) {
        typeError(field, "must be a whole number");
        return null;
      }
      if (d < min || d > max) {
        rangeError(field, "must be between " + min + " and " + max);
        return null;
      }
      return (long) d;
    }
    if (value instanceof java.math.BigInteger) {
      rangeError(field, "must be between " + min + " and " + max);
      return null;
    }
    long v = n.longValue();
    if (v < min || v > max) {
      rangeError(field, "must be between " + min + " and " + max);
      return null;
    }
    return v;
  }

  /** An exact decimal (money): a JSON number or a numeric string, at most {@code scale} decimals. */
  public java.math.BigDecimal decimal(String field, boolean required, java.math.BigDecimal min,
                                     java.math.BigDecimal max, int scale) {
    Object value = json.getValue(field);
    if (value == null) {
      if (required) rangeError(field, "is required");
      return null;
    }
    java.math.BigDecimal d;
    try {
      d = value instanceof Number || value instanceof String ? new java.math.BigDecimal(value.toString().trim()) : null;
    } catch (NumberFormatException e) {
      d = null;
    }
    if (d == null) {
      typeError(field, "must be a decimal number");
      return null;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      rangeError(field, "must be between " + min.toPlainString() + " and " + max.toPlainString());
      return null;
    }
    if (d.stripTrailingZeros().scale() > scale) {
      rangeError(field, "must have at most " + scale + " decimals");
      return null;
    }
    return d.setScale(scale, java.math.RoundingMode.UNNECESSARY);
  }

  /** A nested object taken as it is (validated by its owner, e.g. a provider's configuration). */
  public JsonObject rawObject(String field, int maxEntries) {
    Object value = json.getValue(field);
    if (value == null) return null;
    if (!(value instanceof JsonObject obj)) {
      typeError(field, "must be an object");
      return null;
    }
    if (obj.size() > maxEntries) rangeError(field, "must have at most " + maxEntries + " entries");
    return obj;
  }

  /** Records a problem found by another validator (such as a provider) under {@code field}. */
  public void addError(String field, String message) { rangeError(field, message); }

  public Boolean bool(String field) {
    Object value = json.getValue(field);
    if (value == null) return null;
    if (!(value instanceof Boolean b)) {
      typeError(field, "must be true or false");
      return null;
    }
    return b;
  }

  public String oneOf(String field, boolean required, Collection<String> allowed) {
    Object value = json.getValue(field);
    if (value == null) {
      if (required) rangeError(field, "is required");
      return null;
    }
    if (!(value instanceof String s)) {
      typeError(field, "must be one of " + allowed);
      return null;
    }
    if (!allowed.contains(s)) {
      rangeError(field, "must be one of " + allowed);
      return null;
    }
    return s;
  }

  /** A flat map of short string labels, bounded in count and size. */
  public JsonObject labels(String field) {
    Object value = json.getValue(field);
    if (value == null) return null;
    if (!(value instanceof JsonObject labels)) {
      typeError(field, "must be an object of string values");
      return null;
    }
    if (labels.size() > MAX_LABELS) rangeError(field, "must have at most " + MAX_LABELS + " entries");
    for (String key : labels.fieldNames()) {
      Object v = labels.getValue(key);
      if (!LABEL_KEY.matcher(key).matches()) {
        rangeError(field + "." + key, "label keys must match " + LABEL_KEY.pattern());
      } else if (!(v instanceof String s)) {
        typeError(field + "." + key, "must be a string");
      } else if (s.length() > MAX_LABEL_VALUE) {
        rangeError(field + "." + key, "must have at most " + MAX_LABEL_VALUE + " characters");
      }
    }
    return labels;
  }

  /** A nested object, read with its own allowed fields. */
  public JsonInput object(String field, String... allowed) {
    Object value = json.getValue(field);
    if (value == null) return null;
    if (!(value instanceof JsonObject nested)) {
      typeError(field, "must be an object");
      return null;
    }
    return new JsonInput(nested, root, prefix + field + ".", allowed);
  }

  public void typeError(String field, String message) {
    root.malformed = true;
    rangeError(field, message);
  }

  public void rangeError(String field, String message) {
    root.errors.add(new JsonObject().put("field", prefix + field).put("message", message));
  }

  /** Throws a 400 (malformed) or 422 (out of range) listing every problem found, here or in nested objects. */
  public void validate() {
    if (!root.errors.isEmpty()) throw DomainException.invalid(root.malformed ? 400 : 422, root.errors);
  }
}
