package io.hodei.metrics.runtime;

import io.hodei.metrics.MetricsAddresses;
import io.hodei.metrics.SelfCost;
import io.hodei.metrics.GaugeValue;
import io.hodei.metrics.push.PushedMetrics;
import io.hodei.common.MetricCatalog;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.DomainException;
import io.hodei.common.Role;
import io.hodei.tenant.TenantAddresses;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The server's own metrics: samples resources every {@code metrics.collection_interval_seconds} (process CPU and
 * memory, host disk and network I/O from /proc, database pool and transactions) and probes its event loop's delay;
 * answers the performance, resources, application, tenant and push requests of the JSON metric API.
 * State is confined to this verticle's event loop; gauges read volatile holders.
 */
public final class RuntimeMetricsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RuntimeMetricsVerticle.class);
  static final long PROBE_MS = 500;
  static final List<String> PERFORMANCE_SERVICES = List.of(ServiceMeters.REST, ServiceMeters.GRPC,
      ServiceMeters.EVENTBUS, "all");
  static final List<String> RESOURCE_SERVICES = List.of("jvm", "process", "eventloop", "host", "database", "all");
  private static final String PG_STATS = "SELECT xact_commit, xact_rollback FROM pg_stat_database "
      + "WHERE datname = current_database()";
  private static final String DB_POOL_NAME = "hodei-pg";

  private final Pool sql;
  private final MeterRegistry registry;
  private final RuntimeSettings settings;
  private final PushedMetrics pushed;
  private final SelfCost cost;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private final List<Meter> meters = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();
  private final Map<String, GaugeValue> values = new HashMap<>();
  private final long startedNanos = System.nanoTime();
  /** Request counts at the last sample and the per-second rates since the one before. */
  private Map<String, Long> lastCounts = Map.of();
  private Map<String, Double> rates = Map.of();
  /** The previous I/O totals and when they were read, for rates. */
  private Map<String, Double> lastTotals = Map.of();
  private Map<String, Double> ioRates = Map.of();
  private long lastSampleNanos;
  private long lastProbeNanos;
  private double maxLoopDelayMs;
  private boolean sampling;

  public RuntimeMetricsVerticle(Pool sql, MeterRegistry registry, RuntimeSettings settings, SelfCost cost) {
    this.sql = sql;
    this.cost = cost;
    this.registry = registry;
    this.settings = settings;
    this.pushed = new PushedMetrics(registry);
  }

  @Override
  public Future<?> start() {
    serve(MetricsAddresses.PERFORMANCE, this::performance);
    serve(MetricsAddresses.RESOURCES, this::resources);
    serve(MetricsAddresses.APPLICATION, this::application);
    serve(MetricsAddresses.TENANT, this::tenant);
    serve(MetricsAddresses.PUSH, req -> {
      req.caller().requireRole(Role.SUBMITTER);
      return Future.succeededFuture(pushed.push(req.payload()));
    });
    if (settings.enabled()) {
      value(MetricCatalog.DB_POOL_CONNECTIONS, MetricCatalog.STATE, "size").set(settings.dbPoolSize());
      value(MetricCatalog.DB_POOL_CONNECTIONS, MetricCatalog.STATE, "in_use");
      value(MetricCatalog.DB_POOL_CONNECTIONS, MetricCatalog.STATE, "waiting");
      value(MetricCatalog.DB_POOL_WAIT, null, null);
      value(MetricCatalog.EVENT_LOOP_DELAY, null, null);
      value(MetricCatalog.PROCESS_CPU, null, null);
      lastProbeNanos = System.nanoTime();
      timers.add(vertx.setPeriodic(PROBE_MS, id -> cost.run(SelfCost.Part.RUNTIME, this::probe)));
      timers.add(vertx.setPeriodic(settings.sampleIntervalSeconds() * 1000L,
          id -> cost.run(SelfCost.Part.RUNTIME, this::sample)));
    }
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).onSuccess(v -> {
      if (settings.enabled()) cost.run(SelfCost.Part.RUNTIME, this::sample);
    });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    meters.forEach(registry::remove);
    pushed.removeAll();
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList());
  }

  private void serve(String address, Function<BusRequest, Future<JsonObject>> handler) {
    consumers.add(Bus.serve(vertx, address, handler));
  }

  // ---------------------------------------------------------------- sampling

  /** How late the probe timer fires: the delay of this verticle's event loop. */
  private void probe() {
    long now = System.nanoTime();
    double lateMs = Math.max(0, (now - lastProbeNanos) / 1e6 - PROBE_MS);
    lastProbeNanos = now;
    maxLoopDelayMs = Math.max(maxLoopDelayMs, lateMs);
    values.get(key(MetricCatalog.EVENT_LOOP_DELAY, null)).set(lateMs / 1000.0);
  }

  /** One sample: request rates, the database pool and transactions, and (off the event loop) OS figures. */
  void sample() {
    if (sampling) return;
    sampling = true;
    long now = System.nanoTime();
    double seconds = lastSampleNanos == 0 ? 0 : (now - lastSampleNanos) / 1e9;
    lastSampleNanos = now;
    Map<String, Long> counts = RuntimeReports.requestCounts(registry);
    if (seconds > 0) {
      Map<String, Double> r = new HashMap<>();
      counts.forEach((k, v) -> r.put(k, Math.max(0, v - lastCounts.getOrDefault(k, 0L)) / seconds));
      rates = r;
    }
    lastCounts = counts;
    samplePool();
    Future<Void> db = cost.timed(SelfCost.Part.RUNTIME, sql.query(PG_STATS).execute()).map(rows -> {
      for (Row row : rows) {
        counter(MetricCatalog.DB_TRANSACTIONS, MetricCatalog.RESULT, "commit").set(row.getLong("xact_commit"));
        counter(MetricCatalog.DB_TRANSACTIONS, MetricCatalog.RESULT, "rollback").set(row.getLong("xact_rollback"));
      }
      return (Void) null;
    }).recover(err -> {
      LOG.debug("pg_stat_database not read", kv("reason", err.getMessage()));
      return Future.succeededFuture();
    });
    Future<Map<String, Double>> os = vertx.executeBlocking(() -> {
      long cpu0 = SelfCost.cpuNow();
      long bytes0 = SelfCost.allocatedNow();
      try {
        Map<String, Double> figures = readOs();
        readDiskSpace(settings.diskPath(), figures);
        return figures;
      } finally {
        cost.since(SelfCost.Part.RUNTIME, cpu0, bytes0);
      }
    }, false);
    Future.join(db, os).onComplete(ar -> cost.run(SelfCost.Part.RUNTIME, () -> {
      sampling = false;
      if (os.succeeded()) applyOs(os.result(), seconds);
      else LOG.debug("OS figures not read", kv("reason", String.valueOf(os.cause())));
    }));
  }

  private void samplePool() {
    Double inUse = null;
    Double waiting = null;
    Double waitMs = null;
    for (Meter m : registry.getMeters()) {
      if (!DB_POOL_NAME.equals(m.getId().getTag("pool_name"))) continue;
      String name = m.getId().getName().replace('.', '_');
      if (name.equals("vertx_pool_in_use")) inUse = RuntimeReports.value(m);
      else if (name.equals("vertx_pool_queue_pending")) waiting = RuntimeReports.value(m);
      else if (name.equals("vertx_pool_queue_time") && m instanceof Timer t && t.count() > 0) {
        waitMs = t.mean(TimeUnit.MILLISECONDS);
      }
    }
    if (inUse != null) value(MetricCatalog.DB_POOL_CONNECTIONS, MetricCatalog.STATE, "in_use").set(inUse);
    if (waiting != null) value(MetricCatalog.DB_POOL_CONNECTIONS, MetricCatalog.STATE, "waiting").set(waiting);
    if (waitMs != null) value(MetricCatalog.DB_POOL_WAIT, null, null).set(waitMs / 1000.0);
  }

  /** Blocking: /proc files and the OS MXBean. Keys: disk_read, disk_write, net_rx, net_tx, cpu, rss, ... */
  private static Map<String, Double> readOs() throws Exception {
    Map<String, Double> out = new HashMap<>();
    if (Files.isReadable(Path.of(HostStats.DISKSTATS))) {
      long[] disk = HostStats.disk(Files.readString(Path.of(HostStats.DISKSTATS)));
      out.put("disk_read", (double) disk[0]);
      out.put("disk_write", (double) disk[1]);
    }
    if (Files.isReadable(Path.of(HostStats.NET_DEV))) {
      long[] net = HostStats.network(Files.readString(Path.of(HostStats.NET_DEV)));
      out.put("net_rx", (double) net[0]);
      out.put("net_tx", (double) net[1]);
    }
    Path status = Path.of("/proc/self/status");
    if (Files.isReadable(status)) {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          out.put("rss", Double.parseDouble(line.replaceAll("[^0-9]", "")) * 1024);
        }
      }
    }
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      out.put("cpu", Math.max(0, os.getProcessCpuLoad()));
      out.put("cpu_time", os.getProcessCpuTime() / 1e9);
      out.put("host_cpu", Math.max(0, os.getCpuLoad()));
      out.put("host_memory_total", (double) os.getTotalMemorySize());
      out.put("host_memory_free", (double) os.getFreeMemorySize());
    }
    return out;
  }

  /**
   * Blocking (a statfs): space of the file system holding {@code path}, or of the nearest existing parent (the data
   * directory may not exist yet). Keys disk_total, disk_free.
   */
  static void readDiskSpace(String path, Map<String, Double> out) {
    java.io.File dir = new java.io.File(path == null || path.isBlank() ? "." : path).getAbsoluteFile();
    while (dir != null && !dir.exists()) dir = dir.getParentFile();
    if (dir == null) return;
    long total = dir.getTotalSpace();
    if (total <= 0) return;
    out.put("disk_total", (double) total);
    out.put("disk_free", (double) dir.getUsableSpace());
  }

  private void applyOs(Map<String, Double> os, double seconds) {
    if (os.containsKey("disk_total")) {
      value(MetricCatalog.HOST_DISK_SPACE, MetricCatalog.STATE, "total").set(os.get("disk_total"));
      value(MetricCatalog.HOST_DISK_SPACE, MetricCatalog.STATE, "free").set(os.get("disk_free"));
      value(MetricCatalog.HOST_DISK_SPACE, MetricCatalog.STATE, "used").set(os.get("disk_total") - os.get("disk_free"));
    }
    if (os.containsKey("cpu")) value(MetricCatalog.PROCESS_CPU, null, null).set(os.get("cpu"));
    if (os.containsKey("disk_read")) {
      counter(MetricCatalog.HOST_DISK_IO, MetricCatalog.DIRECTION, "read").set(os.get("disk_read"));
      counter(MetricCatalog.HOST_DISK_IO, MetricCatalog.DIRECTION, "write").set(os.get("disk_write"));
    }
    if (os.containsKey("net_rx")) {
      counter(MetricCatalog.HOST_NETWORK_IO, MetricCatalog.DIRECTION, "receive").set(os.get("net_rx"));
      counter(MetricCatalog.HOST_NETWORK_IO, MetricCatalog.DIRECTION, "transmit").set(os.get("net_tx"));
    }
    if (seconds > 0) {
      Map<String, Double> r = new HashMap<>();
      for (String k : List.of("disk_read", "disk_write", "net_rx", "net_tx")) {
        if (os.containsKey(k) && lastTotals.containsKey(k)) {
          r.put(k, Math.max(0, os.get(k) - lastTotals.get(k)) / seconds);
        }
      }
      ioRates = r;
    }
    lastTotals = os;
  }

  private static String key(MetricCatalog.Def def, String value) {
    return value == null ? def.name() : def.name() + '|' + value;
  }

  /** The holder behind a gauge of the catalog (registered on first use). */
  private GaugeValue value(MetricCatalog.Def def, String tag, String tagValue) {
    return values.computeIfAbsent(key(def, tagValue), k -> {
      GaugeValue holder = new GaugeValue();
      Gauge.Builder<GaugeValue> b = def.gauge(holder, GaugeValue::get).strongReference(true);
      if (tag != null) b.tag(tag, tagValue);
      meters.add(b.register(registry));
      return holder;
    });
  }

  /** The holder behind a counter of the catalog whose total is read elsewhere (PostgreSQL, /proc). */
  private GaugeValue counter(MetricCatalog.Def def, String tag, String tagValue) {
    return values.computeIfAbsent(key(def, tagValue), k -> {
      GaugeValue holder = new GaugeValue();
      meters.add(def.functionCounter(holder, GaugeValue::get)
          .tag(tag, tagValue).register(registry));
      return holder;
    });
  }

  private Double current(MetricCatalog.Def def, String tagValue) {
    GaugeValue v = values.get(key(def, tagValue));
    return v == null ? null : v.get();
  }

  // ---------------------------------------------------------------- answers

  private static String oneOf(BusRequest req, String param, List<String> allowed, String what) {
    String value = req.param(param);
    if (!allowed.contains(value)) {
      throw new DomainException(404, "Not Found", "unknown " + what + " '" + value + "'; one of "
          + String.join(", ", allowed));
    }
    return value;
  }

  private Future<JsonObject> performance(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    String service = oneOf(req, "service", PERFORMANCE_SERVICES, "service");
    List<String> services = service.equals("all") ? ServiceMeters.SERVICES : List.of(service);
    return Future.succeededFuture(new JsonObject().put("service", service)
        .put("uptime_seconds", (System.nanoTime() - startedNanos) / 1e9)
        .put("rate_window_seconds", settings.sampleIntervalSeconds())
        .put("quantiles", "p50/p95/p99 interpolated in the buckets of hodei_service_request_duration_seconds "
            + "(since start), as histogram_quantile does")
        .put("services", RuntimeReports.performance(registry, services, rates)));
  }

  private Future<JsonObject> resources(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    String service = oneOf(req, "service", RESOURCE_SERVICES, "service");
    JsonObject out = new JsonObject().put("service", service).put("sampled_every_seconds",
        settings.sampleIntervalSeconds());
    boolean all = service.equals("all");
    if (all || service.equals("jvm")) out.put("jvm", jvm());
    if (all || service.equals("process")) {
      out.put("process", new JsonObject().put("cpu_ratio", current(MetricCatalog.PROCESS_CPU, null))
          .put("cpu_time_seconds", lastTotals.get("cpu_time")).put("resident_memory_bytes", lastTotals.get("rss")));
    }
    if (all || service.equals("eventloop")) {
      Double delay = current(MetricCatalog.EVENT_LOOP_DELAY, null);
      out.put("eventloop", new JsonObject().put("delay_ms", delay == null ? null : delay * 1000)
          .put("max_delay_ms", maxLoopDelayMs).put("probe_interval_ms", PROBE_MS));
    }
    if (all || service.equals("host")) out.put("host", host());
    if (all || service.equals("database")) out.put("database", database());
    return Future.succeededFuture(out);
  }

  private static JsonObject jvm() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long collections = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      collections += Math.max(0, gc.getCollectionCount());
      gcMillis += Math.max(0, gc.getCollectionTime());
    }
    return new JsonObject()
        .put("heap_used_bytes", memory.getHeapMemoryUsage().getUsed())
        .put("heap_committed_bytes", memory.getHeapMemoryUsage().getCommitted())
        .put("heap_max_bytes", memory.getHeapMemoryUsage().getMax())
        .put("non_heap_used_bytes", memory.getNonHeapMemoryUsage().getUsed())
        .put("threads", ManagementFactory.getThreadMXBean().getThreadCount())
        .put("gc_collections", collections).put("gc_time_ms", gcMillis)
        .put("uptime_seconds", ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0)
        .put("available_processors", Runtime.getRuntime().availableProcessors());
  }

  private JsonObject host() {
    return new JsonObject()
        .put("cpu_ratio", lastTotals.get("host_cpu"))
        .put("memory_total_bytes", lastTotals.get("host_memory_total"))
        .put("memory_free_bytes", lastTotals.get("host_memory_free"))
        .put("disk", new JsonObject().put("read_bytes", lastTotals.get("disk_read"))
            .put("total_bytes", lastTotals.get("disk_total")).put("free_bytes", lastTotals.get("disk_free"))
            .put("write_bytes", lastTotals.get("disk_write"))
            .put("read_bytes_per_second", ioRates.get("disk_read"))
            .put("write_bytes_per_second", ioRates.get("disk_write")))
        .put("network", new JsonObject().put("receive_bytes", lastTotals.get("net_rx"))
            .put("transmit_bytes", lastTotals.get("net_tx"))
            .put("receive_bytes_per_second", ioRates.get("net_rx"))
            .put("transmit_bytes_per_second", ioRates.get("net_tx")));
  }

  private JsonObject database() {
    JsonObject queries = new JsonObject();
    for (String kind : ServiceMeters.STATEMENT_KINDS) {
      List<Timer> timers = registry.find(MetricCatalog.DB_QUERY_DURATION.meterName())
          .tag(MetricCatalog.KIND, kind).timers().stream().toList();
      if (!timers.isEmpty()) queries.put(kind, HistogramQuantiles.of(timers).toJson());
    }
    Double wait = current(MetricCatalog.DB_POOL_WAIT, null);
    return new JsonObject()
        .put("pool", new JsonObject().put("size", settings.dbPoolSize())
            .put("in_use", current(MetricCatalog.DB_POOL_CONNECTIONS, "in_use"))
            .put("waiting", current(MetricCatalog.DB_POOL_CONNECTIONS, "waiting"))
            .put("wait_mean_ms", wait == null ? null : wait * 1000))
        .put("transactions", new JsonObject().put("commit", current(MetricCatalog.DB_TRANSACTIONS, "commit"))
            .put("rollback", current(MetricCatalog.DB_TRANSACTIONS, "rollback")))
        .put("queries", queries);
  }

  private Future<JsonObject> application(BusRequest req) {
    req.caller().requireRole(Role.VIEWER);
    String type = oneOf(req, "metric_type", ApplicationGroups.types(), "metric_type");
    String tenant = req.caller().isAdmin() ? null : req.caller().tenantId();
    Predicate<Meter> visible = m -> tenant == null || m.getId().getTag(MetricCatalog.TENANT_ID) == null
        || tenant.equals(m.getId().getTag(MetricCatalog.TENANT_ID));
    JsonObject groups = new JsonObject();
    ApplicationGroups.GROUPS.forEach((name, defs) -> {
      if (type.equals(ApplicationGroups.ALL_GROUPS) || type.equals(name)) {
        groups.put(name, RuntimeReports.snapshot(registry, defs, visible));
      }
    });
    return Future.succeededFuture(new JsonObject().put("metric_type", type).put("groups", groups));
  }

  /** 404 for a tenant the caller may not see or that does not exist (the tenant domain decides). */
  private Future<JsonObject> tenant(BusRequest req) {
    String id = req.param("id");
    req.caller().requireTenant(id, Role.VIEWER);
    JsonObject envelope = BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(), new JsonObject(),
        null);
    return Bus.request(vertx, TenantAddresses.GET, envelope, req.caller(), req.traceId())
        .map(t -> RuntimeReports.tenant(registry, id).put("series", RuntimeReports.snapshot(registry,
            ApplicationGroups.GROUPS.get("tenants"), m -> id.equals(m.getId().getTag(MetricCatalog.TENANT_ID)))));
  }
}
