package io.hodei.metrics.exposition;

import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.Arrays;
import java.util.Comparator;
import java.util.function.Supplier;

import static io.hodei.metrics.exposition.Series.BASE_TIME_UNIT;
import static io.hodei.metrics.exposition.TextFormat.ascii;
import static io.hodei.metrics.exposition.TextFormat.concat;
import static io.hodei.metrics.exposition.TextFormat.format;
import static io.hodei.metrics.exposition.TextFormat.openPrefix;
import static io.hodei.metrics.exposition.TextFormat.prefix;

/**
 * A timer, long task timer or distribution summary: its snapshot, in seconds for the timers, taken once per scrape
 * and shared by the series it writes (a histogram or a summary, and its max gauge).
 */
final class Distribution {
  final Supplier<HistogramSnapshot> snapshot;
  final boolean time;
  final boolean gaugeHistogram;

  Distribution(Supplier<HistogramSnapshot> snapshot, boolean time, boolean gaugeHistogram) {
    this.snapshot = snapshot;
    this.time = time;
    this.gaugeHistogram = gaugeHistogram;
  }

  HistogramSnapshot of(Series.Scrape scrape) { return scrape.snapshots.computeIfAbsent(this, d -> snapshot.get()); }

  double total(HistogramSnapshot s) { return time ? s.total(BASE_TIME_UNIT) : s.total(); }

  double max(HistogramSnapshot s) { return time ? s.max(BASE_TIME_UNIT) : s.max(); }

  double bound(CountAtBucket b) { return time ? b.bucket(BASE_TIME_UNIT) : b.bucket(); }

  double value(ValueAtPercentile v) { return time ? v.value(BASE_TIME_UNIT) : v.value(); }

  record MaxSeries(Distribution d, byte[] prefix) implements Series {
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
  static final class HistogramSeries implements Series {
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
  static final class SummarySeries implements Series {
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
}
