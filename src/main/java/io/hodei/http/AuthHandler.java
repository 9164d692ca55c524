package io.hodei.http;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.tenant.TenantAddresses;
import io.hodei.tenant.Tokens;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.Map;

/**
 * Resolves the bearer token to a {@link Caller} (asking the tenant domain, with a short cache) and puts it on the
 * context. It authenticates only: what the caller may do is decided by the domain.
 */
final class AuthHandler implements Handler<RoutingContext> {
  private static final int MAX_TOKEN_LENGTH = 512;
  private static final int MAX_CACHED = 10_000;

  private record Cached(Caller caller, long expiresAtNanos) {}

  private final Vertx vertx;
  private final long cacheNanos;
  private final Map<String, Cached> cache = new HashMap<>();

  AuthHandler(Vertx vertx, int cacheSeconds) {
    this.vertx = vertx;
    this.cacheNanos = cacheSeconds * 1_000_000_000L;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || header.isBlank()) {
      ctx.fail(DomainException.unauthorized("send an API token as 'Authorization: Bearer <token>'"));
      return;
    }
    if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)
        || header.length() - 7 > MAX_TOKEN_LENGTH) {
      ctx.fail(DomainException.unauthorized("the Authorization header must be 'Bearer <token>'"));
      return;
    }
    String hash = Tokens.hash(header.substring(7).trim());
    Cached cached = cache.get(hash);
    if (cached != null && cached.expiresAtNanos - System.nanoTime() > 0) {
      ctx.put(HttpKeys.CALLER, cached.caller);
      ctx.next();
      return;
    }
    JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject(),
        new JsonObject().put("token_hash", hash), null);
    Bus.request(vertx, TenantAddresses.AUTHENTICATE, envelope, Caller.system(), ctx.get(HttpKeys.TRACE_ID))
        .onSuccess(reply -> {
          Caller caller = Caller.fromJson(reply);
          if (cacheNanos > 0) {
            if (cache.size() >= MAX_CACHED) cache.clear();
            cache.put(hash, new Cached(caller, System.nanoTime() + cacheNanos));
          }
          ctx.put(HttpKeys.CALLER, caller);
          ctx.next();
        })
        .onFailure(ctx::fail);
  }
}
