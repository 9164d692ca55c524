package io.hodei.http.grpc;

import io.hodei.metrics.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/** {@code hodei_grpc_requests_total}. Labels are bounded: method is one the server serves or 'unknown'. */
final class GrpcMetrics {
  static final String UNKNOWN_METHOD = "unknown";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

  GrpcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void record(String method, String status) {
    counters.computeIfAbsent(method + ' ' + status, k -> Counter.builder(MetricCatalog.GRPC_REQUESTS.meterName())
        .description(MetricCatalog.GRPC_REQUESTS.help())
        .tag(MetricCatalog.METHOD, method)
        .tag(MetricCatalog.STATUS_CODE, status)
        .register(registry)).increment();
  }
}
