package io.hodei.metrics.exposition;

import io.hodei.metrics.exposition.Series.Scrape;
import java.util.ArrayList;
import java.util.List;

import static io.hodei.metrics.exposition.TextFormat.ascii;
import static io.hodei.metrics.exposition.TextFormat.escapeHelp;

/**
 * One metric family of the exposition: its HELP and TYPE lines (rendered once, by kind, as the Prometheus client
 * names them) and the series written under them, in the order they were added.
 */
final class Family {
  /** How a family is typed and named in the text format. */
  enum Kind { COUNTER, GAUGE, INFO, HISTOGRAM, GAUGE_HISTOGRAM, SUMMARY }

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
      for (Series s : series) ((Distribution.HistogramSeries) s).writeGaugeCount(sink, scrape);
      sink.write(ascii(meta(name + "_gsum", help, "gauge")));
      for (Series s : series) ((Distribution.HistogramSeries) s).writeGaugeSum(sink, scrape);
    }
  }
}
