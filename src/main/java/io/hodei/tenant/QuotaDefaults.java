package io.hodei.tenant;

/** The quota a new tenant gets when it is created without one (multi_tenancy.default_tenant_quota). */
public record QuotaDefaults(long cpuM, long memoryMb, long maxConcurrentJobs, long maxQueuedJobs) {}
