package io.hodei.pool;

import io.hodei.common.DomainException;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/** Pool states and the operator actions each allows. */
final class PoolLifecycle {
  static final String CREATING = "creating";
  static final String ACTIVE = "active";
  static final String PAUSED = "paused";
  static final String DRAINING = "draining";
  static final String STOPPED = "stopped";
  static final String DELETING = "deleting";

  static final List<String> ACTIONS = List.of("pause", "resume", "drain", "stop", "delete");

  private static final Map<String, List<String>> ALLOWED = Map.of(
      CREATING, List.of("pause", "drain", "stop"),
      ACTIVE, List.of("pause", "drain", "stop"),
      PAUSED, List.of("resume", "drain", "stop"),
      DRAINING, List.of("resume", "stop"),
      STOPPED, List.of("resume", "delete"),
      DELETING, List.of());

  private PoolLifecycle() {}

  static List<String> allowed(String state) { return ALLOWED.getOrDefault(state, List.of()); }

  /** The state an action leads to, or a 409 listing what is allowed. */
  static String next(String state, String action) {
    if (!allowed(state).contains(action)) {
      throw new DomainException(409, "Conflict", "a pool in state '" + state + "' cannot " + action
          + "; allowed: " + (allowed(state).isEmpty() ? "none" : String.join(", ", allowed(state))),
          new JsonObject().put("state", state).put("allowed_actions", allowed(state)));
    }
    return switch (action) {
      case "pause" -> PAUSED;
      case "resume" -> ACTIVE;
      case "drain" -> DRAINING;
      case "stop" -> STOPPED;
      case "delete" -> DELETING;
      default -> throw new IllegalArgumentException(action);
    };
  }

  /** True when new jobs may be placed on the pool's workers. */
  static boolean accepts(String state) { return ACTIVE.equals(state) || CREATING.equals(state); }

  /** True when the pool should keep its target number of workers. */
  static boolean keepsWorkers(String state) {
    return ACTIVE.equals(state) || CREATING.equals(state) || PAUSED.equals(state);
  }
}
