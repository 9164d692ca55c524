package io.hodei.common;

import io.vertx.core.json.JsonObject;

/**
 * An event-bus request as a domain handler sees it. REST and gRPC both send the same envelope:
 * {@code {"params": {...}, "query": {...}, "body": {...}, "if_match": 3}}.
 */
public record BusRequest(JsonObject envelope, Caller caller, String traceId) {
  public static final String PARAMS = "params";
  public static final String QUERY = "query";
  public static final String BODY = "body";
  public static final String IF_MATCH = "if_match";
  public static final String IDEMPOTENCY_KEY = "idempotency_key";

  public static JsonObject envelope(JsonObject params, JsonObject query, JsonObject body, Long ifMatch) {
    JsonObject env = new JsonObject().put(PARAMS, params).put(QUERY, query).put(BODY, body);
    if (ifMatch != null) env.put(IF_MATCH, ifMatch);
    return env;
  }

  /** A path parameter; always present for routes that declare it. */
  public String param(String name) {
    JsonObject params = envelope.getJsonObject(PARAMS);
    String value = params == null ? null : params.getString(name);
    if (value == null) throw DomainException.badRequest("missing path parameter " + name);
    return value;
  }

  /** A query parameter, or null. */
  public String query(String name) {
    JsonObject query = envelope.getJsonObject(QUERY);
    return query == null ? null : query.getString(name);
  }

  /** The request body (an empty object when there was none). */
  public JsonObject payload() {
    JsonObject body = envelope.getJsonObject(BODY);
    return body == null ? new JsonObject() : body;
  }

  /** The Idempotency-Key the caller sent, or null. */
  public String idempotencyKey() { return envelope.getString(IDEMPOTENCY_KEY); }

  /** The version the caller expects (If-Match), or null for an unconditional write. */
  public Long ifMatch() { return envelope.getLong(IF_MATCH); }
}
