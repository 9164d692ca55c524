package io.hodei.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The server's OpenTelemetry tracer: server spans for REST requests and gRPC calls (continuing a W3C
 * {@code traceparent}) and the job lifecycle spans of {@link JobTraceVerticle}. Off, it is a no-op tracer that still
 * continues an incoming trace id. The trace id of a server span is the {@code trace_id} of the response, the logs and
 * the event-bus request, so a job keeps the trace of the request that submitted it.
 */
public final class Tracing {
  public static final String INSTRUMENTATION = "io.hodei";
  static final String SERVICE_NAME = "hodei-pools";
  /** Server spans remembered by trace id so that job lifecycle spans hang under the request that submitted them. */
  static final int RECENT_SERVER_SPANS = 4096;
  private static final TextMapGetter<Supplier<String>> TRACEPARENT_GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Supplier<String> carrier) { return java.util.List.of("traceparent"); }

    @Override
    public String get(Supplier<String> carrier, String key) {
      return carrier != null && "traceparent".equals(key) ? carrier.get() : null;
    }
  };

  private final SdkTracerProvider provider;
  private final Tracer tracer;
  private final TraceIdOverride ids;
  private final TracingSettings settings;
  private final Map<String, SpanContext> recent = Collections.synchronizedMap(
      new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, SpanContext> eldest) {
          return size() > RECENT_SERVER_SPANS;
        }
      });

  private Tracing(TracingSettings settings, SdkTracerProvider provider, TraceIdOverride ids) {
    this.settings = settings;
    this.provider = provider;
    this.ids = ids;
    this.tracer = provider == null ? OpenTelemetry.noop().getTracer(INSTRUMENTATION)
        : provider.get(INSTRUMENTATION);
  }

  /** From configuration: an SDK exporting over OTLP/HTTP when an endpoint is set, else a no-op tracer. */
  public static Tracing create(TracingSettings settings) {
    if (!settings.enabled()) return new Tracing(settings, null, null);
    SpanProcessor processor = settings.otlpEndpoint() == null || settings.otlpEndpoint().isBlank()
        ? SpanProcessor.composite()
        : BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
            .setEndpoint(tracesUrl(settings.otlpEndpoint())).build()).build();
    return sdk(settings, processor);
  }

  /** Tracing exporting synchronously to {@code exporter} (tests: the SDK's in-memory exporter). */
  public static Tracing exportingTo(SpanExporter exporter, TracingSettings settings) {
    return sdk(settings, SimpleSpanProcessor.create(exporter));
  }

  private static Tracing sdk(TracingSettings settings, SpanProcessor processor) {
    TraceIdOverride ids = new TraceIdOverride();
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(
            Attributes.of(AttributeKey.stringKey("service.name"), SERVICE_NAME))))
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.samplePercent() / 100.0)))
        .setIdGenerator(ids)
        .addSpanProcessor(processor)
        .build();
    return new Tracing(settings, provider, ids);
  }

  /** The OTLP/HTTP traces URL of a collector base address ({@code http://collector:4318}) or of a full URL. */
  static String tracesUrl(String endpoint) {
    String e = endpoint.trim();
    if (e.endsWith("/v1/traces")) return e;
    return (e.endsWith("/") ? e.substring(0, e.length() - 1) : e) + "/v1/traces";
  }

  public boolean enabled() { return provider != null; }

  public TracingSettings settings() { return settings; }

  public Tracer tracer() { return tracer; }

  /**
   * Starts a server span continuing {@code traceparent} (when valid). {@code fallbackTraceId} supplies the trace id
   * when the span has none (tracing off and no incoming trace).
   */
  public ServerSpan startServer(String name, String traceparent, Supplier<String> fallbackTraceId) {
    Context parent = W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), () -> traceparent, TRACEPARENT_GETTER);
    Span span = tracer.spanBuilder(name).setSpanKind(SpanKind.SERVER).setParent(parent).startSpan();
    SpanContext context = span.getSpanContext();
    if (!context.isValid()) return new ServerSpan(span, fallbackTraceId.get());
    if (provider != null && context.isSampled()) recent.put(context.getTraceId(), context);
    return new ServerSpan(span, context.getTraceId());
  }

  /** The server span of a recent request of this trace, or null. */
  SpanContext recentServerSpan(String traceId) { return recent.get(traceId); }

  /**
   * Starts a root span whose trace id is {@code traceId} (a job whose submitting request is not known here: the
   * event bus bridge, a restart). Only with the SDK; the no-op tracer returns an invalid span.
   */
  Span startRoot(io.opentelemetry.api.trace.SpanBuilder builder, String traceId) {
    if (ids == null) return builder.startSpan();
    return ids.with(traceId, builder::startSpan);
  }

  /** Flushes and stops the SDK (exports what is buffered). */
  public CompletableResultCode shutdown() {
    if (provider == null) return CompletableResultCode.ofSuccess();
    CompletableResultCode done = provider.shutdown();
    done.join(5, TimeUnit.SECONDS);
    return done;
  }
}
