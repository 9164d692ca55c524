package io.hodei.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The CLI's one client layer: blocking REST calls over {@code java.net.http} (a CLI has no event loop to protect).
 * A non-2xx answer becomes a {@link CliException} carrying the problem+json detail in one line.
 */
public final class RestClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String server;
  private final String token;
  private final HttpClient http;

  public RestClient(String server, String token) {
    serverUri(server);
    this.server = trimmed(server);
    this.token = token;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  public String server() { return server; }

  public JsonObject get(String path) { return send("GET", path, null, Map.of()); }

  public JsonObject get(String path, Map<String, ?> query) { return get(path + query(query)); }

  public JsonObject post(String path, JsonObject body) { return send("POST", path, body, Map.of()); }

  public JsonObject post(String path, JsonObject body, Map<String, String> headers) {
    return send("POST", path, body, headers);
  }

  /** {@code ?a=1&b=2} from the non-null values, URL-encoded; empty when none. */
  public static String query(Map<String, ?> params) {
    StringJoiner j = new StringJoiner("&", "?", "");
    j.setEmptyValue("");
    for (Map.Entry<String, ?> e : params.entrySet()) {
      if (e.getValue() == null) continue;
      j.add(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
          + URLEncoder.encode(e.getValue().toString(), StandardCharsets.UTF_8));
    }
    return j.toString();
  }

  public static Map<String, Object> params(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < keyValues.length; i += 2) m.put(keyValues[i].toString(), keyValues[i + 1]);
    return m;
  }

  /** The server URL without a trailing slash. */
  static String trimmed(String server) {
    return server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
  }

  /** The server URL checked: http or https, a host, no query; anything else is a usage error. */
  static URI serverUri(String server) {
    URI uri;
    try {
      uri = new URI(server);
    } catch (java.net.URISyntaxException e) {
      throw badServer(server, e.getReason());
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      throw badServer(server, "it must start with http:// or https://");
    }
    if (uri.getHost() == null || uri.getHost().isBlank()) throw badServer(server, "it names no host");
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) throw badServer(server, "it has a query or fragment");
    return uri;
  }

  private static CliException badServer(String server, String why) {
    return CliException.usage("bad server URL '" + server + "': " + why + " (e.g. http://localhost:8080)");
  }

  /** Why {@code server} could not be reached, in one line. */
  static CliException unreachable(String server, String detail) {
    String d = detail == null ? "" : detail;
    if (d.contains("Connection refused") || d.contains("connection refused")) {
      return CliException.error("cannot reach " + server + ": connection refused (is the server running? see hodei login)");
    }
    return CliException.error("cannot reach " + server + (d.isBlank() ? "" : ": " + d));
  }

  private JsonObject send(String method, String path, JsonObject body, Map<String, String> headers) {
    URI uri = URI.create(server + path);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json");
    if (token != null && !token.isBlank()) b.header("Authorization", "Bearer " + token);
    headers.forEach(b::header);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.encode()));
    }
    HttpResponse<String> response;
    try {
      response = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (ConnectException e) {
      throw connectFailure(e);
    } catch (HttpTimeoutException e) {
      throw CliException.error("no answer from " + server + " within " + TIMEOUT.toSeconds() + " s");
    } catch (javax.net.ssl.SSLException e) {
      throw CliException.error("cannot reach " + server + ": TLS: " + firstLine(e));
    } catch (IOException e) {
      throw CliException.error("cannot reach " + server + ": " + firstLine(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliException.error("interrupted");
    }
    int status = response.statusCode();
    String text = response.body() == null ? "" : response.body();
    if (status >= 200 && status < 300) {
      if (text.isBlank()) return new JsonObject();
      try {
        return new JsonObject(text);
      } catch (DecodeException e) {
        throw CliException.error(method + " " + path + ": the server answered " + status + " with a body that is not JSON");
      }
    }
    throw problem(status, text);
  }

  /** One line from a problem+json body: its detail, then each field error. */
  static CliException problem(int status, String text) {
    String message;
    try {
      JsonObject p = new JsonObject(text);
      String detail = p.getString("detail", p.getString("title", "HTTP " + status));
      StringBuilder sb = new StringBuilder(detail);
      JsonArray errors = p.getJsonArray("errors");
      if (errors != null && errors.size() > 1) {
        sb.append(":");
        for (Object o : errors) {
          if (o instanceof JsonObject e) sb.append(' ').append(e.getString("field")).append(' ').append(e.getString("message")).append(';');
        }
        sb.setLength(sb.length() - 1);
      }
      message = sb.toString();
    } catch (DecodeException | ClassCastException e) {
      message = "HTTP " + status + (text.isBlank() ? "" : ": " + text.lines().findFirst().orElse(""));
    }
    String prefix = switch (status) {
      case 401 -> "unauthorized (check your token: hodei login): ";
      case 403 -> "forbidden: ";
      default -> "";
    };
    return new CliException(status == 404 ? ExitCodes.NOT_FOUND : ExitCodes.ERROR, prefix + message);
  }

  /** A failed connect: an unknown host, a refusal, or (TLS) a handshake that failed. */
  private CliException connectFailure(ConnectException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
        return CliException.error("cannot reach " + server + ": unknown host " + URI.create(server).getHost());
      }
      if (t instanceof javax.net.ssl.SSLException ssl) return CliException.error("cannot reach " + server + ": TLS: "
          + firstLine(ssl));
    }
    String m = firstLine(e);
    return unreachable(server, m == null || m.equals("ConnectException") ? "Connection refused" : m);
  }

  static String firstLine(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }
}
