package io.hodei.pool;

import java.util.Locale;

/** What the last health probes say of a worker. The wire name is the lower-case constant name. */
enum WorkerHealth {
  HEALTHY, UNHEALTHY, UNKNOWN;

  private final String wire;

  WorkerHealth() { this.wire = name().toLowerCase(Locale.ROOT); }

  String wire() { return wire; }

  /** The health of a wire name; {@code null} for {@code null}. */
  static WorkerHealth fromWire(String wire) {
    return wire == null ? null : valueOf(wire.toUpperCase(Locale.ROOT));
  }

  @Override
  public String toString() { return wire; }
}
