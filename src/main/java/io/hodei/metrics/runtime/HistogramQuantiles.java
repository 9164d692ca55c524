package io.hodei.metrics.runtime;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

/**
 * Quantiles of one or more Micrometer timers computed from their (cumulative) bucket counts, interpolating linearly
 * inside a bucket as Prometheus's {@code histogram_quantile} does. A quantile above the last bucket is the
 * recent max (or the last bound).
 */
final class HistogramQuantiles {
  private final double[] bounds;
  private final double[] cumulative;
  private final long count;
  private final double totalMillis;
  private final double maxMillis;

  private HistogramQuantiles(double[] bounds, double[] cumulative, long count, double totalMillis, double maxMillis) {
    this.bounds = bounds;
    this.cumulative = cumulative;
    this.count = count;
    this.totalMillis = totalMillis;
    this.maxMillis = maxMillis;
  }

  /** The merged histogram of {@code timers} (same buckets). */
  static HistogramQuantiles of(Collection<Timer> timers) {
    double[] bounds = null;
    double[] cumulative = null;
    long count = 0;
    double total = 0;
    double max = 0;
    for (Timer timer : timers) {
      HistogramSnapshot snapshot = timer.takeSnapshot();
      CountAtBucket[] buckets = snapshot.histogramCounts();
      if (bounds == null) {
        bounds = new double[buckets.length];
        cumulative = new double[buckets.length];
        for (int i = 0; i < buckets.length; i++) bounds[i] = buckets[i].bucket(TimeUnit.MILLISECONDS);
      }
      for (int i = 0; i < Math.min(buckets.length, cumulative.length); i++) cumulative[i] += buckets[i].count();
      count += snapshot.count();
      total += snapshot.total(TimeUnit.MILLISECONDS);
      max = Math.max(max, snapshot.max(TimeUnit.MILLISECONDS));
    }
    return new HistogramQuantiles(bounds == null ? new double[0] : bounds,
        cumulative == null ? new double[0] : cumulative, count, total, max);
  }

  long count() { return count; }

  /** The q-quantile in milliseconds, or null without samples. */
  Double quantile(double q) {
    if (count == 0) return null;
    double rank = q * count;
    double lowerBound = 0;
    double lowerCount = 0;
    for (int i = 0; i < bounds.length; i++) {
      if (cumulative[i] >= rank) {
        double inBucket = cumulative[i] - lowerCount;
        double fraction = inBucket <= 0 ? 1 : (rank - lowerCount) / inBucket;
        double value = lowerBound + (bounds[i] - lowerBound) * fraction;
        // the max decays (a time window); it only tightens the estimate while it is recent
        return maxMillis > 0 ? Math.min(maxMillis, value) : value;
      }
      lowerBound = bounds[i];
      lowerCount = cumulative[i];
    }
    return Math.max(maxMillis, lowerBound);
  }

  /** {count, mean_ms, max_ms, p50_ms, p95_ms, p99_ms}; nulls without samples. */
  JsonObject toJson() {
    return new JsonObject().put("count", count)
        .put("mean_ms", count == 0 ? null : totalMillis / count)
        .put("max_ms", count == 0 ? null : maxMillis)
        .put("p50_ms", quantile(0.50)).put("p95_ms", quantile(0.95)).put("p99_ms", quantile(0.99));
  }
}
