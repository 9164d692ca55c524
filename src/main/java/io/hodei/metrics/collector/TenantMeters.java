package io.hodei.metrics.collector;

import io.hodei.metrics.GaugeValue;
import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/** One tenant's job meters (tenants are few and long-lived: these stay registered). Event-loop confined. */
final class TenantMeters {
  private final MeterRegistry registry;
  private final String tenant;
  private final GaugeValue running = new GaugeValue();
  private final Map<String, Counter> ended = new HashMap<>();
  /** The resources of {@code hodei_tenant_quota_utilization_ratio} and the quota field each is measured against. */
  static final Map<String, String> QUOTA_RESOURCES = Map.of("cpu_m", "cpu_m", "memory_mb", "memory_mb",
      "jobs", "max_concurrent_jobs");
  private final GaugeValue cpu = new GaugeValue();
  private final GaugeValue memory = new GaugeValue();
  private final Map<String, GaugeValue> utilisation = new HashMap<>();
  private final java.util.List<io.micrometer.core.instrument.Meter> gauges = new java.util.ArrayList<>();

  TenantMeters(MeterRegistry registry, String tenant) {
    this.registry = registry;
    this.tenant = tenant;
    MetricCatalog.TENANT_JOBS_RUNNING.gauge(running, GaugeValue::get)
        .tag(MetricCatalog.TENANT_ID, tenant)
        .strongReference(true)
        .register(registry);
    gauges.add(MetricCatalog.TENANT_CPU_USAGE.gauge(cpu, GaugeValue::get).tag(MetricCatalog.TENANT_ID, tenant)
        .strongReference(true).register(registry));
    gauges.add(MetricCatalog.TENANT_MEMORY_USAGE.gauge(memory, GaugeValue::get).tag(MetricCatalog.TENANT_ID, tenant)
        .strongReference(true).register(registry));
    for (String resource : QUOTA_RESOURCES.keySet()) {
      GaugeValue holder = new GaugeValue();
      utilisation.put(resource, holder);
      gauges.add(MetricCatalog.TENANT_QUOTA_UTILIZATION.gauge(holder, GaugeValue::get)
          .tag(MetricCatalog.TENANT_ID, tenant).tag(MetricCatalog.RESOURCE, resource)
          .strongReference(true).register(registry));
    }
    // every terminal state's series exists from the start, at 0 (states are a fixed set: bounded)
    PoolMeters.JOB_STATES.forEach(this::endedCounter);
  }

  /** A deleted tenant: its series go. */
  void remove() {
    registry.find(MetricCatalog.TENANT_JOBS_RUNNING.meterName()).tag(MetricCatalog.TENANT_ID, tenant).meters()
        .forEach(registry::remove);
    ended.values().forEach(registry::remove);
    gauges.forEach(registry::remove);
    gauges.clear();
    ended.clear();
  }

  /** Sampled usage of the workers running this tenant's jobs. */
  void usage(double cpuPercent, double memoryMb) {
    cpu.set(cpuPercent);
    memory.set(memoryMb);
  }

  /** Quota utilisation from the tenant's queue-status row ({@code usage}, {@code quota}); no row: nothing in use. */
  void quota(io.vertx.core.json.JsonObject row) {
    io.vertx.core.json.JsonObject used = row == null ? null : row.getJsonObject("usage");
    io.vertx.core.json.JsonObject quota = row == null ? null : row.getJsonObject("quota");
    QUOTA_RESOURCES.forEach((resource, limit) -> {
      double u = used == null ? 0 : used.getDouble(resource, 0.0);
      double q = quota == null ? 0 : quota.getDouble(limit, 0.0);
      utilisation.get(resource).set(q <= 0 ? 0.0 : u / q);
    });
  }

  void started() { running.set(running.get() + 1); }

  void ended(String state, boolean wasRunning) {
    endedCounter(state).increment();
    if (wasRunning) running.set(Math.max(0, running.get() - 1));
  }

  private Counter endedCounter(String state) {
    return ended.computeIfAbsent(state, s -> MetricCatalog.TENANT_JOBS.counter()
        .tag(MetricCatalog.TENANT_ID, tenant)
        .tag(MetricCatalog.STATE, s)
        .register(registry));
  }
}
