package io.hodei.scheduler;

import java.util.HashMap;
import java.util.Map;

/**
 * Weighted dominant resource fairness with usage memory. A tenant's share is the larger of its CPU and memory
 * fractions of the cluster; its priority for the next placement is
 * {@code (current share + remembered share) / weight}, lowest first. The remembered share is an exponentially
 * decaying average of past shares with the configured half-life, so a tenant that just used a lot yields to one that
 * did not, and forgets it over a few half-lives. A half-life of 0 turns memory off (plain weighted DRF).
 * Over {@code dt} seconds at share {@code s}: {@code m <- s + (m - s) 2^(-dt/H)}, so {@code T} seconds at share
 * {@code s} from nothing leave {@code m = s (1 - 2^(-T/H))}: memory of use much shorter than H is small (README,
 * Scheduler, has the worked example of the split that follows).
 */
final class FairShare {
  private final double halfLifeSeconds;
  private final Map<String, Double> remembered = new HashMap<>();
  private long lastDecayNanos = System.nanoTime();

  FairShare(double halfLifeSeconds) { this.halfLifeSeconds = halfLifeSeconds; }

  /** Dominant share of a usage within a capacity (0 when there is no capacity). */
  static double dominant(long cpuM, long memoryMb, long capacityCpuM, long capacityMemoryMb) {
    double cpu = capacityCpuM <= 0 ? 0 : (double) cpuM / capacityCpuM;
    double memory = capacityMemoryMb <= 0 ? 0 : (double) memoryMb / capacityMemoryMb;
    return Math.max(cpu, memory);
  }

  /**
   * Advances the memory to now: every tenant's remembered share moves towards its current share with the
   * half-life. Call with the current shares of all tenants that have usage.
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

  /** The ordering key: lower goes first. */
  double priority(String tenantId, double currentShare, int weight) {
    return (currentShare + remembered(tenantId)) / Math.max(1, weight);
  }
}
