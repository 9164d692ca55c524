package io.hodei.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A failure a domain decides on, carrying an HTTP-like status. It travels over the event bus as a
 * {@link io.vertx.core.eventbus.ReplyException} whose message is the encoded problem, and is rendered by the HTTP
 * layer as RFC 9457 problem+json (and by gRPC as the matching status).
 */
public class DomainException extends RuntimeException {
  private final int status;
  private final String title;
  private final JsonObject extensions;

  public DomainException(int status, String title, String detail) {
    this(status, title, detail, null);
  }

  public DomainException(int status, String title, String detail, JsonObject extensions) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.extensions = extensions == null ? new JsonObject() : extensions;
  }

  public int status() { return status; }
  public String title() { return title; }
  public String detail() { return getMessage(); }
  public JsonObject extensions() { return extensions; }

  public static DomainException badRequest(String detail) { return new DomainException(400, "Bad Request", detail); }
  public static DomainException unauthorized(String detail) { return new DomainException(401, "Unauthorized", detail); }
  public static DomainException forbidden(String detail) { return new DomainException(403, "Forbidden", detail); }
  public static DomainException notFound(String what, String id) {
    return new DomainException(404, "Not Found", what + " '" + id + "' does not exist");
  }
  public static DomainException conflict(String detail) { return new DomainException(409, "Conflict", detail); }
  public static DomainException preconditionFailed(String detail) {
    return new DomainException(412, "Precondition Failed", detail);
  }
  public static DomainException unprocessable(String detail) { return new DomainException(422, "Unprocessable Content", detail); }
  public static DomainException tooMany(String detail) { return new DomainException(429, "Too Many Requests", detail); }
  public static DomainException unavailable(String detail) { return new DomainException(503, "Service Unavailable", detail); }

  /** A validation failure listing each offending field. */
  public static DomainException invalid(int status, JsonArray errors) {
    String detail = errors.size() == 1
        ? errors.getJsonObject(0).getString("field") + ": " + errors.getJsonObject(0).getString("message")
        : errors.size() + " fields are invalid";
    return new DomainException(status, status == 400 ? "Bad Request" : "Unprocessable Content", detail,
        new JsonObject().put("errors", errors));
  }

  /** The wire form used as the ReplyException message. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("status", status).put("title", title).put("detail", getMessage());
    extensions.forEach(e -> json.put(e.getKey(), e.getValue()));
    return json;
  }

  public static DomainException fromJson(JsonObject json) {
    JsonObject ext = json.copy();
    ext.remove("status");
    ext.remove("title");
    ext.remove("detail");
    return new DomainException(json.getInteger("status", 500), json.getString("title", "Error"),
        json.getString("detail", ""), ext);
  }
}
