package io.hodei.common;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * The codec of domain events ({@link Events#publish}): a local consumer receives the published {@link JsonObject}
 * itself instead of a deep copy. An event is complete when it is published and nobody changes it afterwards
 * (consumers only read it), so every consumer can share one instance; with several consumers per event and several
 * events per job, the copies were a measurable part of the server's CPU. {@link Bus} hands request bodies (and the
 * replies of handlers that opt in) over the same way: a sender does not change a body once sent. Over the wire
 * (never used by a single server) it is the JSON text.
 */
public final class EventCodec implements MessageCodec<JsonObject, JsonObject> {
  public static final String NAME = "hodei-event";
  static final DeliveryOptions DELIVERY = new DeliveryOptions().setCodecName(NAME);

  /** The event bus the codec was last registered on (one per server; tests run several). */
  private static volatile EventBus registeredOn;

  /** Registers the codec on this Vert.x instance once (later calls are no-ops). */
  static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new EventCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // another domain registered it first
    }
    registeredOn = vertx.eventBus();
  }

  /** Registers the codec unless this Vert.x instance was the last one it was registered on (one read per call). */
  public static void ensureRegistered(Vertx vertx) {
    if (registeredOn != vertx.eventBus()) register(vertx);
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject event) {
    Buffer json = event.toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
  }

  @Override
  public JsonObject transform(JsonObject event) { return event; }

  @Override
  public String name() { return NAME; }

  @Override
  public byte systemCodecID() { return -1; }
}
