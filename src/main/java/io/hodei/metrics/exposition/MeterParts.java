package io.hodei.metrics.exposition;

import io.hodei.metrics.exposition.Distribution.HistogramSeries;
import io.hodei.metrics.exposition.Distribution.MaxSeries;
import io.hodei.metrics.exposition.Distribution.SummarySeries;
import io.hodei.metrics.exposition.Family.Kind;
import io.hodei.metrics.exposition.Series.FunctionSummary;
import io.hodei.metrics.exposition.Series.Info;
import io.hodei.metrics.exposition.Series.Value;
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
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

import static io.hodei.metrics.exposition.TextFormat.escapeLabelValue;
import static io.hodei.metrics.exposition.TextFormat.prefix;

/**
 * A meter as the registry's collector child for it: the collector (convention name), its type and label names
 * (which must agree within a collector), its label block and what it writes into which family. This is where each
 * kind of meter is mapped to the families and series the registry exports for it (see {@link PrometheusText}).
 */
record MeterParts(String collector, Meter.Type type, List<String> labelKeys, byte[] labels, List<Part> parts) {
  /** One family a meter contributes to, with the meter's series in it. */
  record Part(String family, Kind kind, String help, Series series) {}

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
