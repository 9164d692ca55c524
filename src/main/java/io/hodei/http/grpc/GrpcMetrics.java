package io.hodei.http.grpc;

import io.hodei.common.MetricCatalog;
import io.hodei.metrics.runtime.ServiceMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/** {@code hodei_grpc_requests_total} and the gRPC {@code hodei_service_*} meters. Labels are bounded: method is one the server serves or 'unknown'. */
final class GrpcMetrics {
  static final String UNKNOWN_METHOD = "unknown";
  private static final String OK = "OK";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ServiceMeters service;

  GrpcMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.service = new ServiceMeters(registry);
  }

  void record(String method, String status, long nanos) {
    service.record(ServiceMeters.GRPC, method, ServiceMeters.grpcOutcome(status), nanos);
    counter(method, status).increment();
  }

  /** The methods the server serves: their OK series exist from the start, at 0 (one per method: bounded). */
  void served(Iterable<String> methods) {
    methods.forEach(method -> counter(method, OK));
  }

  private Counter counter(String method, String status) {
    return counters.computeIfAbsent(method + ' ' + status, k -> MetricCatalog.GRPC_REQUESTS.counter()
        .tag(MetricCatalog.METHOD, method)
        .tag(MetricCatalog.STATUS_CODE, status)
        .register(registry));
  }
}
