package io.hodei.tracing;

import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.util.function.Supplier;

/**
 * Random ids, except while {@link #with} starts a root span that must join an existing trace id (a job's lifecycle
 * spans carry the trace id of the request that submitted it). The override is thread-confined and synchronous.
 */
final class TraceIdOverride implements IdGenerator {
  private static final IdGenerator RANDOM = IdGenerator.random();
  private final ThreadLocal<String> next = new ThreadLocal<>();

  <T> T with(String traceId, Supplier<T> start) {
    if (traceId == null || !TraceId.isValid(traceId)) return start.get();
    next.set(traceId);
    try {
      return start.get();
    } finally {
      next.remove();
    }
  }

  @Override
  public String generateSpanId() { return RANDOM.generateSpanId(); }

  @Override
  public String generateTraceId() {
    String traceId = next.get();
    return traceId != null ? traceId : RANDOM.generateTraceId();
  }
}
