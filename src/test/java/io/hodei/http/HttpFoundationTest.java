package io.hodei.http;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** The cross-cutting HTTP contract: health, tracing, problems, auth, metrics and the OpenAPI document. */
class HttpFoundationTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.SERVER_BODY_LIMIT, 2048));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void livenessAndReadinessAnswerWithTraceIds() {
    Response live = server.get("/health/live", null);
    assertThat(live.status()).isEqualTo(200);
    assertThat(live.json().getString("status")).isEqualTo("UP");
    assertThat(live.header("X-Trace-Id")).matches("[0-9a-f]{32}");
    assertThat(live.json().getString("trace_id")).isEqualTo(live.header("X-Trace-Id"));

    Response ready = server.get("/health/ready", null);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("database")).isEqualTo("UP");
  }

  @Test
  void traceparentFromTheCallerIsKept() {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    Response r = server.send(server.request(HttpMethod.GET, "/api/v1/tenants", TestServer.ADMIN_TOKEN)
        .putHeader("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"), null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("X-Trace-Id")).isEqualTo(traceId);
    assertThat(r.json().getString("trace_id")).isEqualTo(traceId);
    assertThat(r.header("traceparent")).startsWith("00-" + traceId + "-");

    Response invalid = server.send(server.request(HttpMethod.GET, "/health/live", null)
        .putHeader("traceparent", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01"), null);
    assertThat(invalid.header("X-Trace-Id")).matches("[0-9a-f]{32}").isNotEqualTo("0".repeat(32));
  }

  @Test
  void unknownRoutesAndMethodsAreProblems() {
    Response missing = server.get("/api/v1/nothing-here", TestServer.ADMIN_TOKEN);
    assertProblem(missing, 404);
    Response method = server.send(HttpMethod.PUT, "/health/live", null, null);
    assertProblem(method, 405);
  }

  @Test
  void authenticationIsRequiredAndChecked() {
    Response none = server.get("/api/v1/tenants", null);
    assertProblem(none, 401);
    assertThat(none.header("WWW-Authenticate")).startsWith("Bearer");
    assertProblem(server.get("/api/v1/tenants", "not-a-real-token"), 401);
    Response basic = server.send(server.request(HttpMethod.GET, "/api/v1/tenants", null)
        .putHeader("Authorization", "Basic dXNlcjpwYXNz"), null);
    assertProblem(basic, 401);
  }

  @Test
  void badBodiesAreClearProblems() {
    Response malformed = server.admin(HttpMethod.POST, "/api/v1/tenants", "{\"name\": ");
    assertProblem(malformed, 400);
    assertThat(malformed.json().getString("detail")).contains("not valid JSON");
    assertProblem(server.admin(HttpMethod.POST, "/api/v1/tenants", "[1,2]"), 400);
    Response tooLarge = server.admin(HttpMethod.POST, "/api/v1/tenants",
        new JsonObject().put("name", "x".repeat(4096)));
    assertProblem(tooLarge, 413);
    Response wrongType = server.send(server.request(HttpMethod.POST, "/api/v1/tenants", TestServer.ADMIN_TOKEN)
        .putHeader("Content-Type", "text/plain"), "name=x");
    assertProblem(wrongType, 415);
  }

  @Test
  void metricsAreValidPrometheusTextWithRouteTemplates() {
    server.get("/api/v1/tenants/does-not-exist", TestServer.ADMIN_TOKEN);
    server.get("/api/v1/tenants", TestServer.ADMIN_TOKEN);
    for (String path : List.of("/metrics", "/api/v1/metrics")) {
      Response r = server.get(path, null);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.contentType()).startsWith("text/plain; version=0.0.4");
      List<Prometheus.Sample> samples = Prometheus.parse(r.body());
      assertThat(samples).anySatisfy(s -> {
        assertThat(s.name()).isEqualTo("hodei_http_requests_total");
        assertThat(s.labels()).containsEntry("endpoint", "/api/v1/tenants/{id}")
            .containsEntry("method", "GET").containsEntry("status_code", "404");
        assertThat(s.value()).isGreaterThanOrEqualTo(1);
      });
      assertThat(samples).anySatisfy(s -> assertThat(s.name()).isEqualTo("hodei_http_request_duration_seconds_bucket"));
      assertThat(samples).filteredOn(s -> s.name().equals("hodei_http_requests_total"))
          .allSatisfy(s -> assertThat(s.labels().get("endpoint")).doesNotContain("does-not-exist"));
      assertThat(samples).anySatisfy(s -> assertThat(s.name()).startsWith("jvm_memory"));
    }
  }

  @Test
  void textScrapeHasTheRegistrysSeriesAndTheSeedNamedGauges() {
    server.get("/api/v1/tenants", TestServer.ADMIN_TOKEN);
    var registry = server.server().registry();
    String beforeText = registry.scrape();
    Set<String> before = series(beforeText);
    Response r = server.get("/metrics", null);
    Set<String> after = series(registry.scrape());
    Set<String> served = series(r.body());
    // series can only appear in between (this very scrape is counted), and the only extra ones are the seed-named
    // *_total gauges, the registry's own gauge of the same name without the suffix
    assertThat(served).containsAll(before);
    Set<String> extra = new HashSet<>(served);
    extra.removeAll(after);
    assertThat(extra).isNotEmpty().allSatisfy(s -> {
      String name = s.substring(0, s.indexOf('{'));
      assertThat(name).endsWith("_total");
      assertThat(before).anyMatch(b -> b.startsWith(name.substring(0, name.length() - "_total".length()) + "{"));
    });
    // against the scrape taken before: meters appear at any time (the JVM's GC pause timer at its first GC)
    assertThat(comments(r.body())).containsAll(comments(beforeText));
    io.hodei.metrics.exposition.PrometheusText text = io.hodei.metrics.exposition.PrometheusText.forCatalog(registry);
    text.render();
    assertThat(text.fallsBack()).as("the server's meters are written by our writer, not the client's").isFalse();
  }

  private static Set<String> series(String text) {
    Set<String> out = new HashSet<>();
    for (Prometheus.Sample s : Prometheus.parse(text)) out.add(s.name() + new TreeMap<>(s.labels()));
    return out;
  }

  private static Set<String> comments(String text) {
    return text.lines().filter(l -> l.startsWith("#")).collect(Collectors.toSet());
  }

  @Test
  void openMetricsAndJsonAreNegotiated() {
    Response om = server.send(server.request(HttpMethod.GET, "/metrics", null)
        .putHeader("Accept", "application/openmetrics-text; version=1.0.0"), null);
    assertThat(om.status()).isEqualTo(200);
    assertThat(om.contentType()).startsWith("application/openmetrics-text");
    assertThat(om.body().trim()).endsWith("# EOF");

    Response json = server.send(server.request(HttpMethod.GET, "/api/v1/metrics", null)
        .putHeader("Accept", "application/json"), null);
    assertThat(json.contentType()).startsWith("application/json");
    assertThat(json.json().getJsonArray("meters")).isNotEmpty();
  }

  @Test
  void openApiDocumentsEveryRoute() {
    Response r = server.get("/api/v1/openapi", null);
    assertThat(r.status()).isEqualTo(200);
    JsonObject paths = r.json().getJsonObject("paths");
    for (String route : server.server().routeTemplates()) {
      String method = route.substring(0, route.indexOf(' ')).toLowerCase();
      String path = route.substring(route.indexOf(' ') + 1);
      assertThat(paths.containsKey(path)).as("OpenAPI documents %s", path).isTrue();
      assertThat(paths.getJsonObject(path).containsKey(method)).as("OpenAPI documents %s", route).isTrue();
    }
  }
}
