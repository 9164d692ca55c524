package io.hodei.http.bridge;

import io.hodei.http.TokenAuthenticator;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The event-bus bridges for outside consumers: SockJS at {@value #PATH} on the HTTP port and TCP on
 * {@code bridge.tcp_port}. Both carry {@code hodei.events.*} outbound only, to token holders, filtered to the
 * caller's tenant; see {@link BridgeGate}.
 */
public final class EventBridges {
  public static final String PATH = "/eventbus";

  private final Vertx vertx;
  private final BridgeSettings settings;
  private final BridgeGate gate;
  private TcpBridge tcp;

  public EventBridges(Vertx vertx, TokenAuthenticator authenticator, MeterRegistry registry, BridgeSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.gate = new BridgeGate(authenticator, new BridgeMetrics(registry), settings.maxBufferedMessages());
  }

  /** Mounts the SockJS bridge on {@code router} at {@value #PATH}. */
  public void mount(Router router) {
    // The SockJS fallback transports (xhr, eventsource's xhr_send, jsonp) send client frames as POST bodies, which
    // SockJS reads from a BodyHandler; client frames are small, so the bound is the TCP bridge's frame limit.
    router.post(PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(TcpBridge.MAX_FRAME_BYTES));
    router.route(PATH + "/*").subRouter(new SockJsBridge(gate).router(vertx));
  }

  /** Starts the TCP bridge unless {@code bridge.tcp_port} is -1. */
  public Future<Void> listen() {
    if (settings.tcpPort() < 0) return Future.succeededFuture();
    tcp = new TcpBridge(vertx, gate, settings);
    return tcp.listen().recover(err -> Future.failedFuture(
        new IllegalStateException("bridge.tcp_port " + settings.tcpPort() + ": " + err.getMessage())));
  }

  /** The TCP bridge's port, or -1 when it is off. */
  public int tcpPort() { return tcp == null ? -1 : tcp.port(); }

  public Future<Void> close() { return tcp == null ? Future.succeededFuture() : tcp.close(); }
}
