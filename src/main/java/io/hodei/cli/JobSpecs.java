package io.hodei.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * A job of a {@code submit -f} file: the CLI's friendly keys ({@code pool}, {@code cpu: 500m}, {@code mem: 1Gi},
 * {@code timeout: 10m}, {@code sla: 1h}, a command as a list or a string run by {@code sh -c}) translated to the
 * REST fields; REST field names ({@code pool_id}, {@code cpu_m}, ...) pass through unchanged.
 */
final class JobSpecs {
  private JobSpecs() {}

  static JsonObject fromYaml(Map<String, Object> entry, String tenant) {
    JsonObject job = new JsonObject();
    for (Map.Entry<String, Object> e : entry.entrySet()) {
      String key = e.getKey();
      Object v = e.getValue();
      switch (key) {
        case "pool" -> job.put("pool_id", String.valueOf(v));
        case "cpu" -> job.put("cpu_m", Quantities.cpuMillis(String.valueOf(v)));
        case "mem", "memory" -> job.put("memory_mb", Quantities.memoryMb(String.valueOf(v)));
        case "timeout" -> job.put("timeout_s", Quantities.seconds(String.valueOf(v)));
        case "sla" -> job.put("sla_seconds", Quantities.seconds(String.valueOf(v)));
        case "command" -> job.put("command", v instanceof String s ? new JsonArray().add("sh").add("-c").add(s)
            : strings(v));
        // YAML reads `no`, `on`, `3` as booleans and numbers: an argv and an environment are strings
        case "env" -> job.put("env", v instanceof Map<?, ?> m ? stringValues(m) : Output.plainJson(v));
        default -> job.put(key, Output.plainJson(v));
      }
    }
    if (tenant != null && !job.containsKey("tenant_id")) job.put("tenant_id", tenant);
    return job;
  }

  private static Object strings(Object v) {
    if (!(v instanceof java.util.List<?> list)) return Output.plainJson(v);
    JsonArray a = new JsonArray();
    for (Object o : list) a.add(o instanceof Map<?, ?> || o instanceof java.util.List<?> ? Output.plainJson(o) : String.valueOf(o));
    return a;
  }

  private static JsonObject stringValues(Map<?, ?> m) {
    JsonObject o = new JsonObject();
    m.forEach((k, v) -> o.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
    return o;
  }
}
