package io.hodei.metrics.collector;

/**
 * The collector's configuration: {@code metrics.enabled}, {@code metrics.collection_interval_seconds} and
 * {@code metrics.max_worker_series} (the bound on per-worker usage series).
 */
public record MetricsSettings(boolean enabled, int collectionIntervalSeconds, int maxWorkerSeries) {
  /** The default bound on per-worker series. */
  public static final int DEFAULT_MAX_WORKER_SERIES = 2000;

  public MetricsSettings(boolean enabled, int collectionIntervalSeconds) {
    this(enabled, collectionIntervalSeconds, DEFAULT_MAX_WORKER_SERIES);
  }
}
