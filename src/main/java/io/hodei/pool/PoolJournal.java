package io.hodei.pool;

import io.hodei.common.Events;
import io.hodei.common.MetricCatalog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Records what happens to pools and workers: persists each worker transition (in order per worker, through the
 * store's group commit), publishes {@code hodei.events.worker.state} and {@code hodei.events.pool.*}, and keeps the
 * worker gauges. After {@link #shutdown()} nothing more is written (restart reconciliation records what was left).
 */
final class PoolJournal {
  private static final Logger LOG = LoggerFactory.getLogger(PoolJournal.class);
  static final long SHUTDOWN_DRAIN_SECONDS = 10;
  /**
   * How long worker transitions are gathered before the worker gauges are counted again: counting walks every worker
   * of every pool, and provisioning or probing a large pool moves thousands of workers in a burst.
   */
  static final long GAUGE_REFRESH_MS = 50;

  private final PoolStore store;
  private final Events events;
  private final Map<String, Pool> pools;
  private final AtomicLong workersTotal = new AtomicLong();
  private final AtomicLong workersHealthy = new AtomicLong();
  private final Counter workersRegistered;
  private final Vertx vertx;
  private boolean stopped;
  private boolean refreshScheduled;
  /** Pools whose heartbeat write is under way. */
  private final Set<String> heartbeatsInFlight = new HashSet<>();

  PoolJournal(Vertx vertx, PoolStore store, Events events, Map<String, Pool> pools, MeterRegistry registry) {
    this.vertx = vertx;
    this.store = store;
    this.events = events;
    this.pools = pools;
    this.workersRegistered = MetricCatalog.WORKERS_REGISTERED.counter().register(registry);
    MetricCatalog.WORKERS_TOTAL.gauge(workersTotal, AtomicLong::get).register(registry);
    MetricCatalog.WORKERS_HEALTHY.gauge(workersHealthy, AtomicLong::get).register(registry);
  }

  /** True once shutdown began: no more reconciliation, probing or writes. */
  boolean stopped() { return stopped; }

  /** A new worker row (provisioning starts; {@code reason} is stored), then its {@code provision} event. */
  void inserted(Worker w, String reason) {
    w.lastWrite = store.insertWorker(w, reason).recover(err -> logWriteFailure(w, err));
    publishWorker(w, null, "provision", null);
    refreshGauges();
  }

  /** A worker the provider no longer knows after a restart, written as terminated. */
  Future<Void> lostOnRestart(Worker w, WorkerState from) {
    return store.updateWorker(w, from, "lost_on_restart", null, Instant.now(), null, "lost_on_restart");
  }

  /** A worker became ready: counts towards {@code hodei_workers_registered_total}. */
  void registered() { workersRegistered.increment(); }

  void persist(Worker w, WorkerState from, String reason) {
    persistEvent(w, from, reason, null, null, null, null);
  }

  /** Marks a busy worker draining: it takes no new job and terminates when its job ends. */
  void drain(Worker w, String reason) {
    w.draining = true;
    persist(w, w.state, reason);
  }

  void persistEvent(Worker w, WorkerState from, String reason, Long durationMs, Instant terminatedAt,
                    Long terminatedInMs, String failure) {
    if (stopped) return;
    // The store's group commit lands a worker's writes in the order they are made.
    w.lastWrite = store.updateWorker(snapshot(w), from, reason, durationMs, terminatedAt, terminatedInMs, failure)
        .recover(err -> logWriteFailure(w, err));
    publishWorker(w, from, reason, durationMs);
    if (durationMs != null) {
      LOG.info("worker {}", reason, kv("pool", w.poolId), kv("worker_id", w.id), kv("state", w.state.wire()),
          kv("duration_ms", durationMs));
    }
    refreshGauges();
  }

  /** A worker took or gave back a job: its row is written and the event published, no worker_event row. */
  void persistAssignment(Worker w, WorkerState from, String reason) {
    if (stopped) return;
    w.lastWrite = store.updateWorkerAssignment(snapshot(w), from, reason).recover(err -> logWriteFailure(w, err));
    publishWorker(w, from, reason, null);
  }

  /**
   * Writes the probe round's heartbeats of a pool, unless the previous round's write for it has not landed yet: a
   * pool of ten thousand workers updates ten thousand rows a round, and rounds queued behind a slow one would only
   * wait on each other's row locks (the next round writes newer times anyway).
   */
  void heartbeats(Pool p, List<String> alive, Instant now) {
    if (alive.isEmpty() || !heartbeatsInFlight.add(p.id)) return;
    store.heartbeats(alive, now).onComplete(ar -> {
      heartbeatsInFlight.remove(p.id);
      if (ar.failed()) LOG.warn("heartbeat write failed", kv("pool", p.id), ar.cause());
    });
  }

  void publishPool(Pool p, String from, String reason) {
    events.publish(Events.POOL_STATE, new JsonObject().put("pool_id", p.id).put("from", from).put("to", p.state)
        .put("reason", reason));
  }

  void publishResized(Pool before, Pool after, String reason) {
    events.publish(Events.POOL_RESIZED, new JsonObject().put("pool_id", after.id).put("reason", reason)
        .put("before", new JsonObject().put("min_size", before.minSize).put("max_size", before.maxSize)
            .put("target_size", before.targetSize))
        .put("after", new JsonObject().put("min_size", after.minSize).put("max_size", after.maxSize)
            .put("target_size", after.targetSize)));
  }

  /** Counts the worker gauges again soon (at most once per {@link #GAUGE_REFRESH_MS}). */
  void refreshGauges() {
    if (refreshScheduled) return;
    refreshScheduled = true;
    vertx.setTimer(GAUGE_REFRESH_MS, id -> {
      refreshScheduled = false;
      refreshGaugesNow();
    });
  }

  void refreshGaugesNow() {
    long total = 0;
    long healthy = 0;
    for (Pool p : pools.values()) {
      for (Worker w : p.workers.values()) {
        if (!w.live()) continue;
        total++;
        if (w.health == WorkerHealth.HEALTHY) healthy++;
      }
    }
    workersTotal.set(total);
    workersHealthy.set(healthy);
  }

  /** Stops writing and waits (bounded) for the writes already queued. */
  Future<Void> shutdown() {
    stopped = true;
    List<Future<Void>> writes = new ArrayList<>();
    pools.values().forEach(p -> p.workers.values().forEach(w -> writes.add(w.lastWrite)));
    // bounded: writes waiting for an unavailable database are given up (the next start reconciles from it)
    return Future.join(writes).transform(x -> store.drain()).timeout(SHUTDOWN_DRAIN_SECONDS, TimeUnit.SECONDS)
        .onFailure(err -> store.close());
  }

  /**
   * {@code duration_ms} is set on timed transitions: reason {@code ready} (provisioning time),
   * {@code replacement_ready} and {@code recovered} (recovery time), {@code terminated} (termination time),
   * {@code provisioning_failed} (time until the failure).
   */
  private void publishWorker(Worker w, WorkerState from, String reason, Long durationMs) {
    events.publish(Events.WORKER_STATE, new JsonObject().put("worker_id", w.id).put("pool_id", w.poolId)
        .put("from", from == null ? null : from.wire()).put("to", w.state.wire()).put("health", w.health.wire())
        .put("reason", reason).put("duration_ms", durationMs));
  }

  private Future<Void> logWriteFailure(Worker w, Throwable err) {
    LOG.error("worker state could not be persisted", kv("worker_id", w.id), kv("pool", w.poolId), err);
    return Future.succeededFuture();
  }

  /** An immutable copy for a queued write: later changes must not leak into an earlier row. */
  private static Worker snapshot(Worker w) {
    Worker s = new Worker();
    s.id = w.id;
    s.poolId = w.poolId;
    s.state = w.state;
    s.health = w.health;
    s.cpuM = w.cpuM;
    s.memoryMb = w.memoryMb;
    s.draining = w.draining;
    s.currentJobId = w.currentJobId;
    s.startedAt = w.startedAt;
    s.lastHeartbeatAt = w.lastHeartbeatAt;
    s.provisionedInMs = w.provisionedInMs;
    s.unhealthySince = w.unhealthySince;
    return s;
  }
}
