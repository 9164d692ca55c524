package io.hodei.metrics;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/** One tenant's job meters (tenants are few and long-lived: these stay registered). Event-loop confined. */
final class TenantMeters {
  private final MeterRegistry registry;
  private final String tenant;
  private final PoolMeters.Value running = new PoolMeters.Value();
  private final Map<String, Counter> ended = new HashMap<>();

  TenantMeters(MeterRegistry registry, String tenant) {
    this.registry = registry;
    this.tenant = tenant;
    Gauge.builder(MetricCatalog.TENANT_JOBS_RUNNING.meterName(), running, PoolMeters.Value::get)
        .description(MetricCatalog.TENANT_JOBS_RUNNING.help())
        .tag(MetricCatalog.TENANT_ID, tenant)
        .strongReference(true)
        .register(registry);
    // every terminal state's series exists from the start, at 0 (states are a fixed set: bounded)
    PoolMeters.JOB_STATES.forEach(this::endedCounter);
  }

  /** A deleted tenant: its series go. */
  void remove() {
    registry.find(MetricCatalog.TENANT_JOBS_RUNNING.meterName()).tag(MetricCatalog.TENANT_ID, tenant).meters()
        .forEach(registry::remove);
    ended.values().forEach(registry::remove);
    ended.clear();
  }

  void started() { running.set(running.get() + 1); }

  void ended(String state, boolean wasRunning) {
    endedCounter(state).increment();
    if (wasRunning) running.set(Math.max(0, running.get() - 1));
  }

  private Counter endedCounter(String state) {
    return ended.computeIfAbsent(state, s -> Counter.builder(MetricCatalog.TENANT_JOBS.meterName())
        .description(MetricCatalog.TENANT_JOBS.help())
        .tag(MetricCatalog.TENANT_ID, tenant)
        .tag(MetricCatalog.STATE, s)
        .register(registry));
  }
}
