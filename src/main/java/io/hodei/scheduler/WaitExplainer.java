package io.hodei.scheduler;

import io.hodei.common.Caller;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Explains the scheduler's state to people: why a job waits and when it will probably start, whether its SLA holds,
 * and how each tenant's actual share compares with what it is entitled to. Read-only.
 */
final class WaitExplainer {
  private final SchedulerView scheduler;

  WaitExplainer(SchedulerView scheduler) { this.scheduler = scheduler; }

  /** For a waiting job: every reason that holds it now, its position and an estimated start. */
  JsonObject explain(Job job) {
    JsonArray reasons = new JsonArray();
    TenantCache.Tenant tenant = scheduler.tenant(job.tenantId);
    Instant now = Instant.now();
    if (tenant != null && !tenant.active()) {
      reasons.add(reason("tenant_suspended", "tenant " + job.tenantId + " is suspended"));
    }
    if (job.nextAttemptAt != null && job.nextAttemptAt.isAfter(now)) {
      reasons.add(reason("retry_backoff", "attempt " + (job.attempts + 1) + " starts after " + job.nextAttemptAt));
    }
    List<JsonObject> fitting = scheduler.pools().fitting(job);
    List<String> accepting = scheduler.pools().accepting(job);
    if (fitting.isEmpty()) {
      reasons.add(reason("no_fitting_pool", "no pool matches the selector with workers large enough"));
    } else if (accepting.isEmpty()) {
      StringBuilder states = new StringBuilder();
      fitting.forEach(p -> states.append(states.length() == 0 ? "" : ", ").append(p.getString("id")).append(" is ")
          .append(p.getString("state")));
      reasons.add(reason("pool_not_accepting", "no matching pool takes new jobs: " + states));
    }
    if (tenant != null) {
      String quota = scheduler.quotaBlocks(tenant, job, now);
      if (quota != null) {
        TenantUsage.Usage u = scheduler.usage(job.tenantId);
        reasons.add(reason(quota, "tenant uses " + u.jobs() + " jobs, " + u.cpuM() + "m CPU, " + u.memoryMb()
            + " MB of its quota " + tenant.maxConcurrent() + " jobs, " + tenant.cpuM() + "m, " + tenant.memoryMb()
            + " MB"));
      }
    }
    if (tenant != null && scheduler.needsBurst(tenant, job, now)) {
      reasons.add(reason("burst", "the job runs on burst capacity, after work within base quotas"));
    }
    String empty = accepting.isEmpty() ? null : withoutWorkers(accepting);
    if (empty != null) {
      reasons.add(reason("no_workers", empty));
    } else if (!accepting.isEmpty()
        && !scheduler.roomFor(job)) {
      reasons.add(reason("capacity", "every matching worker is busy"));
    }
    int ahead = aheadInTenant(job);
    if (ahead > 0) reasons.add(reason("priority", ahead + " jobs of the same tenant are ahead in its queue"));
    int otherAhead = aheadFromOthers(job, tenant, ahead);
    if (otherAhead > 0) {
      reasons.add(reason("fair_share", otherAhead + " jobs of tenants with a lower weighted share go first"));
    }
    if (reasons.isEmpty()) reasons.add(reason("placing", "the job is being placed"));

    int position = ahead + otherAhead + 1;
    JsonObject estimate = estimateStart(job, position, accepting, now);
    return new JsonObject().put("reasons", reasons).put("position", position)
        .put("position_in_tenant_queue", ahead + 1).put("estimated_start_at", estimate.getString("at"))
        .put("estimate_basis", estimate.getString("basis"));
  }

  /**
   * When no pool that takes the job has a worker (none idle, busy or being provisioned), why: each pool's target
   * size. A pool resized to 0 is not busy, it is empty, and waiting for a worker to free up will not help.
   */
  private String withoutWorkers(List<String> accepting) {
    StringBuilder detail = new StringBuilder();
    for (String id : accepting) {
      JsonObject pool = scheduler.pools().pool(id);
      if (pool == null) return null;
      JsonObject w = pool.getJsonObject("workers", new JsonObject());
      if (w.getLong("idle", 0L) + w.getLong("busy", 0L) + w.getLong("provisioning", 0L) > 0) return null;
      int target = pool.getInteger("target_size", 0);
      detail.append(detail.length() == 0 ? "" : "; ").append("pool ").append(id).append(" has no workers (size ")
          .append(target).append(target == 0 ? ")" : ", none provisioned yet)");
    }
    return detail.toString();
  }

  /** Jobs of the same tenant and selector ahead of this one (jobs for other pools do not hold it back). */
  private int aheadInTenant(Job job) {
    TenantQueue queue = scheduler.queues().get(job.tenantId);
    return queue == null ? 0 : queue.ahead(job);
  }

  /**
   * Jobs of other tenants that fair sharing will place before this one: from each tenant whose weighted share is
   * lower, up to as many as are ahead of this job in its own queue plus one (placements interleave by share).
   */
  private int aheadFromOthers(Job job, TenantCache.Tenant tenant, int aheadInTenant) {
    if (tenant == null) return 0;
    double mine = scheduler.fairShareKey(job.tenantId, tenant.weight());
    int ahead = 0;
    for (Map.Entry<String, TenantQueue> e : scheduler.queues().entrySet()) {
      if (e.getKey().equals(job.tenantId) || e.getValue().isEmpty()) continue;
      TenantCache.Tenant other = scheduler.tenant(e.getKey());
      if (other == null || !other.active()) continue;
      double theirs = scheduler.fairShareKey(e.getKey(), other.weight());
      if (theirs < mine) ahead += (int) e.getValue().stream().filter(j -> j.selectorKey().equals(job.selectorKey()))
          .limit(aheadInTenant + 1L).count();
    }
    return ahead;
  }

  private JsonObject estimateStart(Job job, int position, List<String> accepting, Instant now) {
    if (accepting.isEmpty()) return new JsonObject().putNull("at").put("basis", "no pool takes jobs now");
    double averageMs = scheduler.averageRunMs(job.selectorKey());
    long workers = scheduler.pools().workers(accepting);
    if (averageMs < 0 || workers == 0) {
      return new JsonObject().putNull("at").put("basis", "no finished job on these pools yet to estimate from");
    }
    double waves = Math.ceil((double) position / workers);
    Instant at = now.plusMillis((long) ((waves - 1) * averageMs + averageMs / 2));
    if (job.nextAttemptAt != null && job.nextAttemptAt.isAfter(at)) at = job.nextAttemptAt;
    return new JsonObject().put("at", at.toString()).put("basis", String.format(
        "position %d over %d workers at an observed %.0f ms per job (%d samples)", position, workers, averageMs,
        scheduler.runSamples(job.selectorKey())));
  }

  /**
   * SLA of an open job: on_track, at_risk (predicted to finish after the deadline) or breached (the deadline has
   * passed). The prediction is the estimated start (or actual start) plus the observed average run time.
   */
  JsonObject sla(Job job) {
    JsonObject result = new JsonObject().put("job_id", job.id)
        .put("deadline", job.slaDeadline == null ? null : job.slaDeadline.toString());
    if (job.slaDeadline == null) return result.put("status", "none");
    Instant now = Instant.now();
    Instant start = job.startedAt;
    if (start == null) {
      String estimated = explain(job).getString("estimated_start_at");
      start = estimated == null ? null : Instant.parse(estimated);
    }
    double averageMs = scheduler.averageRunMs(job.selectorKey());
    Instant predicted = start == null || averageMs < 0 ? null : start.plusMillis((long) averageMs);
    String status;
    if (now.isAfter(job.slaDeadline)) status = "breached";
    else if (predicted != null && predicted.isAfter(job.slaDeadline)) status = "at_risk";
    else status = "on_track";
    return result.put("status", status).put("predicted_finish_at", predicted == null ? null : predicted.toString())
        .put("slack_ms", predicted == null ? null : Duration.between(predicted, job.slaDeadline).toMillis());
  }

  /** SLA of a finished job, from its stored row. */
  static JsonObject slaOfFinished(JsonObject row) {
    String deadline = row.getString("sla_deadline");
    JsonObject result = new JsonObject().put("job_id", row.getString("id")).put("deadline", deadline);
    if (deadline == null) return result.put("status", "none");
    String finished = row.getString("finished_at");
    boolean met = finished != null && !Instant.parse(finished).isAfter(Instant.parse(deadline))
        && JobState.SUCCEEDED.wire().equals(row.getString("state"));
    return result.put("status", met ? "met" : "breached").put("finished_at", finished);
  }

  /** Per tenant and per pool: depth, oldest wait, admitted/running, entitled vs actual share. */
  JsonObject queueStatus(Caller caller) {
    Instant now = Instant.now();
    // one pass over the jobs not running with plain counters: the autoscaler asks every evaluation, the collector
    // and /health too, dashboards every few seconds, and the open jobs can be a hundred thousand
    Map<String, TenantRow> perTenant = new HashMap<>();
    Map<String, PoolRow> perPool = new HashMap<>();
    // fitting and accepting pools by selector and shape: computed once per pass, not once per job
    Map<Shape, List<String>[]> waitingFor = new HashMap<>();
    // running jobs are counted as they start and end: only the others are gone through
    scheduler.runningByTenant().forEach((tenantId, n) -> row(perTenant, tenantId).running += n);
    scheduler.runningByPool().forEach((pool, n) -> {
      if (!pool.isEmpty()) perPool.computeIfAbsent(pool, id -> new PoolRow()).running += n;
    });
    for (Job job : scheduler.uncountedJobs()) {
      TenantRow t = row(perTenant, job.tenantId);
      switch (job.state) {
        case QUEUED -> {
          t.queued++;
          long wait = Math.max(0, now.getEpochSecond() - job.submittedAt.getEpochSecond()
              - (now.getNano() < job.submittedAt.getNano() ? 1 : 0));
          t.oldestWait = Math.max(t.oldestWait, wait);
          TenantCache.Tenant owner = t.owner;
          // demand that more workers would serve: not held back by its tenant's quota or a retry backoff
          boolean capacityBound = owner != null && owner.active() && job.nextAttemptAt == null
              && scheduler.quotaBlocks(owner, job, now) == null;
          // every pool the job waits for is listed, whatever its state (a paused pool's queue does not vanish);
          // only pools that take jobs count it as demand for capacity
          List<String>[] pools = waitingFor.computeIfAbsent(new Shape(job.selectorKey(), job.cpuM, job.memoryMb),
              key -> poolsFor(job));
          List<String> accepting = pools[1];
          for (String pool : pools[0]) {
            PoolRow p = perPool.computeIfAbsent(pool, id -> new PoolRow());
            p.queued++;
            if (capacityBound && accepting.contains(pool)) p.queuedForCapacity++;
            p.oldestWait = Math.max(p.oldestWait, wait);
          }
        }
        case ADMITTED -> t.admitted++;
        default -> {
          t.running++;
          if (job.placedPoolId != null) perPool.computeIfAbsent(job.placedPoolId, id -> new PoolRow()).running++;
        }
      }
    }
    int totalWeight = 0;
    for (String tenantId : perTenant.keySet()) {
      TenantCache.Tenant tenant = scheduler.tenant(tenantId);
      totalWeight += tenant == null ? 1 : tenant.weight();
    }
    JsonArray tenants = new JsonArray();
    for (Map.Entry<String, TenantRow> e : perTenant.entrySet()) {
      String id = e.getKey();
      if (!caller.isAdmin() && !id.equals(caller.tenantId())) continue;
      TenantRow t = e.getValue();
      TenantCache.Tenant tenant = scheduler.tenant(id);
      int weight = tenant == null ? 1 : tenant.weight();
      tenants.add(new JsonObject().put("tenant_id", id).put("queued", t.queued).put("admitted", t.admitted)
          .put("running", t.running).put("oldest_wait_seconds", t.oldestWait)
          .put("weight", weight)
          .put("entitled_share", totalWeight == 0 ? 0 : (double) weight / totalWeight)
          .put("actual_share", scheduler.share(id))
          .put("remembered_share", scheduler.rememberedShare(id))
          .put("quota_queued", scheduler.queued(id))
          .put("usage", usageOf(id))
          .put("quota", tenant == null ? null : new JsonObject().put("cpu_m", tenant.cpuM())
              .put("memory_mb", tenant.memoryMb()).put("max_concurrent_jobs", tenant.maxConcurrent())));
    }
    JsonArray pools = new JsonArray();
    perPool.forEach((id, p) -> {
      JsonObject row = new JsonObject().put("pool_id", id).put("queued", p.queued)
          .put("queued_for_capacity", p.queuedForCapacity).put("running", p.running)
          .put("oldest_wait_seconds", p.oldestWait);
      JsonObject pool = scheduler.pools().pool(id);
      if (pool != null) row.put("state", pool.getString("state")).put("workers", pool.getJsonObject("workers"));
      pools.add(row);
    });
    return new JsonObject().put("tenants", tenants).put("pools", caller.isAdmin() || caller.tenantId() != null
        ? pools : new JsonArray()).put("at", now.toString());
  }

  /** What a tenant's running jobs reserve now (the quota's terms). */
  private JsonObject usageOf(String tenantId) {
    TenantUsage.Usage u = scheduler.usage(tenantId);
    return new JsonObject().put("cpu_m", u.cpuM()).put("memory_mb", u.memoryMb()).put("jobs", u.jobs());
  }

  private TenantRow row(Map<String, TenantRow> perTenant, String tenantId) {
    TenantRow t = perTenant.get(tenantId);
    if (t == null) {
      t = new TenantRow();
      t.owner = scheduler.tenant(tenantId);
      perTenant.put(tenantId, t);
    }
    return t;
  }

  /** What {@link #queueStatus} groups waiting jobs by: their pools depend on nothing else. */
  private record Shape(String selector, long cpuM, long memoryMb) {}

  /** The pools a job waits for: [fitting, accepting] (its selector matches and its shape fits; and they take jobs). */
  @SuppressWarnings("unchecked")
  private List<String>[] poolsFor(Job job) {
    return new List[] {scheduler.pools().fitting(job).stream().map(p -> p.getString("id")).toList(),
        scheduler.pools().accepting(job)};
  }

  /** A tenant's counts in {@link #queueStatus}. */
  private static final class TenantRow {
    TenantCache.Tenant owner;
    int queued;
    int admitted;
    int running;
    long oldestWait;
  }

  /** A pool's counts in {@link #queueStatus}. */
  private static final class PoolRow {
    int queued;
    int queuedForCapacity;
    int running;
    long oldestWait;
  }

  private static JsonObject reason(String code, String text) {
    return new JsonObject().put("code", code).put("detail", text);
  }
}
