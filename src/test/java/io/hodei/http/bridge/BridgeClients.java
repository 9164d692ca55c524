package io.hodei.http.bridge;

import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Bridge clients speaking the wire protocols by hand, as an outside consumer would, and a few probes. */
final class BridgeClients {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private BridgeClients() {}

  /** A client of either bridge: it sends frames and keeps every frame it receives. */
  interface Client extends AutoCloseable {
    void send(JsonObject frame);

    List<JsonObject> frames();

    /** Whether the server closed the connection. */
    boolean closedByServer();

    @Override
    void close();

    default void register(String address, String token) {
      JsonObject frame = new JsonObject().put("type", "register").put("address", address);
      if (token != null) frame.put("headers", new JsonObject().put("authorization", "Bearer " + token));
      send(frame);
    }

    /** The bodies of the events received (SockJS "rec" and TCP "message" frames). */
    default List<JsonObject> events() {
      return frames().stream().filter(f -> "rec".equals(f.getString("type")) || "message".equals(f.getString("type")))
          .map(f -> f.getJsonObject("body")).toList();
    }

    default boolean received(String marker) {
      return events().stream().anyMatch(e -> marker.equals(e.getString("marker")));
    }

    default List<JsonObject> errors() {
      return frames().stream().filter(f -> "err".equals(f.getString("type"))).toList();
    }

    default JsonObject awaitEvent(Predicate<JsonObject> match, String what) {
      return Poll.until(() -> events().stream().filter(match).findFirst().orElse(null), e -> e != null, TIMEOUT, what);
    }
  }

  /** The SockJS bridge over its raw WebSocket transport ({@code /eventbus/websocket}): one JSON text per frame. */
  static Client sockJs(Vertx vertx, int port) {
    WebSocketClient client = vertx.createWebSocketClient();
    WebSocket socket = client.connect(port, "127.0.0.1", "/eventbus/websocket").await();
    List<JsonObject> frames = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    // The raw transport sends each frame as one WebSocket message: text.
    socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
    socket.binaryMessageHandler(data -> frames.add(new JsonObject().put("type", "binary frame")));
    socket.closeHandler(v -> closed.set(true));
    return new Client() {
      @Override public void send(JsonObject frame) { socket.writeTextMessage(frame.encode()).await(); }
      @Override public List<JsonObject> frames() { return frames; }
      @Override public boolean closedByServer() { return closed.get(); }
      @Override public void close() {
        if (!closed.get()) socket.close().await();
        client.close().await();
      }
    };
  }

  /** The TCP bridge: 4-byte big-endian length, then that many bytes of JSON. */
  static TcpClient tcp(Vertx vertx, int port) {
    NetClient client = vertx.createNetClient();
    NetSocket socket = client.connect(port, "127.0.0.1").await();
    return new TcpClient(client, socket);
  }

  static final class TcpClient implements Client {
    private final NetClient client;
    private final NetSocket socket;
    private final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    private Buffer pending = Buffer.buffer();
    volatile boolean closedByServer;

    TcpClient(NetClient client, NetSocket socket) {
      this.client = client;
      this.socket = socket;
      socket.handler(this::read);
      socket.closeHandler(v -> closedByServer = true);
    }

    private void read(Buffer data) {
      pending.appendBuffer(data);
      while (pending.length() >= 4 && pending.length() >= 4 + pending.getInt(0)) {
        int length = pending.getInt(0);
        frames.add(pending.getBuffer(4, 4 + length).toJsonObject());
        pending = pending.getBuffer(4 + length, pending.length());
      }
    }

    /** Stops reading: what the server writes stays in the socket buffers, as with a stuck consumer. */
    void stopReading() { socket.pause(); }

    @Override public void send(JsonObject frame) {
      Buffer json = frame.toBuffer();
      socket.write(Buffer.buffer().appendInt(json.length()).appendBuffer(json)).await();
    }

    @Override public List<JsonObject> frames() { return frames; }

    @Override public boolean closedByServer() { return closedByServer; }

    @Override public void close() {
      socket.close().await();
      client.close().await();
    }
  }

  /** Publishes a tenant's (or, with a null tenant, an infrastructure) event as the domains do. */
  static void publish(TestServer server, String type, String tenantId, String marker) {
    JsonObject event = new JsonObject().put("type", type).put("marker", marker);
    if (tenantId != null) event.put("tenant_id", tenantId);
    server.server().vertx().eventBus().publish("hodei.events." + type, event);
  }

  /** Publishes {@code before} first, then the marker event until {@code client} has it. */
  static void publishUntilReceived(TestServer server, Client client, String type, String tenantId, String marker,
                                   Runnable before) {
    Poll.until(() -> {
      if (before != null) before.run();
      publish(server, type, tenantId, marker);
      return client.received(marker);
    }, done -> done, TIMEOUT, "event " + marker);
  }

  /** The value of a sample in /metrics, 0 when absent. */
  static double metric(TestServer server, String name, String labelName, String labelValue) {
    return Prometheus.parse(server.get("/metrics", null).body()).stream()
        .filter(s -> s.name().equals(name))
        .filter(s -> labelName == null || labelValue.equals(s.labels().get(labelName)))
        .mapToDouble(Prometheus.Sample::value).sum();
  }
}
