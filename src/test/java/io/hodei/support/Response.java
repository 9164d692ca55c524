package io.hodei.support;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/** A received HTTP response, with the checks every test wants close at hand. */
public record Response(int status, String contentType, String body, io.vertx.core.MultiMap headers) {
  Response(HttpResponse<Buffer> response) {
    this(response.statusCode(), response.getHeader("Content-Type"),
        response.body() == null ? "" : response.bodyAsString(), response.headers());
  }

  public JsonObject json() { return new JsonObject(body); }

  public String header(String name) { return headers.get(name); }

  @Override
  public String toString() { return status + " " + contentType + " " + body; }
}
