package io.hodei.metrics.collector;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A pool's latency histogram (Prometheus buckets) with a {@link Reservoir} for quantiles in JSON. */
final class LatencyMeters {
  static final Duration[] BUCKETS = {Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
      Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1),
      Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(30),
      Duration.ofHours(1)};

  private final Timer timer;
  private final Reservoir recent = new Reservoir();

  LatencyMeters(MeterRegistry registry, MetricCatalog.Def def, String pool) {
    this.timer = def.timer()
        .tag(MetricCatalog.POOL, pool)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  Timer timer() { return timer; }

  void record(long millis) {
    long ms = Math.max(0, millis);
    timer.record(ms, TimeUnit.MILLISECONDS);
    recent.add(ms);
  }

  /** The mean over every sample, or null before the first. */
  Double meanMillis() { return timer.count() == 0 ? null : timer.mean(TimeUnit.MILLISECONDS); }

  /** {count, mean_ms, p50_ms, p95_ms, p99_ms}; null mean and quantiles before the first sample. */
  JsonObject toJson() {
    Double[] q = recent.quantiles(0.50, 0.95, 0.99);
    return new JsonObject()
        .put("count", timer.count())
        .put("mean_ms", meanMillis())
        .put("p50_ms", q[0])
        .put("p95_ms", q[1])
        .put("p99_ms", q[2]);
  }
}
