package io.hodei.metrics.runtime;

import io.hodei.common.MetricCatalog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.hodei.common.MetricCatalog.*;

/** The catalog's metrics grouped for {@code GET /api/v1/metrics/application/{metric_type}}. */
final class ApplicationGroups {
  static final String ALL_GROUPS = "all";
  static final Map<String, List<MetricCatalog.Def>> GROUPS = new LinkedHashMap<>();

  static {
    GROUPS.put("jobs", List.of(JOBS_SCHEDULED, JOBS_COMPLETED, JOBS_FAILED, JOBS_CANCELLED, JOBS_QUEUED, POOL_JOBS,
        POOL_JOBS_RUNNING, POOL_JOB_DURATION, TENANT_JOBS, TENANT_JOBS_RUNNING, SLA_EVENTS));
    GROUPS.put("workers", List.of(WORKERS_REGISTERED, WORKERS_HEALTHY, WORKERS_TOTAL, CPU_USAGE, MEMORY_USAGE,
        POOL_WORKERS, POOL_WORKERS_HEALTH, POOL_PROVISIONING, POOL_TERMINATIONS, POOL_PROVISIONING_TIME,
        POOL_TERMINATION_TIME, POOL_RECOVERY_TIME));
    GROUPS.put("pools", List.of(POOL_SIZE, POOL_WORKERS, POOL_HEALTH_STATUS, POOL_JOBS_RUNNING, POOL_COST_PER_HOUR,
        POOL_IDLE_RATIO, POOL_JOB_QUEUE_WAIT, COLLECTOR_LAST_RUN));
    GROUPS.put("tenants", List.of(JOBS_SCHEDULED, JOBS_COMPLETED, JOBS_FAILED, JOBS_CANCELLED, TENANT_JOBS,
        TENANT_JOBS_RUNNING, BURST_CPU));
    GROUPS.put("queues", List.of(JOBS_QUEUED, QUEUE_SIZE, QUEUE_WAIT, POOL_JOB_QUEUE_WAIT));
    GROUPS.put("scheduling", List.of(SCHEDULING_LATENCY, SCHEDULING_DECISIONS, SLA_EVENTS));
    GROUPS.put("events", List.of(EVENTS_PUBLISHED, EVENTS_RECEIVED, EVENT_BUS_SUBSCRIBERS, BRIDGE_DROPPED));
    GROUPS.put("models", PUSHABLE);
  }

  private ApplicationGroups() {}

  /** The allowed {@code metric_type} values. */
  static List<String> types() {
    return java.util.stream.Stream.concat(GROUPS.keySet().stream(), java.util.stream.Stream.of(ALL_GROUPS)).toList();
  }
}
