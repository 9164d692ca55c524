package io.hodei.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The overhead statistics of the accuracy benchmark: spread, pairing of on/off rounds and the verdict. */
class MetricsAccuracyBenchTest {
  @Test
  void spreadHasMedianRangeAndATConfidenceInterval() {
    JsonObject s = MetricsAccuracyBench.spread(List.of(5.0, 1.0, 4.0, 2.0, 3.0));
    assertThat(s.getDouble("median")).isEqualTo(3.0);
    assertThat(s.getDouble("min")).isEqualTo(1.0);
    assertThat(s.getDouble("max")).isEqualTo(5.0);
    assertThat(s.getDouble("sd")).isCloseTo(Math.sqrt(2.5), within(1e-9));
    // t(4) = 2.776: 3 +- 2.776 * 1.5811 / sqrt(5)
    assertThat(s.getDouble("ci95_low")).isCloseTo(3 - 1.9629, within(1e-3));
    assertThat(s.getDouble("ci95_high")).isCloseTo(3 + 1.9629, within(1e-3));
    assertThat(MetricsAccuracyBench.spread(List.of(2.0, 4.0)).getDouble("median")).isEqualTo(3.0);
  }

  @Test
  void roundsArePairedOnAgainstOffAndCostsSigned() {
    JsonArray runs = new JsonArray()
        .add(run(0, false, 1.00, 1000)).add(run(0, true, 1.02, 950))
        .add(run(1, true, 0.99, 1010)).add(run(1, false, 1.00, 1000));
    JsonObject o = MetricsAccuracyBench.overhead(runs);
    assertThat(o.getInteger("pairs")).isEqualTo(2);
    JsonObject cpu = o.getJsonObject("paired_cost_pct").getJsonObject("cpu_s_per_1000_jobs");
    assertThat(cpu.getJsonArray("values_pct").getDouble(0)).isCloseTo(2.0, within(1e-9));
    assertThat(cpu.getJsonArray("values_pct").getDouble(1)).isCloseTo(-1.0, within(1e-9));
    JsonObject throughput = o.getJsonObject("paired_cost_pct").getJsonObject("jobs_per_s");
    // throughput cost is 1 - on/off: slower with metrics on is a positive cost
    assertThat(throughput.getDouble("max")).isCloseTo(5.0, within(1e-9));
    assertThat(throughput.getDouble("min")).isCloseTo(-1.0, within(1e-9));
    assertThat(o.getJsonObject("sides").getJsonObject("jobs_per_s").getJsonObject("off").getDouble("median"))
        .isEqualTo(1000.0);
  }

  @Test
  void verdictNeedsTheWholeIntervalOnOneSideOfTheTarget() {
    assertThat(MetricsAccuracyBench.verdict(ci(-0.5, 0.8), 1)).isEqualTo("met");
    assertThat(MetricsAccuracyBench.verdict(ci(1.2, 4), 1)).isEqualTo("missed");
    assertThat(MetricsAccuracyBench.verdict(ci(-3, 5), 1)).startsWith("not resolved");
    assertThat(MetricsAccuracyBench.verdict(ci(Double.NaN, Double.NaN), 1)).startsWith("not resolved");
  }

  private static JsonObject run(int round, boolean metrics, double cpu, double jobsPerS) {
    return new JsonObject().put("round", round).put("metrics_enabled", metrics).put("cpu_s_per_1000_jobs", cpu)
        .put("jvm_cpu_s_per_1000_jobs", cpu * 0.8).put("pg_cpu_s_per_1000_jobs", cpu * 0.2)
        .put("jobs_per_s", jobsPerS);
  }

  private static JsonObject ci(double low, double high) {
    return new JsonObject().put("ci95_low", low).put("ci95_high", high);
  }

  @Test
  void samplesInMetricsOnlyCodeAreCountedByTheirOutermostClass() {
    String collapsed = String.join("\n",
        "java/lang/Thread.run;io/vertx/core/impl/ContextImpl.run;io/hodei/metrics/EventTap.drain;"
            + "io/hodei/metrics/MetricsCollectorVerticle.onEvent;io/micrometer/core/instrument/Counter.increment 7",
        "io/hodei/scheduler/Scheduler.started;io/hodei/common/Events.publish;io/hodei/common/EventObservers.published;"
            + "io/hodei/metrics/EventTap.accept 3",
        // always on (HTTP meters): not metrics.enabled code
        "io/vertx/core/http/impl/Http1xServerConnection.handle;io/hodei/metrics/ServiceMeters.record 5",
        "io/hodei/scheduler/Scheduler.dispatch 85");
    JsonObject c = MetricsAccuracyBench.Samples.count(collapsed);
    assertThat(c.getLong("samples")).isEqualTo(100);
    assertThat(c.getLong("metrics_samples")).isEqualTo(10);
    assertThat(c.getDouble("metrics_fraction")).isCloseTo(0.10, within(1e-9));
    assertThat(c.getJsonObject("metrics_by_class").getLong("metrics.EventTap")).isEqualTo(7);
    assertThat(c.getJsonObject("metrics_by_class").getLong("common.EventObservers")).isEqualTo(3);
  }

  @Test
  void theCpuTargetNeedsTheAttributionBelowItAndThePairsNotAboveIt() {
    assertThat(MetricsAccuracyBench.cpuVerdict(ci(-3, 2), ci(0.4, 0.6).put("n", 3))).isEqualTo("met");
    assertThat(MetricsAccuracyBench.cpuVerdict(ci(-3, 2), ci(0.8, 1.1).put("n", 3))).isEqualTo("not resolved");
    assertThat(MetricsAccuracyBench.cpuVerdict(ci(1.5, 4), ci(0.4, 0.6).put("n", 3))).isEqualTo("missed");
    assertThat(MetricsAccuracyBench.cpuVerdict(ci(-3, 2), ci(1.1, 1.3).put("n", 3))).isEqualTo("missed");
    assertThat(MetricsAccuracyBench.cpuVerdict(ci(-3, 2), ci(0.4, 0.6).put("n", 1))).startsWith("not resolved");
  }
}
