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
  /** Meters by route template, then method: found with the request's own strings, no key built per request. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Route>> routes = new ConcurrentHashMap<>();
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
    ConcurrentHashMap<String, Route> byMethod = routes.get(endpoint);
    if (byMethod == null) byMethod = routes.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>());
    Route route = byMethod.get(method);
    if (route == null) route = byMethod.computeIfAbsent(method, m -> new Route(m, endpoint));
    route.service.record(outcome(endpoint, status), nanos);
    route.requests(status).increment();
  }

  /** The meters of one method on one route: its service meters and its request counters by status. */
  private final class Route {
    private final String method;
    private final String endpoint;
    private final ServiceMeters.Endpoint service;
    private final ConcurrentHashMap<Integer, Counter> byStatus = new ConcurrentHashMap<>();

    Route(String method, String endpoint) {
      this.method = method;
      this.endpoint = endpoint;
      this.service = HttpMetrics.this.service.endpoint(ServiceMeters.REST, method + ' ' + endpoint);
    }

    Counter requests(int status) {
      Counter counter = byStatus.get(status);
      return counter != null ? counter : byStatus.computeIfAbsent(status, s -> MetricCatalog.HTTP_REQUESTS.counter()
          .tag(MetricCatalog.METHOD, method)
          .tag(MetricCatalog.ENDPOINT, endpoint)
          .tag(MetricCatalog.STATUS_CODE, Integer.toString(s))
          .register(registry));
    }
  }
}
