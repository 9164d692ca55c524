package io.hodei.agent;

import io.hodei.support.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The server as users run it, a separate JVM started from the built jar (so a test can kill it with SIGKILL), on a
 * database the test owns. Closing the returned {@link TestServer} kills the process with SIGKILL.
 */
final class ServerProcess {
  private ServerProcess() {}

  static TestServer start(Path work, String name, int port, String databaseUrl, Map<String, String> settings)
      throws IOException, InterruptedException {
    Path shipped = work.resolve("shipped");
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:TieredStopAtLevel=1", "-jar", AgentCluster.JAR.toString())
        .directory(Files.createDirectories(work.resolve(name)).toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(name + ".log").toFile()));
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("HODEI_"));
    env.put("HODEI_PG_URL", databaseUrl);
    env.put("HODEI_ADMIN_TOKEN", TestServer.ADMIN_TOKEN);
    env.put("HODEI_SERVER_HOST", "127.0.0.1");
    env.put("HODEI_SERVER_PORT", Integer.toString(port));
    env.put("HODEI_SERVER_GRPC_PORT", "-1");
    env.put("HODEI_METRICS_PROMETHEUS_PORT", "-1");
    env.put("HODEI_BRIDGE_TCP_PORT", "-1");
    env.put("HODEI_SECURITY_TOKEN_CACHE_SECONDS", "0");
    env.put("HODEI_DATABASE_POOL_SIZE", "4");
    env.put("HODEI_OBSERVABILITY_GRAFANA_DASHBOARDS_DIR", shipped.resolve("dashboards").toString());
    env.put("HODEI_OBSERVABILITY_ALERTING_PROMETHEUS_ALERTS_DIR", shipped.resolve("alerts").toString());
    env.putAll(settings);
    Process process = builder.start();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError("the server process exited with " + process.exitValue() + ":\n"
            + Files.readString(work.resolve(name + ".log")));
      }
      try {
        HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health/ready")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
        if (ready.statusCode() == 200) break;
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new AssertionError("the server process was not ready within 120 s");
      }
      Thread.sleep(200);
    }
    return TestServer.external(port, () -> {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }
}
