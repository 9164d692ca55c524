package io.hodei.http.console;

import io.hodei.http.HttpKeys;
import io.hodei.http.TokenAuthenticator;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The web console: static pages and ES modules from the jar's {@code console/} resources at {@code /} and
 * {@value #BASE}/, and {@value #SESSION}, which tells the console who a bearer token is (role and tenant) so that it
 * shows only the controls the token may use. The console calls the REST API with the token like any other client
 * and follows {@code hodei.events.*} on the event-bus bridge's raw WebSocket ({@code /eventbus/websocket}): it has
 * no other access to the server.
 *
 * <p>Every console response carries a Content-Security-Policy that allows only the server's own scripts, styles,
 * images and connections (no inline script or style, no other origin, no framing). Pages are revalidated on each
 * load ({@code no-cache}); scripts and styles are cached for {@value #ASSET_MAX_AGE_SECONDS} s (their names carry no
 * content hash, so they cannot be immutable).
 */
public final class ConsoleRoutes {
  public static final String BASE = "/console";
  public static final String SESSION = BASE + "/session";
  /** Inline script and style are refused; connect-src 'self' covers the same-origin WebSocket of the bridge. */
  public static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
      + "img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
      + "frame-ancestors 'none'";
  static final long ASSET_MAX_AGE_SECONDS = 300;
  private static final String RESOURCES = "console";
  private static final String PAGE_CACHE = "no-cache";
  private static final String ASSET_CACHE = "public, max-age=" + ASSET_MAX_AGE_SECONDS;

  private ConsoleRoutes() {}

  /** Mounts the console on {@code router}; {@code authenticator} answers {@value #SESSION}. */
  public static void mount(Router router, TokenAuthenticator authenticator) {
    String index = resource("/" + RESOURCES + "/index.html");
    read(router, "/").handler(tag(BASE)).handler(ctx -> page(ctx, index));
    // a route on /console also matches /console/: only the bare path is redirected
    read(router, BASE).handler(ctx -> {
      if (!ctx.request().path().equals(BASE)) {
        ctx.next();
        return;
      }
      ctx.put(HttpKeys.ENDPOINT, BASE);
      ctx.response().setStatusCode(301).putHeader("Location", BASE + "/").end();
    });
    read(router, BASE + "/").handler(tag(BASE)).handler(ctx -> page(ctx, index));
    router.get(SESSION).handler(tag(SESSION)).handler(ctx -> session(ctx, authenticator));
    read(router, BASE + "/*").handler(tag(BASE + "/*")).handler(ConsoleRoutes::assetHeaders)
        .handler(StaticHandler.create(RESOURCES).setCachingEnabled(true).setMaxAgeSeconds(ASSET_MAX_AGE_SECONDS)
            .setDirectoryListing(false).setIncludeHidden(false).setDefaultContentEncoding("UTF-8"));
  }

  private static Route read(Router router, String path) {
    return router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
  }

  /** The metrics and log label of console requests: a fixed template, never the file name. */
  private static Handler<RoutingContext> tag(String endpoint) {
    return ctx -> {
      ctx.put(HttpKeys.ENDPOINT, endpoint);
      ctx.next();
    };
  }

  private static void securityHeaders(RoutingContext ctx) {
    ctx.response().putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY");
  }

  private static void page(RoutingContext ctx, String html) {
    securityHeaders(ctx);
    ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").putHeader("Cache-Control", PAGE_CACHE)
        .end(html);
  }

  private static void assetHeaders(RoutingContext ctx) {
    securityHeaders(ctx);
    ctx.response().putHeader("Cache-Control", ctx.request().path().endsWith(".html") ? PAGE_CACHE : ASSET_CACHE);
    ctx.next();
  }

  /** Who the bearer token is: {@code token_id}, {@code role}, {@code tenant_id} (null for admins); 401 otherwise. */
  private static void session(RoutingContext ctx, TokenAuthenticator authenticator) {
    SocketAddress remote = ctx.request().remoteAddress();
    authenticator.authenticate(ctx.request().getHeader("Authorization"), ctx.get(HttpKeys.TRACE_ID),
            remote == null ? null : remote.hostAddress())
        .onSuccess(caller -> {
          ctx.put(HttpKeys.CALLER, caller);
          JsonObject body = caller.toJson().put("trace_id", (String) ctx.get(HttpKeys.TRACE_ID));
          securityHeaders(ctx);
          ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
              .end(body.encode());
        })
        .onFailure(ctx::fail);
  }

  private static String resource(String name) {
    try (InputStream in = ConsoleRoutes.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException(name + " is missing from the classpath");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
