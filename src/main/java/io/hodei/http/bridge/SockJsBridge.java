package io.hodei.http.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;

/**
 * The SockJS event-bus bridge (what {@code @vertx/eventbus-bridge-client.js} speaks), mounted at {@code /eventbus}
 * for every SockJS transport (websocket, xhr-streaming, xhr-polling, eventsource, ... and the raw WebSocket at
 * {@code /eventbus/websocket}). Each SockJS message is one JSON frame of the bridge protocol, handled by
 * {@link BridgeConnection}; every frame the server sends is JSON text (a text frame on a raw WebSocket).
 *
 * <p>The protocol is served here rather than by Vert.x's SockJS bridge because that one cannot say which address
 * a refused registration was for. Its keep-alive rule is kept: a connection that sends no frame for
 * {@value #PING_TIMEOUT_MS} ms is closed (the official client sends a ping every 5 s).
 */
final class SockJsBridge {
  static final String BRIDGE = "sockjs";
  static final long PING_TIMEOUT_MS = 10_000;

  private final BridgeGate gate;

  SockJsBridge(BridgeGate gate) {
    this.gate = gate;
  }

  Router router(Vertx vertx) {
    return SockJSHandler.create(vertx).socketHandler(socket -> connect(vertx, socket));
  }

  private void connect(Vertx vertx, SockJSSocket socket) {
    BridgeConnection connection = new BridgeConnection(vertx, gate, BRIDGE, "rec", false,
        new BridgeSession(socket.remoteAddress()), new BridgeConnection.Wire() {
          @Override public Future<Void> write(JsonObject frame) { return socket.write(frame.encode()); }
          @Override public boolean writeQueueFull() { return socket.writeQueueFull(); }
          @Override public void abort() { socket.close(); }
        });
    long keepAlive = vertx.setPeriodic(PING_TIMEOUT_MS, id -> {
      if (System.currentTimeMillis() - connection.lastFrameMillis() >= PING_TIMEOUT_MS) socket.close();
    });
    socket.handler(data -> frame(connection, data));
    socket.exceptionHandler(err -> socket.close());
    socket.closeHandler(v -> {
      vertx.cancelTimer(keepAlive);
      connection.release();
    });
  }

  private static void frame(BridgeConnection connection, Buffer data) {
    JsonObject frame;
    try {
      frame = data.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      connection.error(null, 400, BridgeConnection.INVALID_JSON);
      return;
    }
    connection.frame(frame);
  }
}
