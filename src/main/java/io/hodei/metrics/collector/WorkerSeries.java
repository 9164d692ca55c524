package io.hodei.metrics.collector;

import io.hodei.metrics.GaugeValue;
import java.util.HashMap;
import java.util.Map;

/**
 * The bound on per-worker usage series ({@code hodei_cpu_usage_percent}, {@code hodei_memory_usage_mb}): at most
 * {@code metrics.max_worker_series} workers have their own series, first sampled first served; a worker above the
 * bound has none until a series is released (its worker gone), but its usage still counts in the pool and tenant
 * sums, and {@code hodei_worker_usage_series_dropped} says how many workers are without one. Event-loop confined
 * (the gauge's holder is read by scrapes).
 */
final class WorkerSeries {
  private final int max;
  private int used;
  private final Map<String, Integer> withoutByPool = new HashMap<>();
  private final GaugeValue dropped = new GaugeValue();

  WorkerSeries(int max) { this.max = max; }

  /** True when one more worker may have its series (and counts it). */
  boolean take() {
    if (used >= max) return false;
    used++;
    return true;
  }

  void release() { used = Math.max(0, used - 1); }

  /** A pool's workers sampled without a series at its last collection. */
  void withoutSeries(String pool, int count) {
    if (count == 0) withoutByPool.remove(pool);
    else withoutByPool.put(pool, count);
    dropped.set(withoutByPool.values().stream().mapToInt(Integer::intValue).sum());
  }

  GaugeValue dropped() { return dropped; }

  int used() { return used; }

  int max() { return max; }
}
