package io.hodei.scheduler;

import io.hodei.metrics.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The scheduling meters of the seed catalog (exact names, labels and bucket ranges). */
final class SchedulerMetrics {
  private static final Duration[] LATENCY_BUCKETS = {ms(1), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(500),
      ms(1000), ms(2500), ms(5000), ms(10_000)};
  private static final Duration[] WAIT_BUCKETS = {ms(100), ms(500), ms(1000), ms(2500), ms(5000), ms(10_000),
      ms(30_000), ms(60_000), ms(300_000), ms(600_000)};

  private final MeterRegistry registry;
  private final Timer schedulingLatency;
  private final Timer queueWait;
  final AtomicLong queued = new AtomicLong();
  final AtomicLong waiting = new AtomicLong();
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  SchedulerMetrics(MeterRegistry registry) {
    this.registry = registry;
    schedulingLatency = Timer.builder(MetricCatalog.SCHEDULING_LATENCY.meterName())
        .description(MetricCatalog.SCHEDULING_LATENCY.help()).serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry);
    queueWait = Timer.builder(MetricCatalog.QUEUE_WAIT.meterName()).description(MetricCatalog.QUEUE_WAIT.help())
        .serviceLevelObjectives(WAIT_BUCKETS).register(registry);
    Gauge.builder(MetricCatalog.JOBS_QUEUED.meterName(), queued, AtomicLong::get)
        .description(MetricCatalog.JOBS_QUEUED.help()).register(registry);
    Gauge.builder(MetricCatalog.QUEUE_SIZE.meterName(), waiting, AtomicLong::get)
        .description(MetricCatalog.QUEUE_SIZE.help()).register(registry);
  }

  void scheduled(String tenantId, long latencyMs, long waitMs) {
    counter(MetricCatalog.JOBS_SCHEDULED, MetricCatalog.TENANT_ID, tenantId, null, null).increment();
    schedulingLatency.record(latencyMs, TimeUnit.MILLISECONDS);
    queueWait.record(waitMs, TimeUnit.MILLISECONDS);
  }

  void completed(String tenantId) {
    counter(MetricCatalog.JOBS_COMPLETED, MetricCatalog.TENANT_ID, tenantId, null, null).increment();
  }

  void failed(String tenantId, String errorType) {
    counter(MetricCatalog.JOBS_FAILED, MetricCatalog.TENANT_ID, tenantId, MetricCatalog.ERROR_TYPE,
        errorType == null ? "unknown" : errorType).increment();
  }

  void burst(String tenantId, double cpuMSeconds) {
    counter(MetricCatalog.BURST_CPU, MetricCatalog.TENANT_ID, tenantId, null, null).increment(cpuMSeconds);
  }

  /** A job's SLA became at_risk or breached. */
  void sla(String status) {
    counter(MetricCatalog.SLA_EVENTS, MetricCatalog.SLA_STATUS, status, null, null).increment();
  }

  /** decision_type: admit, place, requeue, reject, retry, cancel, abandon. */
  void decision(String type) {
    counter(MetricCatalog.SCHEDULING_DECISIONS, MetricCatalog.DECISION_TYPE, type, null, null).increment();
  }

  private Counter counter(MetricCatalog.Def def, String k1, String v1, String k2, String v2) {
    String key = def.name() + '|' + v1 + '|' + v2;
    return counters.computeIfAbsent(key, k -> {
      Counter.Builder b = Counter.builder(def.meterName()).description(def.help()).tag(k1, v1);
      if (k2 != null) b.tag(k2, v2);
      return b.register(registry);
    });
  }

  private static Duration ms(long ms) { return Duration.ofMillis(ms); }
}
