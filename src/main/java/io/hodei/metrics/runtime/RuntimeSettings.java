package io.hodei.metrics.runtime;

/** What {@link RuntimeMetricsVerticle} samples and how often; {@code dbPoolSize} is database.pool_size. */
public record RuntimeSettings(boolean enabled, int sampleIntervalSeconds, int dbPoolSize) {}
