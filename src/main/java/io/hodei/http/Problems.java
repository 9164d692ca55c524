package io.hodei.http;

import io.hodei.common.Bus;
import io.hodei.common.DomainException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Renders failures as RFC 9457 {@code application/problem+json} with the trace id. */
final class Problems {
  static final String CONTENT_TYPE = "application/problem+json";

  private Problems() {}

  static void send(RoutingContext ctx, Throwable failure) { send(ctx, Bus.toDomain(failure)); }

  static void send(RoutingContext ctx, DomainException problem) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    String traceId = ctx.get(HttpKeys.TRACE_ID);
    if (traceId == null) {
      // failed before the first handler (the router could not match the request at all)
      traceId = TraceContext.newTraceId();
      ctx.put(HttpKeys.TRACE_ID, traceId);
      ctx.response().putHeader(TraceContext.TRACE_ID_HEADER, traceId);
    }
    JsonObject body = new JsonObject()
        .put("type", "about:blank")
        .put("title", problem.title())
        .put("status", problem.status())
        .put("detail", problem.detail())
        .put("instance", ctx.request().path())
        .put("trace_id", traceId);
    problem.extensions().forEach(e -> body.put(e.getKey(), e.getValue()));
    if (problem.status() == 401) ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"hodei\"");
    if (problem.status() == 503) ctx.response().putHeader("Retry-After", "5");
    if (problem.status() == 429 && problem.extensions().getValue(AuthFailureLimiter.RETRY_AFTER_SECONDS)
        instanceof Number seconds) {
      ctx.response().putHeader("Retry-After", Long.toString(seconds.longValue()));
    }
    ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", CONTENT_TYPE).end(body.encode());
  }

  /**
   * Answers a request the HTTP decoder could not parse (a bad request line or header, one too long) as a problem, as
   * every other error, then closes the connection: what follows on it cannot be trusted to be framed right.
   */
  static void sendInvalid(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    int status;
    String title;
    String detail;
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      status = 414;
      title = "URI Too Long";
      detail = "the request line is too long";
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      status = 431;
      title = "Request Header Fields Too Large";
      detail = "the request headers are too large";
    } else {
      status = 400;
      title = "Bad Request";
      detail = "the request line or headers are malformed";
    }
    String traceId = TraceContext.newTraceId();
    JsonObject body = new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
        .put("detail", detail).put("trace_id", traceId);
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) return;
    response.setStatusCode(status).putHeader("Content-Type", CONTENT_TYPE)
        .putHeader(TraceContext.TRACE_ID_HEADER, traceId).putHeader("Connection", "close")
        .end(body.encode()).onComplete(v -> request.connection().close());
  }
}
