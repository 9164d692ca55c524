package io.hodei.http.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.Map.Entry;

/**
 * The TCP event-bus bridge, wire-compatible with {@code vertx-tcp-eventbus-bridge} clients: each frame is a 4-byte
 * big-endian length and that many bytes of UTF-8 JSON ({@code {type, address, headers, body}}); the server sends
 * {@code {type:"message", address, headers, body, send:false}}, {@code {type:"err", message}} and
 * {@code {type:"pong"}}. It is served here rather than by that library because the library (5.0.x) has no hook on
 * messages on their way to the client (no tenant filtering possible) and writes without bound to slow readers.
 */
final class TcpBridge {
  static final String BRIDGE = "tcp";
  /** Client frames are small (register, unregister, ping): anything larger is a broken or hostile client. */
  static final int MAX_FRAME_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final BridgeGate gate;
  private final BridgeSettings settings;
  private NetServer server;

  TcpBridge(Vertx vertx, BridgeGate gate, BridgeSettings settings) {
    this.vertx = vertx;
    this.gate = gate;
    this.settings = settings;
  }

  Future<Void> listen() {
    server = vertx.createNetServer(new NetServerOptions().setHost(settings.host()).setPort(settings.tcpPort()))
        .connectHandler(socket -> new Connection(socket).start());
    return server.listen().mapEmpty();
  }

  int port() { return server == null ? -1 : server.actualPort(); }

  Future<Void> close() { return server == null ? Future.succeededFuture() : server.close(); }

  static Buffer frame(JsonObject payload) {
    Buffer json = payload.toBuffer();
    return Buffer.buffer(json.length() + 4).appendInt(json.length()).appendBuffer(json);
  }

  /** One client connection; frames are handled in order, each after the previous one's token check. */
  private final class Connection {
    private final NetSocket socket;
    private final BridgeSession session;
    private final Map<String, MessageConsumer<Object>> consumers = new HashMap<>();
    private Buffer pending = Buffer.buffer();
    private Future<Void> previous = Future.succeededFuture();

    Connection(NetSocket socket) {
      this.socket = socket;
      this.session = new BridgeSession(socket.remoteAddress());
    }

    void start() {
      socket.handler(this::read);
      socket.exceptionHandler(err -> socket.close());
      socket.closeHandler(v -> release());
    }

    private void release() {
      consumers.values().forEach(MessageConsumer::unregister);
      consumers.clear();
      gate.closed(session);
    }

    /**
     * Closes a connection whose reader is stuck. A plain close would queue behind the writes the reader never takes
     * and never happen, so the channel is closed at once, dropping what is still buffered.
     */
    private void abort() {
      release();
      if (socket instanceof NetSocketInternal internal) internal.channelHandlerContext().channel().close();
      else socket.close();
    }

    private void read(Buffer data) {
      pending.appendBuffer(data);
      int offset = 0;
      while (pending.length() - offset >= 4) {
        int length = pending.getInt(offset);
        if (length < 0 || length > MAX_FRAME_BYTES) {
          error("frame_too_large");
          socket.close();
          return;
        }
        if (pending.length() - offset - 4 < length) break;
        Buffer json = pending.getBuffer(offset + 4, offset + 4 + length);
        offset += 4 + length;
        JsonObject frame;
        try {
          frame = json.toJsonObject();
        } catch (DecodeException | ClassCastException e) {
          error("invalid_json");
          continue;
        }
        previous = previous.eventually(() -> handle(frame));
      }
      pending = offset == pending.length() ? Buffer.buffer() : pending.getBuffer(offset, pending.length());
    }

    private Future<Void> handle(JsonObject frame) {
      if (session.closed) return Future.succeededFuture();
      Object typeValue = frame.getValue("type", "message");
      String type = typeValue instanceof String s ? s : "";
      Object addressValue = frame.getValue("address");
      String address = addressValue instanceof String s ? s : null;
      Object headersValue = frame.getValue("headers");
      JsonObject headers = headersValue instanceof JsonObject h ? h : null;
      if (type.equals("ping")) {
        write(new JsonObject().put("type", "pong"));
        return Future.succeededFuture();
      }
      if (address == null) {
        error("missing_address");
        return Future.succeededFuture();
      }
      return switch (type) {
        case "register" -> gate.authenticate(session, headers).transform(ar -> {
          if (ar.failed()) {
            gate.unauthorized();
            error("unauthorized");
          } else if (!BridgeGate.permitted(address)) {
            error("access_denied");
          } else if (!consumers.containsKey(address)) {
            consumers.put(address, vertx.eventBus().consumer(address, message -> deliver(message.address(),
                message.headers().entries(), message.body())));
            gate.registered(session, address);
          }
          return Future.succeededFuture();
        });
        case "unregister" -> {
          MessageConsumer<Object> consumer = consumers.remove(address);
          if (consumer == null) {
            error("unknown_address");
          } else {
            consumer.unregister();
            gate.unregistered(session, address);
          }
          yield Future.succeededFuture();
        }
        // Nothing is permitted inbound; a token in the headers still signs the connection in.
        case "send", "publish" -> gate.authenticate(session, headers).transform(ar -> {
          error("access_denied");
          return Future.succeededFuture();
        });
        default -> {
          error("unknown_type");
          yield Future.succeededFuture();
        }
      };
    }

    private void deliver(String address, Iterable<Entry<String, String>> headers, Object body) {
      JsonObject headerJson = new JsonObject();
      headers.forEach(e -> headerJson.put(e.getKey(), e.getValue()));
      gate.deliver(session, BRIDGE, body, () -> write(new JsonObject().put("type", "message").put("address", address)
              .put("headers", headerJson).put("body", body).put("send", false)),
          socket.writeQueueFull(), this::abort);
    }

    private Future<Void> write(JsonObject payload) { return socket.write(frame(payload)); }

    private void error(String message) { write(new JsonObject().put("type", "err").put("message", message)); }
  }
}
