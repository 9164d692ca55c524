package io.hodei.scheduler;

/** What the scheduler needs from configuration. */
public record SchedulerSettings(int defaultPriority, int defaultTimeoutSeconds, int defaultMaxAttempts,
                                int defaultMaxQueueSeconds, double fairShareHalfLifeSeconds, int tickMillis,
                                int maxInflightPlacements, int retryBackoffMaxSeconds, int jobRetentionDays) {}
