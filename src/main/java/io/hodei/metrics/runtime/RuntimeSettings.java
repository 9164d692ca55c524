package io.hodei.metrics.runtime;

/**
 * What {@link RuntimeMetricsVerticle} samples and how often; {@code dbPoolSize} is database.pool_size and
 * {@code diskPath} a path on the file system whose space is reported (the data directory).
 */
public record RuntimeSettings(boolean enabled, int sampleIntervalSeconds, int dbPoolSize, String diskPath) {
  public RuntimeSettings(boolean enabled, int sampleIntervalSeconds, int dbPoolSize) {
    this(enabled, sampleIntervalSeconds, dbPoolSize, ".");
  }
}
