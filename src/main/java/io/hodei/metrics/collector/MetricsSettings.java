package io.hodei.metrics.collector;

/** The collector's configuration: {@code metrics.enabled} and {@code metrics.collection_interval_seconds}. */
public record MetricsSettings(boolean enabled, int collectionIntervalSeconds) {}
