package io.hodei.app;

import io.hodei.app.config.ConfigSchema;
import io.hodei.app.config.HodeiConfig;
import io.hodei.cost.CostSettings;
import io.hodei.cost.CostVerticle;
import io.hodei.http.HttpSettings;
import io.hodei.http.HttpVerticle;
import io.hodei.metrics.history.HistorySettings;
import io.hodei.metrics.alerts.AlertsVerticle;
import io.hodei.metrics.collector.MetricsCollectorVerticle;
import io.hodei.metrics.history.MetricsHistoryVerticle;
import io.hodei.metrics.collector.MetricsSettings;
import io.hodei.metrics.runtime.RuntimeMetricsVerticle;
import io.hodei.metrics.SelfCost;
import io.hodei.metrics.runtime.RuntimeSettings;
import io.hodei.metrics.runtime.ServiceMeters;
import io.hodei.metrics.runtime.TimingTracer;
import io.vertx.core.tracing.TracingOptions;
import io.hodei.http.bridge.BridgeSettings;
import io.hodei.pool.PoolSettings;
import io.hodei.scaling.ScalingSettings;
import io.hodei.scaling.ScalingVerticle;
import io.hodei.scheduler.SchedulerSettings;
import io.hodei.scheduler.SchedulerVerticle;
import io.hodei.pool.PoolVerticle;
import io.hodei.pool.provider.ProviderFactory;
import io.hodei.pool.provider.WorkerProvider;
import java.util.Map;
import io.hodei.cluster.ClusterSettings;
import io.hodei.cluster.ClusteredVertx;
import io.hodei.cluster.LeaderDuties;
import io.hodei.cluster.Leadership;
import io.hodei.common.EventCodec;
import io.hodei.store.ConnectionSource;
import io.hodei.store.Database;
import io.hodei.store.Fence;
import io.vertx.core.VertxBuilder;
import java.util.function.Supplier;
import io.hodei.store.DatabaseConfig;
import io.hodei.store.GroupCommit;
import io.hodei.tenant.BurstPolicy;
import io.hodei.tenant.QuotaDefaults;
import io.hodei.tenant.TenantVerticle;
import io.hodei.tracing.JobTraceVerticle;
import io.hodei.tracing.Tracing;
import io.hodei.tracing.TracingSettings;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One running Hodei Pools: Vert.x with metrics, the database, and every domain verticle. {@link Main} runs one;
 * tests start one in-process per test class.
 */
public final class HodeiServer {
  private static final Logger LOG = LoggerFactory.getLogger(HodeiServer.class);

  private final HodeiConfig config;
  private Vertx vertx;
  /** The Vert.x instance, once built (a clustered one once it joined the cluster). */
  private final Future<Vertx> vertxReady;
  /** This node's cluster settings; null: a single server. */
  private final ClusterSettings cluster;
  /** The leader's verticles on a cluster node, while it leads. */
  private final List<String> leaderDeployments = new ArrayList<>();
  private final PrometheusMeterRegistry registry;
  private final Tracing tracing;
  private final List<String> deployments = new ArrayList<>();
  private Database database;
  private SelfCost metricsCost;
  private HttpVerticle http;
  private Future<Void> stopped;

  private HodeiServer(HodeiConfig config, SpanExporter exporter) {
    this.config = config;
    TracingSettings tracingSettings = tracingSettings(config, exporter != null);
    this.tracing = exporter == null ? Tracing.create(tracingSettings) : Tracing.exportingTo(exporter, tracingSettings);
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetricsOptions metricsOptions = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        // Bounded labels only: no remote addresses, no event-bus reply addresses.
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_TYPE,
            Label.POOL_NAME, Label.EB_SIDE, Label.EB_FAILURE));
    if (config.getBool(ConfigSchema.CLUSTER_ENABLED) && config.getString(ConfigSchema.DB_URL) == null) {
      throw new IllegalStateException(ConfigSchema.CLUSTER_ENABLED + " needs " + ConfigSchema.DB_URL
          + ": the nodes of a cluster share one external PostgreSQL");
    }
    this.cluster = config.getBool(ConfigSchema.CLUSTER_ENABLED) ? ClusterSettings.of(
        config.getString(ConfigSchema.CLUSTER_MEMBERS), config.getString(ConfigSchema.CLUSTER_HOST),
        config.getInt(ConfigSchema.CLUSTER_PORT), config.getInt(ConfigSchema.CLUSTER_BUS_PORT)) : null;
    VertxOptions options = new VertxOptions().setMetricsOptions(metricsOptions).setTracingOptions(new TracingOptions());
    VertxBuilder builder = Vertx.builder()
        .withMetrics(new MicrometerMetricsFactory(registry))
        // event-bus request and SQL statement timings (hodei_service_*, hodei_db_query_duration_seconds)
        .withTracer(opts -> new TimingTracer(new ServiceMeters(registry)));
    this.vertxReady = cluster == null ? Future.succeededFuture(builder.with(options).build())
        : ClusteredVertx.build(builder, options, cluster);
  }

  /** Starts everything; on failure, stops what was started and fails with a one-line reason. */
  public static Future<HodeiServer> start(HodeiConfig config) { return start(config, null); }

  /**
   * Starts with spans exported synchronously to {@code exporter} (tests pass the SDK's in-memory exporter; tracing
   * is then on whatever {@code observability.tracing.enabled} says); null: as configured.
   */
  public static Future<HodeiServer> start(HodeiConfig config, SpanExporter exporter) {
    HodeiServer server;
    try {
      server = new HodeiServer(config, exporter);
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
    // Not bound to a Vert.x context: after a failed start Vert.x is closed, and a context-bound future would
    // never deliver the failure.
    Promise<HodeiServer> result = Promise.promise();
    server.vertxReady.recover(err -> Future.failedFuture(new IllegalStateException("cluster: " + firstLine(err))))
        .compose(v -> {
          server.vertx = v;
          return server.startAll();
        }).onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(server);
      } else {
        server.stop().onComplete(ignored -> result.fail(ar.cause()));
      }
    });
    return result.future();
  }

  private Future<Void> startAll() {
    DatabaseConfig db = new DatabaseConfig(config.getString(ConfigSchema.DB_URL),
        Path.of(config.getString(ConfigSchema.DB_DATA_DIR)), config.getBool(ConfigSchema.DB_EPHEMERAL),
        config.getInt(ConfigSchema.DB_POOL_SIZE), config.getInt(ConfigSchema.DB_EMBEDDED_PORT),
        config.getBool(ConfigSchema.DB_EMBEDDED_DURABLE));
    return Database.start(vertx, db)
        .recover(err -> Future.failedFuture(new IllegalStateException("database: " + firstLine(err))))
        .compose(started -> {
          database = started;
          EventCodec.ensureRegistered(vertx);
          metricsCost = new SelfCost();
          if (cluster == null) return deployParts(parts(started.writerConnections()), deployments);
          // a cluster node: what every node serves now; the domains once (and while) this node leads
          return deployParts(parts(null).stream().filter(Part::everyNode).toList(), deployments)
              .compose(v -> deploy(new Leadership(started.connectOptions(), cluster.nodeId(), leaderDuties(started),
                  registry)));
        })
        .compose(v -> vertx.executeBlocking(() -> {
          installShippedFiles();
          return null;
        }, false))
        .compose(v -> {
          http = new HttpVerticle(httpSettings(), registry, this::databaseReady, tracing);
          return deploy(http);
        })
        .onSuccess(v -> LOG.info("Hodei Pools is serving",
            kv("rest", "http://localhost:" + http.port() + "/api/v1"),
            kv("openapi", "http://localhost:" + http.port() + "/api/v1/openapi"),
            kv("metrics", "http://localhost:" + http.port() + "/metrics"),
            kv("scrape_port", http.metricsPort()),
            kv("grpc", "localhost:" + http.port()),
            kv("grpc_port", http.grpcPort()),
            kv("eventbus_sockjs", "http://localhost:" + http.port() + "/eventbus"),
            kv("eventbus_tcp_port", http.bridgeTcpPort()),
            kv("health", "http://localhost:" + http.port() + "/health/ready"),
            kv("pool_health", "http://localhost:" + http.port() + "/health"),
            kv("database", database.describe())));
  }

  /**
   * A verticle the server deploys, in start order; {@code everyNode}: deployed on every cluster node (it serves this
   * node, changes no shared state), otherwise only on the leader. Null verticle: not deployed (a feature that is off).
   */
  private record Part(boolean everyNode, Supplier<io.vertx.core.Deployable> verticle) {}

  /**
   * The domain verticles in start order. {@code writers}: the group-commit writers' connections (fenced on a cluster
   * leader); null only to pick the every-node parts.
   */
  private List<Part> parts(ConnectionSource writers) {
    Pool pool = database.pool();
    QuotaDefaults quota = new QuotaDefaults(config.getInt(ConfigSchema.QUOTA_CPU),
        config.getInt(ConfigSchema.QUOTA_MEMORY), config.getInt(ConfigSchema.QUOTA_CONCURRENT),
        config.getInt(ConfigSchema.QUOTA_QUEUED));
    return List.of(
        new Part(false, () -> tracing.enabled() ? new JobTraceVerticle(tracing) : null),
        new Part(false, () -> new TenantVerticle(pool, quota, new BurstPolicy(
            config.getBool(ConfigSchema.BURST_ENABLED), config.getInt(ConfigSchema.BURST_MAX_OVERAGE),
            config.getInt(ConfigSchema.BURST_DURATION)), config.getString(ConfigSchema.ADMIN_TOKEN), registry)),
        new Part(false, () -> new PoolVerticle(pool, writers, poolSettings(), registry, this::providers)),
        new Part(false, () -> new MetricsCollectorVerticle(new MetricsSettings(
            config.getBool(ConfigSchema.METRICS_ENABLED), config.getInt(ConfigSchema.METRICS_INTERVAL),
            config.getInt(ConfigSchema.METRICS_MAX_WORKER_SERIES)), registry, metricsCost)),
        new Part(true, () -> new RuntimeMetricsVerticle(database.metricsPool(), registry, new RuntimeSettings(
            config.getBool(ConfigSchema.METRICS_ENABLED), config.getInt(ConfigSchema.METRICS_INTERVAL),
            config.getInt(ConfigSchema.DB_POOL_SIZE), config.getString(ConfigSchema.DB_DATA_DIR)), metricsCost)),
        new Part(true, () -> new AlertsVerticle(config.getString(ConfigSchema.ALERTMANAGER_URL))),
        new Part(false, () -> new SchedulerVerticle(pool, writers, schedulerSettings(), registry)),
        new Part(false, () -> new MetricsHistoryVerticle(database.metricsPool(), registry, new HistorySettings(
            config.getBool(ConfigSchema.METRICS_ENABLED) && config.getBool(ConfigSchema.METRICS_HISTORY),
            config.getInt(ConfigSchema.METRICS_INTERVAL), config.getInt(ConfigSchema.METRICS_ROLLUP_INTERVAL),
            config.getInt(ConfigSchema.METRICS_RAW_RETENTION),
            config.getInt(ConfigSchema.METRICS_1M_RETENTION), config.getInt(ConfigSchema.METRICS_5M_RETENTION),
            config.getInt(ConfigSchema.METRICS_RETENTION)), metricsCost)),
        new Part(false, () -> new CostVerticle(pool, costSettings(), registry)),
        new Part(false, () -> new ScalingVerticle(pool, new ScalingSettings(
            config.getBool(ConfigSchema.POOLS_AUTO_SCALING), config.getInt(ConfigSchema.SCALING_INTERVAL)),
            registry)));
  }

  /** Deploys {@code parts} one after the other, recording each deployment in {@code into}. */
  private Future<Void> deployParts(List<Part> parts, List<String> into) {
    Future<Void> chain = Future.succeededFuture();
    for (Part part : parts) {
      chain = chain.compose(v -> {
        io.vertx.core.Deployable verticle = part.verticle().get();
        return verticle == null ? Future.succeededFuture() : vertx.deployVerticle(verticle).map(id -> {
          into.add(id);
          return null;
        });
      });
    }
    return chain;
  }

  /** Undeploys {@code ids} in reverse order (failures logged), emptying the list. */
  private Future<Void> undeployAll(List<String> ids) {
    Future<Void> undeploy = Future.succeededFuture();
    List<String> reversed = new ArrayList<>(ids);
    ids.clear();
    java.util.Collections.reverse(reversed);
    for (String id : reversed) {
      undeploy = undeploy.compose(v -> vertx.undeploy(id).recover(err -> {
        LOG.warn("undeploy failed", kv("deployment", id), err);
        return Future.succeededFuture();
      }));
    }
    return undeploy;
  }

  /** On a cluster node: the leader's verticles, with every job and worker write fenced by the leadership epoch. */
  private LeaderDuties leaderDuties(Database started) {
    return new LeaderDuties() {
      // deployed from a context of their own, not the leadership's: top-level deployments like a single server's,
      // undeployed in reverse order by stepDown (as children of the leadership Vert.x would undeploy them at once)
      private final io.vertx.core.Context root = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();

      @Override
      public Future<Void> lead(Fence fence) {
        return onRoot(() -> deployParts(parts(started.writerConnections().fenced(fence)).stream()
            .filter(p -> !p.everyNode()).toList(), leaderDeployments)
            .recover(err -> undeployAll(leaderDeployments).compose(v -> Future.failedFuture(err))));
      }

      @Override
      public Future<Void> stepDown() { return onRoot(() -> undeployAll(leaderDeployments)); }

      private Future<Void> onRoot(Supplier<Future<Void>> action) {
        Promise<Void> done = Promise.promise();
        root.runOnContext(v -> action.get().onComplete(done));
        return done.future();
      }
    };
  }

  /** Blocking: the shipped dashboards and alert rules into their configured directories (never fails start). */
  private void installShippedFiles() {
    if (config.getBool(ConfigSchema.GRAFANA_ENABLED)) {
      ShippedFiles.install(ShippedFiles.DASHBOARDS, Path.of(config.getString(ConfigSchema.GRAFANA_DIR)));
    }
    if (config.getBool(ConfigSchema.ALERTING_ENABLED)) {
      ShippedFiles.install(ShippedFiles.ALERTS, Path.of(config.getString(ConfigSchema.ALERTS_DIR)));
    }
  }

  private static TracingSettings tracingSettings(HodeiConfig config, boolean forced) {
    return new TracingSettings(forced || config.getBool(ConfigSchema.TRACING_ENABLED),
        config.getString(ConfigSchema.TRACING_OTLP_ENDPOINT), config.getInt(ConfigSchema.TRACING_SAMPLE_PERCENT),
        config.getInt(ConfigSchema.TRACING_MAX_OPEN_JOBS));
  }

  private SchedulerSettings schedulerSettings() {
    return new SchedulerSettings(config.getInt(ConfigSchema.SCHED_PRIORITY), config.getInt(ConfigSchema.SCHED_TIMEOUT),
        config.getInt(ConfigSchema.SCHED_ATTEMPTS), config.getInt(ConfigSchema.SCHED_MAX_QUEUE),
        config.getInt(ConfigSchema.SCHED_HALF_LIFE), config.getInt(ConfigSchema.SCHED_TICK),
        config.getInt(ConfigSchema.SCHED_INFLIGHT), config.getInt(ConfigSchema.SCHED_BACKOFF),
        config.getInt(ConfigSchema.SCHED_JOB_RETENTION));
  }

  private CostSettings costSettings() {
    return new CostSettings(config.getBool(ConfigSchema.COST_ENABLED), config.getBool(ConfigSchema.COST_BY_TENANT),
        config.getBool(ConfigSchema.COST_BY_JOB), config.getInt(ConfigSchema.COST_RETENTION),
        config.getInt(ConfigSchema.COST_SWEEP_INTERVAL), config.getInt(ConfigSchema.COST_MAX_REPORT_DAYS));
  }

  private PoolSettings poolSettings() {
    return new PoolSettings(config.getBool(ConfigSchema.POOLS_ENABLED), config.getString(ConfigSchema.POOLS_DEFAULT_TYPE),
        config.getInt(ConfigSchema.POOLS_MAX_WORKERS), config.getInt(ConfigSchema.POOLS_HEALTH_INTERVAL),
        config.getInt(ConfigSchema.POOLS_UNHEALTHY_THRESHOLD), config.getInt(ConfigSchema.POOLS_RECONCILE_INTERVAL),
        config.getList(ConfigSchema.POOLS_LIST));
  }

  /** The worker providers, created on the pool verticle's Vert.x. */
  private Map<String, WorkerProvider> providers(Vertx on) {
    return ProviderFactory.create(new io.hodei.pool.provider.ProviderContext(on, registry,
        Path.of(config.getString(ConfigSchema.POOLS_LOCAL_WORK_DIR)), config.getLong(ConfigSchema.POOLS_SIMULATED_SEED),
        config.getInt(ConfigSchema.AGENTS_RECONNECT_GRACE)));
  }

  private HttpSettings httpSettings() {
    return new HttpSettings(config.getString(ConfigSchema.SERVER_HOST), config.getInt(ConfigSchema.SERVER_PORT),
        config.getInt(ConfigSchema.SERVER_BODY_LIMIT), config.getInt(ConfigSchema.SERVER_SHUTDOWN_TIMEOUT),
        config.getBool(ConfigSchema.METRICS_REQUIRE_TOKEN), config.getInt(ConfigSchema.TOKEN_CACHE_SECONDS),
        config.getBool(ConfigSchema.PROMETHEUS_ENABLED), config.getInt(ConfigSchema.PROMETHEUS_PORT),
        config.getString(ConfigSchema.PROMETHEUS_PATH), config.getInt(ConfigSchema.SERVER_GRPC_PORT),
        new BridgeSettings(config.getString(ConfigSchema.SERVER_HOST), config.getInt(ConfigSchema.BRIDGE_TCP_PORT),
            config.getInt(ConfigSchema.BRIDGE_MAX_BUFFERED)),
        new HttpSettings.Edge(config.getInt(ConfigSchema.SERVER_IDLE_TIMEOUT),
            config.getInt(ConfigSchema.SERVER_HEADER_TIMEOUT), config.getInt(ConfigSchema.SERVER_BODY_TIMEOUT),
            config.getInt(ConfigSchema.SERVER_AUTH_FAILURE_LIMIT),
            config.getInt(ConfigSchema.SERVER_AUTH_FAILURE_WINDOW)), grpcTls());
  }

  /** TLS of the separate gRPC listener: both files or neither. */
  private HttpSettings.GrpcTls grpcTls() {
    String cert = config.getString(ConfigSchema.SERVER_GRPC_TLS_CERT);
    String key = config.getString(ConfigSchema.SERVER_GRPC_TLS_KEY);
    if (cert == null && key == null) return null;
    if (cert == null || key == null) {
      throw new IllegalStateException("set both " + ConfigSchema.SERVER_GRPC_TLS_CERT + " and "
          + ConfigSchema.SERVER_GRPC_TLS_KEY + " (or neither)");
    }
    for (String file : List.of(cert, key)) {
      if (!java.nio.file.Files.isReadable(Path.of(file))) throw new IllegalStateException(file + " is not readable");
    }
    return new HttpSettings.GrpcTls(cert, key);
  }

  private Future<Void> deploy(io.vertx.core.Deployable verticle) {
    return vertx.deployVerticle(verticle).map(id -> {
      deployments.add(id);
      return null;
    });
  }

  /**
   * Ready when the write path works: the database answers and accepts writes (it is not a read-only standby), and
   * no domain's writer is stalled waiting for it to come back.
   */
  private Future<Void> databaseReady() {
    return database.pool().query("SELECT pg_is_in_recovery()").execute()
        .timeout(Database.READY_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .recover(err -> Future.failedFuture(new IllegalStateException("the database does not answer")))
        .compose(rows -> {
          if (rows.iterator().next().getBoolean(0)) {
            return Future.failedFuture(new IllegalStateException("the database is read-only (in recovery)"));
          }
          List<io.vertx.core.json.JsonObject> stalled = GroupCommit.stalledWriters(vertx);
          if (!stalled.isEmpty()) {
            return Future.failedFuture(new IllegalStateException("database writes are waiting to be retried: "
                + stalled.stream().map(w -> w.getString("writer") + " since " + w.getString("since"))
                .collect(java.util.stream.Collectors.joining(", "))));
          }
          return Future.succeededFuture();
        });
  }

  public int httpPort() { return http.port(); }

  public int metricsPort() { return http.metricsPort(); }

  /** The separate gRPC listener's port, or -1 when there is none (gRPC is served on {@link #httpPort()} too). */
  public int grpcPort() { return http.grpcPort(); }

  /** The TCP event-bus bridge's port, or -1 when it is off. */
  public int bridgeTcpPort() { return http.bridgeTcpPort(); }

  public Vertx vertx() { return vertx; }

  public PrometheusMeterRegistry registry() { return registry; }

  public Database database() { return database; }

  public List<String> routeTemplates() { return http.routeTemplates(); }

  /**
   * Drains and stops: the HTTP verticle goes first (stops accepting, finishes in-flight requests), then the domain
   * verticles in reverse order, then Vert.x and the database.
   */
  public synchronized Future<Void> stop() {
    if (stopped == null) stopped = stopOnce();
    return stopped;
  }

  private Future<Void> stopOnce() {
    Promise<Void> done = Promise.promise();
    if (vertx == null) {
      // the cluster could not be joined: nothing was started
      tracing.shutdown();
      registry.close();
      return Future.succeededFuture();
    }
    undeployAll(deployments)
        .compose(v -> database == null ? Future.<Void>succeededFuture() : database.close(vertx))
        .eventually(() -> vertx.close())
        .onComplete(ar -> {
          tracing.shutdown();
          registry.close();
          done.handle(ar);
        });
    return done.future();
  }

  static String firstLine(Throwable err) {
    Throwable root = err;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    String outer = err.getMessage();
    String text = outer != null && !outer.equals(message) && root != err ? outer + " (" + message + ")" : message;
    return text.lines().map(String::trim).filter(l -> !l.isEmpty()).findFirst().orElse(text);
  }
}
