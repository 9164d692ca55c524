package io.hodei.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Puts the {@link io.hodei.common.Caller} of the request's bearer token on the context (see
 * {@link TokenAuthenticator}). It authenticates only: what the caller may do is decided by the domain.
 */
final class AuthHandler implements Handler<RoutingContext> {
  private final TokenAuthenticator authenticator;

  AuthHandler(TokenAuthenticator authenticator) {
    this.authenticator = authenticator;
  }

  @Override
  public void handle(RoutingContext ctx) {
    authenticator.authenticate(ctx.request().getHeader("Authorization"), ctx.get(HttpKeys.TRACE_ID),
            () -> remoteAddress(ctx.request()))
        .onSuccess(caller -> {
          ctx.put(HttpKeys.CALLER, caller);
          ctx.next();
        })
        .onFailure(ctx::fail);
  }

  /** The client's address (the peer of the connection: a proxy's forwarding headers are not trusted). */
  static String remoteAddress(io.vertx.core.http.HttpServerRequest request) {
    io.vertx.core.net.SocketAddress remote = request.remoteAddress();
    return remote == null ? null : remote.hostAddress();
  }
}
