package io.hodei.http.grpc;

import com.google.protobuf.Message;
import io.hodei.common.BusRequest;
import io.vertx.core.json.JsonObject;

/**
 * Builds the event-bus envelope REST would send for a gRPC request: the fields that REST carries in the path, the
 * query string or If-Match are moved there; every other field the client set becomes the JSON body.
 */
final class Envelope {
  private final JsonObject params = new JsonObject();
  private final JsonObject query = new JsonObject();
  private final JsonObject body;
  private Long ifMatch;
  private String idempotencyKey;

  private Envelope(JsonObject body) {
    this.body = body;
  }

  /** The request's fields (a NUL in them was refused before, see {@link GrpcTranslator#refuseNul}). */
  static Envelope of(Message request) { return new Envelope(ProtoJson.toJson(request)); }

  /** Moves {@code field} to the path parameter {@code param} (an unset field is the empty string). */
  Envelope param(String field, String param) {
    Object value = body.remove(field);
    params.put(param, value == null ? "" : value.toString());
    return this;
  }

  /** Moves {@code field}, when set, to the query parameter {@code name}. */
  Envelope query(String field, String name) {
    Object value = body.remove(field);
    if (value != null) query.put(name, value.toString());
    return this;
  }

  /** Moves {@code field} to If-Match: its proto default 0 means an unconditional write. */
  Envelope ifMatch(String field) {
    Object value = body.remove(field);
    ifMatch = value instanceof Number n ? n.longValue() : null;
    return this;
  }

  /** Moves {@code field}, when set, to the envelope's idempotency key (REST's Idempotency-Key header). */
  Envelope idempotencyKey(String field) {
    Object value = body.remove(field);
    idempotencyKey = value == null ? null : value.toString();
    return this;
  }

  /** A proto3 map cannot be unset, so clearing the labels is asked for with {@code replace_labels}. */
  Envelope replaceLabels() {
    if (Boolean.TRUE.equals(body.remove("replace_labels")) && !body.containsKey("labels")) {
      body.put("labels", new JsonObject());
    }
    return this;
  }

  /**
   * Turns the JSON object text in string {@code field} into the object the domain expects; text that is not a JSON
   * object is passed as is, for the domain to reject like REST would.
   */
  Envelope jsonObject(String field) {
    jsonObject(body, field);
    return this;
  }

  /** {@link #jsonObject(String)} on any object, such as one submission of a batch. */
  static void jsonObject(JsonObject object, String field) {
    Object value = object.getValue(field);
    if (value instanceof String text) {
      try {
        JsonObject parsed = new JsonObject(text);
        // "\u0000" in the text is a NUL once parsed: refused like one in a REST body (400, INVALID_ARGUMENT)
        io.hodei.http.HostileInput.checkJson(parsed);
        object.put(field, parsed);
      } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
        // left as text: the domain answers 400 with the field's name
      }
    }
  }

  /** The body as built so far, for a method that needs a final touch. */
  JsonObject body() { return body; }

  JsonObject build() {
    JsonObject envelope = BusRequest.envelope(params, query, body, ifMatch);
    if (idempotencyKey != null) envelope.put(BusRequest.IDEMPOTENCY_KEY, idempotencyKey);
    return envelope;
  }
}
