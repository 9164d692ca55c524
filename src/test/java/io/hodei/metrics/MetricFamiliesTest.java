package io.hodei.metrics;

import io.hodei.common.MetricCatalog;
import io.hodei.app.config.ConfigSchema;
import io.hodei.support.Fixtures;
import io.hodei.support.Poll;
import io.hodei.support.Prometheus;
import io.hodei.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Every family of the metric catalog is exposed from the start, with 0-valued series for label sets known up front. */
class MetricFamiliesTest {

  @Test
  void aFreshServerWithOneTenantAndOnePoolExposesEveryCatalogFamily() {
    try (TestServer server = TestServer.start(Map.of(ConfigSchema.METRICS_INTERVAL, 1,
        ConfigSchema.POOLS_HEALTH_INTERVAL, 1, ConfigSchema.SERVER_GRPC_PORT, 0,
        ConfigSchema.COST_SWEEP_INTERVAL, 1, ConfigSchema.SCALING_INTERVAL, 1))) {
      Fixtures fx = new Fixtures(server);
      fx.tenant("fresh", null, 1, "viewer");
      fx.pool(Fixtures.simulatedPool("fresh-pool", 1, 10), 1);
      JsonObject dynamic = Fixtures.simulatedPool("fresh-dyn", 1, 10).put("kind", "dynamic").put("min_size", 1)
          .put("max_size", 2).put("target_size", 1);
      dynamic.remove("size");
      fx.pool(dynamic, 1);

      // the collector samples the new pools on its next run, the cost sweep and the autoscaler on theirs
      String text = Poll.until(() -> server.get("/metrics", null).body(),
          t -> Prometheus.parse(t).stream().anyMatch(s -> s.name().equals("hodei_pool_size"))
              && t.contains("hodei_pool_cost_total{pool=\"fresh-dyn\"}")
              && t.contains("hodei_scaling_idle_worker_seconds_total{pool=\"fresh-dyn\"}"),
          Duration.ofSeconds(30), "fresh pools sampled, swept and evaluated");
      Map<String, String> families = Prometheus.families(text);
      List<Prometheus.Sample> samples = Prometheus.parse(text);
      for (MetricCatalog.Def def : MetricCatalog.ALL) {
        assertThat(families).as("family %s", def.name()).containsKey(def.name());
      }

      // no event yet: the series whose labels are known up front are there, at 0
      assertZero(samples, "hodei_jobs_scheduled_total", Map.of("tenant_id", "fresh"));
      assertZero(samples, "hodei_jobs_completed_total", Map.of("tenant_id", "fresh"));
      assertZero(samples, "hodei_jobs_cancelled_total", Map.of("tenant_id", "fresh"));
      assertZero(samples, "hodei_jobs_failed_total", Map.of("tenant_id", "fresh", "error_type", "exit_code"));
      assertZero(samples, "hodei_tenant_burst_cpu_m_seconds_total", Map.of("tenant_id", "fresh"));
      assertZero(samples, "hodei_tenant_jobs_total", Map.of("tenant_id", "fresh", "state", "succeeded"));
      assertZero(samples, "hodei_tenant_jobs_running", Map.of("tenant_id", "fresh"));
      assertZero(samples, "hodei_scheduling_decisions_total", Map.of("decision_type", "place"));
      assertZero(samples, "hodei_sla_events_total", Map.of("status", "breached"));
      assertZero(samples, "hodei_events_received_total", Map.of("event_type", "job.started"));
      assertZero(samples, "hodei_grpc_requests_total",
          Map.of("method", "hodei.v1.JobService/SubmitJob", "status_code", "OK"));
      assertZero(samples, "hodei_pool_jobs_total", Map.of("pool", "fresh-pool", "state", "succeeded"));
      for (String family : List.of("hodei_tenant_cost_total", "hodei_tenant_burst_cost_total",
          "hodei_tenant_cost_per_hour", "hodei_tenant_burst_impact_seconds_total")) {
        assertZero(samples, family, Map.of("tenant_id", "fresh"));
      }
      for (String pool : List.of("fresh-pool", "fresh-dyn")) {
        assertZero(samples, "hodei_pool_cost_total", Map.of("pool", pool));
        assertZero(samples, "hodei_pool_idle_cost_total", Map.of("pool", pool));
      }
      assertZero(samples, "hodei_scaling_idle_worker_seconds_total", Map.of("pool", "fresh-dyn"));
      assertZero(samples, "hodei_scaling_capacity_ready_seconds_count", Map.of("pool", "fresh-dyn"));
      // the per-worker gauges appear with the worker's first usage sample (an idle simulated worker uses nothing)
      String worker = server.get("/api/v1/pools/fresh-pool/workers", TestServer.ADMIN_TOKEN).json()
          .getJsonArray("items").getJsonObject(0).getString("id");
      List<Prometheus.Sample> withWorker = Poll.until(() -> Prometheus.parse(server.get("/metrics", null).body()),
          s -> s.stream().anyMatch(x -> x.name().equals("hodei_memory_usage_mb")), Duration.ofSeconds(30),
          "per-worker usage gauges");
      assertZero(withWorker, "hodei_cpu_usage_percent", Map.of("worker_id", worker));
      assertZero(withWorker, "hodei_memory_usage_mb", Map.of("worker_id", worker));

      // bounded: no series carries a job id
      assertThat(samples).noneMatch(s -> s.labels().containsKey("job_id"));
    }
  }

  private static void assertZero(List<Prometheus.Sample> samples, String name, Map<String, String> labels) {
    assertThat(samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)))
        .as("%s%s at 0", name, labels).singleElement().extracting(Prometheus.Sample::value).isEqualTo(0.0);
  }
}
