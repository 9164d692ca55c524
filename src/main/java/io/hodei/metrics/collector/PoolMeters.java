package io.hodei.metrics.collector;

import io.hodei.metrics.GaugeValue;
import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every meter of one pool, registered on first use and removed together when the pool disappears. Gauges read
 * {@link GaugeValue} holders (scrapes run on other threads); everything else is confined to the collector's event loop.
 */
final class PoolMeters {
  static final List<String> WORKER_STATES = List.of("provisioning", "idle", "busy", "terminating", "unhealthy");
  static final List<String> HEALTHS = List.of("healthy", "unhealthy", "unknown");
  static final List<String> BOUNDS = List.of("current", "min", "max", "target");
  static final List<String> JOB_STATES = List.of("succeeded", "failed", "timed_out", "cancelled", "abandoned");
  /** The terminal states POOL_OBSERVABILITY counts as errors (its Failed and Timeout). */
  static final Set<String> ERROR_STATES = Set.of("failed", "timed_out");
  /** The window of the throughput gauges. */
  static final long THROUGHPUT_WINDOW_NANOS = 60_000_000_000L;
  static final String SUCCESS = "success";
  static final String FAILURE = "failure";


  private final MeterRegistry registry;
  private final String pool;
  private final List<Meter> meters = new ArrayList<>();
  private final Map<String, GaugeValue> gauges = new HashMap<>();
  private final Map<String, Counter> counters = new HashMap<>();
  /** By catalog constant (identity: no record hash per event). */
  private final Map<MetricCatalog.Def, LatencyMeters> latencies = new IdentityHashMap<>();
  /** {@code hodei_pool_jobs_total} by state, looked up per finished job without building a key. */
  private final Map<String, Counter> jobsByState = new HashMap<>();
  private final GaugeValue running;
  private final Counter requests;
  private final Counter errors;
  private final WorkerSeries workerSeries;
  /** Collection samples of the last minute: [nanoTime, jobs ended, workers provisioned]. */
  private final java.util.ArrayDeque<long[]> throughput = new java.util.ArrayDeque<>();
  private long jobsEnded;
  private long workersProvisioned;
  /** Live workers seen idle at a collection: since when (the collection's nanoTime). */
  private final Map<String, Long> idleSince = new HashMap<>();
  /** Per live worker with a usage sample: [cpu percent, memory MB], and its two gauges. */
  private final Map<String, GaugeValue[]> workerUsage = new HashMap<>();
  private final Map<String, List<Meter>> workerMeters = new HashMap<>();
  private JsonObject snapshot;
  private PoolHealth.Assessment health;
  private JsonObject memory;
  private long lastEventNanos;

  PoolMeters(MeterRegistry registry, String pool, WorkerSeries workerSeries) {
    this.registry = registry;
    this.pool = pool;
    this.workerSeries = workerSeries;
    this.running = gauge(MetricCatalog.POOL_JOBS_RUNNING, null, null);
    this.requests = counter(MetricCatalog.POOL_REQUESTS, null, null);
    this.errors = counter(MetricCatalog.POOL_ERRORS, null, null);
    for (MetricCatalog.Def def : List.of(MetricCatalog.POOL_LATENCY_AVG, MetricCatalog.POOL_THROUGHPUT_JOBS,
        MetricCatalog.POOL_THROUGHPUT_WORKERS, MetricCatalog.POOL_CPU_USAGE, MetricCatalog.POOL_MEMORY_USAGE)) {
      gauge(def, null, null);
    }
    // a pool's series whose labels are fixed sets exist from its first sample on, at 0
    JOB_STATES.forEach(state -> jobsByState.put(state, counter(MetricCatalog.POOL_JOBS, MetricCatalog.STATE, state)));
    for (boolean success : new boolean[] {true, false}) {
      counter(MetricCatalog.POOL_PROVISIONING, MetricCatalog.RESULT, result(success));
      counter(MetricCatalog.POOL_TERMINATIONS, MetricCatalog.RESULT, result(success));
    }
    List.of(MetricCatalog.POOL_PROVISIONING_TIME, MetricCatalog.POOL_TERMINATION_TIME, MetricCatalog.POOL_RECOVERY_TIME,
        MetricCatalog.POOL_JOB_DURATION, MetricCatalog.POOL_JOB_QUEUE_WAIT, MetricCatalog.POOL_WORKER_IDLE)
        .forEach(this::latency);
  }

  String pool() { return pool; }

  JsonObject snapshot() { return snapshot; }

  PoolHealth.Assessment health() { return health; }

  long lastEventNanos() { return lastEventNanos; }

  void touched(long nanos) { lastEventNanos = nanos; }

  /**
   * Updates the gauges from one pool of the pool snapshot taken at {@code nanos}; {@code queueDepth} is the number of
   * jobs waiting for the pool (null: unknown).
   */
  void update(JsonObject pool, Long queueDepth, long nanos) {
    this.snapshot = pool;
    this.health = PoolHealth.assess(pool, queueDepth);
    this.memory = memoryOf(pool);
    JsonObject counts = pool.getJsonObject("workers", new JsonObject());
    gauge(MetricCatalog.POOL_SIZE, MetricCatalog.BOUND, "current").set(counts.getLong("total", 0L));
    gauge(MetricCatalog.POOL_SIZE, MetricCatalog.BOUND, "min").set(pool.getInteger("min_size", 0));
    gauge(MetricCatalog.POOL_SIZE, MetricCatalog.BOUND, "max").set(pool.getInteger("max_size", 0));
    gauge(MetricCatalog.POOL_SIZE, MetricCatalog.BOUND, "target").set(pool.getInteger("target_size", 0));
    for (String state : WORKER_STATES) {
      gauge(MetricCatalog.POOL_WORKERS, MetricCatalog.STATE, state).set(counts.getLong(state, 0L));
    }
    Map<String, Long> byHealth = healthCounts(pool.getJsonArray("workers_detail", new JsonArray()));
    for (String h : HEALTHS) gauge(MetricCatalog.POOL_WORKERS_HEALTH, MetricCatalog.HEALTH, h).set(byHealth.get(h));
    gauge(MetricCatalog.POOL_HEALTH_STATUS, null, null).set(health.status().gauge());
    gauge(MetricCatalog.POOL_COST_PER_HOUR, null, null).set(costPerHour());
    gauge(MetricCatalog.POOL_IDLE_RATIO, null, null).set(idleRatio());
    updateWorkers(pool.getJsonArray("workers_detail", new JsonArray()), nanos);
    Double mean = averageJobMillis();
    gauge(MetricCatalog.POOL_LATENCY_AVG, null, null).set(mean == null ? 0.0 : mean);
    updateThroughput(nanos);
  }

  /** Jobs per minute and workers per second over the samples of the last minute (0 with a single sample). */
  private void updateThroughput(long nanos) {
    throughput.addLast(new long[] {nanos, jobsEnded, workersProvisioned});
    while (throughput.size() > 2 && nanos - throughput.peekFirst()[0] > THROUGHPUT_WINDOW_NANOS) {
      throughput.removeFirst();
    }
    long[] first = throughput.peekFirst();
    double seconds = (nanos - first[0]) / 1e9;
    gauge(MetricCatalog.POOL_THROUGHPUT_JOBS, null, null).set(seconds <= 0 ? 0.0 : (jobsEnded - first[1]) * 60 / seconds);
    gauge(MetricCatalog.POOL_THROUGHPUT_WORKERS, null, null)
        .set(seconds <= 0 ? 0.0 : (workersProvisioned - first[2]) / seconds);
  }

  /**
   * The per-worker gauges of the seed (hodei_cpu_usage_percent, hodei_memory_usage_mb): registered for a worker once
   * the pool domain has a usage sample of it, removed when it leaves the snapshot (labels stay bounded by the live
   * workers).
   */
  private void updateWorkers(JsonArray detail, long nanos) {
    Set<String> seen = new HashSet<>();
    Set<String> idle = new HashSet<>();
    double cpu = 0;
    double memory = 0;
    int unseries = 0;
    for (Object o : detail) {
      if (!(o instanceof JsonObject w) || w.getString("id") == null) continue;
      String id = w.getString("id");
      if ("idle".equals(w.getString("state"))) {
        idle.add(id);
        idleSince.putIfAbsent(id, nanos);
      }
      if (w.getValue("cpu_usage_percent") == null || "terminating".equals(w.getString("state"))) continue;
      double workerCpu = w.getDouble("cpu_usage_percent");
      double workerMemory = w.getDouble("memory_usage_mb", 0.0);
      cpu += workerCpu;
      memory += workerMemory;
      GaugeValue[] usage = workerUsage.get(id);
      if (usage == null && workerSeries.take()) usage = workerUsage.computeIfAbsent(id, this::workerGauges);
      if (usage == null) {
        unseries++;
        continue;
      }
      seen.add(id);
      usage[0].set(workerCpu);
      usage[1].set(workerMemory);
    }
    gauge(MetricCatalog.POOL_CPU_USAGE, null, null).set(cpu);
    gauge(MetricCatalog.POOL_MEMORY_USAGE, null, null).set(memory);
    workerSeries.withoutSeries(pool, unseries);
    // an idle period ends when the worker is seen busy (or anything else), or gone
    idleSince.entrySet().removeIf(e -> {
      if (idle.contains(e.getKey())) return false;
      latency(MetricCatalog.POOL_WORKER_IDLE).record((nanos - e.getValue()) / 1_000_000);
      return true;
    });
    workerUsage.keySet().removeIf(id -> {
      if (seen.contains(id)) return false;
      List<Meter> gone = workerMeters.remove(id);
      if (gone != null) gone.forEach(m -> {
        registry.remove(m);
        meters.remove(m);
      });
      workerSeries.release();
      return true;
    });
  }

  private GaugeValue[] workerGauges(String workerId) {
    GaugeValue[] usage = {new GaugeValue(), new GaugeValue()};
    List<Meter> registered = new ArrayList<>(2);
    MetricCatalog.Def[] defs = {MetricCatalog.CPU_USAGE, MetricCatalog.MEMORY_USAGE};
    for (int i = 0; i < defs.length; i++) {
      Meter m = defs[i].gauge(usage[i], GaugeValue::get)
          .tag(MetricCatalog.WORKER_ID, workerId).strongReference(true).register(registry);
      registered.add(m);
      meters.add(m);
    }
    workerMeters.put(workerId, registered);
    return usage;
  }

  double costPerHour() {
    JsonObject counts = snapshot.getJsonObject("workers", new JsonObject());
    return (counts.getLong("idle", 0L) + counts.getLong("busy", 0L)) * price(snapshot);
  }

  double idleRatio() {
    JsonObject counts = snapshot.getJsonObject("workers", new JsonObject());
    long idle = counts.getLong("idle", 0L);
    long busy = counts.getLong("busy", 0L);
    return idle + busy == 0 ? 0.0 : (double) idle / (idle + busy);
  }

  /** The price arrives as a decimal number or string; absent means free. */
  static double price(JsonObject pool) {
    Object price = pool.getValue("price_per_worker_hour");
    if (price instanceof Number n) return n.doubleValue();
    if (price instanceof String s && !s.isBlank()) return Double.parseDouble(s);
    return 0.0;
  }

  /** {@link #memoryOf} of the last snapshot, counted once per collection. */
  JsonObject memory() { return memory; }

  /** Memory of busy workers against memory of every live worker, from {@code memory_mb}. */
  private JsonObject memoryOf(JsonObject snapshot) {
    long used = 0;
    long total = 0;
    for (Object o : snapshot.getJsonArray("workers_detail", new JsonArray())) {
      if (!(o instanceof JsonObject w) || "terminating".equals(w.getString("state"))) continue;
      long mb = w.getLong("memory_mb", 0L);
      total += mb;
      if ("busy".equals(w.getString("state"))) used += mb;
    }
    return new JsonObject().put("used_mb", used).put("total_mb", total)
        .put("percent", total == 0 ? 0.0 : Math.round(used * 1000.0 / total) / 10.0);
  }

  static Map<String, Long> healthCounts(JsonArray workers) {
    Map<String, Long> counts = new LinkedHashMap<>();
    HEALTHS.forEach(h -> counts.put(h, 0L));
    for (Object o : workers) {
      if (!(o instanceof JsonObject w)) continue;
      String h = w.getString("health");
      counts.merge(HEALTHS.contains(h) ? h : "unknown", 1L, Long::sum);
    }
    return counts;
  }

  // ------------------------------------------------------------------ events

  void provisioned(boolean success) {
    counter(MetricCatalog.POOL_PROVISIONING, MetricCatalog.RESULT, result(success)).increment();
    if (success) workersProvisioned++;
  }

  void terminated(boolean success) { counter(MetricCatalog.POOL_TERMINATIONS, MetricCatalog.RESULT, result(success)).increment(); }

  LatencyMeters latency(MetricCatalog.Def def) {
    return latencies.computeIfAbsent(def, d -> {
      LatencyMeters meter = new LatencyMeters(registry, d, pool);
      meters.add(meter.timer());
      return meter;
    });
  }

  void jobStarted() { running.set(running.get() + 1); }

  void jobEnded(String state, boolean wasRunning) {
    Counter jobs = jobsByState.get(state);
    if (jobs == null) {
      jobs = counter(MetricCatalog.POOL_JOBS, MetricCatalog.STATE, state);
      jobsByState.put(state, jobs);
    }
    jobs.increment();
    requests.increment();
    if (ERROR_STATES.contains(state)) errors.increment();
    jobsEnded++;
    if (wasRunning) running.set(Math.max(0, running.get() - 1));
  }

  // ------------------------------------------------------------------ JSON

  /** The pool's current metrics for {@code GET /api/v1/pools/{id}/metrics}. */
  JsonObject toJson() {
    JsonObject counts = snapshot.getJsonObject("workers", new JsonObject());
    JsonObject byState = new JsonObject();
    WORKER_STATES.forEach(s -> byState.put(s, counts.getLong(s, 0L)));
    JsonObject byHealth = new JsonObject();
    healthCounts(snapshot.getJsonArray("workers_detail", new JsonArray())).forEach(byHealth::put);
    JsonObject jobs = new JsonObject();
    JOB_STATES.forEach(s -> jobs.put(s, count(MetricCatalog.POOL_JOBS, s)));
    LatencyMeters recovery = latency(MetricCatalog.POOL_RECOVERY_TIME);
    return new JsonObject()
        .put("pool", pool)
        .put("state", snapshot.getString("state"))
        .put("kind", snapshot.getString("kind"))
        .put("provider", snapshot.getString("provider"))
        .put("size", new JsonObject().put("current", counts.getLong("total", 0L))
            .put("min", snapshot.getInteger("min_size")).put("max", snapshot.getInteger("max_size"))
            .put("target", snapshot.getInteger("target_size")))
        .put("workers", new JsonObject().put("by_state", byState).put("by_health", byHealth)
            .put("total", counts.getLong("total", 0L)))
        .put("health", new JsonObject().put("status", health.status().wire())
            .put("reasons", new JsonArray(health.reasons())))
        .put("provisioning", outcome(MetricCatalog.POOL_PROVISIONING, MetricCatalog.POOL_PROVISIONING_TIME))
        .put("termination", outcome(MetricCatalog.POOL_TERMINATIONS, MetricCatalog.POOL_TERMINATION_TIME))
        .put("recovery", new JsonObject().put("latency", recovery.toJson()).put("mttr_ms", recovery.meanMillis()))
        .put("jobs", new JsonObject().put("by_state", jobs).put("running", (long) running.get())
            .put("duration", latency(MetricCatalog.POOL_JOB_DURATION).toJson())
            .put("queue_wait", latency(MetricCatalog.POOL_JOB_QUEUE_WAIT).toJson()))
        .put("cost_per_hour", costPerHour())
        .put("price_per_worker_hour", price(snapshot))
        .put("idle_workers_ratio", idleRatio())
        .put("idle_time", latency(MetricCatalog.POOL_WORKER_IDLE).toJson())
        .put("requests", (long) requests.count()).put("errors", (long) errors.count())
        .put("throughput", new JsonObject()
            .put("jobs_per_minute", gauge(MetricCatalog.POOL_THROUGHPUT_JOBS, null, null).get())
            .put("workers_per_second", gauge(MetricCatalog.POOL_THROUGHPUT_WORKERS, null, null).get()))
        .put("usage", new JsonObject().put("cpu_percent", gauge(MetricCatalog.POOL_CPU_USAGE, null, null).get())
            .put("memory_mb", gauge(MetricCatalog.POOL_MEMORY_USAGE, null, null).get()))
        .put("memory", memory());
  }

  /** Mean job run time in ms, or null before the first finished job. */
  Double averageJobMillis() {
    return latency(MetricCatalog.POOL_JOB_DURATION).meanMillis();
  }

  private JsonObject outcome(MetricCatalog.Def counter, MetricCatalog.Def latency) {
    double success = count(counter, SUCCESS);
    double failure = count(counter, FAILURE);
    return new JsonObject().put("success", (long) success).put("failure", (long) failure)
        .put("success_ratio", success + failure == 0 ? null : success / (success + failure))
        .put("latency", latency(latency).toJson());
  }

  // ------------------------------------------------------------------ registration

  private static String result(boolean success) { return success ? SUCCESS : FAILURE; }

  private double count(MetricCatalog.Def def, String value) {
    Counter c = counters.get(def.name() + '|' + value);
    return c == null ? 0 : c.count();
  }

  private Counter counter(MetricCatalog.Def def, String tag, String value) {
    return counters.computeIfAbsent(def.name() + '|' + value, k -> {
      Counter.Builder builder = def.counter().tag(MetricCatalog.POOL, pool);
      if (tag != null) builder.tag(tag, value);
      Counter c = builder.register(registry);
      meters.add(c);
      return c;
    });
  }

  private GaugeValue gauge(MetricCatalog.Def def, String tag, String value) {
    return gauges.computeIfAbsent(def.name() + '|' + value, k -> {
      GaugeValue holder = new GaugeValue();
      Gauge.Builder<GaugeValue> builder = def.gauge(holder, GaugeValue::get)
          .tag(MetricCatalog.POOL, pool);
      if (tag != null) builder.tag(tag, value);
      meters.add(builder.strongReference(true).register(registry));
      return holder;
    });
  }

  /** Removes every meter of this pool from the registry, so its series stop being exported. */
  void remove() {
    meters.forEach(registry::remove);
    meters.clear();
    gauges.clear();
    counters.clear();
    jobsByState.clear();
    latencies.clear();
    workerMeters.values().forEach(m -> workerSeries.release());
    workerSeries.withoutSeries(pool, 0);
    workerUsage.clear();
    workerMeters.clear();
  }
}
