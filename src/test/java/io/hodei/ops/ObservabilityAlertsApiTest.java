package io.hodei.ops;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** GET /api/v1/observability/alerts against a stand-in Alertmanager (the real one runs in AlertingEndToEndTest). */
class ObservabilityAlertsApiTest {
  private static final JsonArray ALERTMANAGER_ANSWER = new JsonArray().add(new JsonObject()
      .put("labels", new JsonObject().put("alertname", "PoolUnhealthy").put("severity", "critical").put("pool", "p1"))
      .put("annotations", new JsonObject().put("summary", "Pool p1 is Unhealthy").put("runbook", "1. GET /health"))
      .put("startsAt", "2026-01-01T00:00:00Z").put("status", new JsonObject().put("state", "active"))
      .put("fingerprint", "abc"));

  @Test
  void firingAlertsComeFromAlertmanagerAndAnUnreachableOneIs503() {
    Vertx vertx = Vertx.vertx();
    AtomicReference<String> asked = new AtomicReference<>();
    HttpServer alertmanager = vertx.createHttpServer().requestHandler(req -> {
      asked.set(req.uri());
      req.response().putHeader("Content-Type", "application/json").end(ALERTMANAGER_ANSWER.encode());
    }).listen(0, "127.0.0.1").await();
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.ALERTMANAGER_URL,
        "http://127.0.0.1:" + alertmanager.actualPort() + "/"))) {
      Response r = server.get("/api/v1/observability/alerts", TestServer.ADMIN_TOKEN);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(asked.get()).startsWith("/api/v2/alerts?active=true");
      assertThat(r.json().getBoolean("configured")).isTrue();
      JsonObject alert = r.json().getJsonArray("alerts").getJsonObject(0);
      assertThat(alert.getString("name")).isEqualTo("PoolUnhealthy");
      assertThat(alert.getString("severity")).isEqualTo("critical");
      assertThat(alert.getString("state")).isEqualTo("active");
      assertThat(alert.getString("starts_at")).isEqualTo("2026-01-01T00:00:00Z");
      assertThat(alert.getJsonObject("labels").getString("pool")).isEqualTo("p1");
      assertThat(alert.getJsonObject("annotations").getString("runbook")).isEqualTo("1. GET /health");
      assertProblem(server.get("/api/v1/observability/alerts", null), 401);

      alertmanager.close().await();
      JsonObject problem = assertProblem(server.get("/api/v1/observability/alerts", TestServer.ADMIN_TOKEN), 503);
      assertThat(problem.getString("detail")).contains("Alertmanager");
    } finally {
      vertx.close().await();
    }
  }
}
