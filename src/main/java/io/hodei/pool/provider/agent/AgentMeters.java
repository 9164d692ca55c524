package io.hodei.pool.provider.agent;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The agent meters of the catalog, per pool (a bounded label: pools are few). */
final class AgentMeters {
  static final String RECEIVED = "received";
  static final String DROPPED = "dropped";

  private final MeterRegistry registry;
  private final Map<String, PoolMeters> pools = new HashMap<>();

  AgentMeters(MeterRegistry registry) { this.registry = registry; }

  /** The pool's meters; gauges read {@code connected} and {@code lagSeconds} of the provider when scraped. */
  PoolMeters pool(String poolId, ToDoubleFunction<String> connected, ToDoubleFunction<String> lagSeconds) {
    return pools.computeIfAbsent(poolId, id -> new PoolMeters(id, connected, lagSeconds));
  }

  final class PoolMeters {
    final Counter reconnects;
    final Counter received;
    final Counter dropped;

    PoolMeters(String poolId, ToDoubleFunction<String> connected, ToDoubleFunction<String> lagSeconds) {
      if (registry == null) {
        reconnects = null;
        received = null;
        dropped = null;
        return;
      }
      Gauge.builder(MetricCatalog.AGENTS_CONNECTED.meterName(), poolId, connected)
          .description(MetricCatalog.AGENTS_CONNECTED.help()).tag(MetricCatalog.POOL, poolId).register(registry);
      Gauge.builder(MetricCatalog.AGENT_HEARTBEAT_LAG.meterName(), poolId, lagSeconds)
          .description(MetricCatalog.AGENT_HEARTBEAT_LAG.help()).tag(MetricCatalog.POOL, poolId).register(registry);
      reconnects = Counter.builder(MetricCatalog.AGENT_RECONNECTS.meterName())
          .description(MetricCatalog.AGENT_RECONNECTS.help()).tag(MetricCatalog.POOL, poolId).register(registry);
      received = bytes(poolId, RECEIVED);
      dropped = bytes(poolId, DROPPED);
    }

    private Counter bytes(String poolId, String direction) {
      return Counter.builder(MetricCatalog.AGENT_STREAM_BYTES.meterName())
          .description(MetricCatalog.AGENT_STREAM_BYTES.help()).tag(MetricCatalog.POOL, poolId)
          .tag(MetricCatalog.DIRECTION, direction).register(registry);
    }

    void reconnected() { if (reconnects != null) reconnects.increment(); }

    void bytes(long kept, long lost) {
      if (received == null) return;
      if (kept > 0) received.increment(kept);
      if (lost > 0) dropped.increment(lost);
    }
  }
}
