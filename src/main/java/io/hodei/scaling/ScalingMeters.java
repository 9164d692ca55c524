package io.hodei.scaling;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The autoscaler's meters (see {@link MetricCatalog#SCALING}): decisions, idle worker-seconds, capacity-ready time
 * and, per pool, busy / provisioned worker-seconds since start. Series of a pool are removed with it.
 */
final class ScalingMeters {
  private static final Duration[] BUCKETS = {Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
      Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1),
      Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(30),
      Duration.ofHours(1)};

  /** Worker-seconds of one pool since the server started. */
  static final class Usage {
    double busySeconds;
    double provisionedSeconds;

    double efficiency() { return provisionedSeconds == 0 ? 0.0 : busySeconds / provisionedSeconds; }
  }

  private final MeterRegistry registry;
  private final Map<String, Usage> usage = new HashMap<>();
  private final Map<String, List<Meter>> meters = new HashMap<>();

  ScalingMeters(MeterRegistry registry) { this.registry = registry; }

  Usage usage(String pool) {
    return usage.computeIfAbsent(pool, p -> {
      Usage u = new Usage();
      track(p, MetricCatalog.SCALING_EFFICIENCY.gauge(u, Usage::efficiency).tag(MetricCatalog.POOL, p)
          .register(registry));
      // the pool's other series exist from its first evaluation, at 0
      idleWorkerSeconds(p, 0);
      track(p, capacityTimer(p));
      return u;
    });
  }

  void decision(String pool, String direction, String reason) {
    track(pool, MetricCatalog.SCALING_DECISIONS.counter().tag(MetricCatalog.POOL, pool)
        .tag(MetricCatalog.DIRECTION, direction).tag(MetricCatalog.REASON, reason).register(registry)).increment();
  }

  void idleWorkerSeconds(String pool, double seconds) {
    Counter idle = track(pool, MetricCatalog.SCALING_IDLE_WORKER_SECONDS.counter().tag(MetricCatalog.POOL, pool)
        .register(registry));
    if (seconds > 0) idle.increment(seconds);
  }

  void capacityReady(String pool, long ms) {
    track(pool, capacityTimer(pool)).record(Math.max(0, ms), TimeUnit.MILLISECONDS);
  }

  private Timer capacityTimer(String pool) {
    return MetricCatalog.SCALING_CAPACITY_READY.timer().tag(MetricCatalog.POOL, pool)
        .serviceLevelObjectives(BUCKETS).register(registry);
  }

  /** Removes every series of pools not in {@code live}. */
  void retain(java.util.Set<String> live) {
    for (String pool : new ArrayList<>(meters.keySet())) {
      if (live.contains(pool)) continue;
      meters.remove(pool).forEach(registry::remove);
      usage.remove(pool);
    }
  }

  void close() {
    meters.values().forEach(list -> list.forEach(registry::remove));
    meters.clear();
    usage.clear();
  }

  private <M extends Meter> M track(String pool, M meter) {
    List<Meter> list = meters.computeIfAbsent(pool, p -> new ArrayList<>());
    if (!list.contains(meter)) list.add(meter);
    return meter;
  }
}
