package io.hodei.cost;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cost metrics of {@link MetricCatalog#COST}, set from ledger totals after each sweep. A tenant or pool that
 * leaves the ledger loses its series. Metric values are doubles (Prometheus has no decimals); the API's amounts are
 * the exact ones.
 */
final class CostMeters {
  private final MeterRegistry registry;
  private final boolean perTenant;
  /** Current value per meter id (name + label value). */
  private final Map<String, Double> values = new ConcurrentHashMap<>();
  private final Map<String, Meter> meters = new HashMap<>();

  CostMeters(MeterRegistry registry, boolean perTenant) {
    this.registry = registry;
    this.perTenant = perTenant;
  }

  /** {@code totals}: scope (tenant, pool, impact) -> key -> [total, burst, recent, idle]. */
  void update(Map<String, Map<String, BigDecimal[]>> totals) {
    Map<String, Double> next = new HashMap<>();
    if (perTenant) {
      totals.getOrDefault("tenant", Map.of()).forEach((tenant, v) -> {
        set(next, MetricCatalog.TENANT_COST, MetricCatalog.TENANT_ID, tenant, v[0]);
        set(next, MetricCatalog.TENANT_BURST_COST, MetricCatalog.TENANT_ID, tenant, v[1]);
        set(next, MetricCatalog.TENANT_COST_RATE, MetricCatalog.TENANT_ID, tenant, v[2]);
      });
      totals.getOrDefault("impact", Map.of()).forEach((tenant, v) ->
          set(next, MetricCatalog.TENANT_BURST_IMPACT, MetricCatalog.TENANT_ID, tenant, v[0]));
    }
    totals.getOrDefault("pool", Map.of()).forEach((pool, v) -> {
      set(next, MetricCatalog.POOL_COST, MetricCatalog.POOL, pool, v[0]);
      set(next, MetricCatalog.POOL_IDLE_COST, MetricCatalog.POOL, pool, v[3]);
    });
    for (String gone : Map.copyOf(meters).keySet()) {
      if (!next.containsKey(gone)) {
        registry.remove(meters.remove(gone));
        values.remove(gone);
      }
    }
    values.putAll(next);
  }

  private void set(Map<String, Double> next, MetricCatalog.Def def, String label, String key, BigDecimal value) {
    String id = def.name() + "|" + key;
    next.put(id, value == null ? 0.0 : value.doubleValue());
    meters.computeIfAbsent(id, k -> def.type() == MetricCatalog.Type.COUNTER
        ? def.functionCounter(values, m -> m.getOrDefault(id, 0.0)).baseUnit(null).tag(label, key).register(registry)
        : def.gauge(values, m -> m.getOrDefault(id, 0.0)).tag(label, key).strongReference(true).register(registry));
  }

  void close() {
    meters.values().forEach(registry::remove);
    meters.clear();
    values.clear();
  }
}
