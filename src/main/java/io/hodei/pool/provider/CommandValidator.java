package io.hodei.pool.provider;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rules a job's argv and environment follow before any provider runs them. They keep a job from smuggling
 * arguments the OS would cut short (NUL) or refuse (too long), and keep environment names portable.
 */
public final class CommandValidator {
  static final int MAX_ARGS = 256;
  static final int MAX_COMMAND_BYTES = 64 * 1024;
  static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private CommandValidator() {}

  /** Why the command cannot run, or null when it is valid. */
  static String problem(List<String> command) {
    if (command == null || command.isEmpty()) return "command must be a non-empty list of arguments";
    if (command.size() > MAX_ARGS) return "command must have at most " + MAX_ARGS + " arguments";
    if (command.get(0) == null || command.get(0).isBlank()) return "command[0] (the executable) must not be blank";
    long bytes = 0;
    for (int i = 0; i < command.size(); i++) {
      String arg = command.get(i);
      if (arg == null || arg.isEmpty()) return "command[" + i + "] must not be empty";
      if (arg.indexOf('\0') >= 0) return "command[" + i + "] must not contain NUL";
      bytes += arg.getBytes(StandardCharsets.UTF_8).length + 1;
    }
    if (bytes > MAX_COMMAND_BYTES) return "command must have at most " + MAX_COMMAND_BYTES + " bytes in total";
    return null;
  }

  /** Why the environment cannot be passed, or null when it is valid. Values may be strings, numbers or booleans. */
  static String envProblem(JsonObject env) {
    if (env == null) return null;
    for (Map.Entry<String, Object> entry : env) {
      if (!ENV_NAME.matcher(entry.getKey()).matches()) {
        return "env name '" + entry.getKey() + "' must match " + ENV_NAME.pattern();
      }
      Object value = entry.getValue();
      if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
        return "env." + entry.getKey() + " must be a string";
      }
      if (value.toString().indexOf('\0') >= 0) return "env." + entry.getKey() + " must not contain NUL";
    }
    return null;
  }

  /** The problem with argv or environment, or null. */
  public static String problem(WorkerProvider.JobSpec job) {
    String problem = problem(job.command());
    return problem != null ? problem : envProblem(job.env());
  }

  /** The job's environment as strings, in declaration order; call only after {@link #envProblem} found nothing. */
  public static Map<String, String> envStrings(JsonObject env) {
    Map<String, String> strings = new LinkedHashMap<>();
    if (env != null) env.forEach(e -> strings.put(e.getKey(), e.getValue().toString()));
    return strings;
  }
}
