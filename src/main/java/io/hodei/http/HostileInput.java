package io.hodei.http;

import io.hodei.common.DomainException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Bytes no route can use, refused at the edge with a 400 before any handler, decoder or database sees them: a NUL
 * (PostgreSQL text cannot hold one: SQLSTATE 22021) in the request target, in a header or in any JSON string (member
 * names included, at any depth), a percent sign not followed by two hex digits, and percent escapes that do not
 * decode to UTF-8. The request target is checked raw, so path parameters, query parameters and cursors are all
 * covered, whatever route would have matched.
 */
public final class HostileInput {
  private HostileInput() {}

  /** The problem with the request line or headers of {@code request}, or null when they are acceptable. */
  static DomainException inRequest(HttpServerRequest request) {
    String target = request.uri();
    DomainException problem = inTarget(target == null ? "" : target);
    if (problem != null) return problem;
    for (Map.Entry<String, String> header : request.headers()) {
      if (header.getKey().indexOf('\0') >= 0 || header.getValue().indexOf('\0') >= 0) {
        return DomainException.badRequest("a header contains a NUL character");
      }
    }
    return null;
  }

  /** The problem with a raw (still percent-encoded) request target, or null. */
  static DomainException inTarget(String target) {
    byte[] decoded = new byte[target.length()];
    int length = 0;
    boolean escaped = false;
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '\0') return DomainException.badRequest("the request target contains a NUL character");
      if (c != '%') continue;
      if (i + 2 >= target.length() || Character.digit(target.charAt(i + 1), 16) < 0
          || Character.digit(target.charAt(i + 2), 16) < 0) {
        return DomainException.badRequest("the request target has an invalid percent escape at character " + i
            + " ('%' must be followed by two hex digits)");
      }
      escaped = true;
      i += 2;
    }
    if (!escaped) return null;
    // Escapes present: decode them and check the bytes (a NUL, or bytes that are not UTF-8).
    ByteBuffer bytes = ByteBuffer.allocate(target.length() * 3);
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '%') {
        int b = Integer.parseInt(target, i + 1, i + 3, 16);
        if (b == 0) return DomainException.badRequest("the request target contains an escaped NUL (%00)");
        bytes.put((byte) b);
        i += 2;
      } else {
        bytes.put(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    bytes.flip();
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes);
    } catch (CharacterCodingException e) {
      return DomainException.badRequest("the request target's percent escapes are not UTF-8");
    }
    return null;
  }

  /** Throws a 400 when a JSON value holds a NUL in any string or member name, at any depth. */
  public static void checkJson(Object value) {
    String where = nulAt(value, "");
    if (where != null) {
      throw DomainException.badRequest("the body contains a NUL character (\\u0000) at "
          + (where.isEmpty() ? "the top level" : where));
    }
  }

  /** The JSON path of the first NUL in {@code value}, or null. */
  private static String nulAt(Object value, String path) {
    if (value instanceof String s) return s.indexOf('\0') >= 0 ? path : null;
    if (value instanceof JsonObject object) {
      for (Map.Entry<String, Object> member : object) {
        String memberPath = path.isEmpty() ? member.getKey() : path + "." + member.getKey();
        if (member.getKey().indexOf('\0') >= 0) return path.isEmpty() ? "a member name" : path + " (a member name)";
        String found = nulAt(member.getValue(), memberPath);
        if (found != null) return found;
      }
    } else if (value instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        String found = nulAt(array.getValue(i), path + "[" + i + "]");
        if (found != null) return found;
      }
    } else if (value instanceof Map<?, ?> map) {
      return nulAt(new JsonObject(castMap(map)), path);
    } else if (value instanceof java.util.List<?> list) {
      return nulAt(new JsonArray(new java.util.ArrayList<>(list)), path);
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) { return (Map<String, Object>) map; }
}
