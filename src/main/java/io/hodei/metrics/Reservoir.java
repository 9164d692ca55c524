package io.hodei.metrics;

import java.util.Arrays;

/**
 * The last {@link #CAPACITY} samples of a latency, for p50/p95/p99 in the JSON metric API (nearest-rank over the
 * recent samples, exact where Prometheus buckets would interpolate). Count and mean come from the histogram, over
 * every sample. Confined to the collector's event loop.
 */
final class Reservoir {
  static final int CAPACITY = 1024;

  private double[] samples;
  private int size;
  private int next;

  void add(double value) {
    if (samples == null) samples = new double[CAPACITY];
    samples[next] = value;
    next = (next + 1) % CAPACITY;
    if (size < CAPACITY) size++;
  }

  int size() { return size; }

  /** The nearest-rank quantile of the retained samples, or null when there are none. */
  Double quantile(double q) {
    if (size == 0) return null;
    double[] sorted = Arrays.copyOf(samples, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * size);
    return sorted[Math.max(0, Math.min(size - 1, rank - 1))];
  }
}
