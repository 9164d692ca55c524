package io.hodei.pool;

import io.hodei.common.Caller;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** A worker as the pool verticle holds it: mutable, confined to the verticle's event loop. */
final class Worker {
  String id;
  String poolId;
  WorkerState state;
  WorkerHealth health;
  long cpuM;
  long memoryMb;
  boolean draining;
  String currentJobId;
  /** The tenant of {@link #currentJobId} once known (placement or job.started); until then only admins see the job. */
  String currentJobTenantId;
  JobExecution execution;
  Instant createdAt;
  Instant startedAt;
  Instant lastHeartbeatAt;
  Long provisionedInMs;
  Instant unhealthySince;
  Instant terminatingSince;
  int failedProbes;
  /** Resource use as the provider last reported it (sampled with each health probe); null until the first sample. */
  Double cpuUsagePercent;
  Double memoryUsageMb;
  /** The worker this one replaces (an unhealthy one), for recovery time. */
  Instant replacesFailureAt;
  /** Writes of this worker's rows, chained so they reach the database in order. */
  Future<Void> lastWrite = Future.succeededFuture();

  boolean live() {
    return state.live();
  }

  JsonObject toJson() {
    // sized for every field (the default map grows once on the way); the snapshot for the collector builds this for
    // every worker every few seconds
    JsonObject json = new JsonObject(new java.util.LinkedHashMap<>(32))
        .put("id", id)
        .put("pool_id", poolId)
        .put("state", state == null ? null : state.wire())
        .put("health", health == null ? null : health.wire())
        .put("cpu_m", cpuM)
        .put("memory_mb", memoryMb)
        .put("draining", draining)
        .put("current_job_id", currentJobId)
        .put("created_at", createdAtText())
        .put("started_at", startedAtText())
        .put("last_heartbeat_at", iso(lastHeartbeatAt))
        .put("provisioned_in_ms", provisionedInMs)
        .put("unhealthy_since", iso(unhealthySince));
    if (cpuUsagePercent != null) json.put("cpu_usage_percent", cpuUsagePercent).put("memory_usage_mb", memoryUsageMb);
    return json;
  }

  /**
   * The worker as {@code viewer} may see it: {@code current_job_id} is null unless the viewer is an admin or belongs
   * to that job's tenant, so a worker never tells one tenant what another runs.
   */
  JsonObject toJson(Caller viewer) {
    JsonObject json = toJson();
    if (currentJobId != null && !viewer.mayAccess(currentJobTenantId)) json.putNull("current_job_id");
    return json;
  }

  static String iso(Instant t) { return t == null ? null : t.toString(); }

  /** Formatted once per value: a worker keeps these for its life (or its run) and is shown every few seconds. */
  private Instant createdAtShown;
  private String createdAtText;
  private Instant startedAtShown;
  private String startedAtText;

  private String createdAtText() {
    if (createdAt != createdAtShown) {
      createdAtShown = createdAt;
      createdAtText = iso(createdAt);
    }
    return createdAtText;
  }

  private String startedAtText() {
    if (startedAt != startedAtShown) {
      startedAtShown = startedAt;
      startedAtText = iso(startedAt);
    }
    return startedAtText;
  }
}
