package io.hodei.metrics;

import java.util.List;

/**
 * The metric contract: every {@code hodei_*} metric with its exported (Prometheus) name, type, labels, unit and
 * meaning. Names and labels are public; change them only with a migration note. Code registers meters through
 * {@link Def#meterName()} so that the exported name is exactly {@link Def#name()}.
 */
public final class MetricCatalog {

  public enum Type { COUNTER, GAUGE, HISTOGRAM }

  /** One metric of the contract. */
  public record Def(String name, Type type, List<String> labels, String unit, String help) {
    /** The Micrometer name: Prometheus adds {@code _total} to counters and {@code _seconds} to timers. */
    public String meterName() {
      if (type == Type.COUNTER && name.endsWith("_total")) return name.substring(0, name.length() - "_total".length());
      if (type == Type.HISTOGRAM && name.endsWith("_seconds")) return name.substring(0, name.length() - "_seconds".length());
      return name;
    }
  }

  public static final String TENANT_ID = "tenant_id";
  public static final String ERROR_TYPE = "error_type";
  public static final String DECISION_TYPE = "decision_type";
  public static final String WORKER_ID = "worker_id";
  public static final String METHOD = "method";
  public static final String ENDPOINT = "endpoint";
  public static final String STATUS_CODE = "status_code";
  public static final String EVENT_TYPE = "event_type";
  public static final String REASON = "reason";

  public static final Def JOBS_SCHEDULED = new Def("hodei_jobs_scheduled_total", Type.COUNTER, List.of(TENANT_ID),
      "jobs", "Total number of jobs scheduled (placed on a worker)");
  public static final Def JOBS_COMPLETED = new Def("hodei_jobs_completed_total", Type.COUNTER, List.of(TENANT_ID),
      "jobs", "Total number of jobs that completed successfully");
  public static final Def JOBS_FAILED = new Def("hodei_jobs_failed_total", Type.COUNTER,
      List.of(TENANT_ID, ERROR_TYPE), "jobs", "Total number of jobs that failed, by error type");
  public static final Def JOBS_QUEUED = new Def("hodei_jobs_queued", Type.GAUGE, List.of(), "jobs",
      "Current number of jobs in queue");
  public static final Def WORKERS_REGISTERED = new Def("hodei_workers_registered_total", Type.COUNTER, List.of(),
      "workers", "Total number of workers registered");
  public static final Def WORKERS_HEALTHY = new Def("hodei_workers_healthy", Type.GAUGE, List.of(), "workers",
      "Current number of healthy workers");
  public static final Def WORKERS_TOTAL = new Def("hodei_workers_total", Type.GAUGE, List.of(), "workers",
      "Current number of workers");
  public static final Def SCHEDULING_LATENCY = new Def("hodei_scheduling_latency_seconds", Type.HISTOGRAM, List.of(),
      "seconds", "Time from submit to placement (buckets 1ms..10s)");
  public static final Def SCHEDULING_DECISIONS = new Def("hodei_scheduling_decisions_total", Type.COUNTER,
      List.of(DECISION_TYPE), "decisions", "Scheduling decisions by type");
  public static final Def CPU_USAGE = new Def("hodei_cpu_usage_percent", Type.GAUGE, List.of(WORKER_ID), "percent",
      "CPU usage per worker");
  public static final Def MEMORY_USAGE = new Def("hodei_memory_usage_mb", Type.GAUGE, List.of(WORKER_ID), "MB",
      "Memory usage per worker");
  public static final Def QUEUE_SIZE = new Def("hodei_queue_size", Type.GAUGE, List.of(), "jobs",
      "Current queue size");
  public static final Def QUEUE_WAIT = new Def("hodei_queue_wait_time_seconds", Type.HISTOGRAM, List.of(), "seconds",
      "Time jobs wait in the queue (buckets 100ms..10m)");
  public static final Def HTTP_REQUESTS = new Def("hodei_http_requests_total", Type.COUNTER,
      List.of(METHOD, ENDPOINT, STATUS_CODE), "requests",
      "HTTP requests; endpoint is the route template (never a raw path), 'unmatched' when no route matched");
  public static final Def HTTP_DURATION = new Def("hodei_http_request_duration_seconds", Type.HISTOGRAM, List.of(),
      "seconds", "HTTP request duration (buckets 1ms..10s)");
  public static final Def GRPC_REQUESTS = new Def("hodei_grpc_requests_total", Type.COUNTER,
      List.of(METHOD, STATUS_CODE), "requests",
      "gRPC calls; method is the full method name (hodei.v1.TenantService/CreateTenant), 'unknown' for a method the "
          + "server does not serve; status_code is the gRPC status name (OK, NOT_FOUND, ...)");
  public static final Def EVENTS_PUBLISHED = new Def("hodei_events_published_total", Type.COUNTER,
      List.of(EVENT_TYPE), "events", "Domain events published on hodei.events.*");
  public static final Def EVENTS_RECEIVED = new Def("hodei_events_received_total", Type.COUNTER, List.of(EVENT_TYPE),
      "events", "Domain events delivered to bridge consumers");
  public static final Def EVENT_BUS_SUBSCRIBERS = new Def("hodei_event_bus_subscribers", Type.GAUGE, List.of(),
      "subscribers", "Current event-bus bridge subscribers");
  public static final Def BRIDGE_DROPPED = new Def("hodei_bridge_dropped_total", Type.COUNTER, List.of(REASON),
      "events", "Events or registrations the event-bus bridges refused: reason slow_consumer (the connection's "
          + "buffer was full) or unauthorized (no or invalid token)");

  /** Every metric of the catalog, in documentation order. */
  public static final List<Def> ALL = List.of(JOBS_SCHEDULED, JOBS_COMPLETED, JOBS_FAILED, JOBS_QUEUED,
      WORKERS_REGISTERED, WORKERS_HEALTHY, WORKERS_TOTAL, SCHEDULING_LATENCY, SCHEDULING_DECISIONS, CPU_USAGE,
      MEMORY_USAGE, QUEUE_SIZE, QUEUE_WAIT, HTTP_REQUESTS, HTTP_DURATION, GRPC_REQUESTS, EVENTS_PUBLISHED,
      EVENTS_RECEIVED, EVENT_BUS_SUBSCRIBERS, BRIDGE_DROPPED);

  private MetricCatalog() {}
}
