package io.hodei.metrics.exposition;

import io.hodei.common.MetricCatalog;
import io.hodei.support.Prometheus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast text writer against the registry's own scrape: same families, HELP/TYPE lines, series and values, for
 * every kind of meter the registry knows and for label values and descriptions that need escaping.
 */
class PrometheusTextTest {
  private final MockClock clock = new MockClock();
  private final List<Object> strong = new ArrayList<>();
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void registry() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock);
  }

  @Test
  void everyMeterTypeMatchesTheRegistrysScrape() {
    registerEveryType();
    PrometheusText text = new PrometheusText(registry, List.of());
    assertSameExposition(render(text), registry.scrape());
    assertThat(text.fallsBack()).isFalse();
    // and again after the values moved (the cached prefixes stay valid, only values change)
    Counter.builder("jobs.done").tag("tenant_id", "acme").register(registry).increment(7);
    Timer.builder("http.latency").tag("route", "/a").serviceLevelObjectives(Duration.ofMillis(10),
        Duration.ofMillis(100)).register(registry).record(Duration.ofSeconds(3));
    clock.add(Duration.ofSeconds(2));
    assertSameExposition(render(text), registry.scrape());
  }

  /**
   * Every metric of the catalog, registered through its definition with a series and a value, as the server's
   * writer renders it and as the registry's own scrape does: byte-identical lines, order aside. The catalog writer
   * adds only the seed-named {@code *_total} gauges under their contract names.
   */
  @Test
  void theFullCatalogMatchesTheRegistrysScrape() {
    List<String> aliases = new ArrayList<>();
    for (MetricCatalog.Def def : MetricCatalog.ALL) {
      List<String> tags = new ArrayList<>();
      def.labels().forEach(label -> {
        tags.add(label);
        tags.add("v-" + label);
      });
      String[] labels = tags.toArray(String[]::new);
      switch (def.type()) {
        case COUNTER -> def.counter().tags(labels).register(registry).increment(3);
        case GAUGE -> {
          AtomicLong value = new AtomicLong(7);
          strong.add(value);
          def.gauge(value, AtomicLong::get).tags(labels).register(registry);
          if (def.name().endsWith("_total")) aliases.add(def.name());
        }
        case HISTOGRAM -> def.timer().serviceLevelObjectives(Duration.ofMillis(10), Duration.ofSeconds(1))
            .tags(labels).register(registry).record(Duration.ofMillis(250));
      }
    }
    assertThat(aliases).contains("hodei_workers_total");
    PrometheusText plain = new PrometheusText(registry, List.of());
    String scrape = registry.scrape();
    assertSameExposition(render(plain), scrape);
    assertThat(plain.fallsBack()).isFalse();
    assertThat(Prometheus.parse(scrape)).isNotEmpty();

    PrometheusText catalog = PrometheusText.forCatalog(registry);
    String served = render(catalog);
    assertThat(catalog.fallsBack()).isFalse();
    // every family of the catalog has a meter here, so the declared-but-empty families add nothing
    String withoutAliases = Arrays.stream(served.split("\n"))
        .filter(line -> aliases.stream().noneMatch(a -> line.startsWith(a + " ") || line.startsWith(a + "{")
            || line.startsWith("# HELP " + a + " ") || line.startsWith("# TYPE " + a + " ")))
        .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
    assertSameExposition(withoutAliases, scrape);
    for (String alias : aliases) assertThat(served).contains("# TYPE " + alias + " gauge\n");
  }

  @Test
  void labelValuesAndHelpAreEscapedAsTheRegistryEscapesThem() {
    for (String value : List.of("say \"hi\"", "C:\\path\\to", "two\nlines", "\\\"\n\\n", "ünïcødé 日本", "", "a}b{c=,d",
        "trailing\\")) {
      Counter.builder("escapes").description("a \\ backslash,\na newline and \"quotes\"").tag("value", value)
          .register(registry).increment();
      Gauge.builder("escapes.gauge", () -> 1.5).tag("value", value).tag("other.key", "x").register(registry);
    }
    String fast = render(new PrometheusText(registry, List.of()));
    assertSameExposition(fast, registry.scrape());
    assertThat(fast).contains("escapes_total{value=\"say \\\"hi\\\"\"} 1.0")
        .contains("escapes_total{value=\"C:\\\\path\\\\to\"} 1.0")
        .contains("escapes_total{value=\"two\\nlines\"} 1.0")
        .contains("# HELP escapes_total a \\\\ backslash,\\na newline and \"quotes\"\n");
  }

  @Test
  void valuesAreFormattedAsTheClientFormatsThem() {
    double[] values = {0, -0.0, 1, -1, 42, 9_999_999, 10_000_000, 1e10, -1e12, 0.5, 0.1 + 0.2, 1e-5, 123.456,
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Long.MAX_VALUE, Double.MIN_VALUE,
        Double.MAX_VALUE};
    for (int i = 0; i < values.length; i++) {
      double v = values[i];
      Gauge.builder("values", () -> v).tag("i", Integer.toString(i)).register(registry);
    }
    assertSameExposition(render(new PrometheusText(registry, List.of())), registry.scrape());
  }

  @Test
  void addedAndRemovedMetersShowOnTheNextScrape() {
    PrometheusText text = new PrometheusText(registry, List.of());
    Counter first = Counter.builder("churn").tag("n", "1").register(registry);
    assertSameExposition(render(text), registry.scrape());
    Counter.builder("churn").tag("n", "2").register(registry);
    Timer.builder("churn.timer").register(registry).record(Duration.ofMillis(3));
    assertThat(render(text)).contains("churn_total{n=\"2\"}").contains("churn_timer_seconds_count 1");
    assertSameExposition(render(text), registry.scrape());
    registry.remove(first);
    assertThat(render(text)).doesNotContain("churn_total{n=\"1\"}");
    assertSameExposition(render(text), registry.scrape());
  }

  @Test
  void metersTheRegistryRefusesFallBackToItsOwnWriter() {
    Counter.builder("clash").register(registry).increment();
    Gauge.builder("clash", () -> 3).tag("k", "v").register(registry); // a counter's name: the registry skips it
    Counter.builder("keys").tag("a", "1").register(registry);
    Counter.builder("keys").tag("b", "1").register(registry); // other label names: the registry skips it
    PrometheusText text = new PrometheusText(registry, List.of());
    String out = render(text);
    assertThat(text.fallsBack()).isTrue();
    assertSameExposition(out, registry.scrape());
  }

  @Test
  void gaugeAliasesAreAppendedUnderTheirContractName() {
    AtomicLong workers = new AtomicLong(5);
    Gauge.builder("hodei_workers_total", workers, AtomicLong::get).tag("pool", "p\"1").register(registry);
    String out = render(new PrometheusText(registry,
        List.of(new PrometheusText.GaugeAlias("hodei_workers_total", "hodei_workers_total", "Workers known."))));
    assertThat(out).contains("# HELP hodei_workers_total Workers known.\n# TYPE hodei_workers_total gauge\n"
        + "hodei_workers_total{pool=\"p\\\"1\"} 5.0\n");
    // the registry's own family is there as well, without the reserved suffix
    assertThat(out).contains("hodei_workers{pool=\"p\\\"1\"} 5.0\n");
  }

  // ------------------------------------------------------------------ helpers

  private void registerEveryType() {
    Counter.builder("jobs.done").description("Jobs done.").tag("tenant_id", "acme").register(registry).increment(3);
    Counter.builder("jobs.done").description("Jobs done.").tag("tenant_id", "zeta").register(registry);
    Counter.builder("bytes.sent").baseUnit("bytes").register(registry).increment(1024);
    Counter.builder("already_total").register(registry).increment();
    AtomicLong calls = new AtomicLong(11);
    FunctionCounter.builder("calls", calls, AtomicLong::get).description("Calls.").tag("kind", "rpc")
        .register(registry);

    AtomicLong level = new AtomicLong(4);
    strong.add(level);
    Gauge.builder("queue.depth", level, AtomicLong::get).description("Queued.").tag("pool", "a").tag("b.key", "x")
        .register(registry);
    Gauge.builder("workers.total", () -> 6).register(registry);
    Gauge.builder("memory.used", () -> 12.5).baseUnit("bytes").register(registry);
    Gauge.builder("build.info", () -> 1).tag("version", "1.2.3").description("Build.").register(registry);
    TimeGauge.builder("uptime", () -> 1500, TimeUnit.MILLISECONDS).register(registry);

    Timer plain = Timer.builder("http.latency").description("Latency.").tag("route", "/a").register(registry);
    plain.record(Duration.ofMillis(12));
    plain.record(Duration.ofMillis(250));
    Timer slo = Timer.builder("sched.latency").serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(10),
        Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10)).tag("decision", "place")
        .register(registry);
    for (int ms : new int[] {0, 3, 7, 40, 900, 20_000}) slo.record(Duration.ofMillis(ms));
    Timer histogram = Timer.builder("histo.latency").publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    histogram.record(Duration.ofMillis(5));
    Timer percentiles = Timer.builder("pct.latency").publishPercentiles(0.99, 0.5, 0.95).register(registry);
    for (int ms = 1; ms <= 100; ms++) percentiles.record(Duration.ofMillis(ms));
    Timer.builder("idle.latency").serviceLevelObjectives(Duration.ofMillis(5)).register(registry);
    Timer.builder("seconds.named.seconds").register(registry).record(Duration.ofSeconds(1));

    DistributionSummary size = DistributionSummary.builder("payload.size").baseUnit("bytes")
        .serviceLevelObjectives(100, 1000, 10_000).description("Payload.").register(registry);
    for (double v : new double[] {50, 500, 5000, 50_000}) size.record(v);
    DistributionSummary.builder("plain.summary").register(registry).record(3.5);
    DistributionSummary pct = DistributionSummary.builder("pct.summary").publishPercentiles(0.5, 0.9).scale(2)
        .register(registry);
    for (int i = 0; i < 50; i++) pct.record(i);
    DistributionSummary.builder("inf.summary").serviceLevelObjectives(1, Double.POSITIVE_INFINITY)
        .register(registry).record(5);

    LongTaskTimer ltt = LongTaskTimer.builder("long.task").description("Long tasks.").register(registry);
    ltt.start();
    clock.add(Duration.ofSeconds(3));
    ltt.start();
    LongTaskTimer lttHistogram = LongTaskTimer.builder("long.task.histo").serviceLevelObjectives(
        Duration.ofSeconds(1), Duration.ofSeconds(5)).register(registry);
    lttHistogram.start();
    clock.add(Duration.ofSeconds(2));
    lttHistogram.start();

    AtomicLong timed = new AtomicLong(8);
    FunctionTimer.builder("fn.timer", timed, AtomicLong::get, t -> t.get() * 250.0, TimeUnit.MILLISECONDS)
        .description("Function timer.").register(registry);

    List<Measurement> measurements = new ArrayList<>();
    for (Statistic statistic : Statistic.values()) {
      double value = statistic.ordinal() + 0.25;
      measurements.add(new Measurement(() -> value, statistic));
    }
    Meter.builder("custom.meter", Meter.Type.OTHER, measurements).tag("k", "v").description("Custom.")
        .register(registry);
    Meter.builder("custom.counter", Meter.Type.COUNTER, List.of(new Measurement(() -> 2, Statistic.COUNT)))
        .register(registry);
  }

  private static String render(PrometheusText text) {
    return text.render().toString(StandardCharsets.UTF_8);
  }

  /**
   * The same exposition, order aside: the same lines (text-exact, HELP/TYPE included), the same (series, value)
   * pairs as a scraper parses them, and each family's lines together under its TYPE line.
   */
  private static void assertSameExposition(String actual, String expected) {
    List<String> a = Arrays.stream(actual.split("\n")).sorted().toList();
    List<String> e = Arrays.stream(expected.split("\n")).sorted().toList();
    assertThat(a).containsExactlyElementsOf(e);
    assertThat(samples(actual)).isEqualTo(samples(expected));
    assertThat(families(actual)).isEqualTo(families(expected));
  }

  /** series (name + sorted labels) -> value; NaN as its text so that it compares equal. */
  private static Map<String, String> samples(String text) {
    Map<String, String> out = new TreeMap<>();
    for (Prometheus.Sample s : Prometheus.parse(text)) {
      String key = s.name() + new TreeMap<>(s.labels());
      assertThat(out.put(key, Double.toString(s.value()))).as("duplicate series " + key).isNull();
    }
    return out;
  }

  /** TYPE name -> the sample names that follow it, until the next TYPE line. */
  private static Map<String, Set<String>> families(String text) {
    Map<String, Set<String>> out = new TreeMap<>();
    Set<String> current = null;
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        current = new HashSet<>();
        assertThat(out.put(line, current)).as("family twice: " + line).isNull();
      } else if (!line.startsWith("#") && !line.isBlank()) {
        assertThat(current).as("sample before any TYPE: " + line).isNotNull();
        current.add(line.replaceAll("[{ ].*", ""));
      }
    }
    return out;
  }
}
