package io.hodei.scheduler;

import java.util.HashMap;
import java.util.Map;

/** Observed run times per pool selector (exponential moving average), for start and finish estimates. */
final class RunTimes {
  private static final double ALPHA = 0.2;
  private final Map<String, Double> averageMs = new HashMap<>();
  private final Map<String, Long> samples = new HashMap<>();

  void record(String selector, long runMs) {
    averageMs.merge(selector, (double) runMs, (old, now) -> old * (1 - ALPHA) + now * ALPHA);
    samples.merge(selector, 1L, Long::sum);
  }

  /** The average run time in ms, or -1 when nothing has run yet. */
  double averageMs(String selector) { return averageMs.getOrDefault(selector, -1.0); }

  long samples(String selector) { return samples.getOrDefault(selector, 0L); }
}
