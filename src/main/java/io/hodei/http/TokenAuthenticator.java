package io.hodei.http;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.tenant.TenantAddresses;
import io.hodei.tenant.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * Resolves an {@code Authorization: Bearer <token>} value to a {@link Caller} by asking the tenant domain, with a
 * short cache of verified tokens. REST ({@link AuthHandler}) and gRPC (the {@code authorization} metadata) share one
 * instance per HTTP verticle, so both surfaces accept exactly the same tokens. Used on the verticle's event loop only.
 */
public final class TokenAuthenticator {
  private static final int MAX_TOKEN_LENGTH = 512;
  private static final int MAX_CACHED = 10_000;

  private record Cached(Caller caller, long expiresAtNanos) {}

  private final Vertx vertx;
  private final long cacheNanos;
  private final AuthFailureLimiter limiter;
  private final Map<String, Cached> cache = new HashMap<>();

  public TokenAuthenticator(Vertx vertx, int cacheSeconds, AuthFailureLimiter limiter) {
    this.vertx = vertx;
    this.cacheNanos = cacheSeconds * 1_000_000_000L;
    this.limiter = limiter;
  }

  /** The failure limiter this authenticator counts with (shared with the agents' stream). */
  public AuthFailureLimiter limiter() { return limiter; }

  /**
   * The caller of a bearer header value, or a failed future with a 401 {@link DomainException}, or a 429 when
   * {@code remoteAddress} has failed too often (see {@link AuthFailureLimiter}). A missing header is a 401 that is not
   * counted: only a presented credential that fails is a failed authentication.
   */
  public Future<Caller> authenticate(String authorizationHeader, String traceId, String remoteAddress) {
    return authenticate(authorizationHeader, traceId, () -> remoteAddress);
  }

  /**
   * Like {@link #authenticate(String, String, String)}, the client's address asked for only when the credential
   * fails (finding it costs a little on every request otherwise).
   */
  public Future<Caller> authenticate(String authorizationHeader, String traceId,
                                     java.util.function.Supplier<String> remoteAddress) {
    String header = authorizationHeader;
    if (header == null || header.isBlank()) {
      return Future.failedFuture(DomainException.unauthorized("send an API token as 'Authorization: Bearer <token>'"));
    }
    return verify(header, traceId).recover(err -> Future.failedFuture(
        err instanceof DomainException d && d.status() == 401 ? limiter.failed(remoteAddress.get(), d) : err));
  }

  private Future<Caller> verify(String header, String traceId) {
    if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)
        || header.length() - 7 > MAX_TOKEN_LENGTH) {
      return Future.failedFuture(DomainException.unauthorized("the Authorization header must be 'Bearer <token>'"));
    }
    String hash = Tokens.hash(header.substring(7).trim());
    Cached cached = cache.get(hash);
    if (cached != null && cached.expiresAtNanos - System.nanoTime() > 0) return Future.succeededFuture(cached.caller);
    JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject(),
        new JsonObject().put("token_hash", hash), null);
    return Bus.request(vertx, TenantAddresses.AUTHENTICATE, envelope, Caller.system(), traceId).map(reply -> {
      Caller caller = Caller.fromJson(reply);
      if (cacheNanos > 0) {
        if (cache.size() >= MAX_CACHED) cache.clear();
        cache.put(hash, new Cached(caller, System.nanoTime() + cacheNanos));
      }
      return caller;
    });
  }
}
