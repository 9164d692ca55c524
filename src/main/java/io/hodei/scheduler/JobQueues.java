package io.hodei.scheduler;

import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The waiting jobs: one {@link TenantQueue} per tenant. A job in its retry backoff is open but not in a queue; the
 * tick puts it in when the backoff ends. Confined to the scheduler's event loop.
 */
final class JobQueues {
  private final Map<String, TenantQueue> byTenant = new HashMap<>();

  /** The job waits (again): queued, and in its tenant's queue unless a retry backoff still holds it. */
  void enqueue(Job job) {
    job.state = JobState.QUEUED;
    if (job.nextAttemptAt != null) {
      if (job.nextAttemptAt.isAfter(Instant.now())) return;
      // the backoff is over (a job taken up from the database after it ended): the job is in its queue from now
      // on, and the tick, which queues jobs whose backoff ended, must not queue it a second time
      job.nextAttemptAt = null;
    }
    byTenant.computeIfAbsent(job.tenantId, t -> new TenantQueue()).add(job);
  }

  /** Takes a job out of its queue (placement, cancel, abandonment); a job not waiting there is left alone. */
  void remove(Job job) {
    TenantQueue queue = byTenant.get(job.tenantId);
    if (queue != null) queue.remove(job);
  }

  /** The tenant's queue, or null when it never had a waiting job. */
  /** A job's priority changes: a waiting job moves to its new place (priority, then arrival). */
  void reprioritize(Job job, int priority) {
    TenantQueue queue = byTenant.get(job.tenantId);
    boolean waiting = queue != null && queue.remove(job);
    job.priority = priority;
    if (waiting) queue.add(job);
  }

  TenantQueue of(String tenantId) { return byTenant.get(tenantId); }

  /** Every tenant's queue (read only). */
  Map<String, TenantQueue> byTenant() { return Collections.unmodifiableMap(byTenant); }
}
