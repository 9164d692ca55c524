package io.hodei.scheduler;

import java.util.Arrays;
import java.util.List;

/**
 * The states of a job. {@link #wire()} is the name REST, gRPC, events and the {@code job.state} column use (part of
 * the public contract); the Java names only mirror it.
 */
enum JobState {
  QUEUED("queued"),
  ADMITTED("admitted"),
  RUNNING("running"),
  SUCCEEDED("succeeded"),
  FAILED("failed"),
  CANCELLED("cancelled"),
  TIMED_OUT("timed_out"),
  ABANDONED("abandoned");

  /** Every wire name, in lifecycle order (what a state filter accepts). */
  static final List<String> WIRE_NAMES = Arrays.stream(values()).map(JobState::wire).toList();

  private final String wire;

  JobState(String wire) { this.wire = wire; }

  String wire() { return wire; }

  /** The state a wire name stands for; IllegalArgumentException for a name that is none. */
  static JobState fromWire(String wire) {
    for (JobState state : values()) if (state.wire.equals(wire)) return state;
    throw new IllegalArgumentException("not a job state: " + wire);
  }

  /** The wire name, so that logs and messages show what the API shows. */
  @Override
  public String toString() { return wire; }
}
