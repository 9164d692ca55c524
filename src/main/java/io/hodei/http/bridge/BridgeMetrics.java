package io.hodei.http.bridge;

import io.hodei.common.Events;
import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code hodei_event_bus_subscribers}, {@code hodei_events_received_total{event_type}} and
 * {@code hodei_bridge_dropped_total{reason}}. Labels are bounded: event_type is a known type or 'other'.
 */
final class BridgeMetrics {
  static final String OTHER = "other";
  static final String SLOW_CONSUMER = "slow_consumer";
  static final String UNAUTHORIZED = "unauthorized";

  private final MeterRegistry registry;
  private final AtomicInteger subscribers = new AtomicInteger();
  private final ConcurrentHashMap<String, Counter> received = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> dropped = new ConcurrentHashMap<>();

  BridgeMetrics(MeterRegistry registry) {
    this.registry = registry;
    MetricCatalog.EVENT_BUS_SUBSCRIBERS.gauge(subscribers, AtomicInteger::get).register(registry);
    // Both reasons exist from the start, so a rate() over them works before the first drop.
    dropped(SLOW_CONSUMER, 0);
    dropped(UNAUTHORIZED, 0);
    Events.KNOWN_TYPES.forEach(type -> received(type, 0));
    received(OTHER, 0);
  }

  void subscribersChanged(int delta) { subscribers.addAndGet(delta); }

  int subscribers() { return subscribers.get(); }

  void received(String type) {
    received(type != null && Events.KNOWN_TYPES.contains(type) ? type : OTHER, 1);
  }

  private void received(String label, int count) {
    received.computeIfAbsent(label, t -> MetricCatalog.EVENTS_RECEIVED.counter()
        .tag(MetricCatalog.EVENT_TYPE, t)
        .register(registry)).increment(count);
  }

  void dropped(String reason) { dropped(reason, 1); }

  private void dropped(String reason, int count) {
    dropped.computeIfAbsent(reason, r -> MetricCatalog.BRIDGE_DROPPED.counter()
        .tag(MetricCatalog.REASON, r)
        .register(registry)).increment(count);
  }
}
