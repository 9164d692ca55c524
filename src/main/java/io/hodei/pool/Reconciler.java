package io.hodei.pool;

import io.hodei.common.Ids;
import io.hodei.pool.provider.WorkerProvider;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Moves each pool's workers towards what its state and target size ask for: provisions the deficit (with an
 * exponential back-off after provisioning failures), shrinks the surplus, replaces unhealthy workers of dynamic
 * pools (measuring recovery time), drains and stops. Confined to the pool verticle's event loop.
 */
final class Reconciler {
  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
  private static final long MAX_BACKOFF_MS = 30_000;
  /** How long {@link #reconcileSoon} gathers requests. */
  static final long SOON_MS = 5;
  /** Which live workers a shrinking pool gives up first; busy ones are drained, not killed. */
  private static final List<WorkerState> SHRINK_ORDER = List.of(WorkerState.IDLE, WorkerState.UNHEALTHY,
      WorkerState.PROVISIONING, WorkerState.BUSY);

  /** Moves a pool to another lifecycle state as an operator change would (persisted, published). */
  interface PoolStateChange {
    Future<?> move(Pool pool, String state, String reason);
  }

  private final Map<String, Pool> pools;
  private final Map<String, WorkerProvider> providers;
  private final PoolJournal journal;
  private final PoolSettings settings;
  private final PoolStateChange stateChange;
  /** Unhealthy workers of dynamic pools being replaced: when each failed, to measure recovery time. */
  private final Map<String, Deque<Instant>> pendingRecoveries = new HashMap<>();
  private final Set<String> pendingReconcile = new LinkedHashSet<>();
  private boolean reconciling;
  /** Pools to reconcile at the end of the current burst of worker events (see {@link #reconcileSoon}). */
  private final Set<String> soon = new LinkedHashSet<>();
  private boolean soonScheduled;
  private final Vertx vertx;

  Reconciler(Vertx vertx, Map<String, Pool> pools, Map<String, WorkerProvider> providers, PoolJournal journal,
             PoolSettings settings, PoolStateChange stateChange) {
    this.vertx = vertx;
    this.pools = pools;
    this.providers = providers;
    this.journal = journal;
    this.settings = settings;
    this.stateChange = stateChange;
  }

  void reconcileAll() { List.copyOf(pools.values()).forEach(this::reconcile); }

  /** A deleted pool's pending recoveries are dropped. */
  void forget(String poolId) { pendingRecoveries.remove(poolId); }

  /**
   * Not re-entrant: provider callbacks may complete synchronously and ask for another reconciliation while one
   * runs; such requests are queued and run after the current one, each on fresh state.
   */
  void reconcile(Pool p) {
    if (journal.stopped()) return;
    pendingReconcile.add(p.id);
    if (reconciling) return;
    reconciling = true;
    try {
      while (!pendingReconcile.isEmpty()) {
        String id = pendingReconcile.iterator().next();
        pendingReconcile.remove(id);
        Pool next = pools.get(id);
        if (next != null) reconcileOnce(next);
      }
    } finally {
      reconciling = false;
    }
  }

  /**
   * Reconciles the pool within {@link #SOON_MS}, once for every request made meanwhile. For what one worker's event
   * asks (provisioned, job ended, terminated): a reconciliation walks the pool's workers, and a large pool's workers
   * become ready or end their jobs by the thousand.
   */
  void reconcileSoon(Pool p) {
    soon.add(p.id);
    if (soonScheduled) return;
    soonScheduled = true;
    vertx.setTimer(SOON_MS, id -> {
      soonScheduled = false;
      List<String> ids = List.copyOf(soon);
      soon.clear();
      for (String poolId : ids) {
        Pool next = pools.get(poolId);
        if (next != null) reconcile(next);
      }
    });
  }

  private void reconcileOnce(Pool p) {
    if (PoolLifecycle.DELETING.equals(p.state)) return;
    if (PoolLifecycle.keepsWorkers(p.state)) {
      if (p.kind.equals("dynamic")) replaceUnhealthy(p);
      // one pass with counters: every provisioned worker asks for a reconciliation, and pools hold thousands
      int liveCount = 0;
      int provisioning = 0;
      for (Worker w : p.workers.values()) {
        if (w.live() && !w.draining) liveCount++;
        if (w.state == WorkerState.PROVISIONING) provisioning++;
      }
      int deficit = p.targetSize - liveCount;
      if (deficit > 0 && settings.enabled() && System.currentTimeMillis() >= p.nextProvisionAtMillis) {
        for (int i = 0; i < deficit; i++) {
          Deque<Instant> recoveries = pendingRecoveries.get(p.id);
          provision(p, recoveries == null ? null : recoveries.poll());
        }
      } else if (deficit < 0) {
        shrink(p, p.workers.values().stream().filter(w -> w.live() && !w.draining).toList(), -deficit);
      }
      // provisioning and shrinking change the count (a provider may fail a provisioning at once)
      if (deficit != 0) provisioning = (int) p.count(WorkerState.PROVISIONING);
      if (PoolLifecycle.CREATING.equals(p.state) && provisioning == 0) {
        stateChange.move(p, PoolLifecycle.ACTIVE, "provisioned")
            .onFailure(err -> LOG.warn("could not activate pool", kv("pool", p.id), err));
      }
    } else if (PoolLifecycle.DRAINING.equals(p.state)) {
      for (Worker w : List.copyOf(p.workers.values())) {
        if (w.live() && w.execution == null) terminate(p, w, "pool_draining");
        else if (w.live() && !w.draining) journal.drain(w, "draining");
      }
      if (p.workers.isEmpty()) {
        stateChange.move(p, PoolLifecycle.STOPPED, "drained")
            .onFailure(err -> LOG.warn("could not stop drained pool", kv("pool", p.id), err));
      }
    } else if (PoolLifecycle.STOPPED.equals(p.state)) {
      for (Worker w : List.copyOf(p.workers.values())) terminate(p, w, "pool_stopped");
    }
  }

  private void replaceUnhealthy(Pool p) {
    for (Worker w : List.copyOf(p.workers.values())) {
      if (w.state == WorkerState.UNHEALTHY) {
        pendingRecoveries.computeIfAbsent(p.id, k -> new ArrayDeque<>()).add(w.unhealthySince);
        terminate(p, w, "replacing_unhealthy");
      }
    }
  }

  /** Removes {@code surplus} workers in {@link #SHRINK_ORDER}; busy ones are drained. */
  private void shrink(Pool p, List<Worker> live, int surplus) {
    for (WorkerState state : SHRINK_ORDER) {
      for (Worker w : live) {
        if (surplus == 0) return;
        if (state != w.state || w.draining) continue;
        if (w.execution != null) journal.drain(w, "draining (scale in)");
        else terminate(p, w, "scale_in");
        surplus--;
      }
    }
  }

  private void provision(Pool p, Instant replacesFailureAt) {
    Worker w = new Worker();
    w.id = Ids.generate("w-");
    w.poolId = p.id;
    w.state = WorkerState.PROVISIONING;
    w.health = WorkerHealth.UNKNOWN;
    w.cpuM = p.workerCpuM;
    w.memoryMb = p.workerMemoryMb;
    w.createdAt = Instant.now();
    w.replacesFailureAt = replacesFailureAt;
    p.workers.put(w.id, w);
    journal.inserted(w, replacesFailureAt == null ? "provision" : "provision_replacement");
    long started = System.nanoTime();
    WorkerProvider provider = providers.get(p.provider);
    provider.provision(new WorkerProvider.WorkerSpec(w.id, p.id, p.workerCpuM, p.workerMemoryMb, p.providerConfig))
        .onComplete(ar -> {
          long ms = (System.nanoTime() - started) / 1_000_000;
          if (w.state != WorkerState.PROVISIONING) {
            // terminated while provisioning (scale in, stop): make sure nothing is left behind
            if (ar.succeeded()) provider.terminate(w.id);
            return;
          }
          if (ar.succeeded()) {
            p.provisionFailures = 0;
            w.provisionedInMs = ar.result().provisionedInMs();
            w.startedAt = Instant.now();
            w.lastHeartbeatAt = w.startedAt;
            w.health = WorkerHealth.HEALTHY;
            w.state = WorkerState.IDLE;
            journal.registered();
            Long recovery = w.replacesFailureAt == null ? null
                : Duration.between(w.replacesFailureAt, w.startedAt).toMillis();
            journal.persistEvent(w, WorkerState.PROVISIONING, recovery == null ? "ready" : "replacement_ready",
                recovery == null ? (Long) ms : recovery, null, null, null);
          } else {
            provisioningFailed(p, w, ms, ar.cause());
          }
          reconcileSoon(p);
        });
  }

  private void provisioningFailed(Pool p, Worker w, long ms, Throwable cause) {
    p.provisionFailures++;
    long backoff = Math.min(MAX_BACKOFF_MS, 500L << Math.min(p.provisionFailures, 10));
    p.nextProvisionAtMillis = System.currentTimeMillis() + backoff;
    LOG.warn("worker provisioning failed", kv("pool", p.id), kv("worker_id", w.id),
        kv("retry_in_ms", backoff), kv("reason", cause.getMessage()));
    if (w.replacesFailureAt != null) {
      pendingRecoveries.computeIfAbsent(p.id, k -> new ArrayDeque<>()).addFirst(w.replacesFailureAt);
    }
    p.workers.remove(w.id);
    w.state = WorkerState.TERMINATED;
    journal.persistEvent(w, WorkerState.PROVISIONING, "provisioning_failed", ms, Instant.now(), null,
        "provisioning_failed: " + cause.getMessage());
  }

  /** Terminates a live worker now (its provider resources are released); the pool is reconciled after. */
  void terminate(Pool p, Worker w, String reason) {
    if (!w.live()) return;
    WorkerState from = w.state;
    w.state = WorkerState.TERMINATING;
    w.terminatingSince = Instant.now();
    journal.persist(w, from, reason);
    long started = System.nanoTime();
    if (from == WorkerState.PROVISIONING) {
      finishTermination(p, w, started, null);
      return;
    }
    providers.get(p.provider).terminate(w.id).onComplete(ar -> finishTermination(p, w, started,
        ar.failed() ? "termination_failed: " + ar.cause().getMessage() : null));
  }

  private void finishTermination(Pool p, Worker w, long startedNanos, String failure) {
    long ms = (System.nanoTime() - startedNanos) / 1_000_000;
    p.workers.remove(w.id);
    w.state = WorkerState.TERMINATED;
    journal.persistEvent(w, WorkerState.TERMINATING, failure == null ? "terminated" : "termination_failed", ms,
        Instant.now(), ms, failure);
    reconcileSoon(p);
  }
}
