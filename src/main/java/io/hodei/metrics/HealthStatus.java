package io.hodei.metrics;

/** Health of a pool or of the whole system, ordered from best to worst; {@link #gauge()} is what Prometheus sees. */
public enum HealthStatus {
  HEALTHY("Healthy"), DEGRADED("Degraded"), UNHEALTHY("Unhealthy");

  private final String wire;

  HealthStatus(String wire) { this.wire = wire; }

  public String wire() { return wire; }

  /** 0 healthy, 1 degraded, 2 unhealthy. */
  public int gauge() { return ordinal(); }

  public HealthStatus worst(HealthStatus other) { return other.ordinal() > ordinal() ? other : this; }
}
