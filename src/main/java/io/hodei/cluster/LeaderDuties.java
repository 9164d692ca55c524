package io.hodei.cluster;

import io.hodei.store.Fence;
import io.vertx.core.Future;

/** What a node does when it becomes the cluster's leader and when it stops leading (the server wires it). */
public interface LeaderDuties {
  /**
   * Starts the leader's verticles (scheduler, pool manager and the others that own timers which change state);
   * their writes carry {@code fence}. Completes once they run (they rebuilt their state from PostgreSQL).
   */
  Future<Void> lead(Fence fence);

  /** Stops them at once: this node no longer leads (or is stopping). */
  Future<Void> stepDown();
}
