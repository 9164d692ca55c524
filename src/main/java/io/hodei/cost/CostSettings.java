package io.hodei.cost;

/**
 * The {@code cost_tracking.*} configuration. {@code enabled=false}: nothing is attributed and the cost endpoints
 * answer 503. {@code trackByTenant=false}: no per-tenant view (group_by=tenant is 422, no tenant cost metrics).
 * {@code trackByJob=false}: no per-job view (group_by=job is 422); jobs are still attributed so idle cost stays
 * right.
 */
public record CostSettings(boolean enabled, boolean trackByTenant, boolean trackByJob, int retentionDays,
                           int sweepIntervalSeconds, int maxReportDays) {}
