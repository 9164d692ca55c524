package io.hodei.metrics;

import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.Response;
import io.hodei.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static io.hodei.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/** metrics.enabled=false: the server runs and serves /metrics, but the collector collects nothing. */
class MetricsDisabledTest {
  @Test
  void nothingIsCollectedButTheServerIsHealthy() {
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.METRICS_ENABLED, false,
        ConfigSchema.METRICS_INTERVAL, 1, ConfigSchema.POOLS_RECONCILE_INTERVAL, 1))) {
      JsonObject pool = new JsonObject().put("id", "off").put("kind", "static").put("provider", "simulated")
          .put("size", 2).put("provider_config", new JsonObject().put("provision_delay_ms", 5));
      assertThat(server.admin(HttpMethod.POST, "/api/v1/pools", pool).status()).isEqualTo(201);
      Poll.until(() -> server.get("/api/v1/pools/off", TestServer.ADMIN_TOKEN).json(),
          p -> p.getJsonObject("workers").getInteger("idle") == 2, Duration.ofSeconds(60), "2 idle workers");
      new io.hodei.common.Events(server.server().vertx(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry())
          .publish("job.finished", new JsonObject().put("job_id", "j").put("tenant_id", "t").put("pool_id", "off")
              .put("state", "succeeded").put("duration_ms", 5));

      assertThat(server.get("/health/ready", null).status()).isEqualTo(200);
      Response health = server.get("/health", null);
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.json().getString("status")).isEqualTo("Healthy");
      assertThat(health.json().getJsonArray("pools")).isEmpty();
      assertThat(health.json().getJsonObject("collector").getBoolean("enabled")).isFalse();
      JsonObject collector = server.get("/api/v1/observability/collector", TestServer.ADMIN_TOKEN).json();
      assertThat(collector.getJsonObject("collector").getLong("runs")).isZero();
      assertProblem(server.get("/api/v1/pools/off/metrics", TestServer.ADMIN_TOKEN), 503);

      Response metrics = server.get("/metrics", null);
      assertThat(metrics.status()).isEqualTo(200);
      assertThat(Prometheus.parse(metrics.body()))
          // the cost families follow cost_tracking.enabled, not metrics.enabled (each pool and tenant at 0 here)
          .noneMatch(s -> (s.name().startsWith("hodei_pool_") || s.name().startsWith("hodei_tenant_")
              || s.name().startsWith("hodei_metrics_self_"))
              && io.hodei.common.MetricCatalog.COST.stream().noneMatch(d -> d.name().equals(s.name())))
          .anyMatch(s -> s.name().startsWith("hodei_http_requests_total"))
          .anyMatch(s -> s.name().startsWith("jvm_"));
    }
  }
}
