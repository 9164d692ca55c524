package io.hodei.app.config;

import io.hodei.app.config.ConfigKey.Type;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.hodei.app.config.ConfigKey.key;

/**
 * Every configuration key Hodei Pools accepts. The structure and environment names follow the seed's config.yaml;
 * keys whose capability is not built yet are accepted, validated and reported as such ({@code usedBy}).
 */
public final class ConfigSchema {
  public static final String SERVER_HOST = "server.host";
  public static final String SERVER_PORT = "server.port";
  public static final String SERVER_GRPC_PORT = "server.grpc_port";
  public static final String SERVER_GRPC_TLS_CERT = "server.grpc_tls_cert_file";
  public static final String SERVER_GRPC_TLS_KEY = "server.grpc_tls_key_file";
  public static final String SERVER_BODY_LIMIT = "server.body_limit_bytes";
  public static final String SERVER_SHUTDOWN_TIMEOUT = "server.shutdown_timeout_seconds";
  public static final String SERVER_IDLE_TIMEOUT = "server.idle_timeout_seconds";
  public static final String SERVER_HEADER_TIMEOUT = "server.header_timeout_seconds";
  public static final String SERVER_BODY_TIMEOUT = "server.body_timeout_seconds";
  public static final String SERVER_AUTH_FAILURE_LIMIT = "server.auth_failure_limit";
  public static final String SERVER_AUTH_FAILURE_WINDOW = "server.auth_failure_window_seconds";
  public static final String DB_URL = "database.url";
  public static final String DB_DATA_DIR = "database.data_dir";
  public static final String DB_EPHEMERAL = "database.ephemeral";
  public static final String DB_POOL_SIZE = "database.pool_size";
  public static final String DB_EMBEDDED_PORT = "database.embedded_port";
  public static final String DB_EMBEDDED_DURABLE = "database.embedded_durable";
  public static final String ADMIN_TOKEN = "security.admin_token";
  public static final String METRICS_REQUIRE_TOKEN = "security.metrics_require_token";
  public static final String TOKEN_CACHE_SECONDS = "security.token_cache_seconds";
  public static final String POOLS_ENABLED = "resource_pools.enabled";
  public static final String POOLS_DEFAULT_TYPE = "resource_pools.default_pool_type";
  public static final String POOLS_AUTO_SCALING = "resource_pools.auto_scaling_enabled";
  public static final String POOLS_LIST = "resource_pools.pools";
  public static final String POOLS_MAX_WORKERS = "resource_pools.max_workers_per_pool";
  public static final String POOLS_HEALTH_INTERVAL = "resource_pools.health_check_interval_seconds";
  public static final String POOLS_UNHEALTHY_THRESHOLD = "resource_pools.unhealthy_threshold";
  public static final String POOLS_RECONCILE_INTERVAL = "resource_pools.reconcile_interval_seconds";
  public static final String POOLS_LOCAL_WORK_DIR = "resource_pools.local_work_dir";
  public static final String POOLS_SIMULATED_SEED = "resource_pools.simulated_seed";
  public static final String AGENTS_RECONNECT_GRACE = "agents.reconnect_grace_seconds";
  public static final String CLUSTER_ENABLED = "cluster.enabled";
  public static final String CLUSTER_MEMBERS = "cluster.members";
  public static final String CLUSTER_HOST = "cluster.host";
  public static final String CLUSTER_PORT = "cluster.port";
  public static final String CLUSTER_BUS_PORT = "cluster.bus_port";
  public static final String SCHED_PRIORITY = "scheduler.default_priority";
  public static final String SCHED_TIMEOUT = "scheduler.default_timeout_seconds";
  public static final String SCHED_ATTEMPTS = "scheduler.default_max_attempts";
  public static final String SCHED_MAX_QUEUE = "scheduler.max_queue_seconds";
  public static final String SCHED_HALF_LIFE = "scheduler.fair_share_half_life_seconds";
  public static final String SCHED_TICK = "scheduler.tick_interval_ms";
  public static final String SCHED_INFLIGHT = "scheduler.max_inflight_placements";
  public static final String SCHED_BACKOFF = "scheduler.retry_backoff_max_seconds";
  public static final String SCHED_JOB_RETENTION = "scheduler.job_retention_days";
  public static final String TENANCY_ENABLED = "multi_tenancy.enabled";
  public static final String QUOTA_CPU = "multi_tenancy.default_tenant_quota.cpu_m";
  public static final String QUOTA_MEMORY = "multi_tenancy.default_tenant_quota.memory_mb";
  public static final String QUOTA_CONCURRENT = "multi_tenancy.default_tenant_quota.max_concurrent_jobs";
  public static final String QUOTA_QUEUED = "multi_tenancy.default_tenant_quota.max_queued_jobs";
  public static final String BURST_ENABLED = "burst_capacity.enabled";
  public static final String BURST_MAX_OVERAGE = "burst_capacity.max_overage_percentage";
  public static final String BURST_DURATION = "burst_capacity.burst_duration_minutes";
  public static final String COST_ENABLED = "cost_tracking.enabled";
  public static final String COST_BY_TENANT = "cost_tracking.track_by_tenant";
  public static final String COST_BY_JOB = "cost_tracking.track_by_job";
  public static final String COST_RETENTION = "cost_tracking.retention_days";
  public static final String COST_SWEEP_INTERVAL = "cost_tracking.sweep_interval_seconds";
  public static final String COST_MAX_REPORT_DAYS = "cost_tracking.max_report_days";
  public static final String METRICS_ENABLED = "metrics.enabled";
  public static final String METRICS_INTERVAL = "metrics.collection_interval_seconds";
  public static final String METRICS_RETENTION = "metrics.retention_days";
  public static final String METRICS_MAX_WORKER_SERIES = "metrics.max_worker_series";
  public static final String METRICS_HISTORY = "metrics.history_enabled";
  public static final String METRICS_RAW_RETENTION = "metrics.raw_retention_hours";
  public static final String METRICS_ROLLUP_INTERVAL = "metrics.rollup_interval_seconds";
  public static final String METRICS_1M_RETENTION = "metrics.rollup_1m_retention_days";
  public static final String METRICS_5M_RETENTION = "metrics.rollup_5m_retention_days";
  public static final String PROMETHEUS_ENABLED = "metrics.prometheus.enabled";
  public static final String PROMETHEUS_PORT = "metrics.prometheus.port";
  public static final String PROMETHEUS_PATH = "metrics.prometheus.path";
  public static final String GRAFANA_ENABLED = "observability.grafana.enabled";
  public static final String GRAFANA_DIR = "observability.grafana.dashboards_dir";
  public static final String ALERTING_ENABLED = "observability.alerting.enabled";
  public static final String ALERTS_DIR = "observability.alerting.prometheus_alerts_dir";
  public static final String ALERTMANAGER_URL = "observability.alerting.alertmanager_url";
  // Tracing (io.hodei.tracing)
  public static final String TRACING_ENABLED = "observability.tracing.enabled";
  public static final String TRACING_OTLP_ENDPOINT = "observability.tracing.otlp_endpoint";
  public static final String TRACING_SAMPLE_PERCENT = "observability.tracing.sample_percent";
  public static final String TRACING_MAX_OPEN_JOBS = "observability.tracing.max_open_jobs";
  public static final String LOG_LEVEL = "logging.level";
  public static final String BRIDGE_TCP_PORT = "bridge.tcp_port";
  public static final String BRIDGE_MAX_BUFFERED = "bridge.max_buffered_messages";
  public static final String SCALING_INTERVAL = "scaling.evaluation_interval_seconds";


  /** Allowed keys inside one entry of {@code resource_pools.pools}. */
  public static final List<String> POOL_ENTRY_KEYS = List.of("id", "name", "type", "provider", "min_size", "max_size",
      "target_size", "size", "auto_scaling_enabled", "worker_cpu_m", "worker_memory_mb", "price_per_worker_hour",
      "labels", "provider_config");

  private static final Map<String, ConfigKey> KEYS = new LinkedHashMap<>();

  static {
    add(key(SERVER_HOST, Type.STRING).def("0.0.0.0").doc("address the HTTP server binds"));
    add(key(SERVER_PORT, Type.INT).def(8080L).range(0, 65535).doc("REST, /metrics, health (0 = any free port)"));
    add(key(SERVER_GRPC_PORT, Type.INT).def(9090L).range(-1, 65535)
        .doc("separate gRPC listener (-1 = only on server.port, where gRPC is always served; 0 = any free port)"));
    add(key(SERVER_GRPC_TLS_CERT, Type.STRING).def(null)
        .doc("PEM certificate (chain) of the separate gRPC listener: with server.grpc_tls_key_file it serves TLS"));
    add(key(SERVER_GRPC_TLS_KEY, Type.STRING).def(null)
        .doc("PEM private key of the certificate in server.grpc_tls_cert_file"));
    add(key(SERVER_BODY_LIMIT, Type.INT).def(1_048_576L).range(1024, 64L * 1024 * 1024)
        .doc("largest accepted request body in bytes (413 above)"));
    add(key(SERVER_SHUTDOWN_TIMEOUT, Type.INT).def(30L).range(0, 600)
        .doc("seconds SIGTERM waits for in-flight requests"));
    add(key(SERVER_IDLE_TIMEOUT, Type.INT).def(60L).range(0, 86_400)
        .doc("seconds a connection may send and receive nothing before it is closed (0 = never); open gRPC calls "
            + "(WatchJobs) ping at half this; keep it above 25 (the SockJS bridge's heartbeat)"));
    add(key(SERVER_HEADER_TIMEOUT, Type.INT).def(10L).range(1, 3600)
        .doc("seconds an HTTP/1.x client has to send a request line and headers once it started (else closed)"));
    add(key(SERVER_BODY_TIMEOUT, Type.INT).def(30L).range(1, 3600)
        .doc("seconds an HTTP/1.x client has to send a request body after its headers (else closed)"));
    add(key(SERVER_AUTH_FAILURE_LIMIT, Type.INT).def(20L).range(0, 1_000_000)
        .doc("failed token authentications per client address and window answered 401; later ones 429 with "
            + "Retry-After (0 = no limit)"));
    add(key(SERVER_AUTH_FAILURE_WINDOW, Type.INT).def(60L).range(1, 86_400)
        .doc("seconds of the window of server.auth_failure_limit, from an address's first failure"));
    add(key(DB_URL, Type.STRING).def(null).env("HODEI_PG_URL")
        .doc("postgresql://user:pass@host:port/db; unset = embedded PostgreSQL"));
    add(key(DB_DATA_DIR, Type.STRING).def("./data/pg").env("HODEI_PG_DATA_DIR")
        .doc("embedded PostgreSQL data directory (kept across restarts)"));
    add(key(DB_EPHEMERAL, Type.BOOL).def(false).env("HODEI_PG_EPHEMERAL")
        .doc("embedded PostgreSQL in a throw-away directory"));
    add(key(DB_POOL_SIZE, Type.INT).def(16L).range(1, 200).env("HODEI_PG_POOL_SIZE").doc("database connections"));
    add(key(DB_EMBEDDED_PORT, Type.INT).def(0L).range(0, 65535).doc("embedded PostgreSQL port (0 = any free port)"));
    add(key(DB_EMBEDDED_DURABLE, Type.BOOL).def(true).env("HODEI_PG_EMBEDDED_DURABLE")
        .doc("embedded PostgreSQL flushes each commit to disk before it is acknowledged (fsync, synchronous_commit); "
            + "false trades crash safety for speed (tests)"));
    add(key(ADMIN_TOKEN, Type.STRING).def(null).env("HODEI_ADMIN_TOKEN").envOnly()
        .doc("bootstrap admin bearer token (env only, at least 16 characters); unset = generated and printed once"));
    add(key(METRICS_REQUIRE_TOKEN, Type.BOOL).def(false).doc("require a viewer token to scrape metrics"));
    add(key(TOKEN_CACHE_SECONDS, Type.INT).def(5L).range(0, 300)
        .doc("how long a verified token is cached (also the delay before a revocation bites)"));
    add(key(POOLS_ENABLED, Type.BOOL).def(true).env("HODEI_RESOURCE_POOLS_ENABLED")
        .doc("resource pool management (false: no pools from config, no workers provisioned)"));
    add(key(POOLS_DEFAULT_TYPE, Type.ENUM).def("static").allowed("static", "dynamic").env("HODEI_RESOURCE_POOL_TYPE")
        .doc("kind of a pool created without one"));
    add(key(POOLS_AUTO_SCALING, Type.BOOL).def(true).env("HODEI_AUTO_SCALING_ENABLED")
        .doc("global switch for autoscaling (off: no pool is scaled; policies stay editable)"));
    add(key(POOLS_LIST, Type.LIST).def(List.of())
        .doc("pools created at first start; entry keys: " + String.join(", ", POOL_ENTRY_KEYS)));
    add(key(POOLS_MAX_WORKERS, Type.INT).def(10_000L).range(1, 100_000)
        .doc("ceiling on any pool's max_size (bigger sizes are rejected with 422)"));
    add(key(POOLS_HEALTH_INTERVAL, Type.INT).def(5L).range(1, 3600).doc("seconds between worker health probes"));
    add(key(POOLS_UNHEALTHY_THRESHOLD, Type.INT).def(2L).range(1, 100)
        .doc("failed probes in a row that make a worker unhealthy"));
    add(key(POOLS_RECONCILE_INTERVAL, Type.INT).def(2L).range(1, 3600)
        .doc("seconds between pool reconciliations (provision/terminate towards target size)"));
    add(key(POOLS_LOCAL_WORK_DIR, Type.STRING).def("./data/work")
        .doc("where the local provider creates each job's working directory"));
    add(key(POOLS_SIMULATED_SEED, Type.INT).def(42L).range(0, Long.MAX_VALUE)
        .doc("random seed of the simulated provider (same seed, same outcomes)"));
    add(key(AGENTS_RECONNECT_GRACE, Type.INT).def(30L).range(1, 3600)
        .doc("seconds a disconnected agent (and, after a server restart, every agent) keeps its workers and running "
            + "jobs; after it they are lost and retried"));
    add(key(CLUSTER_ENABLED, Type.BOOL).def(false)
        .doc("run as one node of a cluster on one PostgreSQL: a clustered Vert.x event bus (Hazelcast), one leader "
            + "places jobs and manages pools ([Cluster](cluster.md))"));
    add(key(CLUSTER_MEMBERS, Type.STRING).def("127.0.0.1:5701")
        .doc("host:port list (comma-separated) of the cluster's Hazelcast members to join over TCP (no multicast); "
            + "may include this node"));
    add(key(CLUSTER_HOST, Type.STRING).def("127.0.0.1")
        .doc("address this node binds and announces to the other members (Hazelcast and the event bus)"));
    add(key(CLUSTER_PORT, Type.INT).def(5701L).range(1, 65535).doc("this node's Hazelcast member port"));
    add(key(CLUSTER_BUS_PORT, Type.INT).def(0L).range(0, 65535)
        .doc("this node's clustered event-bus port (0 = any free port)"));
    add(key(SCHED_PRIORITY, Type.INT).def(50L).range(0, 100).doc("priority of a job submitted without one"));
    add(key(SCHED_TIMEOUT, Type.INT).def(3600L).range(0, 7 * 24 * 3600)
        .doc("run-time limit of a job submitted without timeout_s (0 = none)"));
    add(key(SCHED_ATTEMPTS, Type.INT).def(3L).range(1, 20).doc("attempts for retryable failures (worker lost)"));
    add(key(SCHED_MAX_QUEUE, Type.INT).def(86_400L).range(1, 30 * 24 * 3600)
        .doc("a job waiting longer is abandoned (per job: max_queue_seconds)"));
    add(key(SCHED_HALF_LIFE, Type.INT).def(300L).range(0, 7 * 24 * 3600)
        .doc("half-life of fair-share usage memory in seconds (0 = plain weighted DRF)"));
    add(key(SCHED_TICK, Type.INT).def(500L).range(10, 60_000)
        .doc("ms between scheduler ticks (retries, abandonment, SLA checks)"));
    add(key(SCHED_INFLIGHT, Type.INT).def(64L).range(1, 10_000).doc("placements in flight at once"));
    add(key(SCHED_BACKOFF, Type.INT).def(60L).range(1, 3600).doc("longest retry backoff in seconds"));
    add(key(SCHED_JOB_RETENTION, Type.INT).def(0L).range(0, 3650)
        .doc("days a finished job (row, events, output) is kept after it ended (0 = forever)"));
    add(key(TENANCY_ENABLED, Type.BOOL).def(true).env("HODEI_MULTI_TENANCY_ENABLED").doc("multi-tenancy"));
    add(key(QUOTA_CPU, Type.INT).def(4000L).range(0, 10_000_000).env("HODEI_DEFAULT_TENANT_QUOTA_CPU")
        .doc("default CPU quota of a new tenant, millicores"));
    add(key(QUOTA_MEMORY, Type.INT).def(8192L).range(0, 100_000_000).env("HODEI_DEFAULT_TENANT_QUOTA_MEMORY")
        .doc("default memory quota of a new tenant, MB"));
    add(key(QUOTA_CONCURRENT, Type.INT).def(10L).range(0, 1_000_000)
        .env("HODEI_DEFAULT_TENANT_QUOTA_MAX_CONCURRENT_JOBS").doc("default running-job cap of a new tenant"));
    add(key(QUOTA_QUEUED, Type.INT).def(1000L).range(0, 10_000_000)
        .env("HODEI_DEFAULT_TENANT_QUOTA_MAX_QUEUED_JOBS").doc("default queued-job cap of a new tenant"));
    add(key(BURST_ENABLED, Type.BOOL).def(true).env("HODEI_BURST_CAPACITY_ENABLED")
        .doc("time-boxed quota overage"));
    add(key(BURST_MAX_OVERAGE, Type.INT).def(150L).range(100, 1000).env("HODEI_BURST_MAX_OVERAGE")
        .doc("largest burst, percent of quota"));
    add(key(BURST_DURATION, Type.INT).def(60L).range(1, 10_080).env("HODEI_BURST_DURATION_MINUTES").doc("default burst length, minutes"));
    add(key(COST_ENABLED, Type.BOOL).def(true).env("HODEI_COST_TRACKING_ENABLED")
        .doc("cost tracking (false: nothing is attributed and the cost endpoints answer 503)"));
    add(key(COST_BY_TENANT, Type.BOOL).def(true)
        .doc("per-tenant cost view (false: group_by=tenant is 422 and no tenant cost metrics)"));
    add(key(COST_BY_JOB, Type.BOOL).def(true).doc("per-job cost view (false: group_by=job is 422)"));
    add(key(COST_RETENTION, Type.INT).def(90L).range(1, 3650).env("HODEI_COST_RETENTION_DAYS")
        .doc("days cost records, burst impact rows and stored reports are kept; also the longest POST report span"));
    add(key(COST_SWEEP_INTERVAL, Type.INT).def(30L).range(1, 3600)
        .doc("seconds between catch-up sweeps of the cost ledger (job.finished events also trigger one)"));
    add(key(COST_MAX_REPORT_DAYS, Type.INT).def(31L).range(1, 3650)
        .doc("longest period of a synchronous GET cost report or breakdown, in days (longer: POST a report)"));
    add(key(METRICS_ENABLED, Type.BOOL).def(true).env("METRICS_ENABLED")
        .doc("pool metrics collection"));
    add(key(METRICS_INTERVAL, Type.INT).def(5L).range(1, 3600)
        .env("HODEI_METRICS_COLLECTION_INTERVAL", "METRICS_COLLECTION_INTERVAL")
        .doc("seconds between collector runs"));
    add(key(METRICS_RETENTION, Type.INT).def(30L).range(1, 3650).env("METRICS_RETENTION_DAYS")
        .doc("days 1-hour rollups (the longest history) are kept"));
    add(key(METRICS_MAX_WORKER_SERIES, Type.INT).def(2000L).range(0, 1_000_000)
        .doc("most workers with their own hodei_cpu_usage_percent/hodei_memory_usage_mb series"));
    add(key(METRICS_HISTORY, Type.BOOL).def(true).doc("store samples in PostgreSQL with 1m/5m/1h rollups"));
    add(key(METRICS_ROLLUP_INTERVAL, Type.INT).def(60L).range(1, 3600)
        .doc("seconds between rollup runs (the open bucket is refined on each run)"));
    add(key(METRICS_RAW_RETENTION, Type.INT).def(24L).range(1, 24 * 90).doc("hours raw samples are kept"));
    add(key(METRICS_1M_RETENTION, Type.INT).def(3L).range(1, 3650).doc("days 1-minute rollups are kept"));
    add(key(METRICS_5M_RETENTION, Type.INT).def(14L).range(1, 3650).doc("days 5-minute rollups are kept"));
    add(key(PROMETHEUS_ENABLED, Type.BOOL).def(true).env("HODEI_PROMETHEUS_ENABLED")
        .doc("serve Prometheus metrics"));
    add(key(PROMETHEUS_PORT, Type.INT).def(9091L).range(-1, 65535).env("HODEI_PROMETHEUS_PORT")
        .doc("extra scrape-only listener (-1 = none; metrics stay on server.port)"));
    add(key(PROMETHEUS_PATH, Type.STRING).def("/metrics").doc("scrape path on the extra listener"));
    add(key(GRAFANA_ENABLED, Type.BOOL).def(true).env("HODEI_GRAFANA_ENABLED")
        .doc("install the shipped Grafana dashboards into dashboards_dir at start"));
    add(key(GRAFANA_DIR, Type.STRING).def("/etc/hodei/dashboards")
        .doc("where the shipped dashboards are written at start (skipped with a warning when not writable)"));
    add(key(ALERTING_ENABLED, Type.BOOL).def(true).env("HODEI_ALERTING_ENABLED")
        .doc("install the shipped Prometheus alert rules into prometheus_alerts_dir at start"));
    add(key(ALERTS_DIR, Type.STRING).def("/etc/hodei/alerts")
        .doc("where the shipped alert rules are written at start (skipped with a warning when not writable)"));
    add(key(ALERTMANAGER_URL, Type.STRING).def(null).env("HODEI_ALERTMANAGER_URL")
        .doc("Alertmanager base URL read by GET /api/v1/observability/alerts (unset = not configured)"));
    add(key(TRACING_ENABLED, Type.BOOL).def(false).env("HODEI_TRACING_ENABLED")
        .doc("OpenTelemetry server spans (REST, gRPC) and job lifecycle spans"));
    add(key(TRACING_OTLP_ENDPOINT, Type.STRING).def(null).env("OTEL_EXPORTER_OTLP_ENDPOINT")
        .doc("OTLP/HTTP collector base URL, e.g. http://localhost:4318 (unset = spans are not exported)"));
    add(key(TRACING_SAMPLE_PERCENT, Type.INT).def(100L).range(0, 100)
        .doc("percent of new traces recorded; an incoming traceparent's sampled flag wins"));
    add(key(TRACING_MAX_OPEN_JOBS, Type.INT).def(10_000L).range(1, 1_000_000)
        .doc("job lifecycle spans kept open in memory; the oldest is ended beyond it"));
    add(key(LOG_LEVEL, Type.ENUM).def("INFO").allowed("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
        .env("HODEI_LOG_LEVEL").doc("root log level"));
    add(key(BRIDGE_TCP_PORT, Type.INT).def(7000L).range(-1, 65535)
        .doc("TCP event-bus bridge listener (-1 = off; 0 = any free port); the SockJS bridge is always on server.port at /eventbus"));
    add(key(BRIDGE_MAX_BUFFERED, Type.INT).def(1000L).range(1, 1_000_000)
        .doc("events buffered per bridge connection before further events are dropped (3x: the connection is closed)"));
    add(key(SCALING_INTERVAL, Type.INT).def(5L).range(1, 3600)
        .doc("seconds between autoscaler evaluations of every dynamic pool"));
  }

  private ConfigSchema() {}

  private static void add(ConfigKey.Builder builder) {
    ConfigKey key = builder.build();
    KEYS.put(key.path(), key);
  }

  public static Map<String, ConfigKey> keys() { return KEYS; }

  public static Optional<ConfigKey> find(String path) { return Optional.ofNullable(KEYS.get(path)); }

  /** True when {@code path} is a prefix of some key (a YAML section such as {@code server}). */
  static boolean isSection(String path) {
    String prefix = path + ".";
    return KEYS.keySet().stream().anyMatch(k -> k.startsWith(prefix));
  }
}
