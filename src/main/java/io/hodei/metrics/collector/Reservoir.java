package io.hodei.metrics.collector;

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
  Double quantile(double q) { return quantiles(q)[0]; }

  /** Nearest-rank quantiles of the retained samples (one sort for all), nulls when there are none. */
  Double[] quantiles(double... qs) {
    Double[] out = new Double[qs.length];
    if (size == 0) return out;
    double[] sorted = Arrays.copyOf(samples, size);
    Arrays.sort(sorted);
    for (int i = 0; i < qs.length; i++) {
      int rank = (int) Math.ceil(qs[i] * size);
      out[i] = sorted[Math.max(0, Math.min(size - 1, rank - 1))];
    }
    return out;
  }
}
