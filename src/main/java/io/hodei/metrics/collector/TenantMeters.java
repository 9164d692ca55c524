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

  TenantMeters(MeterRegistry registry, String tenant) {
    this.registry = registry;
    this.tenant = tenant;
    MetricCatalog.TENANT_JOBS_RUNNING.gauge(running, GaugeValue::get)
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
    return ended.computeIfAbsent(state, s -> MetricCatalog.TENANT_JOBS.counter()
        .tag(MetricCatalog.TENANT_ID, tenant)
        .tag(MetricCatalog.STATE, s)
        .register(registry));
  }
}
