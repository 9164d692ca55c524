package io.hodei.ops;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped rules in a real Prometheus and Alertmanager (child processes on 127.0.0.1) against Hodei in-process,
 * with the shipped scrape and evaluation intervals and the server's default collection interval: stopping the only
 * pool fires NoHealthyWorkers, which reaches Alertmanager and GET /api/v1/observability/alerts; resuming the pool
 * resolves it. Prints the alert latency (the stop to Alertmanager holding the alert; the target is under 30 s).
 * Skipped when prometheus or prometheus-alertmanager is not on PATH (.ci/run installs them).
 */
class AlertingEndToEndTest {
  private static final String ALERT = "NoHealthyWorkers";
  /** Generous: the figure is printed, a loaded machine must not fail the build. */
  private static final Duration FIRING_DEADLINE = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final List<Process> PROCESSES = new ArrayList<>();
  private static final Thread KILL_ON_EXIT = new Thread(AlertingEndToEndTest::killAll, "kill-prometheus");

  @TempDir
  static Path dir;
  private static TestServer server;
  private static String prometheus;
  private static String alertmanager;
  private static String shipped;

  @BeforeAll
  static void start() throws IOException {
    Optional<Path> prometheusBin = onPath("prometheus");
    Optional<Path> alertmanagerBin = onPath("prometheus-alertmanager");
    assumeTrue(prometheusBin.isPresent() && alertmanagerBin.isPresent(),
        "prometheus and prometheus-alertmanager are not on PATH (apt-get install prometheus prometheus-alertmanager)");
    int prometheusPort = freePort();
    int alertmanagerPort = freePort();
    prometheus = "http://127.0.0.1:" + prometheusPort;
    alertmanager = "http://127.0.0.1:" + alertmanagerPort;
    server = TestServer.start(Map.of(ConfigSchema.ALERTMANAGER_URL, alertmanager));
    Runtime.getRuntime().addShutdownHook(KILL_ON_EXIT);

    // Alertmanager is not running yet: the alerts API says so with a 503 problem.
    assertProblem(server.get("/api/v1/observability/alerts", TestServer.ADMIN_TOKEN), 503);

    // The shipped rules and intervals, as a user runs them.
    Files.copy(DashboardsAndAlertsTest.RULES, dir.resolve("rules.yml"));
    shipped = Files.readString(Path.of("conf/prometheus.yml"));
    Files.writeString(dir.resolve("prometheus.yml"), """
        global:
          scrape_interval: %s
          evaluation_interval: %s
        rule_files: [rules.yml]
        alerting:
          alertmanagers:
            - static_configs:
                - targets: ["127.0.0.1:%d"]
        scrape_configs:
          - job_name: hodei
            metrics_path: /metrics
            static_configs:
              - targets: ["127.0.0.1:%d"]
        """.formatted(setting(shipped, "scrape_interval"), setting(shipped, "evaluation_interval"), alertmanagerPort,
        server.port()));
    Files.writeString(dir.resolve("alertmanager.yml"), """
        route:
          receiver: "null"
          group_by: [alertname]
          group_wait: 1s
          group_interval: 1s
        receivers:
          - name: "null"
        """);
    launch("alertmanager", alertmanagerBin.get().toString(),
        "--config.file=" + dir.resolve("alertmanager.yml"), "--storage.path=" + dir.resolve("am-data"),
        "--web.listen-address=127.0.0.1:" + alertmanagerPort, "--cluster.listen-address=");
    launch("prometheus", prometheusBin.get().toString(),
        "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("prom-data"),
        "--web.listen-address=127.0.0.1:" + prometheusPort);
  }

  @AfterAll
  static void stop() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(KILL_ON_EXIT);
    } catch (IllegalStateException | IllegalArgumentException ignored) {
      // not registered (skipped) or already shutting down
    }
    if (server != null) server.close();
  }

  @Test
  void stoppingTheOnlyPoolFiresNoHealthyWorkersAndResumingResolvesIt() throws IOException {
    Poll.until(() -> AlertingEndToEndTest.<JsonObject>get(prometheus + "/api/v1/targets"), t -> t != null && t.getJsonObject("data")
            .getJsonArray("activeTargets").stream().anyMatch(x -> "up".equals(((JsonObject) x).getString("health"))),
        Duration.ofSeconds(60), "Prometheus scraping Hodei (target health up)");

    new Fixtures(server).pool(Fixtures.simulatedPool("alerting", 1, 50), 1);
    // With one healthy worker scraped, the alert (firing before the pool existed) goes away.
    Poll.until(AlertingEndToEndTest::prometheusAlert, Optional::isEmpty, Duration.ofSeconds(60),
        ALERT + " inactive with a healthy worker");

    long conditionStart = System.nanoTime();
    Response stopped = server.admin(HttpMethod.POST, "/api/v1/pools/alerting/lifecycle",
        new JsonObject().put("action", "stop"));
    assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
    Poll.until(() -> alertNames(AlertingEndToEndTest.<JsonArray>get(alertmanager + "/api/v2/alerts")), names -> names.contains(ALERT),
        FIRING_DEADLINE, ALERT + " received by Alertmanager");
    double latency = (System.nanoTime() - conditionStart) / 1e9;
    System.out.printf("alert latency: pool stopped -> %s held by Alertmanager in %.1f s (target < 30 s; "
        + "scrape %s, evaluation %s, collection %d s, for: %s)%n", ALERT, latency, setting(shipped, "scrape_interval"),
        setting(shipped, "evaluation_interval"), TestServer.config(Map.of()).getInt(ConfigSchema.METRICS_INTERVAL),
        setting(Files.readString(DashboardsAndAlertsTest.RULES).split("alert: " + ALERT, 2)[1], "for"));
    JsonObject firing = Poll.until(AlertingEndToEndTest::prometheusAlert,
        a -> a.isPresent() && "firing".equals(a.get().getString("state")), FIRING_DEADLINE,
        ALERT + " firing in Prometheus").orElseThrow();
    assertThat(firing.getJsonObject("labels").getString("severity")).isEqualTo("critical");
    assertThat(firing.getJsonObject("annotations").getString("runbook")).isNotBlank();
    JsonObject api = Poll.until(() -> server.get("/api/v1/observability/alerts", TestServer.ADMIN_TOKEN).json(),
        body -> alertNames(body.getJsonArray("alerts")).contains(ALERT), FIRING_DEADLINE,
        ALERT + " in GET /api/v1/observability/alerts");
    assertThat(api.getBoolean("configured")).isTrue();
    JsonObject served = api.getJsonArray("alerts").stream().map(JsonObject.class::cast)
        .filter(a -> ALERT.equals(a.getString("name"))).findFirst().orElseThrow();
    assertThat(served.getString("severity")).isEqualTo("critical");
    assertThat(served.getString("state")).isEqualTo("active");
    assertThat(served.getJsonObject("annotations").getString("summary")).isNotBlank();

    Response resumed = server.admin(HttpMethod.POST, "/api/v1/pools/alerting/lifecycle",
        new JsonObject().put("action", "resume"));
    assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
    Poll.until(AlertingEndToEndTest::prometheusAlert, Optional::isEmpty, Duration.ofSeconds(60),
        ALERT + " resolved after the pool resumed");
  }

  /** A global setting of the shipped Prometheus configuration, e.g. {@code scrape_interval: 5s}. */
  private static String setting(String yaml, String key) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\s+" + key + ":\\s*(\\S+)").matcher(yaml);
    assertThat(m.find()).as("%s in conf/prometheus.yml", key).isTrue();
    return m.group(1);
  }

  /** NoHealthyWorkers as Prometheus has it now (pending or firing), or empty when inactive. */
  private static Optional<JsonObject> prometheusAlert() {
    JsonObject body = AlertingEndToEndTest.<JsonObject>get(prometheus + "/api/v1/alerts");
    if (body == null) return Optional.of(new JsonObject().put("state", "unknown: Prometheus did not answer"));
    return body.getJsonObject("data").getJsonArray("alerts").stream().map(JsonObject.class::cast)
        .filter(a -> ALERT.equals(a.getJsonObject("labels").getString("alertname"))).findFirst();
  }

  private static List<String> alertNames(JsonArray alerts) {
    if (alerts == null) return List.of();
    return alerts.stream().map(JsonObject.class::cast)
        .map(a -> a.containsKey("name") ? a.getString("name") : a.getJsonObject("labels").getString("alertname"))
        .toList();
  }

  /** The parsed JSON body of a GET, or null while the process does not answer yet. */
  private static <T> T get(String url) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) return null;
      @SuppressWarnings("unchecked")
      T parsed = (T) io.vertx.core.buffer.Buffer.buffer(r.body()).toJsonValue();
      return parsed;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static void launch(String name, String... command) throws IOException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile()).start();
    synchronized (PROCESSES) {
      PROCESSES.add(p);
    }
  }

  private static void killAll() {
    synchronized (PROCESSES) {
      for (Process p : PROCESSES) {
        p.destroy();
        try {
          if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
      PROCESSES.clear();
    }
  }

  private static Optional<Path> onPath(String executable) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(d, executable);
      if (Files.isExecutable(candidate)) return Optional.of(candidate);
    }
    return Optional.empty();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
