package io.hodei.scheduler;

import java.util.List;
import java.util.Set;

/** Job states (wire names) and error types. */
final class JobStates {
  static final String QUEUED = "queued";
  static final String ADMITTED = "admitted";
  static final String RUNNING = "running";
  static final String SUCCEEDED = "succeeded";
  static final String FAILED = "failed";
  static final String CANCELLED = "cancelled";
  static final String TIMED_OUT = "timed_out";
  static final String ABANDONED = "abandoned";
  static final List<String> ALL = List.of(QUEUED, ADMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT,
      ABANDONED);
  static final Set<String> FINAL = Set.of(SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, ABANDONED);

  /** Errors worth another attempt: the job did nothing wrong. */
  static final Set<String> RETRYABLE = Set.of("worker_lost", "provisioning_failed");

  private JobStates() {}
}
