package io.hodei.metrics.exposition;

import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Thread-safe: scrapes may run concurrently; a stale prefix cache is replaced, never mutated.
 */
public final class PrometheusText {
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusText.class);
  private static final TimeUnit BASE_TIME_UNIT = TimeUnit.SECONDS;

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

  // ------------------------------------------------------------------ layout: what to write, prefixes rendered

  /**
   * The families of one meter list, sorted by name, and each meter's rendered parts (kept by meter instance, so that
   * a rebuild after the meters changed renders only the new meters and regroups the rest). Immutable once built.
   */
  private static final class Layout {
    static final Layout NONE = new Layout(new Meter[0], new IdentityHashMap<>(), List.of(), List.of(), null);

    final Meter[] meters;
    final IdentityHashMap<Meter, MeterParts> parts;
    final List<Family> families;
    final List<Family> aliasFamilies;
    final String fallbackReason;

    Layout(Meter[] meters, IdentityHashMap<Meter, MeterParts> parts, List<Family> families,
           List<Family> aliasFamilies, String fallbackReason) {
      this.meters = meters;
      this.parts = parts;
      this.families = families;
      this.aliasFamilies = aliasFamilies;
      this.fallbackReason = fallbackReason;
    }

    /** Same meters (same instances) as when it was built: a meter's id, so its prefixes, never change. */
    boolean isFor(List<Meter> current) {
      if (current.size() != meters.length || this == NONE) return false;
      for (int i = 0; i < meters.length; i++) {
        if (current.get(i) != meters[i]) return false;
      }
      return true;
    }

    void write(Sink sink) {
      Scrape scrape = new Scrape();
      for (Family family : families) family.write(sink, scrape);
      writeAliases(sink);
    }

    void writeAliases(Sink sink) {
      Scrape scrape = new Scrape();
      for (Family family : aliasFamilies) family.write(sink, scrape);
    }

    static Layout of(List<Meter> meterList, NamingConvention convention, List<GaugeAlias> aliases, Layout previous) {
      Meter[] meters = meterList.toArray(new Meter[0]);
      IdentityHashMap<Meter, MeterParts> parts = new IdentityHashMap<>(meters.length * 2);
      // the registry's collectors: one per convention name, the first meter fixing type and label names
      Map<String, List<MeterParts>> collectors = new LinkedHashMap<>();
      for (Meter meter : meters) {
        MeterParts p = previous.parts.get(meter);
        if (p == null) p = MeterParts.of(meter, convention);
        parts.put(meter, p);
        collectors.computeIfAbsent(p.collector(), k -> new ArrayList<>()).add(p);
      }
      Map<String, Family> families = new TreeMap<>();
      String fallback = null;
      for (List<MeterParts> members : collectors.values()) {
        MeterParts first = members.get(0);
        Map<String, Family> own = new HashMap<>();
        for (MeterParts p : members) {
          if (p.type() != first.type() || !p.labelKeys().equals(first.labelKeys())) {
            fallback = "meters named " + first.collector() + " differ in type or label names";
          }
          for (Part part : p.parts()) {
            own.computeIfAbsent(part.family(), n -> new Family(n, part.kind(), part.help())).series.add(part.series());
          }
        }
        for (Family family : own.values()) {
          if (families.putIfAbsent(family.name, family) != null) fallback = "two metric families named " + family.name;
        }
      }
      return new Layout(meters, parts, List.copyOf(families.values()), aliasFamilies(meters, parts, aliases),
          fallback);
    }

    private static List<Family> aliasFamilies(Meter[] meters, IdentityHashMap<Meter, MeterParts> parts,
                                              List<GaugeAlias> aliases) {
      if (aliases.isEmpty()) return List.of();
      Map<String, GaugeAlias> byMeterName = new HashMap<>();
      for (GaugeAlias alias : aliases) byMeterName.put(alias.meterName(), alias);
      Map<String, Family> families = new LinkedHashMap<>();
      for (GaugeAlias alias : aliases) families.put(alias.meterName(), new Family(alias.name(), Kind.GAUGE, alias.help()));
      for (Meter meter : meters) {
        GaugeAlias alias = byMeterName.get(meter.getId().getName());
        if (alias != null && meter instanceof Gauge gauge) {
          families.get(alias.meterName()).series.add(new Value(prefix(alias.name(), "", parts.get(meter).labels()),
              gauge::value));
        }
      }
      return families.values().stream().filter(f -> !f.series.isEmpty()).toList();
    }
  }

  /** One family a meter contributes to, with the meter's series in it. */
  private record Part(String family, Kind kind, String help, Series series) {}

  /**
   * A meter as the registry's collector child for it: the collector (convention name), its type and label names
   * (which must agree within a collector), its label block and what it writes into which family.
   */
  private record MeterParts(String collector, Meter.Type type, List<String> labelKeys, byte[] labels,
                            List<Part> parts) {
    static MeterParts of(Meter meter, NamingConvention convention) {
      Meter.Id id = meter.getId();
      String name = id.getConventionName(convention);
      List<Tag> tags = id.getConventionTags(convention);
      byte[] labels = labels(tags, null);
      List<Part> parts = new ArrayList<>(2);
      String help = id.getDescription();
      if (meter instanceof Counter counter) {
        parts.add(new Part(name, Kind.COUNTER, help, new Value(prefix(name, "_total", labels), counter::count)));
      } else if (meter instanceof FunctionCounter counter) {
        parts.add(new Part(name, Kind.COUNTER, help, new Value(prefix(name, "_total", labels), counter::count)));
      } else if (meter instanceof Gauge gauge) {
        if (id.getName().endsWith(".info")) {
          parts.add(new Part(name, Kind.INFO, help, new Info(prefix(name, "_info", labels))));
        } else {
          parts.add(new Part(name, Kind.GAUGE, help, new Value(prefix(name, "", labels), gauge::value)));
        }
      } else if (meter instanceof Timer timer) {
        distribution(parts, name, help, labels, new Distribution(timer::takeSnapshot, true, false));
      } else if (meter instanceof LongTaskTimer timer) {
        distribution(parts, name, help, labels, new Distribution(timer::takeSnapshot, true, true));
      } else if (meter instanceof DistributionSummary summary) {
        distribution(parts, name, help, labels, new Distribution(summary::takeSnapshot, false, false));
      } else if (meter instanceof FunctionTimer timer) {
        parts.add(new Part(name, Kind.SUMMARY, help, new FunctionSummary(timer, name, labels)));
      } else {
        custom(meter, name, tags, parts, help);
      }
      return new MeterParts(name, id.getType(), tags.stream().map(Tag::getKey).toList(), labels, List.copyOf(parts));
    }

    private static void distribution(List<Part> parts, String name, String help, byte[] labels, Distribution d) {
      // histogram when the meter publishes buckets, else a summary: decided by its configuration (a meter's bucket
      // list never changes), so by its first snapshot
      HistogramSnapshot first = d.snapshot.get();
      if (first.histogramCounts().length > 0) {
        parts.add(new Part(name, d.gaugeHistogram ? Kind.GAUGE_HISTOGRAM : Kind.HISTOGRAM, help,
            new HistogramSeries(d, name, labels, first.histogramCounts())));
      } else {
        parts.add(new Part(name, Kind.SUMMARY, help, new SummarySeries(d, name, labels)));
      }
      parts.add(new Part(name + "_max", Kind.GAUGE, help, new MaxSeries(d, prefix(name, "_max", labels))));
    }

    /** A meter of no standard kind: one family per statistic, the statistic as a label (newMeter in the registry). */
    private static void custom(Meter meter, String name, List<Tag> tags, List<Part> parts, String help) {
      int index = 0;
      for (Measurement measurement : meter.measure()) {
        Statistic statistic = measurement.getStatistic();
        byte[] labels = labels(tags, statistic.toString());
        final int at = index++;
        Value.Source value = () -> measurementValue(meter, at, statistic);
        String family = name + switch (statistic) {
          case TOTAL, TOTAL_TIME -> "_sum";
          case COUNT -> "";
          case MAX -> "_max";
          case VALUE, UNKNOWN -> "_value";
          case ACTIVE_TASKS -> "_active_count";
          case DURATION -> "_duration_sum";
        };
        boolean counter = switch (statistic) {
          case TOTAL, TOTAL_TIME, COUNT -> true;
          default -> false;
        };
        parts.add(new Part(family, counter ? Kind.COUNTER : Kind.GAUGE, help,
            new Value(prefix(family, counter ? "_total" : "", labels), value)));
      }
    }

    private static double measurementValue(Meter meter, int index, Statistic statistic) {
      Iterator<Measurement> it = meter.measure().iterator();
      for (int i = 0; i < index && it.hasNext(); i++) it.next();
      if (!it.hasNext()) return Double.NaN;
      Measurement m = it.next();
      return m.getStatistic() == statistic ? m.getValue() : Double.NaN;
    }

    /**
     * {@code {k="v",...} } without the closing brace (an {@code le} or {@code quantile} label may follow), sorted by
     * name as {@code Labels.of} sorts them; an empty array for no labels. {@code statistic}: the extra label of a
     * custom meter, or null.
     */
    private static byte[] labels(List<Tag> tags, String statistic) {
      List<String[]> pairs = new ArrayList<>();
      for (Tag tag : tags) pairs.add(new String[] {tag.getKey(), tag.getValue()});
      if (statistic != null) pairs.add(new String[] {"statistic", statistic});
      if (pairs.isEmpty()) return new byte[0];
      pairs.sort(Comparator.comparing(p -> p[0]));
      StringBuilder s = new StringBuilder("{");
      for (int i = 0; i < pairs.size(); i++) {
        if (i > 0) s.append(',');
        s.append(pairs.get(i)[0]).append("=\"");
        escapeLabelValue(s, pairs.get(i)[1]);
        s.append('"');
      }
      return s.toString().getBytes(StandardCharsets.UTF_8);
    }
  }

  /** {@code name+suffix{labels} } ready to take a value. */
  private static byte[] prefix(String name, String suffix, byte[] labels) {
    return concat(ascii(name + suffix), labels, labels.length == 0 ? new byte[0] : ascii("}"), ascii(" "));
  }

  /** {@code name+suffix{labels,extra="} } (or {@code {extra="} without labels), ready to take the extra value. */
  private static byte[] openPrefix(String name, String suffix, byte[] labels, String extra) {
    return concat(ascii(name + suffix), labels.length == 0 ? ascii("{") : labels, labels.length == 0
        ? new byte[0] : ascii(","), ascii(extra + "=\""));
  }

  static void escapeLabelValue(StringBuilder s, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> s.append("\\\\");
        case '"' -> s.append("\\\"");
        case '\n' -> s.append("\\n");
        default -> s.append(c);
      }
    }
  }

  private static String escapeHelp(String help) {
    return help.replace("\\", "\\\\").replace("\n", "\\n");
  }

  private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) length += p.length;
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  // ------------------------------------------------------------------ families and series

  private enum Kind { COUNTER, GAUGE, INFO, HISTOGRAM, GAUGE_HISTOGRAM, SUMMARY }

  /** Per-scrape state: a distribution meter's snapshot, taken once for its histogram/summary and its max. */
  private static final class Scrape {
    final IdentityHashMap<Distribution, HistogramSnapshot> snapshots = new IdentityHashMap<>();
  }

  private static final class Family {
    final String name;
    final Kind kind;
    final String help;
    final byte[] header;
    final List<Series> series = new ArrayList<>();

    Family(String name, Kind kind, String description) {
      this.name = name;
      this.kind = kind;
      this.help = escapeHelp(description != null ? description : " ");
      this.header = ascii(switch (kind) {
        case COUNTER -> meta(name + "_total", help, "counter");
        case GAUGE -> meta(name, help, "gauge");
        case INFO -> meta(name + "_info", help, "gauge");
        case HISTOGRAM, GAUGE_HISTOGRAM -> meta(name, help, "histogram");
        case SUMMARY -> meta(name, help, "summary");
      });
    }

    static String meta(String name, String help, String type) {
      return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    }

    void write(Sink sink, Scrape scrape) {
      sink.write(header);
      for (Series s : series) s.write(sink, scrape);
      if (kind == Kind.GAUGE_HISTOGRAM) {
        // the text format has no gauge histogram count/sum: the client appends them as two gauges
        sink.write(ascii(meta(name + "_gcount", help, "gauge")));
        for (Series s : series) ((HistogramSeries) s).writeGaugeCount(sink, scrape);
        sink.write(ascii(meta(name + "_gsum", help, "gauge")));
        for (Series s : series) ((HistogramSeries) s).writeGaugeSum(sink, scrape);
      }
    }
  }

  private interface Series {
    void write(Sink sink, Scrape scrape);
  }

  /** One line: a counter, gauge, info or custom statistic. */
  private record Value(byte[] prefix, Source source) implements Series {
    interface Source {
      double get();
    }

    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.doubleLine(prefix, source.get());
    }
  }

  /** An info metric's line: the client writes a constant 1. */
  private record Info(byte[] prefix) implements Series {
    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.write(prefix);
      sink.write('1');
      sink.newline();
    }
  }

  /** A timer, long task timer or distribution summary: its snapshot, in seconds for the timers. */
  private static final class Distribution {
    final Supplier<HistogramSnapshot> snapshot;
    final boolean time;
    final boolean gaugeHistogram;

    Distribution(Supplier<HistogramSnapshot> snapshot, boolean time, boolean gaugeHistogram) {
      this.snapshot = snapshot;
      this.time = time;
      this.gaugeHistogram = gaugeHistogram;
    }

    HistogramSnapshot of(Scrape scrape) { return scrape.snapshots.computeIfAbsent(this, d -> snapshot.get()); }

    double total(HistogramSnapshot s) { return time ? s.total(BASE_TIME_UNIT) : s.total(); }

    double max(HistogramSnapshot s) { return time ? s.max(BASE_TIME_UNIT) : s.max(); }

    double bound(CountAtBucket b) { return time ? b.bucket(BASE_TIME_UNIT) : b.bucket(); }

    double value(ValueAtPercentile v) { return time ? v.value(BASE_TIME_UNIT) : v.value(); }
  }

  private record MaxSeries(Distribution d, byte[] prefix) implements Series {
    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.doubleLine(prefix, d.max(d.of(scrape)));
    }
  }

  /**
   * Buckets as the registry hands them to the client (cumulative counts made per-bucket, a +Inf bucket added when
   * the last bound is finite, its count the rest of the total, never negative) and as the client writes them
   * (cumulative again). The bucket lines' prefixes, {@code le} included, are rendered for the bounds of the first
   * snapshot and reused while the bounds are the same.
   */
  private static final class HistogramSeries implements Series {
    final Distribution d;
    final byte[] bucketOpen;
    final double[] bounds;
    final byte[][] bucketPrefixes;
    final byte[] count;
    final byte[] sum;
    final byte[] gaugeCount;
    final byte[] gaugeSum;

    HistogramSeries(Distribution d, String name, byte[] labels, CountAtBucket[] first) {
      this.d = d;
      this.bucketOpen = openPrefix(name, "_bucket", labels, "le");
      this.bounds = bounds(first);
      this.bucketPrefixes = new byte[bounds.length][];
      for (int i = 0; i < bounds.length; i++) bucketPrefixes[i] = concat(bucketOpen, ascii(format(bounds[i]) + "\"} "));
      this.count = prefix(name, "_count", labels);
      this.sum = prefix(name, "_sum", labels);
      this.gaugeCount = prefix(name, "_gcount", labels);
      this.gaugeSum = prefix(name, "_gsum", labels);
    }

    private double[] bounds(CountAtBucket[] counts) {
      boolean addInf = Double.isFinite(counts[counts.length - 1].bucket());
      double[] b = new double[counts.length + (addInf ? 1 : 0)];
      for (int i = 0; i < counts.length; i++) b[i] = d.bound(counts[i]);
      if (addInf) b[counts.length] = Double.POSITIVE_INFINITY;
      return b;
    }

    @Override
    public void write(Sink sink, Scrape scrape) {
      HistogramSnapshot s = d.of(scrape);
      CountAtBucket[] counts = s.histogramCounts();
      double[] now = counts.length == 0 ? new double[] {Double.POSITIVE_INFINITY} : bounds(counts);
      boolean cached = Arrays.equals(now, bounds);
      long cumulative = 0;
      for (int i = 0; i < now.length; i++) {
        long perBucket;
        if (counts.length == 0) {
          perBucket = s.count();
        } else if (i < counts.length) {
          perBucket = (long) (i == 0 ? counts[0].count() : counts[i].count() - counts[i - 1].count());
        } else {
          double rest = s.count() - counts[counts.length - 1].count();
          perBucket = (long) (rest >= 0 ? rest : 0);
        }
        cumulative += perBucket;
        if (cached) {
          sink.write(bucketPrefixes[i]);
        } else {
          sink.write(bucketOpen);
          sink.writeDouble(now[i]);
          sink.writeAscii("\"} ");
        }
        sink.writeLong(cumulative);
        sink.newline();
      }
      if (!d.gaugeHistogram) {
        sink.longLine(count, s.count());
        sink.doubleLine(sum, d.total(s));
      }
    }

    void writeGaugeCount(Sink sink, Scrape scrape) {
      sink.longLine(gaugeCount, d.of(scrape).count());
    }

    void writeGaugeSum(Sink sink, Scrape scrape) {
      sink.doubleLine(gaugeSum, d.total(d.of(scrape)));
    }
  }

  /** No buckets: quantiles (when configured), count and sum. */
  private static final class SummarySeries implements Series {
    final Distribution d;
    final byte[] quantileOpen;
    final byte[] count;
    final byte[] sum;

    SummarySeries(Distribution d, String name, byte[] labels) {
      this.d = d;
      this.quantileOpen = openPrefix(name, "", labels, "quantile");
      this.count = prefix(name, "_count", labels);
      this.sum = prefix(name, "_sum", labels);
    }

    @Override
    public void write(Sink sink, Scrape scrape) {
      HistogramSnapshot s = d.of(scrape);
      ValueAtPercentile[] percentiles = s.percentileValues();
      if (percentiles.length > 0) {
        // Quantiles.of sorts them by quantile
        percentiles = percentiles.clone();
        Arrays.sort(percentiles, Comparator.comparingDouble(ValueAtPercentile::percentile));
      }
      for (ValueAtPercentile v : percentiles) {
        sink.write(quantileOpen);
        sink.writeDouble(v.percentile());
        sink.writeAscii("\"} ");
        sink.writeDouble(d.value(v));
        sink.newline();
      }
      sink.longLine(count, s.count());
      sink.doubleLine(sum, d.total(s));
    }
  }

  /** A function timer: a summary of count and total time (seconds), no quantiles. */
  private static final class FunctionSummary implements Series {
    final FunctionTimer timer;
    final byte[] count;
    final byte[] sum;

    FunctionSummary(FunctionTimer timer, String name, byte[] labels) {
      this.timer = timer;
      this.count = prefix(name, "_count", labels);
      this.sum = prefix(name, "_sum", labels);
    }

    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.longLine(count, (long) timer.count());
      sink.doubleLine(sum, timer.totalTime(BASE_TIME_UNIT));
    }
  }

  /** A double as the client's {@code TextFormatUtil.writeDouble} writes it. */
  static String format(double d) {
    if (d == Double.POSITIVE_INFINITY) return "+Inf";
    if (d == Double.NEGATIVE_INFINITY) return "-Inf";
    return Double.toString(d);
  }

  // ------------------------------------------------------------------ output

  /** A growable byte array; also an OutputStream for the fallback to the registry's writer. */
  static final class Sink extends OutputStream {
    private static final byte[] MIN_LONG = ascii(Long.toString(Long.MIN_VALUE));
    byte[] bytes;
    int size;
    private final byte[] digits = new byte[20];

    Sink(int capacity) { bytes = new byte[Math.max(capacity, 1024)]; }

    private void ensure(int more) {
      if (size + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }

    @Override
    public void write(int b) {
      ensure(1);
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }

    @Override
    public void write(byte[] b) { write(b, 0, b.length); }

    void writeAscii(String s) {
      ensure(s.length());
      for (int i = 0; i < s.length(); i++) bytes[size++] = (byte) s.charAt(i);
    }

    void newline() { write('\n'); }

    /** {@code prefix value\n} for a whole number. */
    void longLine(byte[] prefix, long value) {
      write(prefix);
      writeLong(value);
      newline();
    }

    /** {@code prefix value\n}. */
    void doubleLine(byte[] prefix, double value) {
      write(prefix);
      writeDouble(value);
      newline();
    }

    void writeLong(long v) {
      if (v == Long.MIN_VALUE) {
        write(MIN_LONG);
        return;
      }
      ensure(20);
      if (v < 0) {
        bytes[size++] = '-';
        v = -v;
      }
      int n = 0;
      do {
        digits[n++] = (byte) ('0' + v % 10);
        v /= 10;
      } while (v != 0);
      while (n > 0) bytes[size++] = digits[--n];
    }

    /**
     * {@code Double.toString} without its String for the common case, a whole number below 10^7 (which it writes
     * as {@code 123.0}; from 10^7 on it switches to {@code 1.0E7}). -0.0 and everything else go through it.
     */
    void writeDouble(double d) {
      if (d > -1e7 && d < 1e7) {
        long whole = (long) d;
        if (whole == d && (whole != 0 || Double.doubleToRawLongBits(d) == 0L)) {
          writeLong(whole);
          ensure(2);
          bytes[size++] = '.';
          bytes[size++] = '0';
          return;
        }
      }
      writeAscii(format(d));
    }
  }
}
