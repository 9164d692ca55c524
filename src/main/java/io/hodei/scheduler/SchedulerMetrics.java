package io.hodei.scheduler;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The scheduling meters of the seed catalog (exact names, labels and bucket ranges). */
final class SchedulerMetrics {
  private static final Duration[] LATENCY_BUCKETS = {ms(1), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(500),
      ms(1000), ms(2500), ms(5000), ms(10_000)};
  private static final Duration[] WAIT_BUCKETS = {ms(100), ms(500), ms(1000), ms(2500), ms(5000), ms(10_000),
      ms(30_000), ms(60_000), ms(300_000), ms(600_000)};

  /** decision_type values (see {@link #decision}). */
  static final List<String> DECISION_TYPES = List.of("admit", "place", "requeue", "reject", "retry", "cancel",
      "abandon");
  /** status values of hodei_sla_events_total. */
  static final List<String> SLA_STATUSES = List.of("at_risk", "breached");
  /**
   * The error types a failed job may end with that are known up front: those of the worker providers
   * ({@code WorkerProvider.JobResult}) and the scheduler's own ({@code max_queue_time} for an abandoned job). A
   * provider may report another one; its series then appears with its first failure.
   */
  static final List<String> ERROR_TYPES = List.of("exit_code", "timeout", "killed", "worker_lost",
      "invalid_command", "max_queue_time");

  /** The error type of every job that ends in state cancelled (and of no other). */
  private static final String CANCELLED = JobState.CANCELLED.wire();

  private final MeterRegistry registry;
  private final Timer schedulingLatency;
  private final Timer queueWait;
  final AtomicLong queued = new AtomicLong();
  final AtomicLong waiting = new AtomicLong();
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  SchedulerMetrics(MeterRegistry registry) {
    this.registry = registry;
    schedulingLatency = MetricCatalog.SCHEDULING_LATENCY.timer().serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry);
    queueWait = MetricCatalog.QUEUE_WAIT.timer().serviceLevelObjectives(WAIT_BUCKETS).register(registry);
    MetricCatalog.JOBS_QUEUED.gauge(queued, AtomicLong::get).register(registry);
    MetricCatalog.QUEUE_SIZE.gauge(waiting, AtomicLong::get).register(registry);
    // every series whose labels are known up front exists from the start at 0, so that a scraper sees each family
    // and rate() has a first sample to start from (Prometheus' instrumentation advice)
    DECISION_TYPES.forEach(type -> counter(MetricCatalog.SCHEDULING_DECISIONS, MetricCatalog.DECISION_TYPE, type,
        null, null));
    SLA_STATUSES.forEach(status -> counter(MetricCatalog.SLA_EVENTS, MetricCatalog.SLA_STATUS, status, null, null));
  }

  /** A tenant the scheduler knows of: its series start at 0 (a few per tenant: bounded by the tenants). */
  void tenantKnown(String tenantId) {
    counter(MetricCatalog.JOBS_SCHEDULED, MetricCatalog.TENANT_ID, tenantId, null, null);
    counter(MetricCatalog.JOBS_COMPLETED, MetricCatalog.TENANT_ID, tenantId, null, null);
    counter(MetricCatalog.JOBS_CANCELLED, MetricCatalog.TENANT_ID, tenantId, null, null);
    counter(MetricCatalog.BURST_CPU, MetricCatalog.TENANT_ID, tenantId, null, null);
    ERROR_TYPES.forEach(type -> counter(MetricCatalog.JOBS_FAILED, MetricCatalog.TENANT_ID, tenantId,
        MetricCatalog.ERROR_TYPE, type));
  }

  /** A deleted tenant: its series go (a deleted tenant has no jobs left to count). */
  void tenantGone(String tenantId) {
    counters.entrySet().removeIf(e -> {
      boolean gone = tenantId.equals(e.getValue().getId().getTag(MetricCatalog.TENANT_ID));
      if (gone) registry.remove(e.getValue());
      return gone;
    });
  }

  void scheduled(String tenantId, long latencyMs, long waitMs) {
    counter(MetricCatalog.JOBS_SCHEDULED, MetricCatalog.TENANT_ID, tenantId, null, null).increment();
    schedulingLatency.record(latencyMs, TimeUnit.MILLISECONDS);
    queueWait.record(waitMs, TimeUnit.MILLISECONDS);
  }

  void completed(String tenantId) {
    counter(MetricCatalog.JOBS_COMPLETED, MetricCatalog.TENANT_ID, tenantId, null, null).increment();
  }

  /**
   * A job that ended other than succeeded. A cancel (error type {@code cancelled}: the job ended in state cancelled)
   * is what someone asked for, not a failure: it is counted in hodei_jobs_cancelled_total only.
   */
  void failed(String tenantId, String errorType) {
    if (CANCELLED.equals(errorType)) {
      counter(MetricCatalog.JOBS_CANCELLED, MetricCatalog.TENANT_ID, tenantId, null, null).increment();
      return;
    }
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
      Counter.Builder b = def.counter().tag(k1, v1);
      if (k2 != null) b.tag(k2, v2);
      return b.register(registry);
    });
  }

  private static Duration ms(long ms) { return Duration.ofMillis(ms); }
}
