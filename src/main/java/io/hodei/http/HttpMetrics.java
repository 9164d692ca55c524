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

  /**
   * A health endpoint's 503 is its answer (a pool or the server is not well), served as asked: not a server error in
   * {@code error_ratio}. Every other status counts by its class.
   */
  static String outcome(String endpoint, int status) {
    if (status == 503 && (endpoint.startsWith("/health") || endpoint.equals("/api/v1/observability/health"))) {
      return ServiceMeters.OK;
    }
    return ServiceMeters.httpOutcome(status);
  }

  void record(String method, String endpoint, int status, long nanos) {
    duration.record(nanos, TimeUnit.NANOSECONDS);
    service.record(ServiceMeters.REST, method + ' ' + endpoint, outcome(endpoint, status), nanos);
    String key = method + ' ' + endpoint + ' ' + status;
    counters.computeIfAbsent(key, k -> MetricCatalog.HTTP_REQUESTS.counter()
        .tag(MetricCatalog.METHOD, method)
        .tag(MetricCatalog.ENDPOINT, endpoint)
        .tag(MetricCatalog.STATUS_CODE, Integer.toString(status))
        .register(registry)).increment();
  }
}
