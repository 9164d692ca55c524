package io.hodei.metrics.history;

/** metrics.history_* and retention keys: how often to sample and how long each resolution is kept. */
public record HistorySettings(boolean enabled, int sampleIntervalSeconds, int rollupIntervalSeconds, int rawRetentionHours,
                              int minuteRetentionDays, int fiveMinuteRetentionDays, int hourRetentionDays) {}
