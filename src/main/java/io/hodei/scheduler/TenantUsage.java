package io.hodei.scheduler;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What each tenant holds now (its admitted and running jobs) and has waiting, and the quota checks on them: whether
 * the tenant's quota (with burst while a grant is in force) lets one more job start, and whether it needs the burst
 * grant to. Confined to the scheduler's event loop.
 */
final class TenantUsage {
  /** Resources a tenant holds now. */
  static final class Usage {
    private int jobs;
    private long cpuM;
    private long memoryMb;

    int jobs() { return jobs; }

    long cpuM() { return cpuM; }

    long memoryMb() { return memoryMb; }
  }

  /** The usage of a tenant holding nothing: read only, never stored. */
  static final Usage NONE = new Usage();

  private final Map<String, Usage> held = new HashMap<>();
  /** Jobs counted against max_queued_jobs: waiting plus submissions being written. */
  private final Map<String, Integer> queued = new HashMap<>();

  /** What the tenant holds now ({@link #NONE} when nothing). */
  Usage of(String tenantId) { return held.getOrDefault(tenantId, NONE); }

  /** Tenants that hold something. */
  Set<String> holders() { return held.keySet(); }

  /** The job was admitted: it holds its resources from now on and no longer counts as queued. */
  void hold(Job job) {
    add(job, 1);
    queued(job.tenantId, -1);
  }

  /** The job no longer holds its resources (it ended, or its placement failed). */
  void release(Job job) { add(job, -1); }

  private void add(Job job, int sign) {
    Usage u = held.computeIfAbsent(job.tenantId, t -> new Usage());
    u.jobs += sign;
    u.cpuM += sign * job.cpuM;
    u.memoryMb += sign * job.memoryMb;
    if (u.jobs <= 0) held.remove(job.tenantId);
  }

  /** Jobs counted against the tenant's max_queued_jobs quota. */
  int queued(String tenantId) { return queued.getOrDefault(tenantId, 0); }

  /** {@code delta} more (or fewer) jobs count against the tenant's max_queued_jobs quota. */
  void queued(String tenantId, int delta) { queued.merge(tenantId, delta, Integer::sum); }

  /** Why the tenant's quota (with burst, while a grant is in force) stops this job now, or null. */
  String quotaBlocks(TenantCache.Tenant tenant, Job job, Instant now) {
    Usage u = of(tenant.id());
    if (u.jobs + 1 > tenant.effective(tenant.maxConcurrent(), now)) return "quota_max_concurrent_jobs";
    if (u.cpuM + job.cpuM > tenant.effective(tenant.cpuM(), now)) return "quota_cpu";
    if (u.memoryMb + job.memoryMb > tenant.effective(tenant.memoryMb(), now)) return "quota_memory";
    return null;
  }

  /** True when the job fits only thanks to the tenant's burst grant. */
  boolean needsBurst(TenantCache.Tenant tenant, Job job, Instant now) {
    if (!tenant.bursting(now)) return false;
    Usage u = of(tenant.id());
    return u.jobs + 1 > tenant.maxConcurrent() || u.cpuM + job.cpuM > tenant.cpuM()
        || u.memoryMb + job.memoryMb > tenant.memoryMb();
  }
}
