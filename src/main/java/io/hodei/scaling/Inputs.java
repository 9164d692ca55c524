package io.hodei.scaling;

import io.vertx.core.json.JsonObject;

/**
 * What one evaluation of a pool sees: its size bounds and target, its live workers by state (from the pool domain)
 * and its queue (from the scheduler). {@code queueWaitSeconds} is the longest wait of the jobs that started on the
 * pool since the last evaluation, or how long its queue has had jobs and none started, whichever is longer.
 */
record Inputs(int target, int minSize, int maxSize, long provisioning, long idle, long busy, long unhealthy,
              long terminating, long queued, double queueWaitSeconds) {

  /** Workers that are or will be capacity: provisioning, idle and busy. */
  long capacity() { return provisioning + idle + busy; }

  /** Busy workers over capacity (1 when there is none and jobs are queued, 0 when nothing waits). */
  double utilisation() {
    long capacity = capacity();
    if (capacity == 0) return queued > 0 ? 1.0 : 0.0;
    return (double) busy / capacity;
  }

  /** Queued jobs per worker of capacity (the queue itself when there is no worker). */
  double queueDepthPerWorker() {
    long capacity = capacity();
    return capacity == 0 ? queued : (double) queued / capacity;
  }

  /** The value of one trigger metric. */
  double metric(String name) {
    return switch (name) {
      case Trigger.UTILISATION -> utilisation();
      case Trigger.QUEUE_DEPTH -> queued;
      case Trigger.QUEUE_DEPTH_PER_WORKER -> queueDepthPerWorker();
      case Trigger.QUEUE_WAIT_SECONDS -> queueWaitSeconds;
      case Trigger.IDLE_WORKERS -> idle;
      default -> throw new IllegalArgumentException("unknown metric " + name);
    };
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("target_size", target).put("min_size", minSize).put("max_size", maxSize)
        .put("workers", new JsonObject().put("provisioning", provisioning).put("idle", idle).put("busy", busy)
            .put("unhealthy", unhealthy).put("terminating", terminating))
        .put("utilisation", round(utilisation()))
        .put("queue_depth", queued)
        .put("queue_depth_per_worker", round(queueDepthPerWorker()))
        .put("queue_wait_seconds", round(queueWaitSeconds));
  }

  static double round(double v) { return Math.round(v * 1000.0) / 1000.0; }
}
