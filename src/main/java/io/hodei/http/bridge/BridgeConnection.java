package io.hodei.http.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.Map.Entry;

/**
 * One client connection of either bridge, speaking the Vert.x event-bus bridge protocol whatever carries its frames
 * (SockJS messages or length-prefixed TCP frames): {@code register} / {@code unregister} on {@code hodei.events.*}
 * with a bearer token, {@code ping}; {@code send} and {@code publish} are refused (nothing is permitted inbound).
 *
 * <p>Every refusal is one {@code err} frame {@code {type, address, failureCode, failureType, message}} naming the
 * address it concerns (when the frame had one), so the official client hands it to that registration's handler.
 * Frames are handled in order, each after the previous one's token check.
 */
final class BridgeConnection {
  /** What carries the frames of one connection. */
  interface Wire {
    /** Writes one frame; the future completes once it is flushed. */
    Future<Void> write(JsonObject frame);

    boolean writeQueueFull();

    /** Closes the connection at once, dropping what is still buffered for a reader that does not read. */
    void abort();
  }

  static final String UNAUTHORIZED = "unauthorized";
  static final String ACCESS_DENIED = "access_denied";
  static final String INVALID_JSON = "invalid_json";
  static final String MISSING_ADDRESS = "missing_address";
  static final String UNKNOWN_ADDRESS = "unknown_address";
  static final String UNKNOWN_TYPE = "unknown_type";
  static final String FRAME_TOO_LARGE = "frame_too_large";
  static final String MAX_HANDLERS_REACHED = "max_handlers_reached";
  static final String MAX_ADDRESS_LENGTH_REACHED = "max_address_length_reached";
  /** Registrations one connection may hold, and the longest address it may name (Vert.x's bridge defaults). */
  static final int MAX_REGISTRATIONS = 1000;
  static final int MAX_ADDRESS_LENGTH = 200;

  private final Vertx vertx;
  private final BridgeGate gate;
  private final String bridge;
  private final String messageType;
  private final boolean answerPing;
  private final Wire wire;
  final BridgeSession session;
  private final Map<String, MessageConsumer<Object>> consumers = new HashMap<>();
  private Future<Void> previous = Future.succeededFuture();
  private long lastFrameMillis = System.currentTimeMillis();

  /**
   * @param messageType the {@code type} of an event frame: {@code rec} on SockJS (what Vert.x's SockJS bridge sends),
   *                    {@code message} on TCP (what vertx-tcp-eventbus-bridge sends)
   * @param answerPing  whether a ping is answered with a pong (the TCP bridge's protocol; SockJS clients get none)
   */
  BridgeConnection(Vertx vertx, BridgeGate gate, String bridge, String messageType, boolean answerPing,
                   BridgeSession session, Wire wire) {
    this.vertx = vertx;
    this.gate = gate;
    this.bridge = bridge;
    this.messageType = messageType;
    this.answerPing = answerPing;
    this.session = session;
    this.wire = wire;
  }

  /** When the client last sent a frame (any frame keeps a SockJS connection alive, see {@link SockJsBridge}). */
  long lastFrameMillis() { return lastFrameMillis; }

  /** Handles one client frame after the ones before it. */
  void frame(JsonObject frame) {
    lastFrameMillis = System.currentTimeMillis();
    previous = previous.eventually(() -> handle(frame));
  }

  /** The connection is gone (or being closed): its registrations end and stop counting. */
  void release() {
    consumers.values().forEach(MessageConsumer::unregister);
    consumers.clear();
    gate.closed(session);
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
      if (answerPing) wire.write(new JsonObject().put("type", "pong"));
      return Future.succeededFuture();
    }
    if (address == null) {
      error(null, 400, MISSING_ADDRESS);
      return Future.succeededFuture();
    }
    return switch (type) {
      case "register" -> gate.authenticate(session, headers).transform(ar -> {
        if (ar.failed()) {
          gate.unauthorized();
          error(address, 401, UNAUTHORIZED);
        } else if (!BridgeGate.permitted(address)) {
          error(address, 403, ACCESS_DENIED);
        } else if (address.length() > MAX_ADDRESS_LENGTH) {
          error(address, 400, MAX_ADDRESS_LENGTH_REACHED);
        } else if (!consumers.containsKey(address) && consumers.size() >= MAX_REGISTRATIONS) {
          error(address, 429, MAX_HANDLERS_REACHED);
        } else if (!session.closed && !consumers.containsKey(address)) {
          consumers.put(address, vertx.eventBus().consumer(address, message -> deliver(message.address(),
              message.headers().entries(), message.body())));
          gate.registered(session, address);
        }
        return Future.succeededFuture();
      });
      case "unregister" -> {
        MessageConsumer<Object> consumer = consumers.remove(address);
        if (consumer == null) {
          error(address, 404, UNKNOWN_ADDRESS);
        } else {
          consumer.unregister();
          gate.unregistered(session, address);
        }
        yield Future.succeededFuture();
      }
      // Nothing is permitted inbound; a token in the headers still signs the connection in.
      case "send", "publish" -> gate.authenticate(session, headers).transform(ar -> {
        error(address, 403, ACCESS_DENIED);
        return Future.succeededFuture();
      });
      default -> {
        error(address, 400, UNKNOWN_TYPE);
        yield Future.succeededFuture();
      }
    };
  }

  private void deliver(String address, Iterable<Entry<String, String>> headers, Object body) {
    JsonObject headerJson = new JsonObject();
    headers.forEach(e -> headerJson.put(e.getKey(), e.getValue()));
    gate.deliver(session, bridge, body, () -> wire.write(new JsonObject().put("type", messageType)
            .put("address", address).put("headers", headerJson).put("body", body).put("send", false)),
        wire.writeQueueFull(), () -> {
          release();
          wire.abort();
        });
  }

  /** Writes an {@code err} frame; {@code address} is the one the refused frame named, or null. */
  void error(String address, int code, String failureType) {
    JsonObject frame = new JsonObject().put("type", "err");
    if (address != null) frame.put("address", address);
    wire.write(frame.put("failureCode", code).put("failureType", failureType).put("message", failureType));
  }
}
