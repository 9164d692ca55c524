package io.hodei.pool;

/** Worker states and health values (the wire names). */
final class WorkerStates {
  static final String PROVISIONING = "provisioning";
  static final String IDLE = "idle";
  static final String BUSY = "busy";
  static final String TERMINATING = "terminating";
  static final String TERMINATED = "terminated";
  static final String UNHEALTHY = "unhealthy";
  static final java.util.List<String> ALL = java.util.List.of(PROVISIONING, IDLE, BUSY, TERMINATING, TERMINATED,
      UNHEALTHY);

  static final String HEALTHY = "healthy";
  static final String UNKNOWN = "unknown";

  private WorkerStates() {}
}
