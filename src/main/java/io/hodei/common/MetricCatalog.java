package io.hodei.common;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The metric contract: every {@code hodei_*} metric with its exported (Prometheus) name, type, labels, unit and
 * meaning. Names and labels are public; change them only with a migration note. Code registers a meter one way:
 * through its definition's builder ({@link Def#counter()}, {@link Def#functionCounter}, {@link Def#gauge},
 * {@link Def#timer()}), which names it so that the exported name is exactly {@link Def#name()}, describes it with
 * {@link Def#help()}, and refuses a meter of another type than the catalog's.
 */
public final class MetricCatalog {

  public enum Type { COUNTER, GAUGE, HISTOGRAM }

  /** One metric of the contract. */
  public record Def(String name, Type type, List<String> labels, String unit, String help) {
    /** The Micrometer name: Prometheus adds {@code _total} to counters and {@code _seconds} to timers. */
    public String meterName() {
      if (type == Type.COUNTER && name.endsWith("_total")) return name.substring(0, name.length() - "_total".length());
      if (type == Type.HISTOGRAM && name.endsWith("_seconds")) {
        return name.substring(0, name.length() - "_seconds".length());
      }
      return name;
    }

    /** A counter of this metric, named and described; add its label values and register it. */
    public Counter.Builder counter() {
      require(Type.COUNTER);
      return Counter.builder(meterName()).description(help);
    }

    /** A counter of this metric whose value is read from {@code state} (monotonic) at each scrape. */
    public <T> FunctionCounter.Builder<T> functionCounter(T state, ToDoubleFunction<T> value) {
      require(Type.COUNTER);
      return FunctionCounter.builder(meterName(), state, value).description(help);
    }

    /** A gauge of this metric whose value is read from {@code state} at each scrape. */
    public <T> Gauge.Builder<T> gauge(T state, ToDoubleFunction<T> value) {
      require(Type.GAUGE);
      return Gauge.builder(meterName(), state, value).description(help);
    }

    /** A timer (a histogram in seconds) of this metric; add its buckets and label values and register it. */
    public Timer.Builder timer() {
      require(Type.HISTOGRAM);
      return Timer.builder(meterName()).description(help);
    }

    private void require(Type wanted) {
      if (type != wanted) throw new IllegalStateException(name + " is a " + type + " in the catalog, not a " + wanted);
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
  public static final String POOL = "pool";
  public static final String BOUND = "bound";
  public static final String STATE = "state";
  public static final String HEALTH = "health";
  public static final String RESULT = "result";
  public static final String REASON = "reason";
  public static final String SLA_STATUS = "status";
  public static final String DIRECTION = "direction";
  public static final String PART = "part";
  public static final String OUTCOME = "outcome";
  public static final String NODE = "node";

  public static final Def JOBS_SCHEDULED = new Def("hodei_jobs_scheduled_total", Type.COUNTER, List.of(TENANT_ID),
      "jobs", "Total number of jobs scheduled (placed on a worker)");
  public static final Def JOBS_COMPLETED = new Def("hodei_jobs_completed_total", Type.COUNTER, List.of(TENANT_ID),
      "jobs", "Total number of jobs that completed successfully");
  public static final Def JOBS_FAILED = new Def("hodei_jobs_failed_total", Type.COUNTER,
      List.of(TENANT_ID, ERROR_TYPE), "jobs", "Total number of jobs that failed, by error type (cancels are not "
          + "failures: see hodei_jobs_cancelled_total)");
  public static final Def JOBS_CANCELLED = new Def("hodei_jobs_cancelled_total", Type.COUNTER, List.of(TENANT_ID),
      "jobs", "Total number of jobs that ended cancelled (by a cancel request, queued or running)");
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

  public static final Def AUTH_FAILURES = new Def("hodei_auth_failures_total", Type.COUNTER, List.of(OUTCOME),
      "requests", "Failed bearer-token authentications (REST, gRPC, bridges): outcome rejected (answered 401 or "
          + "UNAUTHENTICATED) or limited (the address passed server.auth_failure_limit: 429 or RESOURCE_EXHAUSTED)");

  public static final Def BURST_CPU = new Def("hodei_tenant_burst_cpu_m_seconds_total", Type.COUNTER,
      List.of(TENANT_ID), "millicore-seconds", "CPU used above the base quota on burst grants (billed separately)");
  public static final Def SLA_EVENTS = new Def("hodei_sla_events_total", Type.COUNTER, List.of(SLA_STATUS), "jobs",
      "Jobs whose SLA became at_risk or breached (each transition counted once per job)");

  // Pool and tenant metrics of the collector (io.hodei.metrics.collector.MetricsCollectorVerticle). The pool label
  // is a pool id; series of a pool are removed when the pool disappears, so cardinality stays pools x states.
  public static final Def POOL_SIZE = new Def("hodei_pool_size", Type.GAUGE, List.of(POOL, BOUND), "workers",
      "Pool size; bound is current (workers not terminated yet), min, max or target");
  public static final Def POOL_WORKERS = new Def("hodei_pool_workers", Type.GAUGE, List.of(POOL, STATE), "workers",
      "Workers of a pool by state (provisioning, idle, busy, terminating, unhealthy)");
  public static final Def POOL_WORKERS_HEALTH = new Def("hodei_pool_workers_health", Type.GAUGE,
      List.of(POOL, HEALTH), "workers", "Workers of a pool by health (healthy, unhealthy, unknown)");
  public static final Def POOL_HEALTH_STATUS = new Def("hodei_pool_health_status", Type.GAUGE, List.of(POOL),
      "status", "Pool health as /health reports it: 0 healthy, 1 degraded, 2 unhealthy");
  public static final Def POOL_PROVISIONING_TIME = new Def("hodei_pool_provisioning_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Worker provisioning time, request to ready (buckets 10ms..1h)");
  public static final Def POOL_TERMINATION_TIME = new Def("hodei_pool_termination_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Worker termination time of successful terminations (buckets 10ms..1h)");
  public static final Def POOL_RECOVERY_TIME = new Def("hodei_pool_recovery_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds",
      "Recovery time (MTTR samples): worker unhealthy until recovered or replaced (buckets 10ms..1h)");
  public static final Def POOL_PROVISIONING = new Def("hodei_pool_provisioning_total", Type.COUNTER,
      List.of(POOL, RESULT), "workers", "Worker provisionings by result (success, failure)");
  public static final Def POOL_TERMINATIONS = new Def("hodei_pool_terminations_total", Type.COUNTER,
      List.of(POOL, RESULT), "workers", "Worker terminations by result (success, failure)");
  public static final Def POOL_JOBS = new Def("hodei_pool_jobs_total", Type.COUNTER, List.of(POOL, STATE), "jobs",
      "Jobs that ended on a pool by terminal state (succeeded, failed, timed_out, cancelled, abandoned)");
  public static final Def POOL_JOB_DURATION = new Def("hodei_pool_job_duration_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Job run time on a pool (buckets 10ms..1h)");
  public static final Def POOL_JOB_QUEUE_WAIT = new Def("hodei_pool_job_queue_wait_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Queue wait of jobs that started on a pool (buckets 10ms..1h)");
  public static final Def POOL_JOBS_RUNNING = new Def("hodei_pool_jobs_running", Type.GAUGE, List.of(POOL), "jobs",
      "Jobs running on a pool (started and not yet finished)");
  public static final Def POOL_COST_PER_HOUR = new Def("hodei_pool_cost_per_hour", Type.GAUGE, List.of(POOL),
      "currency/hour", "Cost rate of a pool: idle and busy workers x price_per_worker_hour");
  public static final Def POOL_IDLE_RATIO = new Def("hodei_pool_idle_workers_ratio", Type.GAUGE, List.of(POOL),
      "ratio", "Idle workers / (idle + busy) workers of a pool (0 when it has none)");
  // Seed conformance: POOL_OBSERVABILITY's pool_requests_total / pool_errors_total / average latency served per
  // pool (a job ended on or abandoned for a pool is one request), throughput (US-08.8.1 AC-2), the idle-time
  // distribution (AC-4) and worker usage aggregated per pool and tenant (AC-1, AC-5).
  public static final String RESOURCE = "resource";
  public static final Def POOL_REQUESTS = new Def("hodei_pool_requests_total", Type.COUNTER, List.of(POOL),
      "jobs", "Requests of a pool (POOL_OBSERVABILITY pool_requests_total): jobs that ended on it, or were abandoned "
          + "waiting for it, in any terminal state");
  public static final Def POOL_ERRORS = new Def("hodei_pool_errors_total", Type.COUNTER, List.of(POOL), "jobs",
      "Errors of a pool (POOL_OBSERVABILITY pool_errors_total): jobs that ended failed or timed_out on it");
  public static final Def POOL_LATENCY_AVG = new Def("hodei_pool_latency_avg_ms", Type.GAUGE, List.of(POOL),
      "milliseconds", "Mean job run time on a pool since the server started (POOL_OBSERVABILITY average latency); "
          + "0 before the first finished job");
  public static final Def POOL_THROUGHPUT_JOBS = new Def("hodei_pool_throughput_jobs_per_minute", Type.GAUGE,
      List.of(POOL), "jobs/minute", "Jobs that ended on a pool over the last minute (sampled by the collector)");
  public static final Def POOL_THROUGHPUT_WORKERS = new Def("hodei_pool_throughput_workers_per_second", Type.GAUGE,
      List.of(POOL), "workers/second", "Workers a pool provisioned per second, over the last minute");
  public static final Def POOL_WORKER_IDLE = new Def("hodei_pool_worker_idle_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Idle periods of a pool's workers, idle until busy or gone, to the collection "
          + "interval's resolution (buckets 10ms..1h)");
  public static final Def POOL_CPU_USAGE = new Def("hodei_pool_cpu_usage_percent", Type.GAUGE, List.of(POOL),
      "percent", "Sum of the sampled CPU usage of a pool's workers (100 = one core)");
  public static final Def POOL_MEMORY_USAGE = new Def("hodei_pool_memory_usage_mb", Type.GAUGE, List.of(POOL), "MB",
      "Sum of the sampled memory usage of a pool's workers");
  public static final Def TENANT_CPU_USAGE = new Def("hodei_tenant_cpu_usage_percent", Type.GAUGE, List.of(TENANT_ID),
      "percent", "Sum of the sampled CPU usage of the workers running a tenant's jobs (100 = one core)");
  public static final Def TENANT_MEMORY_USAGE = new Def("hodei_tenant_memory_usage_mb", Type.GAUGE,
      List.of(TENANT_ID), "MB", "Sum of the sampled memory usage of the workers running a tenant's jobs");
  public static final Def TENANT_QUOTA_UTILIZATION = new Def("hodei_tenant_quota_utilization_ratio", Type.GAUGE,
      List.of(TENANT_ID, RESOURCE), "ratio", "A tenant's reserved use over its quota, resource cpu_m, memory_mb or "
          + "jobs (running jobs over max_concurrent_jobs); above 1 on burst capacity");
  public static final Def WORKER_SERIES_DROPPED = new Def("hodei_worker_usage_series_dropped", Type.GAUGE, List.of(),
      "workers", "Live workers with a usage sample but no hodei_cpu_usage_percent/hodei_memory_usage_mb series "
          + "because metrics.max_worker_series was reached (their usage still counts in the pool and tenant sums)");
  public static final Def TENANT_JOBS = new Def("hodei_tenant_jobs_total", Type.COUNTER, List.of(TENANT_ID, STATE),
      "jobs", "Jobs that ended, by tenant and terminal state");
  public static final Def COLLECTOR_LAST_RUN = new Def("hodei_collector_last_run_timestamp_seconds", Type.GAUGE,
      List.of(), "seconds", "Unix time of the collector's last successful run (its heartbeat; alert when stale)");
  public static final Def METRICS_SELF_SECONDS = new Def("hodei_metrics_self_seconds_total", Type.COUNTER,
      List.of(PART), "seconds", "What metrics.enabled costs, by part (tap, apply, collect, runtime, history): CPU "
          + "time of its own work; wall time of its SQL and snapshot requests (an upper bound of their cost)");
  public static final Def METRICS_SELF_BYTES = new Def("hodei_metrics_self_allocated_bytes_total", Type.COUNTER,
      List.of(PART), "bytes", "Bytes the metrics subsystem's own work allocated on the JVM heap, by part");
  public static final Def TENANT_JOBS_RUNNING = new Def("hodei_tenant_jobs_running", Type.GAUGE, List.of(TENANT_ID),
      "jobs", "Jobs running per tenant (started and not yet finished)");

  // Cost tracking (issue #9, io.hodei.cost.CostMeters): read from the cost ledger after every sweep. Amounts are in
  // the currency of price_per_worker_hour. The counters are ledger sums over the retention window (cost_tracking.
  // retention_days), so a retention delete shows as a counter reset. Labels: tenant ids and pool ids only.
  public static final Def TENANT_COST = new Def("hodei_tenant_cost_total", Type.COUNTER, List.of(TENANT_ID),
      "currency", "Cost attributed to a tenant's job attempts (run time x reserved worker share x price in force)");
  public static final Def TENANT_COST_RATE = new Def("hodei_tenant_cost_per_hour", Type.GAUGE, List.of(TENANT_ID),
      "currency/hour", "Cost attributed to a tenant's job runs over the last hour");
  public static final Def TENANT_BURST_COST = new Def("hodei_tenant_burst_cost_total", Type.COUNTER,
      List.of(TENANT_ID), "currency", "Part of hodei_tenant_cost_total from attempts that ran on burst capacity");
  public static final Def TENANT_BURST_IMPACT = new Def("hodei_tenant_burst_impact_seconds_total", Type.COUNTER,
      List.of(TENANT_ID), "seconds", "Cross-tenant impact of a tenant's burst: queue-wait seconds of other tenants' "
          + "jobs on the same pool overlapping each of its burst attempts' runs");
  public static final Def POOL_COST = new Def("hodei_pool_cost_total", Type.COUNTER, List.of(POOL), "currency",
      "Cost of a pool's worker lifetimes (created to terminated x price in force)");
  public static final Def POOL_IDLE_COST = new Def("hodei_pool_idle_cost_total", Type.COUNTER, List.of(POOL),
      "currency", "Wastage: pool cost minus the job cost attributed on it (idle worker time)");

  /** The cost metrics (a subset of {@link #ALL}). */
  public static final List<Def> COST = List.of(TENANT_COST, TENANT_COST_RATE, TENANT_BURST_COST, TENANT_BURST_IMPACT,
      POOL_COST, POOL_IDLE_COST);

  // ---- Autoscaling (io.hodei.scaling, issue #8). reason is the winning policy type or trigger_<metric>: bounded.
  public static final Def SCALING_DECISIONS = new Def("hodei_scaling_decisions_total", Type.COUNTER,
      List.of(POOL, DIRECTION, REASON), "decisions",
      "Autoscaling decisions applied, by direction (scale_out, scale_in) and reason (policy type or trigger_<metric>)");
  public static final Def SCALING_EFFICIENCY = new Def("hodei_scaling_efficiency_ratio", Type.GAUGE, List.of(POOL),
      "ratio", "Busy worker-seconds / provisioned worker-seconds of an autoscaled pool since the server started");
  public static final Def SCALING_CAPACITY_READY = new Def("hodei_scaling_capacity_ready_seconds", Type.HISTOGRAM,
      List.of(POOL), "seconds", "Time from a scale-out decision until the new capacity was ready (buckets 10ms..1h)");
  public static final Def SCALING_IDLE_WORKER_SECONDS = new Def("hodei_scaling_idle_worker_seconds_total",
      Type.COUNTER, List.of(POOL), "worker-seconds", "Idle worker-seconds of autoscaled pools (wastage)");
  /** The metrics of the autoscaler (a subset of {@link #ALL}). */
  public static final List<Def> SCALING = List.of(SCALING_DECISIONS, SCALING_EFFICIENCY, SCALING_CAPACITY_READY,
      SCALING_IDLE_WORKER_SECONDS);
  // ---- end of autoscaling

  // ---- Server performance, runtime resources and pushed worker-pool metrics (io.hodei.metrics.runtime:
  // RuntimeMetricsVerticle, ServiceMeters, TimingTracer; io.hodei.metrics.push.PushedMetrics). Bounds: service x
  // endpoint is the set of route templates, gRPC methods and hodei.* event-bus request addresses (fixed at build
  // time, ~150); kind, state, result and direction are fixed enums; pushed series are at most
  // PushedMetrics.MAX_SERIES (pool, model) pairs.
  public static final String SERVICE = "service";
  public static final String KIND = "kind";
  public static final String MODEL = "model";

  public static final Def SERVICE_REQUESTS = new Def("hodei_service_requests_total", Type.COUNTER,
      List.of(SERVICE, ENDPOINT, OUTCOME), "requests", "Requests served by service (rest, grpc, eventbus) and endpoint "
          + "(REST 'METHOD /template', gRPC full method, event-bus address); outcome ok, client_error or server_error");
  public static final Def SERVICE_DURATION = new Def("hodei_service_request_duration_seconds", Type.HISTOGRAM,
      List.of(SERVICE, ENDPOINT), "seconds", "Request latency by service and endpoint (buckets 1ms..10s); p50/p95/p99 "
          + "in GET /api/v1/metrics/performance/{service}");
  public static final Def DB_QUERY_DURATION = new Def("hodei_db_query_duration_seconds", Type.HISTOGRAM, List.of(KIND),
      "seconds", "PostgreSQL statement time by kind (select, insert, update, delete, transaction, other)");
  public static final Def DB_POOL_CONNECTIONS = new Def("hodei_db_pool_connections", Type.GAUGE, List.of(STATE),
      "connections", "Database connection pool: state size (configured), in_use, waiting (requests queued for one)");
  public static final Def DB_POOL_WAIT = new Def("hodei_db_pool_wait_seconds", Type.GAUGE, List.of(), "seconds",
      "Mean time a request waited for a database connection, since start");
  public static final Def DB_TRANSACTIONS = new Def("hodei_db_transactions_total", Type.COUNTER, List.of(RESULT),
      "transactions", "Transactions of the server's database by result (commit, rollback), from pg_stat_database");
  public static final Def EVENT_LOOP_DELAY = new Def("hodei_event_loop_delay_seconds", Type.GAUGE, List.of(),
      "seconds", "How late the last event-loop probe timer fired (blocking or saturated event loops show here)");
  public static final Def PROCESS_CPU = new Def("hodei_process_cpu_ratio", Type.GAUGE, List.of(), "ratio",
      "CPU used by the server process, 0..1 of the whole host");
  public static final Def HOST_DISK_IO = new Def("hodei_host_disk_io_bytes_total", Type.COUNTER, List.of(DIRECTION),
      "bytes", "Host disk I/O from /proc/diskstats (whole disks), direction read or write; absent off Linux");
  public static final Def HOST_DISK_SPACE = new Def("hodei_host_disk_space_bytes", Type.GAUGE, List.of(STATE),
      "bytes", "Disk space of the file system holding the server's data directory: state total, free or used");
  public static final Def HOST_NETWORK_IO = new Def("hodei_host_network_io_bytes_total", Type.COUNTER,
      List.of(DIRECTION), "bytes",
      "Host network I/O from /proc/net/dev (all interfaces but lo), direction receive or transmit; absent off Linux");

  // Pushed by external workers with POST /api/v1/metrics (the POOL_OBSERVABILITY per-model worker-pool shape).
  // Counters are the worker's cumulative totals (a lower value is taken as a restart of the worker).
  public static final Def MODEL_REQUESTS = new Def("hodei_model_requests_total", Type.COUNTER, List.of(POOL, MODEL),
      "requests", "Requests served per worker-pool model (pushed)");
  public static final Def MODEL_REQUESTS_FAILED = new Def("hodei_model_requests_failed_total", Type.COUNTER,
      List.of(POOL, MODEL), "requests", "Failed requests per worker-pool model (pushed)");
  public static final Def MODEL_REQUESTS_TIMEOUT = new Def("hodei_model_requests_timeout_total", Type.COUNTER,
      List.of(POOL, MODEL), "requests", "Timed-out requests per worker-pool model (pushed)");
  public static final Def MODEL_LATENCY_SUM = new Def("hodei_model_latency_milliseconds_total", Type.COUNTER,
      List.of(POOL, MODEL), "milliseconds", "Sum of request latencies per model (pushed; mean = sum / observations)");
  public static final Def MODEL_LATENCY_COUNT = new Def("hodei_model_latency_observations_total", Type.COUNTER,
      List.of(POOL, MODEL), "requests", "Requests whose latency is in the sum, per model (pushed)");
  public static final Def MODEL_LATENCY_MAX = new Def("hodei_model_latency_max_milliseconds", Type.GAUGE,
      List.of(POOL, MODEL), "milliseconds", "Highest request latency per model (pushed)");
  public static final Def MODEL_WORKERS_SPAWNED = new Def("hodei_model_workers_spawned_total", Type.COUNTER,
      List.of(POOL, MODEL), "workers", "Workers spawned per model (pushed)");
  public static final Def MODEL_WORKERS_EVICTED = new Def("hodei_model_workers_evicted_total", Type.COUNTER,
      List.of(POOL, MODEL), "workers", "Workers evicted per model (pushed)");
  public static final Def MODEL_WORKERS_CRASHED = new Def("hodei_model_workers_crashed_total", Type.COUNTER,
      List.of(POOL, MODEL), "workers", "Workers crashed per model (pushed)");
  public static final Def MODEL_WORKERS = new Def("hodei_model_workers", Type.GAUGE, List.of(POOL, MODEL), "workers",
      "Workers running per model (pushed)");
  public static final Def MODEL_QUEUE_DEPTH_MAX = new Def("hodei_model_queue_depth_max", Type.GAUGE,
      List.of(POOL, MODEL), "requests", "Highest queue depth per model (pushed)");
  public static final Def MODEL_MEMORY_ALLOCATED = new Def("hodei_model_memory_allocated_mb", Type.GAUGE,
      List.of(POOL, MODEL), "MB", "Memory allocated per model (pushed)");
  public static final Def MODEL_MEMORY_PEAK = new Def("hodei_model_memory_peak_mb", Type.GAUGE, List.of(POOL, MODEL),
      "MB", "Peak memory per model (pushed)");

  public static final Def AGENTS_CONNECTED = new Def("hodei_agents_connected", Type.GAUGE, List.of(POOL), "agents",
      "Agents holding a stream to this server, per pool");
  public static final Def AGENT_HEARTBEAT_LAG = new Def("hodei_agent_heartbeat_lag_seconds", Type.GAUGE, List.of(POOL),
      "seconds", "Longest time since the last heartbeat among the pool's agents (connected or within their grace)");
  public static final Def AGENT_RECONNECTS = new Def("hodei_agent_reconnects_total", Type.COUNTER, List.of(POOL),
      "connections", "Agents that registered again after a lost stream (within the grace or after it)");
  public static final Def AGENT_STREAM_BYTES = new Def("hodei_agent_stream_bytes_total", Type.COUNTER,
      List.of(POOL, DIRECTION), "bytes", "Job output bytes streamed by agents: direction=received (kept), "
          + "dropped (beyond the per-job log bound)");

  public static final Def CLUSTER_MEMBERS = new Def("hodei_cluster_members", Type.GAUGE, List.of(), "nodes",
      "Members of the cluster this node sees (cluster.enabled)");
  public static final Def LEADER = new Def("hodei_leader", Type.GAUGE, List.of(NODE), "bool",
      "1 while this node (node = its cluster host:port) leads the cluster, else 0");
  public static final Def LEADERSHIP_CHANGES = new Def("hodei_leadership_changes_total", Type.COUNTER, List.of(),
      "takeovers", "Times this node took over the cluster's leadership (each bumps the leadership epoch)");

  /** Cluster membership and leadership (only on a cluster node). */
  public static final List<Def> CLUSTER = List.of(CLUSTER_MEMBERS, LEADER, LEADERSHIP_CHANGES);

  /** The agent provider's stream registry. */
  public static final List<Def> AGENTS = List.of(AGENTS_CONNECTED, AGENT_HEARTBEAT_LAG, AGENT_RECONNECTS,
      AGENT_STREAM_BYTES);

  /** The server's own performance and resources. */
  public static final List<Def> RUNTIME = List.of(SERVICE_REQUESTS, SERVICE_DURATION, DB_QUERY_DURATION,
      DB_POOL_CONNECTIONS, DB_POOL_WAIT, DB_TRANSACTIONS, EVENT_LOOP_DELAY, PROCESS_CPU, HOST_DISK_IO, HOST_NETWORK_IO,
      HOST_DISK_SPACE);

  /** What POST /api/v1/metrics accepts. */
  public static final List<Def> PUSHABLE = List.of(MODEL_REQUESTS, MODEL_REQUESTS_FAILED, MODEL_REQUESTS_TIMEOUT,
      MODEL_LATENCY_SUM, MODEL_LATENCY_COUNT, MODEL_LATENCY_MAX, MODEL_WORKERS_SPAWNED, MODEL_WORKERS_EVICTED,
      MODEL_WORKERS_CRASHED, MODEL_WORKERS, MODEL_QUEUE_DEPTH_MAX, MODEL_MEMORY_ALLOCATED, MODEL_MEMORY_PEAK);

  /** The metrics the collector registers (a subset of {@link #ALL}). */
  public static final List<Def> COLLECTED = List.of(POOL_SIZE, POOL_WORKERS, POOL_WORKERS_HEALTH, POOL_HEALTH_STATUS,
      POOL_PROVISIONING_TIME, POOL_TERMINATION_TIME, POOL_RECOVERY_TIME, POOL_PROVISIONING, POOL_TERMINATIONS,
      POOL_JOBS, POOL_JOB_DURATION, POOL_JOB_QUEUE_WAIT, POOL_JOBS_RUNNING, POOL_COST_PER_HOUR, POOL_IDLE_RATIO,
      TENANT_JOBS, TENANT_JOBS_RUNNING, COLLECTOR_LAST_RUN, METRICS_SELF_SECONDS, METRICS_SELF_BYTES,
      POOL_REQUESTS, POOL_ERRORS, POOL_LATENCY_AVG, POOL_THROUGHPUT_JOBS, POOL_THROUGHPUT_WORKERS, POOL_WORKER_IDLE,
      POOL_CPU_USAGE, POOL_MEMORY_USAGE, TENANT_CPU_USAGE, TENANT_MEMORY_USAGE, TENANT_QUOTA_UTILIZATION,
      WORKER_SERIES_DROPPED);

  /** The seed's metrics and the HTTP/gRPC/event meters of the platform. */
  public static final List<Def> PLATFORM = List.of(JOBS_SCHEDULED, JOBS_COMPLETED, JOBS_FAILED, JOBS_CANCELLED,
      JOBS_QUEUED, WORKERS_REGISTERED, WORKERS_HEALTHY, WORKERS_TOTAL, SCHEDULING_LATENCY, SCHEDULING_DECISIONS,
      CPU_USAGE, MEMORY_USAGE, QUEUE_SIZE, QUEUE_WAIT, HTTP_REQUESTS, HTTP_DURATION, GRPC_REQUESTS, EVENTS_PUBLISHED,
      EVENTS_RECEIVED, EVENT_BUS_SUBSCRIBERS, SLA_EVENTS, BURST_CPU, BRIDGE_DROPPED, AUTH_FAILURES);

  /** Every metric of the catalog, in documentation order. */
  public static final List<Def> ALL = java.util.stream.Stream.of(PLATFORM, COLLECTED, COST, SCALING, RUNTIME,
      PUSHABLE, AGENTS, CLUSTER)
      .flatMap(List::stream).toList();

  private MetricCatalog() {}
}
