package io.hodei.metrics.push;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** POST /api/v1/metrics: worker-pool samples pushed by external workers, validated, on /metrics and in history. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsPushTest {
  private static TestServer server;
  private static String submitter;
  private static String viewer;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.METRICS_ROLLUP_INTERVAL, 1));
    Fixtures fixtures = new Fixtures(server);
    submitter = fixtures.tenant("pusher", null, 1, "submitter");
    viewer = fixtures.tenant("looker", null, 1, "viewer");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonObject sample(String name, String pool, String model, Object value) {
    return new JsonObject().put("name", name).put("labels", new JsonObject().put("pool", pool).put("model", model))
        .put("value", value);
  }

  private static Response push(String token, JsonObject... samples) {
    return server.send(HttpMethod.POST, "/api/v1/metrics", token,
        new JsonObject().put("samples", new JsonArray(List.of((Object[]) samples))));
  }

  private static List<Prometheus.Sample> scrape() { return Prometheus.parse(server.get("/metrics", null).body()); }

  @Test
  void acceptedSamplesShowOnMetricsAndInHistory() {
    Response r = push(submitter, sample("hodei_model_requests_total", "gpu-pool", "llama-7b", 42),
        sample("hodei_model_workers", "gpu-pool", "llama-7b", 3),
        sample("hodei_model_latency_max_milliseconds", "gpu-pool", "llama-7b", 812.5));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    assertThat(r.json().getInteger("accepted")).isEqualTo(3);

    List<Prometheus.Sample> samples = scrape();
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_model_requests_total") && s.value() == 42
        && s.labels().equals(Map.of("pool", "gpu-pool", "model", "llama-7b")));
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_model_workers") && s.value() == 3);
    assertThat(samples).anyMatch(s -> s.name().equals("hodei_model_latency_max_milliseconds") && s.value() == 812.5);

    assertThat(push(submitter, sample("hodei_model_requests_total", "gpu-pool", "llama-7b", 50)).status())
        .isEqualTo(202);
    assertThat(scrape()).anyMatch(s -> s.name().equals("hodei_model_requests_total") && s.value() == 50);

    JsonObject history = Poll.until(() -> server.get("/api/v1/metrics/historical?metric=hodei_model_workers"
            + "&pool=gpu-pool&step=raw", TestServer.ADMIN_TOKEN).json(),
        h -> !h.getJsonArray("series", new JsonArray()).isEmpty(), Duration.ofSeconds(30), "pushed history");
    JsonObject series = history.getJsonArray("series").getJsonObject(0);
    assertThat(series.getString("metric")).isEqualTo("hodei_model_workers{model=llama-7b}");
    assertThat(series.getJsonArray("points").getJsonObject(0).getDouble("value")).isEqualTo(3.0);
  }

  @Test
  void unknownNamesAndLabelExplosionsAre422AndNothingIsApplied() {
    JsonObject problem = assertProblem(push(submitter, sample("hodei_model_workers", "p", "new-model", 1),
        sample("hodei_jobs_queued", "p", "m", 1)), 422);
    assertThat(problem.encode()).contains("samples[1].name", "unknown metric");
    assertThat(scrape()).noneMatch(s -> "new-model".equals(s.labels().get("model")));

    JsonObject extra = sample("hodei_model_workers", "p", "m", 1);
    extra.getJsonObject("labels").put("worker_id", "w-123");
    assertThat(assertProblem(push(submitter, extra), 422).encode()).contains("exactly the labels pool and model");
    assertThat(assertProblem(push(submitter, sample("hodei_model_workers", "p", "bad value!", 1)), 422).encode())
        .contains("samples[0].labels.model");
    assertProblem(push(submitter, sample("hodei_model_workers", "p", "m", -1)), 422);
  }

  @Test
  @Order(Integer.MAX_VALUE) // fills the series budget of the server
  void tooManySeriesAre422() {
    for (int batch = 0; batch < 2; batch++) {
      JsonObject[] samples = new JsonObject[PushedMetrics.MAX_SAMPLES];
      for (int i = 0; i < samples.length; i++) {
        samples[i] = sample("hodei_model_workers", "spread", "m-" + batch + "-" + i, 1);
      }
      Response r = push(submitter, samples);
      if (r.status() == 422) {
        assertThat(r.body()).contains("too many series");
        return;
      }
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
    }
    assertThat(assertProblem(push(submitter, sample("hodei_model_workers", "spread", "one-more", 1)), 422)
        .encode()).contains("too many series");
  }

  @Test
  void malformedBodiesAre400AndRolesAreChecked() {
    assertProblem(server.send(HttpMethod.POST, "/api/v1/metrics", submitter, new JsonObject().put("samples", "x")),
        400);
    assertProblem(push(submitter, sample("hodei_model_workers", "p", "m", "three")), 400);
    assertProblem(server.send(HttpMethod.POST, "/api/v1/metrics", submitter,
        new JsonObject().put("samples", new JsonArray()).put("extra", 1)), 400);
    assertProblem(push(submitter), 422);
    assertProblem(push(viewer, sample("hodei_model_workers", "p", "m", 1)), 403);
    assertProblem(push(null, sample("hodei_model_workers", "p", "m", 1)), 401);
  }
}
