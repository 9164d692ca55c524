package io.hodei.metrics;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** Samples land in PostgreSQL and come back through /api/v1/metrics/historical at the right resolution. */
class MetricsHistoryTest {
  private static TestServer server;
  private static Fixtures fx;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1,
        ConfigSchema.METRICS_ROLLUP_INTERVAL, 2));
    fx = new Fixtures(server);
    fx.pool(Fixtures.simulatedPool("history", 3, 10), 3);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Response historical(String query, String token) {
    return server.get("/api/v1/metrics/historical?" + query, token);
  }

  @Test
  void rawSamplesOfAPoolAreServedPerSeries() {
    JsonObject result = Poll.until(() -> historical("metric=hodei_pool_workers&pool=history&from="
            + Instant.now().minus(Duration.ofMinutes(2)), TestServer.ADMIN_TOKEN).json(), r -> r.getJsonArray("series").stream().anyMatch(s -> ((JsonObject) s).getString("metric")
            .equals("hodei_pool_workers{state=idle}") && ((JsonObject) s).getJsonArray("points").size() >= 2),
        Duration.ofSeconds(30), "idle worker samples");
    assertThat(result.getString("resolution")).isEqualTo("raw");
    JsonObject idle = result.getJsonArray("series").stream().map(s -> (JsonObject) s)
        .filter(s -> s.getString("metric").equals("hodei_pool_workers{state=idle}")).findFirst().orElseThrow();
    assertThat(idle.getString("pool")).isEqualTo("history");
    assertThat(idle.getJsonArray("points").getJsonObject(0).getDouble("value")).isEqualTo(3.0);
  }

  @Test
  void rollupsCarryMinMaxAverageAndPercentiles() {
    Poll.until(() -> historical("metric=hodei_workers_total&step=raw", TestServer.ADMIN_TOKEN).json()
        .getJsonArray("series"), s -> !s.isEmpty(), Duration.ofSeconds(30), "raw samples");
    // Rollups run every 2 s here; the open 1-minute bucket is included and refined on each run.
    JsonArray series = Poll.until(() -> historical("metric=hodei_workers_total&step=1m&from="
            + Instant.now().minus(Duration.ofMinutes(10)), TestServer.ADMIN_TOKEN).json().getJsonArray("series"),
        s -> !s.isEmpty(), Duration.ofSeconds(30), "a 1m rollup");
    JsonObject point = series.getJsonObject(0).getJsonArray("points").getJsonObject(0);
    assertThat(point.getLong("count")).isPositive();
    assertThat(point.getDouble("min")).isLessThanOrEqualTo(point.getDouble("avg"));
    assertThat(point.getDouble("avg")).isLessThanOrEqualTo(point.getDouble("max"));
    assertThat(point.getDouble("p95")).isNotNull();
  }

  @Test
  void storedFiveMinuteRollupsAndRawPointsAgreeWithTheMinuteAggregates() {
    String from = "&from=" + Instant.now().minus(Duration.ofMinutes(30));
    // the rollup timer (every 2 s here) stores the open 5 m bucket from the packed minute rows
    JsonObject five = Poll.until(() -> historical("metric=hodei_pool_workers&pool=history&step=5m" + from,
            TestServer.ADMIN_TOKEN).json(), r -> r.getJsonArray("series").stream()
            .anyMatch(s -> ((JsonObject) s).getString("metric").equals("hodei_pool_workers{state=idle}")),
        Duration.ofSeconds(30), "a 5m rollup");
    assertThat(five.getString("resolution")).isEqualTo("5m");
    JsonObject idle = series(five, "hodei_pool_workers{state=idle}").getJsonArray("points").getJsonObject(0);
    assertThat(idle.getLong("count")).isPositive();
    assertThat(idle.getDouble("max")).isEqualTo(3.0);
    assertThat(idle.getDouble("p50")).isBetween(idle.getDouble("min"), idle.getDouble("max"));
    assertThat(Instant.parse(idle.getString("t")).getEpochSecond() % 300).isZero();
    // raw points carry their own second; the 1 m aggregate of a minute counts exactly its raw points
    JsonObject raw = historical("metric=hodei_pool_workers&pool=history&step=raw" + from, TestServer.ADMIN_TOKEN).json();
    JsonObject minute = historical("metric=hodei_pool_workers&pool=history&step=1m" + from, TestServer.ADMIN_TOKEN)
        .json();
    JsonArray rawPoints = series(raw, "hodei_pool_workers{state=idle}").getJsonArray("points");
    JsonObject firstMinute = series(minute, "hodei_pool_workers{state=idle}").getJsonArray("points").getJsonObject(0);
    Instant bucket = Instant.parse(firstMinute.getString("t"));
    List<Double> inBucket = rawPoints.stream().map(p -> (JsonObject) p).filter(p -> {
      Instant t = Instant.parse(p.getString("t"));
      return !t.isBefore(bucket) && t.isBefore(bucket.plusSeconds(60));
    }).map(p -> p.getDouble("value")).toList();
    assertThat(firstMinute.getLong("count")).isEqualTo(inBucket.size());
    assertThat(firstMinute.getDouble("sum")).isEqualTo(inBucket.stream().mapToDouble(Double::doubleValue).sum());
    assertThat(firstMinute.getDouble("max")).isEqualTo(inBucket.stream().mapToDouble(Double::doubleValue).max()
        .orElseThrow());
  }

  private static JsonObject series(JsonObject answer, String metric) {
    return answer.getJsonArray("series").stream().map(s -> (JsonObject) s)
        .filter(s -> s.getString("metric").equals(metric)).findFirst().orElseThrow();
  }

  @Test
  void badQueriesAreProblems() {
    assertProblem(historical("", TestServer.ADMIN_TOKEN), 422);
    assertProblem(historical("metric=hodei_nope", TestServer.ADMIN_TOKEN), 422);
    assertProblem(historical("metric=hodei_cpu_usage_percent", TestServer.ADMIN_TOKEN), 422);
    assertProblem(historical("metric=hodei_pool_workers&step=2m", TestServer.ADMIN_TOKEN), 422);
    assertProblem(historical("metric=hodei_pool_workers&from=yesterday", TestServer.ADMIN_TOKEN), 400);
    assertProblem(historical("metric=hodei_pool_workers&from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
        TestServer.ADMIN_TOKEN), 422);
    assertProblem(historical("metric=hodei_pool_workers", null), 401);
    String viewer = fx.tenant("hist-viewer", null, 1, "viewer");
    assertThat(historical("metric=hodei_pool_workers&pool=history", viewer).status()).isEqualTo(200);
    assertProblem(historical("metric=hodei_tenant_jobs_running&tenant=someone-else", viewer), 404);
  }
}
