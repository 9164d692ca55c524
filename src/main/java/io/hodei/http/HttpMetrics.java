package io.hodei.http;

import io.hodei.common.MetricCatalog;
import io.hodei.metrics.runtime.ServiceMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The HTTP request meters of the catalog (and the REST {@code hodei_service_*} meters). Labels are bounded: endpoint is a route template. */
final class HttpMetrics {
  private static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private final MeterRegistry registry;
  private final Timer duration;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ServiceMeters service;

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.service = new ServiceMeters(registry);
    this.duration = MetricCatalog.HTTP_DURATION.timer()
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  void record(String method, String endpoint, int status, long nanos) {
    duration.record(nanos, TimeUnit.NANOSECONDS);
    service.record(ServiceMeters.REST, method + ' ' + endpoint, ServiceMeters.httpOutcome(status), nanos);
    String key = method + ' ' + endpoint + ' ' + status;
    counters.computeIfAbsent(key, k -> MetricCatalog.HTTP_REQUESTS.counter()
        .tag(MetricCatalog.METHOD, method)
        .tag(MetricCatalog.ENDPOINT, endpoint)
        .tag(MetricCatalog.STATUS_CODE, Integer.toString(status))
        .register(registry)).increment();
  }
}
