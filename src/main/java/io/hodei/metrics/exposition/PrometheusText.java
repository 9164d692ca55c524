package io.hodei.metrics.exposition;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.hodei.metrics.exposition.TextFormat.ascii;
import static io.hodei.metrics.exposition.TextFormat.escapeHelp;

/**
 * The registry in the Prometheus text format 0.0.4, written straight from the Micrometer meters: the same metric
 * families, HELP and TYPE lines, label names, values and bucket bounds as {@link PrometheusMeterRegistry#scrape()}
 * (Micrometer 1.15 over the Prometheus client 1.3), without building the client's snapshots. The client sorts and
 * validates every series' labels ({@code Labels.of}) and formats every name on every scrape; here each meter's
 * name-and-labels prefixes are rendered to UTF-8 bytes once and reused until the registry's meters change (meters
 * are immutable in id, so a changed meter list is the only thing that invalidates them). Only values are formatted
 * per scrape.
 *
 * <p>How the registry names things (read from its sources, and checked against it by PrometheusTextTest): the
 * family name is the meter's convention name ({@code PrometheusNamingConvention}: dots to underscores, unit suffix,
 * {@code _seconds} for timers, reserved suffixes such as {@code _total} stripped); counters are written as
 * {@code name_total} with HELP/TYPE on that name; timers, distribution summaries and long task timers are a
 * histogram (when they publish buckets; a gauge histogram with {@code _gcount}/{@code _gsum} for long task timers)
 * or else a summary (quantiles if configured, {@code _count}, {@code _sum}), plus a {@code name_max} gauge; function
 * timers a summary; a gauge named {@code *.info} an info metric; other meters one family per statistic with a
 * {@code statistic} label. HELP is the meter's description, or a single space without one. Labels are sorted by
 * name. Families are sorted by name, as the client sorts them.
 *
 * <p>When the meters are ones the registry itself would not export as they are (two meters of one name with
 * different types or label names, which the registry refuses to register, or two families of one name), this
 * falls back to the registry's own scrape so that the content never differs.
 *
 * <p>It assumes the registry's defaults that the server uses ({@code PrometheusConfig.DEFAULT}: descriptions as HELP;
 * the client's exporter properties unset: no {@code _created} series, and text 0.0.4 has no exemplars).
 *
 * <p>The parts: {@link Layout} groups the meters into families and decides on the fallback; {@link MeterParts} maps
 * one meter to its families and series; {@link Family}, {@link Series} and {@link Distribution} write them;
 * {@link Sink} is the output and {@link TextFormat} the rendering of names, labels and numbers.
 *
 * <p>Thread-safe: scrapes may run concurrently; a stale prefix cache is replaced, never mutated.
 */
public final class PrometheusText {
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusText.class);

  /**
   * A gauge exported a second time under another name. The seed names some gauges {@code *_total}
   * (hodei_workers_total); the Prometheus client reserves that suffix for counters and exports such a gauge without
   * it, so the text format also gets the gauge under its contract name (legal in text 0.0.4; OpenMetrics forbids it).
   */
  public record GaugeAlias(String meterName, String name, String help) {}

  /**
   * A family of the contract that is written even while no meter of it exists: HELP and TYPE lines without samples
   * (legal in text 0.0.4). Micrometer has no family without a meter, and a meter always has a sample; families whose
   * label values are not known up front (per worker, per pushed model, per autoscaled pool) would otherwise be
   * missing from a scrape until their first series, and a scraper could not tell a family that is empty now from
   * one the server does not have.
   */
  public record Declared(String meterName, String name, String type, String help) {}

  private final PrometheusMeterRegistry registry;
  private final List<GaugeAlias> aliases;
  private final List<Declared> declared;
  /** HELP and TYPE lines of the declared families that have no meter, as of the current layout. */
  private volatile byte[] emptyFamilies = new byte[0];
  private volatile Layout layout = Layout.NONE;
  private volatile int lastSize = 64 * 1024;
  private final AtomicLong layouts = new AtomicLong();

  public PrometheusText(PrometheusMeterRegistry registry, List<GaugeAlias> aliases) {
    this(registry, aliases, List.of());
  }

  public PrometheusText(PrometheusMeterRegistry registry, List<GaugeAlias> aliases, List<Declared> declared) {
    this.registry = registry;
    this.aliases = List.copyOf(aliases);
    this.declared = List.copyOf(declared);
  }

  /**
   * The registry plus the catalog's seed-named {@code *_total} gauges under their contract names, and every catalog
   * family declared (written without samples while it has no meter).
   */
  public static PrometheusText forCatalog(PrometheusMeterRegistry registry) {
    return new PrometheusText(registry, MetricCatalog.ALL.stream()
        .filter(def -> def.type() == MetricCatalog.Type.GAUGE && def.name().endsWith("_total"))
        .map(def -> new GaugeAlias(def.meterName(), def.name(), def.help())).toList(),
        MetricCatalog.ALL.stream().map(def -> new Declared(def.meterName(), def.name(),
            def.type().name().toLowerCase(java.util.Locale.ROOT), def.help())).toList());
  }

  /** One scrape into a new buffer (sized from the previous scrape). */
  public Buffer render() {
    Sink sink = new Sink(lastSize + lastSize / 8);
    write(sink);
    lastSize = sink.size;
    return Buffer.buffer(sink.size).appendBytes(sink.bytes, 0, sink.size);
  }

  /** How many times the prefixes were rendered (the first scrape and every scrape after the meters changed). */
  public long layouts() { return layouts.get(); }

  /** Whether the last layout fell back to the registry's scrape (tests and the benchmark report it). */
  public boolean fallsBack() { return layout.fallbackReason != null; }

  private void write(Sink sink) {
    List<Meter> meters = registry.getMeters();
    Layout current = layout;
    if (!current.isFor(meters)) {
      current = Layout.of(meters, registry.config().namingConvention(), aliases, current);
      emptyFamilies = emptyFamilies(meters);
      layouts.incrementAndGet();
      if (current.fallbackReason != null && !current.fallbackReason.equals(layout.fallbackReason)) {
        LOG.warn("metrics scrape: using the Prometheus client's writer: {}", current.fallbackReason);
      }
      layout = current;
    }
    if (current.fallbackReason != null) {
      try {
        registry.scrape(sink, CONTENT_TYPE);
      } catch (IOException e) {
        throw new IllegalStateException(e); // a Sink does not throw
      }
      current.writeAliases(sink);
    } else {
      current.write(sink);
    }
    sink.write(emptyFamilies);
  }

  private byte[] emptyFamilies(List<Meter> meters) {
    if (declared.isEmpty()) return new byte[0];
    java.util.Set<String> present = new java.util.HashSet<>();
    for (Meter meter : meters) present.add(meter.getId().getName());
    StringBuilder out = new StringBuilder();
    for (Declared d : declared) {
      if (!present.contains(d.meterName())) out.append(Family.meta(d.name(), escapeHelp(d.help()), d.type()));
    }
    return ascii(out.toString());
  }
}
