package io.hodei.scheduler;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

/**
 * What the scheduler holds, read only: for explanations (why a job waits, SLAs, queue status), quota enforcement
 * answers and reads that overlay the last committed write of a job. Confined to the scheduler's event loop.
 */
interface SchedulerView {
  TenantCache.Tenant tenant(String tenantId);

  PoolView pools();

  /** The open jobs (queued, admitted, running). */
  Collection<Job> openJobs();

  /**
   * The open jobs the running counts below leave out (queued, admitted, and running ones not counted yet): with
   * {@link #runningByTenant} and {@link #runningByPool}, every open job exactly once.
   */
  Collection<Job> uncountedJobs();

  /** The open jobs with an SLA deadline. */
  Collection<Job> slaJobs();

  /** Open running jobs by tenant, except those in {@link #uncountedJobs}. */
  Map<String, Integer> runningByTenant();

  /** Open running jobs by placed pool ("" for none), except those in {@link #uncountedJobs}. */
  Map<String, Integer> runningByPool();

  /** The open job, or null. */
  Job open(String jobId);

  /** The open job, or the ended one whose final write has not committed yet, or null. */
  Job held(String jobId);

  /** Every tenant's queue of waiting jobs. */
  Map<String, TenantQueue> queues();

  /** What the tenant holds now. */
  TenantUsage.Usage usage(String tenantId);

  /** Jobs counted against the tenant's max_queued_jobs quota. */
  int queued(String tenantId);

  /** Why the tenant's quota stops this job now, or null. */
  String quotaBlocks(TenantCache.Tenant tenant, Job job, Instant now);

  /** True when the job fits only thanks to the tenant's burst grant. */
  boolean needsBurst(TenantCache.Tenant tenant, Job job, Instant now);

  /** Whether a placement of the job may be tried now (its pools have an idle worker not already claimed). */
  boolean roomFor(Job job);

  /** The tenant's current share of the cluster. */
  double share(String tenantId);

  /** The tenant's fair-share ordering key now: lower goes first. */
  double fairShareKey(String tenantId, int weight);

  /** The tenant's remembered share (usage memory). */
  double rememberedShare(String tenantId);

  /** The average run time in ms of the selector's jobs, or -1 when none has run yet. */
  double averageRunMs(String selector);

  /** How many runs {@link #averageRunMs} is made of. */
  long runSamples(String selector);

  /** The view over the scheduler's parts. */
  static SchedulerView of(TenantCache tenants, PoolView pools, OpenJobs jobs, JobQueues queues, TenantUsage usage,
                          FairShare fairShare, PlacementGate gate, RunTimes runTimes) {
    return new SchedulerView() {
      @Override public TenantCache.Tenant tenant(String tenantId) { return tenants.get(tenantId); }

      @Override public PoolView pools() { return pools; }

      @Override public Collection<Job> openJobs() { return jobs.all(); }

      @Override public Collection<Job> uncountedJobs() { return jobs.uncounted(); }

      @Override public Collection<Job> slaJobs() { return jobs.withSla(); }

      @Override public Map<String, Integer> runningByTenant() { return jobs.runningByTenant(); }

      @Override public Map<String, Integer> runningByPool() { return jobs.runningByPool(); }

      @Override public Job open(String jobId) { return jobs.get(jobId); }

      @Override public Job held(String jobId) { return jobs.held(jobId); }

      @Override public Map<String, TenantQueue> queues() { return queues.byTenant(); }

      @Override public TenantUsage.Usage usage(String tenantId) { return usage.of(tenantId); }

      @Override public int queued(String tenantId) { return usage.queued(tenantId); }

      @Override public String quotaBlocks(TenantCache.Tenant tenant, Job job, Instant now) {
        return usage.quotaBlocks(tenant, job, now);
      }

      @Override public boolean needsBurst(TenantCache.Tenant tenant, Job job, Instant now) {
        return usage.needsBurst(tenant, job, now);
      }

      @Override public boolean roomFor(Job job) { return gate.roomFor(job); }

      @Override public double share(String tenantId) { return fairShare.share(tenantId); }

      @Override public double fairShareKey(String tenantId, int weight) { return fairShare.priority(tenantId, weight); }

      @Override public double rememberedShare(String tenantId) { return fairShare.remembered(tenantId); }

      @Override public double averageRunMs(String selector) { return runTimes.averageMs(selector); }

      @Override public long runSamples(String selector) { return runTimes.samples(selector); }
    };
  }
}
