package io.hodei.pool;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** A worker's lifecycle state. The wire name (REST, events, the worker table) is the lower-case constant name. */
enum WorkerState {
  PROVISIONING, IDLE, BUSY, TERMINATING, TERMINATED, UNHEALTHY;

  /** Every wire name, in declaration order (the values a {@code ?state=} filter accepts). */
  static final List<String> WIRE_NAMES = Arrays.stream(values()).map(WorkerState::wire).toList();

  private final String wire;

  WorkerState() { this.wire = name().toLowerCase(Locale.ROOT); }

  String wire() { return wire; }

  /** Still holds (or is about to hold) provider resources and may be counted towards the pool's size. */
  boolean live() { return this != TERMINATING && this != TERMINATED; }

  /** The state of a wire name; {@code null} for {@code null}. */
  static WorkerState fromWire(String wire) {
    return wire == null ? null : valueOf(wire.toUpperCase(Locale.ROOT));
  }

  /** The wire name, so a state logged or concatenated reads as it does on the wire. */
  @Override
  public String toString() { return wire; }
}
