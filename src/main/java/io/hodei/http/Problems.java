package io.hodei.http;

import io.hodei.common.Bus;
import io.hodei.common.DomainException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Renders failures as RFC 9457 {@code application/problem+json} with the trace id. */
final class Problems {
  static final String CONTENT_TYPE = "application/problem+json";

  private Problems() {}

  static void send(RoutingContext ctx, Throwable failure) { send(ctx, Bus.toDomain(failure)); }

  static void send(RoutingContext ctx, DomainException problem) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    JsonObject body = new JsonObject()
        .put("type", "about:blank")
        .put("title", problem.title())
        .put("status", problem.status())
        .put("detail", problem.detail())
        .put("instance", ctx.request().path())
        .put("trace_id", (String) ctx.get(HttpKeys.TRACE_ID));
    problem.extensions().forEach(e -> body.put(e.getKey(), e.getValue()));
    if (problem.status() == 401) ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"hodei\"");
    if (problem.status() == 503) ctx.response().putHeader("Retry-After", "5");
    ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", CONTENT_TYPE).end(body.encode());
  }
}
