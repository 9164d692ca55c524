package io.hodei.pool;

import java.util.List;

/**
 * The placement rule: best fit. A job goes to the idle, non-draining worker of an accepting pool that has room for
 * it and that it leaves the least spare capacity on, spare capacity being the unused share of the worker's cpu plus
 * the unused share of its memory. On a tie the first worker found wins (candidate pools in the order given, workers
 * in their pool's order), so placement is deterministic.
 */
final class BestFitPlacement {
  /** Where a job goes. */
  record Placement(Pool pool, Worker worker) {}

  private BestFitPlacement() {}

  /** The best-fitting worker for a job of {@code cpuM} / {@code memoryMb}, or {@code null} when none fits now. */
  static Placement choose(List<Pool> candidates, long cpuM, long memoryMb) {
    Placement best = null;
    double bestSpare = Double.MAX_VALUE;
    for (Pool p : candidates) {
      if (!PoolLifecycle.accepts(p.state)) continue;
      for (Worker w : p.workers.values()) {
        if (!fits(w, cpuM, memoryMb)) continue;
        double spare = spare(w, cpuM, memoryMb);
        if (spare < bestSpare) {
          bestSpare = spare;
          best = new Placement(p, w);
        }
      }
    }
    return best;
  }

  /** An idle worker that is not draining and has at least the job's cpu and memory. */
  static boolean fits(Worker w, long cpuM, long memoryMb) {
    return w.state == WorkerState.IDLE && !w.draining && w.cpuM >= cpuM && w.memoryMb >= memoryMb;
  }

  /** What the job leaves unused: share of cpu plus share of memory, 0 for an exact fit, up to 2. */
  static double spare(Worker w, long cpuM, long memoryMb) {
    return (double) (w.cpuM - cpuM) / w.cpuM + (double) (w.memoryMb - memoryMb) / w.memoryMb;
  }
}
