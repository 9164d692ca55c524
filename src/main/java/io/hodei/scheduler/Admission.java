package io.hodei.scheduler;

import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Accepts submitted jobs: the tenant must exist and be active, some pool must be able to run each job ever, and the
 * tenant's queue must have room under max_queued_jobs. A job exists once its insert committed; only then it is
 * queued and announced. Confined to the scheduler's event loop.
 */
final class Admission {
  private final JobStore store;
  private final TenantCache tenants;
  private final PoolView pools;
  private final TenantUsage usage;
  private final OpenJobs jobs;
  private final JobQueues queues;
  private final SchedulerMetrics metrics;
  private final Events events;

  Admission(JobStore store, TenantCache tenants, PoolView pools, TenantUsage usage, OpenJobs jobs, JobQueues queues,
            SchedulerMetrics metrics, Events events) {
    this.store = store;
    this.tenants = tenants;
    this.pools = pools;
    this.usage = usage;
    this.jobs = jobs;
    this.queues = queues;
    this.metrics = metrics;
    this.events = events;
  }

  /**
   * Checks tenant, pools and the queue cap for all the jobs first (nothing is written when one is refused), then
   * commits them in one transaction and only then queues them. Replies the jobs' views in input order.
   */
  Future<List<JsonObject>> submit(List<Job> submitted) {
    Map<String, Integer> perTenant = new HashMap<>();
    for (Job job : submitted) {
      TenantCache.Tenant tenant = tenants.get(job.tenantId);
      if (tenant == null) throw DomainException.notFound("tenant", job.tenantId);
      if (!tenant.active()) throw DomainException.conflict("tenant '" + job.tenantId + "' is suspended");
      checkPlaceable(job);
      perTenant.merge(job.tenantId, 1, Integer::sum);
    }
    for (Map.Entry<String, Integer> e : perTenant.entrySet()) checkQueueCap(tenants.get(e.getKey()), e.getValue());
    perTenant.forEach((t, n) -> usage.queued(t, n));
    return store.insert(submitted).map(results -> {
      List<JsonObject> views = new ArrayList<>();
      for (int i = 0; i < submitted.size(); i++) {
        Job job = submitted.get(i);
        JsonObject stored = results.get(i);
        if (stored.getBoolean("idempotent_replay", false)) {
          usage.queued(job.tenantId, -1);
          views.add(stored);
          continue;
        }
        Job adopted = jobs.get(job.id);
        if (adopted != null) {
          // a reconciliation read the committed row before this reply arrived and queued it already
          usage.queued(job.tenantId, -1);
          views.add(adopted.view());
          continue;
        }
        jobs.add(job);
        queues.enqueue(job);
        metrics.decision("admit");
        events.publish(Events.JOB_SUBMITTED, new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
            .put("trace_id", job.traceId).put("submitted_at", job.submittedAtText())
            .put("priority", job.priority).put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb));
        views.add(job.view());
      }
      return views;
    }).recover(err -> {
      perTenant.forEach((t, n) -> usage.queued(t, -n));
      return Future.failedFuture(err);
    });
  }

  /** 429 when {@code adding} more jobs would take the tenant over its max_queued_jobs quota. */
  private void checkQueueCap(TenantCache.Tenant tenant, int adding) {
    int queued = usage.queued(tenant.id());
    if (queued + adding <= tenant.maxQueued()) return;
    metrics.decision("reject");
    events.publish(Events.QUOTA_EXCEEDED, new JsonObject().put("tenant_id", tenant.id())
        .put("quota", "max_queued_jobs").put("limit", tenant.maxQueued()).put("queued", queued));
    throw new DomainException(429, "Too Many Requests", "tenant '" + tenant.id() + "' has " + queued
        + " queued jobs; its max_queued_jobs quota is " + tenant.maxQueued(),
        new JsonObject().put("quota", "max_queued_jobs").put("limit", tenant.maxQueued()).put("queued", queued));
  }

  /** 422 when no pool could ever run the job (unknown pool, no match, every worker too small). */
  private void checkPlaceable(Job job) {
    List<JsonObject> matching = pools.matching(job);
    if (matching.isEmpty()) {
      throw new DomainException(422, "Unprocessable Content", job.poolId != null
          ? "pool '" + job.poolId + "' does not exist"
          : "no pool has the labels " + job.poolLabels.encode(), new JsonObject().put("reason", "no_matching_pool"));
    }
    if (pools.fitting(job).isEmpty()) {
      JsonObject largest = matching.stream().max(Comparator.comparingLong(p -> p.getLong("worker_cpu_m")))
          .orElseThrow();
      throw new DomainException(422, "Unprocessable Content", "the job asks for " + job.cpuM + "m CPU and "
          + job.memoryMb + " MB; the largest matching worker has " + largest.getLong("worker_cpu_m") + "m and "
          + largest.getLong("worker_memory_mb") + " MB", new JsonObject().put("reason", "too_large_for_pools"));
    }
  }
}
