package io.hodei.http.grpc;

import io.hodei.http.TokenAuthenticator;
import io.hodei.http.TraceContext;
import io.hodei.tracing.ServerSpan;
import io.hodei.tracing.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.Service;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The gRPC face of Hodei Pools: the {@code hodei.v1} services, {@code grpc.health.v1} and server reflection v1, as
 * one handler of HTTP/2 requests. It serves on the REST port (dispatched by content type) and on its own port.
 * Health and reflection need no token; the {@code hodei.v1} services authenticate like REST.
 *
 * <p>A call still open after the keepalive interval (half of {@code server.idle_timeout_seconds}) sends an HTTP/2
 * PING on its connection at that interval until it ends, so a quiet stream such as {@code WatchJobs} is not closed
 * as idle, while a connection with no call open still is.
 */
public final class GrpcGateway implements Handler<HttpServerRequest> {
  /** Names of the services that report their health (the empty name is the whole server). */
  static final String SERVER_HEALTH = "";

  /**
   * The trace id of the call being dispatched: set while {@link GrpcServer#handle} runs (it calls the service handler
   * synchronously), so the handler reports the trace id of the call's server span.
   */
  static final ThreadLocal<String> DISPATCHING_TRACE_ID = new ThreadLocal<>();

  private final GrpcServer server;
  private final Tracing tracing;
  private final GrpcMetrics metrics;
  private final Set<String> methods = new HashSet<>();
  private final Vertx vertx;
  private final long keepaliveMillis;

  /**
   * @param readiness completes when the server can do its work (the database answers); health reports SERVING
   *                  only then
   * @param keepaliveMillis how often an open call pings its connection (0 = never)
   */
  public GrpcGateway(Vertx vertx, TokenAuthenticator authenticator, MeterRegistry registry,
                     Supplier<Future<Void>> readiness, Tracing tracing, long keepaliveMillis) {
    this.vertx = vertx;
    this.keepaliveMillis = keepaliveMillis;
    this.tracing = tracing;
    this.metrics = new GrpcMetrics(registry);
    GrpcTranslator translator = new GrpcTranslator(vertx, authenticator);
    List<Service> services = List.of(TenantGrpc.service(translator), PoolGrpc.pools(translator),
        PoolGrpc.workers(translator), JobGrpc.service(translator), ObservabilityGrpc.service(translator),
        CostGrpc.service(translator), AgentStream.service(vertx, authenticator.limiter()));
    Supplier<Future<Boolean>> serving = () -> readiness.get().map(true).otherwise(false);
    HealthService health = HealthService.create(vertx).register(SERVER_HEALTH, serving);
    services.forEach(service -> health.register(service.name().fullyQualifiedName(), serving));
    // grpc-timeout is honoured: a call still open at its deadline ends with DEADLINE_EXCEEDED
    this.server = GrpcServer.server(vertx, new GrpcServerOptions().setScheduleDeadlineAutomatically(true));
    services.forEach(server::addService);
    server.addService(health).addService(ReflectionService.v1());
    for (Service service : server.services()) {
      service.methodDescriptors().forEach(m -> methods.add(service.name().fullyQualifiedName() + "/" + m.getName()));
    }
    metrics.served(methods);
  }

  /** True for the content types of gRPC and gRPC-Web ({@code application/grpc}, {@code application/grpc+proto}...). */
  public static boolean isGrpc(HttpServerRequest request) {
    String contentType = request.getHeader("content-type");
    return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("application/grpc");
  }

  @Override
  public void handle(HttpServerRequest request) {
    String path = request.path();
    String method = path != null && path.length() > 1 && methods.contains(path.substring(1))
        ? path.substring(1) : GrpcMetrics.UNKNOWN_METHOD;
    HttpServerResponse response = request.response();
    long start = System.nanoTime();
    ServerSpan span = tracing.startServer(method, request.getHeader(TraceContext.TRACEPARENT), TraceContext::newTraceId);
    long keepAlive = keepAlive(request);
    response.endHandler(v -> {
      if (keepAlive >= 0) vertx.cancelTimer(keepAlive);
      String status = status(response);
      metrics.record(method, status, System.nanoTime() - start);
      span.endGrpc(method, status);
    });
    DISPATCHING_TRACE_ID.set(span.traceId());
    try {
      server.handle(request);
    } finally {
      DISPATCHING_TRACE_ID.remove();
    }
  }

  /**
   * Pings the call's HTTP/2 connection every keepalive interval while the call is open (see the class doc); returns
   * the timer (cancelled when the response ends, or at its next tick once the stream is gone), or -1.
   */
  private long keepAlive(HttpServerRequest request) {
    if (keepaliveMillis <= 0 || request.version() != io.vertx.core.http.HttpVersion.HTTP_2) return -1;
    HttpServerResponse response = request.response();
    return vertx.setPeriodic(keepaliveMillis, timer -> {
      if (response.ended() || response.closed()) {
        vertx.cancelTimer(timer);
        return;
      }
      byte[] payload = new byte[8];
      request.connection().ping(io.vertx.core.buffer.Buffer.buffer(payload));
    });
  }

  /**
   * The grpc-status the call ended with: a trailer, or a header in a trailers-only response. A call that ended with
   * no status at all was reset by the client (or lost its connection) before the server answered: CANCELLED, as
   * gRPC names a call its client ended.
   */
  private static String status(HttpServerResponse response) {
    String code = firstNonNull(response.trailers(), response.headers());
    if (code == null) return GrpcStatus.CANCELLED.name();
    try {
      GrpcStatus status = GrpcStatus.valueOf(Integer.parseInt(code.trim()));
      return status == null ? GrpcStatus.UNKNOWN.name() : status.name();
    } catch (RuntimeException e) {
      return GrpcStatus.UNKNOWN.name();
    }
  }

  private static String firstNonNull(MultiMap trailers, MultiMap headers) {
    String code = trailers.get("grpc-status");
    return code != null ? code : headers.get("grpc-status");
  }
}
