package io.hodei.http.bridge;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import java.util.HashMap;
import java.util.Map;

/**
 * The SockJS event-bus bridge (what {@code @vertx/eventbus-bridge-client.js} speaks), mounted at {@code /eventbus}.
 * Vert.x does the protocol; the bridge event hook applies {@link BridgeGate}: REGISTER needs a valid token, and each
 * RECEIVE (an event on its way to the client) is filtered and written here, so the write can be counted and bounded.
 */
final class SockJsBridge {
  static final String BRIDGE = "sockjs";

  private final BridgeGate gate;
  private final Map<SockJSSocket, BridgeSession> sessions = new HashMap<>();

  SockJsBridge(BridgeGate gate) {
    this.gate = gate;
  }

  Router router(Vertx vertx) {
    SockJSBridgeOptions options = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(BridgeGate.OUTBOUND_ADDRESS_REGEX));
    return SockJSHandler.create(vertx).bridge(options, this::handle);
  }

  private void handle(BridgeEvent event) {
    SockJSSocket socket = event.socket();
    JsonObject raw = event.getRawMessage();
    switch (event.type()) {
      case SOCKET_CREATED -> {
        sessions.put(socket, new BridgeSession(socket.remoteAddress()));
        event.complete(true);
      }
      case REGISTER -> gate.authenticate(session(socket), raw.getJsonObject("headers")).onComplete(ar -> {
        if (ar.failed()) gate.unauthorized();
        event.complete(ar.succeeded());
      });
      case REGISTERED -> {
        gate.registered(session(socket), raw.getString("address"));
        event.complete(true);
      }
      case UNREGISTER -> {
        gate.unregistered(session(socket), raw.getString("address"));
        event.complete(true);
      }
      // Nothing is permitted inbound, so the bridge refuses these; a token in their headers still signs the socket in.
      case SEND, PUBLISH -> gate.authenticate(session(socket), raw.getJsonObject("headers"))
          .onComplete(ar -> event.complete(true));
      case RECEIVE -> {
        BridgeSession session = session(socket);
        gate.deliver(session, BRIDGE, raw.getValue("body"), () -> socket.write(Buffer.buffer(raw.encode())),
            socket.writeQueueFull(), socket::close);
        // Written above (or dropped): the bridge must not write it again.
        event.complete(false);
      }
      case SOCKET_CLOSED -> {
        BridgeSession session = sessions.remove(socket);
        if (session != null) gate.closed(session);
        event.complete(true);
      }
      default -> event.complete(true);
    }
  }

  private BridgeSession session(SockJSSocket socket) {
    return sessions.computeIfAbsent(socket, s -> new BridgeSession(s.remoteAddress()));
  }
}
