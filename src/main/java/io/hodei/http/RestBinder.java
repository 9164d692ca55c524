package io.hodei.http;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Binds REST routes to event-bus requests: path, query, JSON body and If-Match become the request envelope; the
 * reply becomes the JSON response (with {@code trace_id} and an {@code ETag} from {@code version}). No business
 * logic lives here.
 */
final class RestBinder {
  /** The caller of public routes: no token behind it; only addresses that serve anyone are forwarded as it. */
  static final Caller ANONYMOUS = new Caller("anonymous", Role.VIEWER, null);

  private final Vertx vertx;
  private final Router router;
  private final Handler<RoutingContext> auth;
  private final List<String> templates = new ArrayList<>();

  RestBinder(Vertx vertx, Router router, Handler<RoutingContext> auth) {
    this.vertx = vertx;
    this.router = router;
    this.auth = auth;
  }

  /** Every {@code METHOD template} bound so far (checked against the OpenAPI document in tests). */
  List<String> templates() { return Collections.unmodifiableList(templates); }

  /** A public route with a handler of its own (health, metrics, documents). */
  Route route(HttpMethod method, String template, Handler<RoutingContext> handler) {
    templates.add(method.name() + " " + template);
    return route(method, template).handler(tag(template)).handler(handler);
  }

  /** An authenticated route with a handler of its own. */
  Route authenticated(HttpMethod method, String template, Handler<RoutingContext> handler) {
    templates.add(method.name() + " " + template);
    return route(method, template).handler(tag(template)).handler(auth).handler(handler);
  }

  /** An authenticated route forwarded to a domain address; {@code status} is the success code. */
  void forward(HttpMethod method, String template, String address, int status) {
    authenticated(method, template, ctx -> send(ctx, address, ctx.get(HttpKeys.CALLER), reply -> status));
  }

  /**
   * An authenticated route forwarded to a domain address whose reply can also be rendered as {@code mediaType}
   * (such as text/csv): when the Accept header asks for it, {@code render} turns the JSON reply into the body (it may
   * throw a {@link DomainException}); otherwise the reply is JSON as with {@link #forward}.
   */
  void forwardNegotiated(HttpMethod method, String template, String address, String mediaType, String contentType,
                         java.util.function.Function<JsonObject, String> render) {
    authenticated(method, template, ctx -> {
      String accept = ctx.request().getHeader("Accept");
      if (accept == null || !accept.toLowerCase(java.util.Locale.ROOT).contains(mediaType)) {
        send(ctx, address, ctx.get(HttpKeys.CALLER), reply -> 200);
        return;
      }
      ask(ctx, address, ctx.get(HttpKeys.CALLER))
          .map(render::apply)
          .onSuccess(body -> ctx.response().setStatusCode(200).putHeader("Content-Type", contentType)
              .end(body))
          .onFailure(ctx::fail);
    });
  }

  /**
   * A public route (no token) forwarded to a domain address as {@link #ANONYMOUS}; the reply decides the status code
   * (health answers 503 when unhealthy). Only for addresses that serve anyone.
   */
  void forwardPublic(HttpMethod method, String template, String address, ToIntFunction<JsonObject> status) {
    route(method, template, ctx -> send(ctx, address, ANONYMOUS, status));
  }

  /** Like {@link #forwardPublic(HttpMethod, String, String, ToIntFunction)}, the reply completed by {@code add}. */
  void forwardPublic(HttpMethod method, String template, String address, ToIntFunction<JsonObject> status,
                     java.util.function.Consumer<JsonObject> add) {
    route(method, template, ctx -> ask(ctx, address, ANONYMOUS).onSuccess(reply -> {
      add.accept(reply);
      respond(ctx, status.applyAsInt(reply), reply);
    }).onFailure(ctx::fail));
  }

  Vertx vertx() { return vertx; }

  private void send(RoutingContext ctx, String address, Caller caller, ToIntFunction<JsonObject> status) {
    ask(ctx, address, caller)
        .onSuccess(reply -> respond(ctx, status.applyAsInt(reply), reply))
        .onFailure(ctx::fail);
  }

  /** The route's request envelope sent to {@code address} (an invalid request fails before anything is sent). */
  private io.vertx.core.Future<JsonObject> ask(RoutingContext ctx, String address, Caller caller) {
    JsonObject envelope;
    try {
      envelope = envelope(ctx);
    } catch (DomainException e) {
      return io.vertx.core.Future.failedFuture(e);
    }
    return Bus.request(vertx, address, envelope, caller, ctx.get(HttpKeys.TRACE_ID));
  }

  /** A template with a literal ':' (such as {@code /jobs:batch}) is matched exactly, not as a path parameter. */
  private Route route(HttpMethod method, String template) {
    if (template.contains(":")) return router.routeWithRegex(method, java.util.regex.Pattern.quote(template));
    return router.route(method, toVertxPath(template));
  }

  private static Handler<RoutingContext> tag(String template) {
    return ctx -> {
      ctx.put(HttpKeys.ENDPOINT, template);
      ctx.next();
    };
  }

  static JsonObject envelope(RoutingContext ctx) {
    JsonObject params = new JsonObject();
    ctx.pathParams().forEach(params::put);
    JsonObject query = new JsonObject();
    ctx.queryParams().names().forEach(name -> query.put(name, ctx.queryParams().get(name)));
    JsonObject envelope = BusRequest.envelope(params, query, body(ctx), ifMatch(ctx.request().getHeader("If-Match")));
    String idempotencyKey = ctx.request().getHeader("Idempotency-Key");
    if (idempotencyKey != null) envelope.put(BusRequest.IDEMPOTENCY_KEY, idempotencyKey);
    return envelope;
  }

  private static JsonObject body(RoutingContext ctx) {
    Buffer buffer = ctx.body() == null ? null : ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) return new JsonObject();
    String contentType = ctx.request().getHeader("Content-Type");
    if (contentType != null && !contentType.toLowerCase().contains("json")) {
      throw new DomainException(415, "Unsupported Media Type", "send the body as application/json");
    }
    Object parsed;
    try {
      parsed = Buffer.buffer(buffer.getBytes()).toJsonValue();
    } catch (RuntimeException e) {
      throw DomainException.badRequest("the body is not valid JSON");
    }
    if (!(parsed instanceof JsonObject json)) throw DomainException.badRequest("the body must be a JSON object");
    HostileInput.checkJson(json);
    return json;
  }

  /** Parses If-Match: {@code "3"}, {@code W/"3"} or {@code 3}; {@code *} means any version. */
  static Long ifMatch(String header) {
    if (header == null || header.isBlank()) return null;
    String value = header.trim();
    if (value.equals("*")) return null;
    if (value.startsWith("W/")) value = value.substring(2);
    value = value.replace("\"", "");
    if (!value.matches("\\d{1,18}")) {
      throw DomainException.preconditionFailed("If-Match must be an ETag this server issued, such as \"3\"");
    }
    return Long.parseLong(value);
  }

  private static void respond(RoutingContext ctx, int status, JsonObject reply) {
    if (status == 204) {
      ctx.response().setStatusCode(204).end();
      return;
    }
    Object version = reply.getValue("version");
    if (version instanceof Number) ctx.response().putHeader("ETag", "\"" + version + "\"");
    if (status == 201 && reply.getValue("id") instanceof String id) {
      ctx.response().putHeader("Location", ctx.request().path() + "/" + id);
    }
    reply.put("trace_id", (String) ctx.get(HttpKeys.TRACE_ID));
    // written as UTF-8 bytes at once (encode() would make a String for the response to encode again)
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(reply.toBuffer());
  }

  /** {@code /tenants/{id}} to Vert.x's {@code /tenants/:id}. */
  static String toVertxPath(String template) {
    return template.replaceAll("\\{([a-z_]+)}", ":$1");
  }
}
