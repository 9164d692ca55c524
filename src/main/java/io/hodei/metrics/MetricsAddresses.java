package io.hodei.metrics;

import io.hodei.common.Events;

/** Event-bus addresses of the metrics domain, and the domain events its collector consumes (see docs/architecture.md). */
public final class MetricsAddresses {
  /** Pool health from the collector's last snapshot: {@code {status, pools: [...], collector: {...}}}; anyone. */
  public static final String HEALTH = "hodei.metrics.health";
  /** One pool's current metrics: params {@code id}; viewer+; 404 for a pool the collector does not know. */
  public static final String POOL = "hodei.metrics.pool";
  /** The collector's own health and the metrics it collects; viewer+. */
  public static final String COLLECTOR = "hodei.metrics.collector";
  /**
   * Alerts firing now, from Alertmanager ({@link io.hodei.metrics.alerts.AlertsVerticle}); viewer+; 503 when
   * Alertmanager does not answer.
   */
  public static final String ALERTS = "hodei.metrics.alerts";

  /** Job events published by the scheduler (schema in docs/architecture.md). */
  public static final String JOB_STARTED_EVENT = Events.address("job.started");
  public static final String JOB_FINISHED_EVENT = Events.address("job.finished");

  /** Historical range queries (REST envelope; query: metric, pool, tenant, from, to, step). */
  public static final String HISTORICAL = "hodei.metrics.historical";

  // Runtime metrics (RuntimeMetricsVerticle); REST envelopes, viewer+ unless noted.
  /** The server's request performance: params {@code service} (rest, grpc, eventbus, all). */
  public static final String PERFORMANCE = "hodei.metrics.performance";
  /** JVM, process, event-loop, host and database resources: params {@code service}. */
  public static final String RESOURCES = "hodei.metrics.resources";
  /** Catalog snapshots by group: params {@code metric_type}; tenant tokens see only their tenant's series. */
  public static final String APPLICATION = "hodei.metrics.application";
  /** One tenant's job and burst metrics: params {@code id}; tenant tokens only their own tenant. */
  public static final String TENANT = "hodei.metrics.tenant";
  /** Samples pushed by external workers (body {@code {samples: [...]}}); submitter+. */
  public static final String PUSH = "hodei.metrics.push";

  private MetricsAddresses() {}
}
