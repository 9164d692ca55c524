package io.hodei.metrics.exposition;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.IdentityHashMap;
import java.util.concurrent.TimeUnit;

import static io.hodei.metrics.exposition.TextFormat.prefix;

/**
 * The lines one meter writes into one family on each scrape: its prefixes are rendered when the meter is laid out,
 * only its values are read and formatted per scrape. The simple kinds are here (a value line, an info line, a
 * function timer's summary); a timer's or distribution summary's series are in {@link Distribution}.
 */
interface Series {
  /** The registry's base time unit: timers are exported in seconds. */
  TimeUnit BASE_TIME_UNIT = TimeUnit.SECONDS;

  void write(Sink sink, Scrape scrape);

  /** Per-scrape state: a distribution meter's snapshot, taken once for its histogram/summary and its max. */
  final class Scrape {
    final IdentityHashMap<Distribution, HistogramSnapshot> snapshots = new IdentityHashMap<>();
  }

  /** One line: a counter, gauge, info or custom statistic. */
  record Value(byte[] prefix, Source source) implements Series {
    interface Source {
      double get();
    }

    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.doubleLine(prefix, source.get());
    }
  }

  /** An info metric's line: the client writes a constant 1. */
  record Info(byte[] prefix) implements Series {
    @Override
    public void write(Sink sink, Scrape scrape) {
      sink.write(prefix);
      sink.write('1');
      sink.newline();
    }
  }

  /** A function timer: a summary of count and total time (seconds), no quantiles. */
  final class FunctionSummary implements Series {
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
}
