package io.hodei.http.bridge;

import io.hodei.common.Caller;
import io.vertx.core.Future;
import java.util.HashSet;
import java.util.Set;

/** What a bridge remembers about one connection. Touched only on the connection's event loop. */
final class BridgeSession {
  /** The client's address (host), for the failed-authentication limit; null when unknown. */
  final String remoteAddress;
  /** The caller of the last valid token the connection sent, or null while it sent none. */
  Caller caller;
  /** The check of the last token the connection sent (frames without a token wait for it). */
  Future<Caller> lastAuthentication = Future.succeededFuture();
  /** The addresses the connection is registered on (each counts as one subscriber). */
  final Set<String> addresses = new HashSet<>();
  /** Events written to the connection and not yet flushed to it. */
  int pending;
  /** Events dropped since the connection last accepted one. */
  int dropsInARow;
  boolean closed;

  BridgeSession(io.vertx.core.net.SocketAddress remote) {
    this.remoteAddress = remote == null ? null : remote.hostAddress();
  }
}
