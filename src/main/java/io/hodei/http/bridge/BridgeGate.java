package io.hodei.http.bridge;

import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.http.TokenAuthenticator;
import io.hodei.http.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The rules both bridges (SockJS and TCP) apply: who a connection is (its bearer token), what it may register on
 * ({@code hodei.events.*} only), which events it sees (its tenant's, or every one for an admin, plus the events that
 * belong to no tenant), and how much may wait for a slow reader before events are dropped and the connection closed.
 */
final class BridgeGate {
  /** The only addresses a bridge client may register on; nothing is permitted inbound. */
  static final String OUTBOUND_ADDRESS_REGEX = Pattern.quote(Events.PREFIX) + ".+";
  static final String AUTHORIZATION = "authorization";
  private static final Pattern OUTBOUND = Pattern.compile(OUTBOUND_ADDRESS_REGEX);
  private static final Logger LOG = LoggerFactory.getLogger(BridgeGate.class);

  private final TokenAuthenticator authenticator;
  private final BridgeMetrics metrics;
  private final int maxBuffered;

  BridgeGate(TokenAuthenticator authenticator, BridgeMetrics metrics, int maxBuffered) {
    this.authenticator = authenticator;
    this.metrics = metrics;
    this.maxBuffered = maxBuffered;
  }

  static boolean permitted(String address) { return address != null && OUTBOUND.matcher(address).matches(); }

  /**
   * The caller of a frame: the token in its {@code headers.authorization} (remembered for the connection's later
   * frames), else the one the connection sent before; a 401 when there is none or it is not valid.
   */
  Future<Caller> authenticate(BridgeSession session, JsonObject headers) {
    Object header = headers == null ? null : headers.getValue(AUTHORIZATION, headers.getValue("Authorization"));
    if (header == null) {
      // A frame without a token right after one with a token waits for that token's check.
      return session.lastAuthentication.transform(ignored -> session.caller != null
          ? Future.succeededFuture(session.caller)
          : Future.failedFuture(DomainException.unauthorized("send 'authorization: Bearer <token>' in the headers")));
    }
    Future<Caller> authenticated = authenticator.authenticate(header.toString(), TraceContext.traceId((String) null),
            session.remoteAddress)
        .onSuccess(caller -> session.caller = caller);
    session.lastAuthentication = authenticated;
    return authenticated;
  }

  /** A registration refused for lack of a valid token. */
  void unauthorized() { metrics.dropped(BridgeMetrics.UNAUTHORIZED); }

  void registered(BridgeSession session, String address) {
    if (session.addresses.add(address)) metrics.subscribersChanged(1);
  }

  void unregistered(BridgeSession session, String address) {
    if (session.addresses.remove(address)) metrics.subscribersChanged(-1);
  }

  /** The connection is gone, or being closed: its registrations stop counting and it gets no more events. */
  void closed(BridgeSession session) {
    session.closed = true;
    metrics.subscribersChanged(-session.addresses.size());
    session.addresses.clear();
  }

  /** An event with a tenant_id is its tenant's (and the admins'); one without is infrastructure, seen by everyone. */
  static boolean visible(Caller caller, Object body) {
    if (caller == null) return false;
    Object tenant = body instanceof JsonObject json ? json.getValue("tenant_id") : null;
    return tenant == null || caller.isAdmin() || tenant.toString().equals(caller.tenantId());
  }

  /**
   * Delivers one event to a connection, or drops it: when the caller may not see it (silently), or when the
   * connection already has {@code max_buffered_messages} events unflushed or a full write queue (counted as
   * slow_consumer). After 2 x max drops in a row (3 x max events the reader did not take) the connection is closed.
   *
   * @param write writes the event to the connection; its future completes once the event is flushed
   * @param writeQueueFull whether the connection's own write queue is full now
   */
  void deliver(BridgeSession session, String bridge, Object body, Supplier<Future<Void>> write,
               boolean writeQueueFull, Runnable close) {
    if (session.closed) return;
    if (!visible(session.caller, body)) return;
    if (session.pending >= maxBuffered || writeQueueFull) {
      metrics.dropped(BridgeMetrics.SLOW_CONSUMER);
      if (++session.dropsInARow >= 2 * maxBuffered) {
        LOG.warn("closing a bridge connection that does not read its events", kv("bridge", bridge),
            kv("token_id", session.caller.tokenId()), kv("tenant_id", session.caller.tenantId()),
            kv("pending", session.pending), kv("dropped_in_a_row", session.dropsInARow));
        closed(session);
        close.run();
      }
      return;
    }
    session.dropsInARow = 0;
    session.pending++;
    write.get().onComplete(ar -> session.pending--);
    metrics.received(body instanceof JsonObject json && json.getValue("type") instanceof String type ? type : null);
  }
}
