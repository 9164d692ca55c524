package io.hodei.store;

import io.hodei.support.JdkHttp;
import io.hodei.support.Poll;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built jar as a user runs it, on a persistent data directory: {@code kill -9} of the JVM does not leave its
 * PostgreSQL running, the next start is ready in seconds with the data intact, and {@code kill -9} of PostgreSQL
 * alone is healed without restarting Hodei. Runs in the integration-test phase, after the jar is packaged.
 */
class EmbeddedDatabaseCrashIT {
  private static final String ADMIN_TOKEN = "crash-test-admin-token-0123456789";
  private static final Path JAR = Path.of("target", "hodei-pools.jar").toAbsolutePath();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @TempDir
  Path work;
  private Path dataDir;
  private int port;
  private Process server;

  @BeforeEach
  void setUp() throws IOException {
    assertThat(JAR).as("the jar is built by mvn package before this test").exists();
    dataDir = work.resolve("pg");
    port = freePort();
  }

  @AfterEach
  void tearDown() {
    if (server != null && server.isAlive()) {
      server.destroy();
      Poll.until(server::isAlive, alive -> !alive, Duration.ofSeconds(60), "server stopped");
    }
  }

  @Test
  void killMinusNineOfTheJvmOrOfPostgresIsSurvived() throws Exception {
    server = launch("first.log");
    awaitReady("first start");
    assertThat(post("/api/v1/tenants", "{\"id\":\"survivor\",\"name\":\"Survivor\"}").statusCode()).isEqualTo(201);
    long postmaster = postmasterPid();
    assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).contains(true);

    // kill -9 of the JVM alone: its PostgreSQL must not outlive it
    server.destroyForcibly();
    server.waitFor();
    long killed = System.nanoTime();
    Poll.until(() -> ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false), alive -> !alive,
        Duration.ofSeconds(15), "the orphaned postmaster to stop");
    System.out.printf("postmaster gone %d ms after kill -9 of the JVM%n", (System.nanoTime() - killed) / 1_000_000);

    long restarted = System.nanoTime();
    server = launch("second.log");
    awaitReady("start after kill -9");
    System.out.printf("start after kill -9 ready in %d ms (JVM start included)%n",
        (System.nanoTime() - restarted) / 1_000_000);
    HttpResponse<String> kept = get("/api/v1/tenants/survivor");
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(200);
    assertThat(kept.body()).contains("Survivor");

    // kill -9 of PostgreSQL alone: Hodei restarts it and serves writes again, without a restart of its own
    long second = postmasterPid();
    long jvm = server.pid();
    ProcessHandle.of(second).orElseThrow().destroyForcibly();
    long crashed = System.nanoTime();
    Poll.until(() -> postmasterPidOrZero(), pid -> pid > 0 && pid != second, Duration.ofSeconds(60),
        "a new postmaster");
    Poll.until(() -> status("/health/ready"), s -> s == 200, Duration.ofSeconds(60), "ready after the restart");
    HttpResponse<String> write = Poll.until(() -> post("/api/v1/tenants", "{\"id\":\"healed\",\"name\":\"Healed\"}"),
        r -> r.statusCode() != 503 && r.statusCode() != 500, Duration.ofSeconds(30), "a write after the restart");
    assertThat(write.statusCode()).as(write.body()).isEqualTo(201);
    System.out.printf("PostgreSQL restarted by Hodei and a write accepted %d ms after its kill -9%n",
        (System.nanoTime() - crashed) / 1_000_000);
    assertThat(server.pid()).isEqualTo(jvm);
    assertThat(server.isAlive()).isTrue();
    assertThat(Files.readString(work.resolve("second.log"))).contains("embedded PostgreSQL exited while Hodei runs");

    // a clean stop stops PostgreSQL too
    long last = postmasterPid();
    server.destroy();
    server.waitFor();
    Poll.until(() -> ProcessHandle.of(last).map(ProcessHandle::isAlive).orElse(false), alive -> !alive,
        Duration.ofSeconds(15), "postmaster stopped with the server");
  }

  private Process launch(String log) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString())
        .directory(work.toFile())
        .redirectErrorStream(true)
        .redirectOutput(work.resolve(log).toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("HODEI_") || k.startsWith("OTEL_"));
    env.putAll(Map.of(
        "HODEI_ADMIN_TOKEN", ADMIN_TOKEN,
        "HODEI_PG_DATA_DIR", dataDir.toString(),
        "HODEI_SERVER_HOST", "127.0.0.1",
        "HODEI_SERVER_PORT", Integer.toString(port),
        "HODEI_SERVER_GRPC_PORT", "-1",
        "HODEI_PROMETHEUS_PORT", "-1",
        "HODEI_BRIDGE_TCP_PORT", "-1",
        "HODEI_RESOURCE_POOLS_LOCAL_WORK_DIR", work.resolve("work").toString(),
        "HODEI_OBSERVABILITY_GRAFANA_DASHBOARDS_DIR", work.resolve("dashboards").toString(),
        "HODEI_OBSERVABILITY_ALERTING_PROMETHEUS_ALERTS_DIR", work.resolve("alerts").toString()));
    return builder.start();
  }

  private void awaitReady(String what) {
    Poll.until(() -> {
      assertThat(server.isAlive()).as("server process (" + what + ")").isTrue();
      return status("/health/ready");
    }, s -> s == 200, Duration.ofSeconds(120), what);
  }

  private long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
  }

  private long postmasterPidOrZero() {
    try {
      List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
      return lines.size() >= 8 && lines.get(7).strip().equals("ready") ? Long.parseLong(lines.get(0).strip()) : 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private int status(String path) {
    try {
      return get(path).statusCode();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + ADMIN_TOKEN).GET());
  }

  private HttpResponse<String> post(String path, String json) {
    return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + ADMIN_TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    return JdkHttp.send(http, request);
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
