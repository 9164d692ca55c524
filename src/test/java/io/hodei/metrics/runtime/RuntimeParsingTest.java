package io.hodei.metrics.runtime;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The pure parts of the runtime metrics: /proc parsing, statement kinds, quantiles from histogram buckets. */
class RuntimeParsingTest {
  @Test
  void diskstatsCountWholeDisksOnly() {
    String diskstats = String.join("\n",
        "   8       0 sda 100 0 2000 0 50 0 4000 0 0 0 0",
        "   8       1 sda1 90 0 1800 0 40 0 3000 0 0 0 0",
        " 259       0 nvme0n1 10 0 20 0 5 0 40 0 0 0 0",
        " 259       1 nvme0n1p1 10 0 20 0 5 0 40 0 0 0 0",
        "   7       0 loop0 999 0 999 0 999 0 999 0 0 0 0",
        " 253       0 dm-0 999 0 999 0 999 0 999 0 0 0 0");
    assertThat(HostStats.disk(diskstats)).containsExactly((2000 + 20) * 512L, (4000 + 40) * 512L);
  }

  @Test
  void netDevSkipsLoopback() {
    String netDev = String.join("\n",
        "Inter-|   Receive                                                |  Transmit",
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
        "    lo: 5000 10 0 0 0 0 0 0 5000 10 0 0 0 0 0 0",
        "  eth0: 1234 10 0 0 0 0 0 0 4321 10 0 0 0 0 0 0",
        "  eth1:100 1 0 0 0 0 0 0 200 1 0 0 0 0 0 0");
    assertThat(HostStats.network(netDev)).containsExactly(1334L, 4521L);
  }

  @Test
  void statementKindIsTheFirstKeyword() {
    assertThat(ServiceMeters.statementKind("  SELECT 1")).isEqualTo("select");
    assertThat(ServiceMeters.statementKind("WITH x AS (SELECT 1) SELECT * FROM x")).isEqualTo("select");
    assertThat(ServiceMeters.statementKind("insert into t values ($1)")).isEqualTo("insert");
    assertThat(ServiceMeters.statementKind("COMMIT")).isEqualTo("transaction");
    assertThat(ServiceMeters.statementKind("CREATE TABLE x ()")).isEqualTo("other");
    assertThat(ServiceMeters.statementKind(null)).isEqualTo("other");
  }

  @Test
  void quantilesInterpolateInTheBuckets() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Timer timer = Timer.builder("t").serviceLevelObjectives(ServiceMeters.BUCKETS).register(registry);
    // 100 samples of 20 ms: all in the (10, 25] ms bucket
    for (int i = 0; i < 100; i++) timer.record(20, TimeUnit.MILLISECONDS);
    HistogramQuantiles q = HistogramQuantiles.of(List.of(timer));
    assertThat(q.count()).isEqualTo(100);
    assertThat(q.quantile(0.5)).isCloseTo(17.5, within(0.01));
    assertThat(q.quantile(0.99)).isLessThanOrEqualTo(20.0); // capped by the recent max
    assertThat(HistogramQuantiles.of(List.of()).quantile(0.5)).isNull();
    registry.close();
  }
}
