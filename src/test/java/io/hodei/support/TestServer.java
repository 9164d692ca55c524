package io.hodei.support;

import io.hodei.app.HodeiServer;
import io.hodei.app.config.ConfigLoader;
import io.hodei.app.config.ConfigSchema;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A real server (embedded PostgreSQL, real HTTP) started in-process on a random port, with a WebClient. */
public final class TestServer implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

  private final HodeiServer server;
  private final Vertx clientVertx;
  private final WebClient client;

  /** Set for a server the test runs in another process (see {@link #external}). */
  private final int externalPort;
  private final Runnable externalStop;

  private TestServer(HodeiServer server) {
    this(server, server.httpPort(), null);
  }

  private TestServer(HodeiServer server, int port, Runnable externalStop) {
    this.server = server;
    this.externalPort = port;
    this.externalStop = externalStop;
    this.clientVertx = Vertx.vertx();
    this.client = WebClient.create(clientVertx, new WebClientOptions().setDefaultHost("localhost")
        .setDefaultPort(port));
  }

  /** A server the test runs in another process, reached on {@code httpPort}; closing runs {@code stop}. */
  public static TestServer external(int httpPort, Runnable stop) {
    return new TestServer(null, httpPort, stop);
  }

  /** Throw-away database. */
  public static TestServer start(Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(Map.of(ConfigSchema.DB_EPHEMERAL, true));
    all.putAll(overrides);
    return startWith(all);
  }

  /** Database kept in {@code dataDir} across restarts. */
  public static TestServer startPersistent(Path dataDir, Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(Map.of(ConfigSchema.DB_DATA_DIR, dataDir.toString()));
    all.putAll(overrides);
    return startWith(all);
  }

  private static TestServer startWith(Map<String, Object> overrides) {
    return new TestServer(HodeiServer.start(config(overrides)).await());
  }

  /** Throw-away database, tracing on, spans exported synchronously to {@code exporter}. */
  public static TestServer startTraced(Map<String, Object> overrides,
                                       io.opentelemetry.sdk.trace.export.SpanExporter exporter) {
    Map<String, Object> all = new HashMap<>(Map.of(ConfigSchema.DB_EPHEMERAL, true));
    all.putAll(overrides);
    return new TestServer(HodeiServer.start(config(all), exporter).await());
  }

  public static io.hodei.app.config.HodeiConfig config(Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>();
    all.put(ConfigSchema.SERVER_PORT, 0);
    all.put(ConfigSchema.SERVER_HOST, "127.0.0.1");
    all.put(ConfigSchema.PROMETHEUS_PORT, -1);
    all.put(ConfigSchema.SERVER_GRPC_PORT, -1);
    all.put(ConfigSchema.BRIDGE_TCP_PORT, -1);
    all.put(ConfigSchema.TOKEN_CACHE_SECONDS, 0);
    all.put(ConfigSchema.DB_POOL_SIZE, 4);
    // tests need no crash safety from their throw-away databases (a clean stop still flushes everything)
    all.put(ConfigSchema.DB_EMBEDDED_DURABLE, false);
    // the shipped dashboards and rules go to a scratch directory, never to /etc (tests may run as root)
    Path shipped = Path.of(System.getProperty("java.io.tmpdir"), "hodei-test-shipped");
    all.put(ConfigSchema.GRAFANA_DIR, shipped.resolve("dashboards").toString());
    all.put(ConfigSchema.ALERTS_DIR, shipped.resolve("alerts").toString());
    all.putAll(overrides);
    return ConfigLoader.load(null, Map.of("HODEI_ADMIN_TOKEN", ADMIN_TOKEN), all);
  }

  /** The in-process server (null for an {@link #external} one). */
  public HodeiServer server() { return server; }

  public int port() { return externalPort; }

  public HttpRequest<Buffer> request(HttpMethod method, String path, String token) {
    HttpRequest<Buffer> request = client.request(method, path);
    if (token != null) request.bearerTokenAuthentication(token);
    return request;
  }

  /** Sends and waits; {@code body} may be null, a JsonObject, or a raw String. */
  public Response send(HttpMethod method, String path, String token, Object body) {
    return send(request(method, path, token), body);
  }

  public Response send(HttpRequest<Buffer> request, Object body) {
    HttpResponse<Buffer> response;
    if (body == null) {
      response = request.send().await();
    } else if (body instanceof JsonObject json) {
      response = request.sendJsonObject(json).await();
    } else {
      if (!request.headers().contains("Content-Type")) request.putHeader("Content-Type", "application/json");
      response = request.sendBuffer(Buffer.buffer(body.toString())).await();
    }
    return new Response(response);
  }

  public Response get(String path, String token) { return send(HttpMethod.GET, path, token, null); }

  public Response admin(HttpMethod method, String path, Object body) { return send(method, path, ADMIN_TOKEN, body); }

  private boolean closed;

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    client.close();
    clientVertx.close().await();
    if (server != null) server.stop().await();
    else externalStop.run();
  }
}
