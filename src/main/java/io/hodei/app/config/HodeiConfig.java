package io.hodei.app.config;

import java.util.List;
import java.util.Map;

/** The validated configuration: every key of {@link ConfigSchema} with its effective value. */
public final class HodeiConfig {
  private final Map<String, Object> values;

  HodeiConfig(Map<String, Object> values) { this.values = Map.copyOf(withoutNulls(values)); }

  private static Map<String, Object> withoutNulls(Map<String, Object> values) {
    Map<String, Object> copy = new java.util.HashMap<>();
    values.forEach((k, v) -> { if (v != null) copy.put(k, v); });
    return copy;
  }

  public int getInt(String key) { return ((Long) require(key)).intValue(); }

  public long getLong(String key) { return (Long) require(key); }

  public boolean getBool(String key) { return (Boolean) require(key); }

  public String getString(String key) { return (String) values.get(key); }

  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> getList(String key) { return (List<Map<String, Object>>) require(key); }

  private Object require(String key) {
    Object value = values.get(key);
    if (value == null) throw new IllegalArgumentException("no value for config key " + key);
    return value;
  }
}
