package io.hodei.http.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

/**
 * The TCP event-bus bridge, wire-compatible with {@code vertx-tcp-eventbus-bridge} clients: each frame is a 4-byte
 * big-endian length and that many bytes of UTF-8 JSON ({@code {type, address, headers, body}}); the server sends
 * {@code {type:"message", address, headers, body, send:false}}, {@code {type:"err", address, failureCode,
 * failureType, message}} and {@code {type:"pong"}} (see {@link BridgeConnection}). It is served here rather than by that library because the library (5.0.x) has no hook on
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

  /** One client connection: the TCP framing around a {@link BridgeConnection}. */
  private final class Connection implements BridgeConnection.Wire {
    private final NetSocket socket;
    private final BridgeConnection protocol;
    private Buffer pending = Buffer.buffer();

    Connection(NetSocket socket) {
      this.socket = socket;
      this.protocol = new BridgeConnection(vertx, gate, BRIDGE, "message", true,
          new BridgeSession(socket.remoteAddress()), this);
    }

    void start() {
      socket.handler(this::read);
      socket.exceptionHandler(err -> socket.close());
      socket.closeHandler(v -> protocol.release());
    }

    /**
     * Closes a connection whose reader is stuck. A plain close would queue behind the writes the reader never takes
     * and never happen, so the channel is closed at once, dropping what is still buffered.
     */
    @Override
    public void abort() {
      if (socket instanceof NetSocketInternal internal) internal.channelHandlerContext().channel().close();
      else socket.close();
    }

    @Override
    public Future<Void> write(JsonObject payload) { return socket.write(frame(payload)); }

    @Override
    public boolean writeQueueFull() { return socket.writeQueueFull(); }

    private void read(Buffer data) {
      pending.appendBuffer(data);
      int offset = 0;
      while (pending.length() - offset >= 4) {
        int length = pending.getInt(offset);
        if (length < 0 || length > MAX_FRAME_BYTES) {
          protocol.error(null, 400, BridgeConnection.FRAME_TOO_LARGE);
          socket.close();
          return;
        }
        if (pending.length() - offset - 4 < length) break;
        Buffer json = pending.getBuffer(offset + 4, offset + 4 + length);
        offset += 4 + length;
        try {
          protocol.frame(json.toJsonObject());
        } catch (DecodeException | ClassCastException e) {
          protocol.error(null, 400, BridgeConnection.INVALID_JSON);
        }
      }
      pending = offset == pending.length() ? Buffer.buffer() : pending.getBuffer(offset, pending.length());
    }
  }
}
