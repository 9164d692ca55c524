package io.hodei.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Meters burst as the usage above a tenant's base quota over time. At any instant the part of a tenant's running
 * usage that is above base is the fraction {@code f = max(0, (jobs - base jobs) / jobs, (cpu - base cpu) / cpu,
 * (memory - base memory) / memory)} of it (the dimension furthest over its base decides; when CPU is that dimension
 * this is exactly {@code cpu - base cpu}). Integrated between changes of the tenant's running set (each start and
 * end), that is {@code f x cpu x dt} cpu_m·s and {@code f x memory x dt} memory_mb·s, billed to the grant the
 * tenant's burst jobs run on. Each running job carries its part ({@code f x dt} in {@link Job#burstSeconds}), so the
 * cost ledger's per-job burst adds up to the same figure. Which job was admitted on the grant (the {@code burst}
 * flag) does not change what is billed. Confined to the scheduler's event loop.
 */
final class BurstMeter {
  /** Usage above base waiting to be recorded on a grant. */
  record Pending(String tenantId, String grantId, double cpuMSeconds, double memoryMbSeconds, int jobs) {}

  private static final class TenantRun {
    final Set<Job> running = new LinkedHashSet<>();
    /**
     * The running jobs admitted on a burst grant (a subset of {@link #running}). Without one nothing is billed, so a
     * start or end skips the pass over every running job: with tens of thousands running that pass per start made
     * starting them quadratic.
     */
    final Set<Job> granted = new LinkedHashSet<>();
    Instant since;
  }

  private final Map<String, TenantRun> tenants = new HashMap<>();
  /** grant id -> pending amounts. */
  private final Map<String, Pending> pending = new HashMap<>();

  /** The fraction of a usage that is above its base quota (0 when within it). */
  static double aboveBase(int jobs, long cpuM, long memoryMb, long baseJobs, long baseCpuM, long baseMemoryMb) {
    double f = 0;
    if (jobs > 0) f = Math.max(f, (double) (jobs - baseJobs) / jobs);
    if (cpuM > 0) f = Math.max(f, (double) (cpuM - baseCpuM) / cpuM);
    if (memoryMb > 0) f = Math.max(f, (double) (memoryMb - baseMemoryMb) / memoryMb);
    return Math.min(1, f);
  }

  /** A job's attempt began running at {@code at}. */
  void started(Job job, TenantCache.Tenant tenant, Instant at) {
    advance(job.tenantId, tenant, at, false);
    job.burstSeconds = 0;
    TenantRun run = tenants.computeIfAbsent(job.tenantId, t -> new TenantRun());
    run.running.add(job);
    if (job.burstGrantId != null) run.granted.add(job);
    run.since = at;
  }

  /** A job's attempt stopped running at {@code at}. */
  void ended(Job job, TenantCache.Tenant tenant, Instant at) {
    advance(job.tenantId, tenant, at, false);
    TenantRun run = tenants.get(job.tenantId);
    if (run == null) return;
    run.granted.remove(job);
    if (!run.running.remove(job)) return;
    if (run.running.isEmpty()) tenants.remove(job.tenantId);
    if (job.burstGrantId != null) add(new Pending(job.tenantId, job.burstGrantId, 0, 0, 1));
  }

  /** Integrates every tenant's usage above base up to {@code now} (so long runs are billed as they go). */
  void advanceAll(java.util.function.Function<String, TenantCache.Tenant> tenantOf, Instant now) {
    for (String tenantId : List.copyOf(tenants.keySet())) advance(tenantId, tenantOf.apply(tenantId), now, true);
  }

  /** Takes what is waiting to be recorded. */
  List<Pending> drain() {
    List<Pending> out = new ArrayList<>(pending.values());
    pending.clear();
    return out;
  }

  /** Puts back what could not be recorded, to go with the next record. */
  void add(Pending p) {
    pending.merge(p.grantId(), p, (a, b) -> new Pending(a.tenantId(), a.grantId(), a.cpuMSeconds() + b.cpuMSeconds(),
        a.memoryMbSeconds() + b.memoryMbSeconds(), a.jobs() + b.jobs()));
  }

  /**
   * @param sweep also drop the jobs that left running without an end message when nothing is billed (the periodic
   *              {@link #advanceAll}; a start or an end leaves them to it unless the tenant has a burst job running)
   */
  private void advance(String tenantId, TenantCache.Tenant tenant, Instant now, boolean sweep) {
    TenantRun run = tenants.get(tenantId);
    if (run == null) return;
    Instant since = run.since;
    run.since = now;
    // a job that left running without an end message (taken up again from the database) is no longer billed
    run.granted.removeIf(job -> job.state != JobState.RUNNING);
    // no running burst job: no grant to bill, whatever the totals
    if (run.granted.isEmpty() && !sweep) return;
    run.running.removeIf(job -> job.state != JobState.RUNNING);
    if (since == null || !now.isAfter(since) || tenant == null) return;
    // billed on the grant of the tenant's latest running burst job; above base without one (a quota lowered under
    // running jobs) there is no grant to bill
    String grantId = null;
    int jobs = 0;
    long cpuM = 0;
    long memoryMb = 0;
    for (Job job : run.running) {
      if (job.burstGrantId != null) grantId = job.burstGrantId;
      jobs++;
      cpuM += job.cpuM;
      memoryMb += job.memoryMb;
    }
    if (grantId == null) return;
    double f = aboveBase(jobs, cpuM, memoryMb, tenant.maxConcurrent(), tenant.cpuM(), tenant.memoryMb());
    if (f <= 0) return;
    double seconds = Duration.between(since, now).toNanos() / 1e9;
    for (Job job : run.running) job.burstSeconds += f * seconds;
    add(new Pending(tenantId, grantId, f * cpuM * seconds, f * memoryMb * seconds, 0));
  }
}
