package io.hodei.scheduler;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * How fair share is computed, all of it: the share, its decay, the order of tenants and burst after base.
 * <ul>
 * <li>Share: weighted dominant resource fairness. A tenant's share is the larger of its CPU and memory fractions of
 * the cluster capacity ({@link PoolView}), from what it holds now ({@link TenantUsage}).
 * <li>Decay: usage memory. The remembered share is an exponentially decaying average of past shares with the
 * configured half-life, so a tenant that just used a lot yields to one that did not, and forgets it over a few
 * half-lives. Over {@code dt} seconds at share {@code s}: {@code m <- s + (m - s) 2^(-dt/H)}, so {@code T} seconds at
 * share {@code s} from nothing leave {@code m = s (1 - 2^(-T/H))}: memory of use much shorter than H is small
 * (the scheduler documentation has the worked example of the split that follows). A half-life of 0 turns memory
 * off (plain weighted DRF).
 * <li>Order: the next placement goes to the tenant with the lowest {@code (current share + remembered share) /
 * weight} among active tenants with a job that can be placed now; ties go to the job first in queue order.
 * <li>Burst after base: jobs within their tenant's base quota go before jobs that need burst capacity, so burst is
 * the first thing held back when capacity is contended.
 * </ul>
 * Confined to the scheduler's event loop.
 */
final class FairShare {
  /** Finest step of the memory's integration on dispatch (it decays over minutes). */
  private static final long STEP_NANOS = 5_000_000;
  private final double halfLifeSeconds;
  private final TenantUsage usage;
  private final PoolView capacity;
  private final LongSupplier nanoClock;
  private final Map<String, Double> remembered = new HashMap<>();
  private long lastDecayNanos;
  private long lastStepNanos;

  FairShare(double halfLifeSeconds, TenantUsage usage, PoolView capacity, LongSupplier nanoClock) {
    this.halfLifeSeconds = halfLifeSeconds;
    this.usage = usage;
    this.capacity = capacity;
    this.nanoClock = nanoClock;
    lastDecayNanos = nanoClock.getAsLong();
    lastStepNanos = lastDecayNanos - STEP_NANOS;
  }

  /** Dominant share of a usage within a capacity (0 when there is no capacity). */
  static double dominant(long cpuM, long memoryMb, long capacityCpuM, long capacityMemoryMb) {
    double cpu = capacityCpuM <= 0 ? 0 : (double) cpuM / capacityCpuM;
    double memory = capacityMemoryMb <= 0 ? 0 : (double) memoryMb / capacityMemoryMb;
    return Math.max(cpu, memory);
  }

  /** The tenant's current share of the cluster. */
  double share(String tenantId) {
    TenantUsage.Usage u = usage.of(tenantId);
    if (u == TenantUsage.NONE) return 0;
    return dominant(u.cpuM(), u.memoryMb(), capacity.capacityCpuM(), capacity.capacityMemoryMb());
  }

  /** Advances the memory to now from the current shares; more often than every few ms it does nothing. */
  void advance() {
    // dispatch runs on every submit, start and end: the usage memory (half-life of minutes) needs no finer steps
    long now = nanoClock.getAsLong();
    if (now - lastStepNanos < STEP_NANOS) return;
    lastStepNanos = now;
    Map<String, Double> shares = new HashMap<>();
    usage.holders().forEach(t -> shares.put(t, share(t)));
    advance(shares, now);
  }

  /**
   * Advances the memory to {@code nowNanos}: every tenant's remembered share moves towards its current share with
   * the half-life. Call with the current shares of all tenants that have usage.
   */
  void advance(Map<String, Double> currentShares, long nowNanos) {
    if (halfLifeSeconds <= 0) return;
    double elapsed = Math.max(0, (nowNanos - lastDecayNanos) / 1e9);
    lastDecayNanos = nowNanos;
    if (elapsed == 0) return;
    double keep = Math.pow(0.5, elapsed / halfLifeSeconds);
    Map<String, Double> next = new HashMap<>();
    for (Map.Entry<String, Double> e : remembered.entrySet()) {
      double current = currentShares.getOrDefault(e.getKey(), 0.0);
      double value = e.getValue() * keep + current * (1 - keep);
      if (value > 1e-6) next.put(e.getKey(), value);
    }
    for (Map.Entry<String, Double> e : currentShares.entrySet()) {
      if (!next.containsKey(e.getKey()) && !remembered.containsKey(e.getKey())) {
        double value = e.getValue() * (1 - keep);
        if (value > 1e-6) next.put(e.getKey(), value);
      }
    }
    remembered.clear();
    remembered.putAll(next);
  }

  double remembered(String tenantId) { return remembered.getOrDefault(tenantId, 0.0); }

  /** The ordering key of a tenant at a given current share: lower goes first. */
  double priority(String tenantId, double currentShare, int weight) {
    return (currentShare + remembered(tenantId)) / Math.max(1, weight);
  }

  /** The tenant's ordering key now: lower goes first. */
  double priority(String tenantId, int weight) { return priority(tenantId, share(tenantId), weight); }

  /**
   * The job to place next, or null: the head job of the tenant that should go next, among jobs that {@code room}
   * lets be tried and that their tenant's quota allows now; jobs within base quota before jobs needing burst.
   */
  Job next(JobQueues queues, TenantCache tenants, Predicate<Job> room) {
    Instant now = Instant.now();
    Job withinQuota = next(queues, tenants, room, false, now);
    return withinQuota != null ? withinQuota : next(queues, tenants, room, true, now);
  }

  private Job next(JobQueues queues, TenantCache tenants, Predicate<Job> room, boolean burst, Instant now) {
    Job best = null;
    double bestKey = Double.MAX_VALUE;
    for (Map.Entry<String, TenantQueue> e : queues.byTenant().entrySet()) {
      if (e.getValue().isEmpty()) continue;
      TenantCache.Tenant tenant = tenants.get(e.getKey());
      if (tenant == null || !tenant.active()) continue;
      Job head = placeableHead(tenant, e.getValue(), room, burst, now);
      if (head == null) continue;
      double key = priority(e.getKey(), tenant.weight());
      if (best == null || key < bestKey || (key == bestKey && TenantQueue.ORDER.compare(head, best) < 0)) {
        best = head;
        bestKey = key;
      }
    }
    return best;
  }

  /**
   * The tenant's first job, by priority then arrival, among the heads of its selector queues that could be placed
   * now: pools with room, within quota, and in the burst class asked for. A head that cannot be placed holds back
   * only its own selector's queue.
   */
  private Job placeableHead(TenantCache.Tenant tenant, TenantQueue queue, Predicate<Job> room, boolean burst,
                            Instant now) {
    Job best = null;
    for (PriorityQueue<Job> selector : queue.selectors()) {
      Job head = selector.peek();
      if (head == null || !room.test(head)) continue;
      if (usage.quotaBlocks(tenant, head, now) != null || usage.needsBurst(tenant, head, now) != burst) continue;
      if (best == null || TenantQueue.ORDER.compare(head, best) < 0) best = head;
    }
    return best;
  }
}
