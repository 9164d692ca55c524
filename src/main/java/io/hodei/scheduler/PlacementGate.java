package io.hodei.scheduler;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Whether a placement attempt for a job can succeed now, so that a freed worker does not set off one placement
 * request per waiting selector that mostly come back refused. A selector is saturated when its pools had no idle
 * worker at the last try (cleared when capacity may have appeared); otherwise its pools need an idle worker that no
 * placement in flight for the selector is already heading for. Confined to the scheduler's event loop.
 */
final class PlacementGate {
  private final PoolView pools;
  private final Set<String> saturated = new HashSet<>();
  private final Map<String, Integer> placing = new HashMap<>();

  PlacementGate(PoolView pools) { this.pools = pools; }

  /** Whether a placement of the job may be tried now. */
  boolean roomFor(Job job) {
    return !saturated.contains(job.selectorKey())
        && pools.idleWorkers(pools.accepting(job)) > placing.getOrDefault(job.selectorKey(), 0);
  }

  /** A placement request for the job is on its way. */
  void placing(Job job) { placing.merge(job.selectorKey(), 1, Integer::sum); }

  /** The placement request for the job was answered. */
  void answered(Job job) { placing.computeIfPresent(job.selectorKey(), (k, n) -> n == 1 ? null : n - 1); }

  /** The job could not be placed: no more attempts for its selector until capacity may have appeared. */
  void saturate(Job job, boolean noIdleWorker) {
    if (noIdleWorker) pools.noIdleWorker(pools.accepting(job));
    saturated.add(job.selectorKey());
  }

  /** Capacity may have appeared: every selector may be tried again. */
  void reopen() { saturated.clear(); }
}
