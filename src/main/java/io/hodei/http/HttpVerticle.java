package io.hodei.http;

import io.hodei.common.DomainException;
import io.hodei.http.bridge.EventBridges;
import io.hodei.http.console.ConsoleRoutes;
import io.hodei.http.grpc.GrpcGateway;
import io.hodei.tracing.ServerSpan;
import io.hodei.tracing.Tracing;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The HTTP face of Hodei Pools: REST under /api/v1, health, metrics, the OpenAPI document and gRPC (on the same port
 * by content type, over h2c, and on server.grpc_port). It translates requests to event-bus calls and replies; domains
 * decide.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger("hodei.http");
  private static final Logger ERRORS = LoggerFactory.getLogger(HttpVerticle.class);

  private final HttpSettings settings;
  private final PrometheusMeterRegistry registry;
  private final Supplier<Future<Void>> readiness;
  private final Tracing tracing;
  private final String openApi;
  private HttpServer server;
  private HttpServer metricsServer;
  private HttpServer grpcServer;
  private EventBridges bridges;
  private List<String> templates = List.of();

  public HttpVerticle(HttpSettings settings, PrometheusMeterRegistry registry, Supplier<Future<Void>> readiness,
                      Tracing tracing) {
    this.settings = settings;
    this.tracing = tracing;
    this.registry = registry;
    this.readiness = readiness;
    this.openApi = loadResource("/openapi.json");
  }

  public int port() { return server.actualPort(); }

  /** The separate scrape listener's port, or -1 when there is none. */
  public int metricsPort() { return metricsServer == null ? -1 : metricsServer.actualPort(); }

  /** The separate gRPC listener's port, or -1 when there is none. */
  public int grpcPort() { return grpcServer == null ? -1 : grpcServer.actualPort(); }

  /** The TCP event-bus bridge's port, or -1 when it is off. */
  public int bridgeTcpPort() { return bridges == null ? -1 : bridges.tcpPort(); }

  /** Every {@code METHOD /template} this verticle serves. */
  public List<String> routeTemplates() { return templates; }

  @Override
  public Future<?> start() {
    HttpMetrics metrics = new HttpMetrics(registry);
    Router router = Router.router(vertx);
    router.route().handler(ctx -> observe(ctx, metrics));
    router.route().handler(HttpVerticle::refuseHostileInput);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(settings.bodyLimitBytes()));

    HttpSettings.Edge edge = settings.edge();
    TokenAuthenticator authenticator = new TokenAuthenticator(vertx, settings.tokenCacheSeconds(),
        new AuthFailureLimiter(edge.authFailureLimit(), edge.authFailureWindowSeconds(), registry));
    AuthHandler auth = new AuthHandler(authenticator);
    RestBinder rest = new RestBinder(vertx, router, auth);
    MetricsEndpoint metricsEndpoint = new MetricsEndpoint(vertx, registry);
    rest.route(HttpMethod.GET, "/health/live", ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    rest.route(HttpMethod.GET, "/health/ready", this::ready);
    if (settings.prometheusEnabled()) {
      for (String path : List.of("/metrics", "/api/v1/metrics")) {
        if (settings.metricsRequireToken()) rest.authenticated(HttpMethod.GET, path, metricsEndpoint);
        else rest.route(HttpMethod.GET, path, metricsEndpoint);
      }
    }
    rest.route(HttpMethod.GET, "/api/v1/openapi", ctx -> ctx.response()
        .putHeader("Content-Type", "application/json").end(openApi));
    // the busiest routes first: the router tries routes in order (a regex per templated path) until one matches, and
    // no two domains' paths overlap, so the order changes nothing but the work done per job submission
    JobRoutes.bind(rest);
    TenantRoutes.bind(rest);
    PoolRoutes.bind(rest);
    MetricsRoutes.bind(rest);
    CostRoutes.bind(rest);
    ScalingRoutes.bind(rest);
    templates = rest.templates();
    bridges = new EventBridges(vertx, authenticator, registry, settings.bridge());
    router.route(EventBridges.PATH + "/*").handler(ctx -> {
      ctx.put(HttpKeys.ENDPOINT, EventBridges.PATH);
      ctx.next();
    });
    bridges.mount(router);
    ConsoleRoutes.mount(router, authenticator);

    router.route().failureHandler(this::failure);
    router.errorHandler(404, ctx -> Problems.send(ctx, new DomainException(404, "Not Found",
        "no resource at " + ctx.request().path() + "; see /api/v1/openapi")));
    // Failures of the router itself (a request it cannot match, such as a malformed path) are problems too.
    router.errorHandler(400, ctx -> Problems.send(ctx, DomainException.badRequest("the request is malformed")));
    router.errorHandler(500, ctx -> {
      ERRORS.error("unhandled router failure", kv("trace_id", (String) ctx.get(HttpKeys.TRACE_ID)), ctx.failure());
      Problems.send(ctx, new DomainException(500, "Internal Server Error", "the request could not be processed"));
    });
    router.errorHandler(405, ctx -> Problems.send(ctx, new DomainException(405, "Method Not Allowed",
        ctx.request().method() + " is not supported on " + ctx.request().path())));

    SlowClientGuard slowClients = new SlowClientGuard(edge.idleTimeoutSeconds(), edge.headerTimeoutSeconds(),
        edge.bodyTimeoutSeconds());
    HttpServerOptions options = slowClients.options().setHost(settings.host()).setPort(settings.port())
        .setMaxHeaderSize(16 * 1024).setCompressionSupported(true);
    long keepaliveMillis = edge.idleTimeoutSeconds() * 1000L / 2;
    GrpcGateway grpc = new GrpcGateway(vertx, authenticator, registry, readiness, tracing, keepaliveMillis);
    server = vertx.createHttpServer(options)
        .connectionHandler(slowClients::watch)
        .invalidRequestHandler(Problems::sendInvalid)
        .exceptionHandler(this::connectionFailure)
        .requestHandler(req -> {
          if (GrpcGateway.isGrpc(req)) grpc.handle(req);
          else router.handle(req);
        });
    Future<?> main = server.listen().recover(err -> Future.failedFuture(
        new IllegalStateException("server.port " + settings.port() + ": " + reason(err))));
    if (settings.grpcPort() >= 0) {
      HttpServerOptions grpcOptions = slowClients.options().setHost(settings.host()).setPort(settings.grpcPort());
      if (settings.grpcTls() != null) {
        grpcOptions.setSsl(true).setUseAlpn(true).setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
            .setCertPath(settings.grpcTls().certFile()).setKeyPath(settings.grpcTls().keyFile()));
      }
      grpcServer = vertx.createHttpServer(grpcOptions).connectionHandler(slowClients::watch)
          .exceptionHandler(this::connectionFailure).requestHandler(grpc);
      main = main.compose(v -> grpcServer.listen().recover(err -> Future.failedFuture(
          new IllegalStateException("server.grpc_port " + settings.grpcPort() + ": " + reason(err)))));
    }
    main = main.compose(v -> bridges.listen());
    if (!settings.prometheusEnabled() || settings.prometheusPort() < 0) return main;
    Router scrape = Router.router(vertx);
    scrape.route().handler(ctx -> observe(ctx, metrics));
    scrape.get(settings.prometheusPath()).handler(ctx -> {
      ctx.put(HttpKeys.ENDPOINT, settings.prometheusPath());
      ctx.next();
    }).handler(metricsEndpoint);
    metricsServer = vertx.createHttpServer(slowClients.options().setHost(settings.host())
        .setPort(settings.prometheusPort())).connectionHandler(slowClients::watch)
        .invalidRequestHandler(Problems::sendInvalid).exceptionHandler(this::connectionFailure)
        .requestHandler(scrape);
    return main.compose(v -> metricsServer.listen().recover(err -> Future.failedFuture(
        new IllegalStateException("metrics.prometheus.port " + settings.prometheusPort() + ": " + reason(err)))));
  }

  @Override
  public Future<?> stop() {
    Future<Void> scrape = metricsServer == null ? Future.succeededFuture() : metricsServer.close();
    Future<Void> grpc = grpcServer == null ? Future.succeededFuture()
        : grpcServer.shutdown(settings.shutdownTimeoutSeconds(), TimeUnit.SECONDS);
    Future<Void> tcpBridge = bridges == null ? Future.succeededFuture() : bridges.close();
    return Future.all(server.shutdown(settings.shutdownTimeoutSeconds(), TimeUnit.SECONDS), grpc, scrape, tcpBridge);
  }

  /** First handler of every request: hostile bytes end here as a 400 (see {@link HostileInput}). */
  private static void refuseHostileInput(RoutingContext ctx) {
    DomainException problem = HostileInput.inRequest(ctx.request());
    if (problem != null) {
      Problems.send(ctx, problem);
    } else {
      ctx.next();
    }
  }

  /**
   * A connection-level failure (no request to answer): a client that went away, or that sent bytes the HTTP decoder
   * refused (answered 400 by {@link Problems#sendInvalid}), is routine.
   */
  private void connectionFailure(Throwable failure) {
    if (ClientGone.is(failure) || failure instanceof IllegalArgumentException
        || failure instanceof io.netty.handler.codec.CodecException) {
      ERRORS.debug("connection failure caused by the client", kv("reason", String.valueOf(failure.getMessage())));
    } else {
      ERRORS.warn("connection failure", kv("reason", String.valueOf(failure.getMessage())), failure);
    }
  }

  private static String reason(Throwable err) {
    String message = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return message.toLowerCase().contains("address already in use") ? "address already in use" : message;
  }

  /**
   * A server span and its trace id on every response, then one JSON log line, the HTTP meters and the span's end
   * when the response ends.
   */
  private void observe(RoutingContext ctx, HttpMetrics metrics) {
    long start = System.nanoTime();
    ServerSpan span = tracing.startServer(ctx.request().method().name(),
        ctx.request().getHeader(TraceContext.TRACEPARENT), TraceContext::newTraceId);
    String traceId = span.traceId();
    ctx.put(HttpKeys.TRACE_ID, traceId);
    ctx.response().putHeader(TraceContext.TRACE_ID_HEADER, traceId)
        .putHeader(TraceContext.TRACEPARENT, span.traceparent(TraceContext.newSpanId()));
    ctx.addEndHandler(done -> {
      long nanos = System.nanoTime() - start;
      String endpoint = ctx.get(HttpKeys.ENDPOINT, HttpKeys.UNMATCHED);
      int status = ctx.response().getStatusCode();
      String method = ctx.request().method().name();
      metrics.record(method, endpoint, status, nanos);
      io.hodei.common.Caller caller = ctx.get(HttpKeys.CALLER);
      span.endHttp(method, endpoint, ctx.request().path(), status, caller == null ? null : caller.tenantId());
      // per request: the arguments are not even built when INFO is off
      if (!LOG.isInfoEnabled()) return;
      LOG.info("{} {} {}", method, endpoint, status,
          kv("trace_id", traceId), kv("method", method), kv("endpoint", endpoint), kv("path", ctx.request().path()),
          kv("status", status), kv("duration_ms", nanos / 1_000_000.0),
          kv("token_id", caller == null ? null : caller.tokenId()),
          kv("tenant_id", caller == null ? null : caller.tenantId()));
    });
    ctx.next();
  }

  private void ready(RoutingContext ctx) {
    readiness.get().onComplete(ar -> {
      if (ar.succeeded()) {
        json(ctx, 200, new JsonObject().put("status", "UP").put("database", "UP"));
      } else {
        ctx.response().putHeader("Retry-After", "5");
        json(ctx, 503, new JsonObject().put("status", "DOWN").put("database", "DOWN")
            .put("reason", ar.cause().getMessage()));
      }
    });
  }

  private void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure == null) {
      int status = ctx.statusCode();
      String detail = switch (status) {
        case 413 -> "the request body is larger than " + settings.bodyLimitBytes() + " bytes";
        case 404 -> "no resource at " + ctx.request().path();
        default -> "the request could not be processed";
      };
      Problems.send(ctx, new DomainException(status, status == 413 ? "Content Too Large" : "Error", detail));
      return;
    }
    if (ClientGone.is(failure)) {
      // the client closed the connection (or it was closed as too slow) while we read its request: nobody to answer
      ERRORS.debug("client went away during the request", kv("trace_id", (String) ctx.get(HttpKeys.TRACE_ID)),
          kv("path", ctx.request().path()), kv("reason", String.valueOf(failure.getMessage())));
      return;
    }
    if (!(failure instanceof DomainException) && !(failure instanceof io.vertx.core.eventbus.ReplyException)) {
      ERRORS.error("unhandled failure", kv("trace_id", (String) ctx.get(HttpKeys.TRACE_ID)), failure);
    }
    Problems.send(ctx, failure);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    body.put("trace_id", (String) ctx.get(HttpKeys.TRACE_ID));
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static String loadResource(String name) {
    try (InputStream in = HttpVerticle.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException(name + " is missing from the classpath");
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
