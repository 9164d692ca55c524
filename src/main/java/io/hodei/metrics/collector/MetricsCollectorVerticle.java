package io.hodei.metrics.collector;

import io.hodei.metrics.GaugeValue;
import io.hodei.metrics.MetricsAddresses;
import io.hodei.metrics.HealthStatus;
import io.hodei.metrics.SelfCost;
import io.hodei.common.MetricCatalog;
import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Role;
import io.hodei.pool.PoolAddresses;
import io.hodei.scheduler.SchedulerAddresses;
import io.hodei.tenant.TenantAddresses;
import io.hodei.metrics.collector.CollectedEvents.JobEnded;
import io.hodei.metrics.collector.CollectedEvents.JobStarted;
import io.hodei.metrics.collector.CollectedEvents.Kept;
import io.hodei.metrics.collector.CollectedEvents.WorkerMoved;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Collects the pool metrics: every {@code metrics.collection_interval_seconds} it asks the pool domain for its
 * in-memory snapshot and sets the gauges; worker and job events feed the counters and histograms as they happen
 * (received through an {@link EventTap}: each event as it is published, kept as {@link CollectedEvents} keeps it,
 * applied in batches within {@link EventTap#BATCH_MS} ms). It keeps the last snapshot so that {@code /health} and the JSON metric APIs answer
 * from memory. With {@code metrics.enabled=false} it only answers those requests (with nothing collected).
 *
 * <p>All state is confined to this verticle's event loop; gauges read thread-safe holders.
 */
public final class MetricsCollectorVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsCollectorVerticle.class);
  /** How long /health waits for the scheduler's queue depths before it answers without them. */
  private static final long QUEUE_STATUS_TIMEOUT_MS = 2_000;

  private final MetricsSettings settings;
  private final MeterRegistry registry;
  private final CollectorStatus status;
  private final SelfCost cost;
  private final Map<String, PoolMeters> pools = new LinkedHashMap<>();
  private final Map<String, TenantMeters> tenants = new HashMap<>();
  /** Jobs started and not finished yet: job id to {pool, tenant}; bounded by the jobs running. */
  private final Map<String, String[]> running = new HashMap<>();
  /** When a worker's provisioning began (nanoTime), for replacements whose event carries the recovery time. */
  private final Map<String, Long> provisioningSince = new HashMap<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private EventTap<Kept> events;
  /** Epoch seconds of the last successful run, read by the heartbeat gauge; NaN until the first one. */
  private final AtomicReference<Double> lastRun = new AtomicReference<>(Double.NaN);
  private Gauge heartbeat;
  private Gauge seriesDropped;
  private final WorkerSeries workerSeries;
  private long timer = -1;
  private boolean collecting;
  private boolean stopped;

  /** @param cost what the metrics subsystem costs (registered here as meters while collection is enabled) */
  public MetricsCollectorVerticle(MetricsSettings settings, MeterRegistry registry, SelfCost cost) {
    this.settings = settings;
    this.registry = registry;
    this.cost = cost;
    this.status = new CollectorStatus(settings);
    this.workerSeries = new WorkerSeries(settings.maxWorkerSeries());
  }

  @Override
  public Future<?> start() {
    consumers.add(Bus.serve(vertx, MetricsAddresses.HEALTH, req -> health()));
    consumers.add(Bus.serve(vertx, MetricsAddresses.POOL, req -> {
      req.caller().requireRole(Role.VIEWER);
      return poolMetrics(req.param("id"));
    }));
    consumers.add(Bus.serve(vertx, MetricsAddresses.COLLECTOR, req -> {
      req.caller().requireRole(Role.VIEWER);
      return Future.succeededFuture(collector());
    }));
    if (settings.enabled()) {
      events = new EventTap<>(vertx, context, CollectedEvents.ADDRESSES, CollectedEvents::keep, this::onEvent, cost)
          .open();
      cost.register(registry);
      consumers.add(vertx.eventBus().<JsonObject>consumer(Events.address(Events.TENANT_CHANGED),
          msg -> onTenantChanged(msg.body())));
      heartbeat = MetricCatalog.COLLECTOR_LAST_RUN.gauge(lastRun, AtomicReference::get).register(registry);
      seriesDropped = MetricCatalog.WORKER_SERIES_DROPPED.gauge(workerSeries.dropped(), GaugeValue::get)
          .strongReference(true).register(registry);
      timer = vertx.setPeriodic(settings.collectionIntervalSeconds() * 1000L, id -> collect());
    } else {
      LOG.info("pool metrics collection is disabled (metrics.enabled=false)");
    }
    List<Future<Void>> registered = consumers.stream().map(MessageConsumer::completion).toList();
    return Future.all(registered).onSuccess(v -> {
      if (settings.enabled()) {
        collect();
        loadTenants(null).onFailure(err -> LOG.warn("tenant series not initialised at start",
            kv("reason", String.valueOf(err.getMessage()))));
      }
    });
  }

  /** Every tenant's series from the start, at 0: the tenants that exist now, page by page. */
  private Future<Void> loadTenants(String cursor) {
    JsonObject query = new JsonObject().put("limit", "500");
    if (cursor != null) query.put("cursor", cursor);
    return Bus.request(vertx, TenantAddresses.LIST, BusRequest.envelope(new JsonObject(), query, new JsonObject(),
        null), Caller.system(), null).compose(page -> {
          if (stopped) return Future.succeededFuture();
          page.getJsonArray("items", new JsonArray()).forEach(t -> tenant(((JsonObject) t).getString("id")));
          String next = page.getString("next_cursor");
          return next == null ? Future.succeededFuture() : loadTenants(next);
        });
  }

  /** A tenant created (its series start at 0) or deleted (its series go). */
  private void onTenantChanged(JsonObject event) {
    String id = event.getString("tenant_id");
    if (stopped || id == null) return;
    if (event.getBoolean("deleted", false)) {
      TenantMeters gone = tenants.remove(id);
      if (gone != null) gone.remove();
    } else {
      tenant(id);
    }
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    if (events != null) events.close();
    List<Future<Void>> unregistered = consumers.stream().map(MessageConsumer::unregister).toList();
    pools.values().forEach(PoolMeters::remove);
    if (heartbeat != null) registry.remove(heartbeat);
    if (seriesDropped != null) registry.remove(seriesDropped);
    tenants.values().forEach(TenantMeters::remove);
    tenants.clear();
    cost.unregister(registry);
    pools.clear();
    return Future.join(unregistered);
  }

  /** One tapped event, on this verticle's loop. */
  private void onEvent(EventTap.Tapped<Kept> tapped) {
    if (stopped) return;
    Kept event = tapped.event();
    if (event instanceof WorkerMoved w) onWorkerState(w, tapped.nanos());
    else if (event instanceof JobStarted j) onJobStarted(j, tapped.nanos());
    else if (event instanceof JobEnded j) onJobFinished(j, tapped.nanos());
  }

  /** Applies the events published so far: before anything answers from, or replaces, what they feed. */
  private void catchUp() {
    if (events != null) events.drain();
  }

  // ---------------------------------------------------------------- collection

  /** One run: request the pool snapshot, then update every pool's gauges; a run still waiting makes this a no-op. */
  void collect() {
    if (collecting) {
      status.skipped();
      return;
    }
    collecting = true;
    long started = System.nanoTime();
    JsonObject envelope = BusRequest.envelope(new JsonObject(), new JsonObject(), new JsonObject(), null);
    Future<JsonObject> snapshot = Bus.request(vertx, PoolAddresses.SNAPSHOT, envelope, Caller.system(), null);
    Future<JsonObject> queues = queueStatus();
    Future.join(snapshot, queues).onComplete(done -> {
      collecting = false;
      if (stopped) return; // a reply after undeploy must not register the meters again
      if (snapshot.succeeded()) {
        catchUp();
        long bytes0 = SelfCost.allocatedNow();
        JsonObject queueStatus = queues.result();
        JsonArray pooled = snapshot.result().getJsonArray("pools", new JsonArray());
        apply(pooled, started, queueStatus == null ? null : queueDepths(queueStatus));
        applyTenants(pooled, queueStatus);
        Instant now = Instant.now();
        status.succeeded(now, System.nanoTime() - started);
        lastRun.set(now.toEpochMilli() / 1000.0);
        // wall time from the request on: the pool domain's snapshot is built for this run too
        cost.add(SelfCost.Part.COLLECT, System.nanoTime() - started, SelfCost.allocatedSince(bytes0));
      } else {
        String reason = Bus.toDomain(snapshot.cause()).getMessage();
        status.failed(Instant.now(), System.nanoTime() - started, reason);
        LOG.warn("metrics collection failed", kv("reason", reason));
      }
    });
  }

  /** The scheduler's queue status now, or null when it does not answer in time (not deployed yet, busy). */
  private Future<JsonObject> queueStatus() {
    JsonObject all = BusRequest.envelope(new JsonObject(), new JsonObject(), new JsonObject(), null);
    return Bus.request(vertx, SchedulerAddresses.QUEUE_STATUS, all, Caller.system(), null)
        .timeout(QUEUE_STATUS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .otherwise(err -> {
          LOG.debug("queue status unknown", kv("reason", String.valueOf(err.getMessage())));
          return null;
        });
  }

  private void apply(JsonArray snapshot, long requestedAt, Map<String, Long> queueDepths) {
    Set<String> seen = new HashSet<>();
    long now = System.nanoTime();
    for (Object o : snapshot) {
      if (!(o instanceof JsonObject pool) || pool.getString("id") == null) continue;
      String id = pool.getString("id");
      seen.add(id);
      meters(id).update(pool, queueDepths == null ? null : queueDepths.getOrDefault(id, 0L), now);
    }
    // A pool missing from the snapshot is gone, unless an event named it after the snapshot was asked for.
    pools.values().removeIf(m -> {
      boolean gone = !seen.contains(m.pool()) && m.lastEventNanos() - requestedAt < 0;
      if (gone) m.remove();
      return gone;
    });
  }

  private PoolMeters meters(String pool) {
    return pools.computeIfAbsent(pool, id -> new PoolMeters(registry, id, workerSeries));
  }

  /** Meters of the pool an event names, marked as named at {@code nanos} (when the event was published). */
  private PoolMeters touched(String pool, long nanos) {
    PoolMeters m = meters(pool);
    m.touched(nanos);
    return m;
  }

  /**
   * Per tenant: the sampled usage of the workers running its jobs (the worker's current job names the tenant through
   * the jobs this collector saw start), and its quota utilisation from the scheduler's queue status (0 for a tenant
   * with no open job; unchanged when the scheduler did not answer).
   */
  private void applyTenants(JsonArray snapshot, JsonObject queueStatus) {
    Map<String, double[]> usage = new HashMap<>();
    for (Object o : snapshot) {
      if (!(o instanceof JsonObject pool)) continue;
      for (Object w : pool.getJsonArray("workers_detail", new JsonArray())) {
        if (!(w instanceof JsonObject worker) || worker.getValue("cpu_usage_percent") == null) continue;
        String job = worker.getString("current_job_id");
        String[] started = job == null ? null : running.get(job);
        if (started == null || started[1] == null) continue;
        double[] sum = usage.computeIfAbsent(started[1], t -> new double[2]);
        sum[0] += worker.getDouble("cpu_usage_percent");
        sum[1] += worker.getDouble("memory_usage_mb", 0.0);
      }
    }
    for (Map.Entry<String, TenantMeters> e : tenants.entrySet()) {
      double[] sum = usage.getOrDefault(e.getKey(), new double[2]);
      e.getValue().usage(sum[0], sum[1]);
    }
    if (queueStatus == null) return;
    Map<String, JsonObject> rows = new HashMap<>();
    for (Object o : queueStatus.getJsonArray("tenants", new JsonArray())) {
      if (o instanceof JsonObject row && row.getString("tenant_id") != null) rows.put(row.getString("tenant_id"), row);
    }
    for (Map.Entry<String, TenantMeters> e : tenants.entrySet()) e.getValue().quota(rows.get(e.getKey()));
  }

  // ---------------------------------------------------------------- events

  private void onWorkerState(WorkerMoved event, long nanos) {
    String pool = event.pool();
    String worker = event.worker();
    if (pool == null || worker == null) return;
    String reason = String.valueOf(event.reason());
    if (reason.equals("provision")) {
      provisioningSince.put(worker, nanos);
      return;
    }
    // empty but while workers are being provisioned: the per-job busy/idle events skip the lookup
    Long since = provisioningSince.isEmpty() ? null : provisioningSince.remove(worker);
    Long ms = event.durationMs();
    switch (reason) {
      case "ready" -> {
        PoolMeters m = touched(pool, nanos);
        m.provisioned(true);
        if (ms != null) m.latency(MetricCatalog.POOL_PROVISIONING_TIME).record(ms);
      }
      case "replacement_ready" -> {
        // duration_ms is the recovery time here; the provisioning time is measured from the provision event
        PoolMeters m = touched(pool, nanos);
        m.provisioned(true);
        if (since != null) {
          m.latency(MetricCatalog.POOL_PROVISIONING_TIME).record((nanos - since) / 1_000_000);
        }
        if (ms != null) m.latency(MetricCatalog.POOL_RECOVERY_TIME).record(ms);
      }
      case "recovered" -> {
        if (ms != null) touched(pool, nanos).latency(MetricCatalog.POOL_RECOVERY_TIME).record(ms);
      }
      case "provisioning_failed" -> touched(pool, nanos).provisioned(false);
      case "terminated" -> {
        PoolMeters m = touched(pool, nanos);
        m.terminated(true);
        if (ms != null) m.latency(MetricCatalog.POOL_TERMINATION_TIME).record(ms);
      }
      case "termination_failed" -> touched(pool, nanos).terminated(false);
      default -> { }
    }
  }

  private void onJobStarted(JobStarted event, long nanos) {
    String job = event.job();
    String pool = event.pool();
    String tenant = event.tenant();
    if (job == null || running.containsKey(job)) return;
    running.put(job, new String[] {pool, tenant});
    if (pool != null) {
      PoolMeters m = touched(pool, nanos);
      m.jobStarted();
      Long wait = event.queueWaitMs();
      if (wait != null) m.latency(MetricCatalog.POOL_JOB_QUEUE_WAIT).record(wait);
    }
    if (tenant != null) tenant(tenant).started();
  }

  private void onJobFinished(JobEnded event, long nanos) {
    String state = event.state();
    if (!PoolMeters.JOB_STATES.contains(state)) {
      LOG.debug("job event with an unknown state ignored", kv("state", state));
      return;
    }
    String job = event.job();
    String[] started = job == null ? null : running.remove(job);
    String pool = event.pool() != null || started == null ? event.pool() : started[0];
    String tenant = event.tenant() != null || started == null ? event.tenant() : started[1];
    if (pool != null) {
      PoolMeters m = touched(pool, nanos);
      m.jobEnded(state, started != null && pool.equals(started[0]));
      Long ms = event.durationMs();
      if (ms != null) m.latency(MetricCatalog.POOL_JOB_DURATION).record(ms);
    } else {
      // abandoned in the queue: counted against every pool it waited for (only pools the collector knows)
      for (String waited : event.waitedFor()) {
        if (pools.containsKey(waited)) touched(waited, nanos).jobEnded(state, false);
      }
    }
    if (tenant != null) tenant(tenant).ended(state, started != null);
  }

  private TenantMeters tenant(String tenant) {
    return tenants.computeIfAbsent(tenant, t -> new TenantMeters(registry, t));
  }

  // ---------------------------------------------------------------- answers

  /**
   * Pool health from the last snapshot, with each pool's queue depth (its waiting jobs) as the scheduler counts them
   * now: the overall status is the worst pool that counts. When the scheduler does not answer in time the depths are
   * null (unknown), not 0.
   */
  Future<JsonObject> health() {
    JsonObject all = BusRequest.envelope(new JsonObject(), new JsonObject(), new JsonObject(), null);
    return Bus.request(vertx, SchedulerAddresses.QUEUE_STATUS, all, Caller.system(), null)
        .timeout(QUEUE_STATUS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(MetricsCollectorVerticle::queueDepths)
        .otherwise(err -> {
          LOG.debug("queue depths unknown in /health", kv("reason", String.valueOf(err.getMessage())));
          return null;
        })
        .map(this::health);
  }

  /** Waiting jobs per pool id from the scheduler's queue status. */
  private static Map<String, Long> queueDepths(JsonObject queueStatus) {
    Map<String, Long> depths = new HashMap<>();
    for (Object o : queueStatus.getJsonArray("pools", new JsonArray())) {
      if (o instanceof JsonObject row) depths.put(row.getString("pool_id"), row.getLong("queued", 0L));
    }
    return depths;
  }

  private JsonObject health(Map<String, Long> queueDepths) {
    catchUp();
    HealthStatus overall = HealthStatus.HEALTHY;
    JsonArray items = new JsonArray();
    long usedMb = 0;
    long totalMb = 0;
    for (PoolMeters m : pools.values()) {
      if (m.snapshot() == null) continue;
      Long depth = queueDepths == null ? null : queueDepths.getOrDefault(m.pool(), 0L);
      PoolHealth.Assessment a = PoolHealth.assess(m.snapshot(), depth, m.health().healthyWorkers());
      JsonObject memory = m.memory();
      usedMb += memory.getLong("used_mb");
      totalMb += memory.getLong("total_mb");
      Double avg = m.averageJobMillis();
      if (a.countsTowardOverall()) overall = overall.worst(a.status());
      JsonObject counts = m.snapshot().getJsonObject("workers", new JsonObject());
      long unhealthy = counts.getLong("unhealthy", 0L);
      items.add(new JsonObject()
          .put("pool", m.pool())
          .put("registry_key", m.pool())
          .put("state", m.snapshot().getString("state"))
          .put("status", a.status().wire())
          .put("reasons", new JsonArray(a.reasons()))
          .put("counts_toward_overall", a.countsTowardOverall())
          .put("workers", new JsonObject().put("total", counts.getLong("total", 0L))
              .put("healthy", a.healthyWorkers())
              .put("busy", counts.getLong("busy", 0L)).put("idle", counts.getLong("idle", 0L))
              .put("unhealthy", unhealthy).put("crashed", unhealthy))
          .put("queue_depth", depth)
          .put("avg_latency_ms", avg)
          .put("avg_job_latency_ms", avg)
          .put("memory", memory));
    }
    return new JsonObject().put("status", overall.wire()).put("models", items).put("pools", items)
        .put("memory", new JsonObject().put("used_mb", usedMb).put("total_mb", totalMb)
            .put("percentage", totalMb == 0 ? 0.0 : Math.round(usedMb * 1000.0 / totalMb) / 10.0))
        .put("timestamp", Instant.now().getEpochSecond())
        .put("collector", status.toJson(pools.size()));
  }

  /**
   * A pool created since the last collection is not sampled yet: if the pool domain knows it, the answer says so
   * (200, {@code collected: false}) rather than claiming the pool does not exist.
   */
  private Future<JsonObject> poolMetrics(String id) {
    if (!settings.enabled()) {
      throw DomainException.unavailable("pool metrics collection is disabled (metrics.enabled=false)");
    }
    catchUp();
    PoolMeters m = pools.get(id);
    if (m == null || m.snapshot() == null) {
      return io.hodei.common.Bus.request(vertx, io.hodei.pool.PoolAddresses.GET,
          io.hodei.common.BusRequest.envelope(new JsonObject().put("id", id), new JsonObject(), new JsonObject(), null),
          io.hodei.common.Caller.system(), null)
          .map(pool -> new JsonObject().put("pool", id).put("collected", false)
              .put("detail", "not sampled yet: the collector runs every " + settings.collectionIntervalSeconds() + " s"));
    }
    return Future.succeededFuture(m.toJson().put("collected", true).put("collected_at", status.lastSuccessAt() == null ? null : status.lastSuccessAt().toString())
        .put("quantiles", "p50/p95/p99: nearest rank over the last " + Reservoir.CAPACITY
            + " samples of each latency; count and mean over every sample"));
  }

  private JsonObject collector() {
    JsonArray metrics = new JsonArray();
    for (MetricCatalog.Def def : MetricCatalog.COLLECTED) {
      metrics.add(new JsonObject().put("name", def.name()).put("type", def.type().name().toLowerCase())
          .put("labels", new JsonArray(def.labels())).put("unit", def.unit()).put("help", def.help()));
    }
    return new JsonObject().put("collector", status.toJson(pools.size())).put("self_cost", cost.toJson())
        .put("metrics", metrics);
  }
}
