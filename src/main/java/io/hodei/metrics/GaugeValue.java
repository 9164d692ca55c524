package io.hodei.metrics;

/**
 * The value behind a gauge or function counter: written by the event loop that owns it, read by scrapes on other
 * threads (hence volatile).
 */
public final class GaugeValue {
  private volatile double value;

  public void set(double v) { value = v; }

  public double get() { return value; }
}
