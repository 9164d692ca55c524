package io.hodei.pool;

import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Paging;
import io.hodei.pool.provider.WorkerProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Owns the pools and coordinates what happens to them: operator and autoscaler changes (under optimistic locking,
 * persisted before they count) are applied here, and the rest is delegated, each concern to one class:
 * {@link Reconciler} (desired vs actual size), {@link HealthProber} (worker health), {@link JobRunner} (jobs on
 * workers, placed by {@link BestFitPlacement}) and {@link PoolJournal} (worker writes, events, gauges).
 * Confined to the pool verticle's event loop.
 */
final class PoolManager {
  private static final Logger LOG = LoggerFactory.getLogger(PoolManager.class);

  private final PoolStore store;
  private final Map<String, WorkerProvider> providers;
  private final PoolSettings settings;
  private final Map<String, Pool> pools = new LinkedHashMap<>();
  private final PoolJournal journal;
  private final Reconciler reconciler;
  private final HealthProber prober;
  private final JobRunner runner;

  PoolManager(Vertx vertx, PoolStore store, Map<String, WorkerProvider> providers, Events events,
              PoolSettings settings, MeterRegistry registry) {
    this.store = store;
    this.providers = providers;
    this.settings = settings;
    this.journal = new PoolJournal(vertx, store, events, pools, registry);
    this.reconciler = new Reconciler(vertx, pools, providers, journal, settings,
        (pool, state, reason) -> change(pool.id, null, p -> p.state = state, reason));
    this.prober = new HealthProber(pools, providers, journal, reconciler, settings.unhealthyThreshold());
    this.runner = new JobRunner(vertx, events, pools, providers, journal, reconciler);
  }

  Collection<Pool> pools() { return pools.values(); }

  Pool pool(String id) {
    Pool pool = pools.get(id);
    if (pool == null || PoolLifecycle.DELETING.equals(pool.state)) throw DomainException.notFound("pool", id);
    return pool;
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Reloads pools and workers from PostgreSQL. Workers the provider does not take back (a local or simulated worker
   * does not survive the server process; an agent's may) are recorded as terminated and replaced by reconciliation.
   */
  Future<Void> load() {
    return store.loadPools().compose(loaded -> {
      loaded.forEach(p -> pools.put(p.id, p));
      return store.loadLiveWorkers();
    }).compose(workers -> adoptWorkers(workers).map(workers)).compose(workers -> {
      List<Future<Void>> checks = new ArrayList<>();
      for (Worker w : workers) {
        Pool p = pools.get(w.poolId);
        if (p == null) continue;
        p.workers.put(w.id, w);
        WorkerProvider provider = providers.get(p.provider);
        Future<Boolean> alive = provider == null ? Future.succeededFuture(false)
            : provider.reclaim(w.id, p.id, w.currentJobId).otherwise(false);
        checks.add(alive.compose(ok -> {
          if (ok) return Future.succeededFuture();
          p.workers.remove(w.id);
          WorkerState from = w.state;
          w.state = WorkerState.TERMINATED;
          w.currentJobId = null;
          w.currentJobTenantId = null;
          return journal.lostOnRestart(w, from);
        }));
      }
      return Future.all(checks).<Void>mapEmpty();
    }).onSuccess(v -> {
      providers.values().forEach(WorkerProvider::loaded);
      journal.refreshGaugesNow();
      LOG.info("pools loaded", kv("pools", pools.size()),
          kv("workers", pools.values().stream().mapToInt(p -> p.workers.size()).sum()));
    });
  }

  /** Gives each provider the workers PostgreSQL holds for its pools (see {@link WorkerProvider#adoptWorkers}). */
  private Future<Void> adoptWorkers(List<Worker> workers) {
    List<Future<Void>> adoptions = new ArrayList<>();
    for (Pool p : pools.values()) {
      WorkerProvider provider = providers.get(p.provider);
      if (provider == null || PoolLifecycle.DELETING.equals(p.state)) continue;
      // a worker that was still provisioning has no provisioning left to finish it: it is not adopted (lost, replaced)
      List<String> ids = workers.stream().filter(w -> w.poolId.equals(p.id) && w.state != WorkerState.PROVISIONING)
          .map(w -> w.id).toList();
      adoptions.add(provider.adoptWorkers(p.id, p.providerConfig, ids).recover(err -> {
        LOG.warn("provider could not adopt the pool's workers", kv("pool", p.id), kv("reason", err.getMessage()));
        return Future.succeededFuture();
      }));
    }
    return Future.all(adoptions).mapEmpty();
  }

  // ---------------------------------------------------------------- pool changes

  Future<JsonObject> create(Pool pool) {
    if (!settings.enabled()) {
      return Future.failedFuture(DomainException.unavailable("resource pools are disabled (resource_pools.enabled)"));
    }
    if (pools.containsKey(pool.id)) {
      return Future.failedFuture(DomainException.conflict("a pool with id '" + pool.id + "' already exists"));
    }
    if (pools.values().stream().anyMatch(p -> p.name.equalsIgnoreCase(pool.name))) {
      return Future.failedFuture(DomainException.conflict("a pool named '" + pool.name + "' already exists"));
    }
    if (!providers.containsKey(pool.provider)) {
      return Future.failedFuture(DomainException.unprocessable("provider '" + pool.provider + "' is not available"));
    }
    pools.put(pool.id, pool);
    return store.insertPool(pool)
        .onFailure(err -> pools.remove(pool.id))
        .map(v -> {
          journal.publishPool(pool, null, "created");
          reconciler.reconcile(pool);
          return pool.toJson();
        });
  }

  /** Applies {@code change} under optimistic locking and persists; reverts memory if the write fails. */
  Future<JsonObject> change(String id, Long ifMatch, Consumer<Pool> change, String reason) {
    Pool pool = pool(id);
    if (ifMatch != null && ifMatch != pool.version) {
      throw DomainException.preconditionFailed("pool '" + id + "' is at version " + pool.version + ", not " + ifMatch
          + "; fetch it again and retry");
    }
    Pool before = pool.changeableCopy();
    change.accept(pool);
    pool.version++;
    pool.updatedAt = Instant.now();
    return store.updatePool(pool).map(v -> {
      if (!before.state.equals(pool.state)) journal.publishPool(pool, before.state, reason);
      if (before.targetSize != pool.targetSize || before.minSize != pool.minSize || before.maxSize != pool.maxSize) {
        journal.publishResized(before, pool, reason);
      }
      reconciler.reconcile(pool);
      return pool.toJson();
    }).recover(err -> {
      if (pool.version == before.version + 1) pool.restore(before);
      return Future.failedFuture(err);
    });
  }

  Future<JsonObject> lifecycle(String id, Long ifMatch, String action) {
    Pool pool = pool(id);
    if (action.equals("delete")) return delete(id, ifMatch);
    String next = PoolLifecycle.next(pool.state, action);
    if (action.equals("stop")) {
      // Stop is immediate: running jobs are killed (drain is the graceful way).
      pool.workers.values().stream().filter(w -> w.execution != null)
          .forEach(w -> w.execution.kill("pool " + id + " stopped"));
    }
    return change(id, ifMatch, p -> p.state = next, action);
  }

  Future<JsonObject> delete(String id, Long ifMatch) {
    Pool pool = pool(id);
    PoolLifecycle.next(pool.state, "delete");
    if (!pool.workers.isEmpty()) {
      throw DomainException.conflict("pool '" + id + "' still has " + pool.workers.size()
          + " workers; stop or drain it and wait until they are terminated");
    }
    if (ifMatch != null && ifMatch != pool.version) {
      throw DomainException.preconditionFailed("pool '" + id + "' is at version " + pool.version + ", not " + ifMatch);
    }
    String before = pool.state;
    pool.state = PoolLifecycle.DELETING;
    return store.deletePool(id).map(v -> {
      pools.remove(id);
      reconciler.forget(id);
      journal.publishPool(pool, before, "deleted");
      return new JsonObject().put("id", id).put("deleted", true);
    }).recover(err -> {
      pool.state = before;
      return Future.failedFuture(err);
    });
  }

  Future<JsonObject> setStatic(String id, Long ifMatch, int size) {
    Pool pool = pool(id);
    if (!pool.kind.equals("static")) {
      throw DomainException.conflict("pool '" + id + "' is dynamic; set its bounds with PUT /pools/" + id + "/dynamic");
    }
    return change(id, ifMatch, p -> {
      p.minSize = size;
      p.maxSize = size;
      p.targetSize = size;
    }, "static_resize");
  }

  Future<JsonObject> setDynamic(String id, Long ifMatch, int[] bounds) {
    Pool pool = pool(id);
    if (!pool.kind.equals("dynamic")) {
      throw DomainException.conflict("pool '" + id + "' is static; set its size with PUT /pools/" + id + "/static");
    }
    int target = bounds[2] >= 0 ? bounds[2] : Math.max(bounds[0], Math.min(bounds[1], pool.targetSize));
    return change(id, ifMatch, p -> {
      p.minSize = bounds[0];
      p.maxSize = bounds[1];
      p.targetSize = target;
    }, "dynamic_bounds");
  }

  /** The autoscaler moves a dynamic pool's target, kept within [min_size, max_size]. */
  Future<JsonObject> scaleTo(String id, int target, String reason) {
    Pool pool = pool(id);
    if (!pool.kind.equals("dynamic")) throw DomainException.conflict("pool '" + id + "' is static; it does not scale");
    int bounded = Math.max(pool.minSize, Math.min(pool.maxSize, target));
    if (bounded == pool.targetSize) return Future.succeededFuture(pool.toJson());
    return change(id, null, p -> p.targetSize = bounded, "autoscale: " + reason);
  }

  /** Operator adds workers: the target grows by {@code count} (within max for dynamic pools). */
  Future<JsonObject> addWorkers(String id, int count) {
    Pool pool = pool(id);
    int target = pool.targetSize + count;
    if (target > settings.maxWorkersPerPool()) {
      throw DomainException.unprocessable("the pool would have " + target + " workers; the ceiling is "
          + settings.maxWorkersPerPool() + " (resource_pools.max_workers_per_pool)");
    }
    if (pool.kind.equals("dynamic") && target > pool.maxSize) {
      throw DomainException.unprocessable("the pool would have " + target + " workers, above its max_size "
          + pool.maxSize);
    }
    return change(id, null, p -> {
      p.targetSize = target;
      if (p.kind.equals("static")) p.maxSize = Math.max(p.maxSize, target);
    }, "workers_added");
  }

  /** A live worker of a pool, from memory. */
  JsonObject worker(String id, String workerId, Caller viewer) {
    Worker w = pool(id).workers.get(workerId);
    if (w == null) throw DomainException.notFound("worker", workerId);
    return w.toJson(viewer);
  }

  /** Operator removes one worker gracefully: it takes no new job, finishes its current one, then terminates. */
  Future<JsonObject> removeWorker(String id, String workerId) {
    Pool pool = pool(id);
    Worker w = pool.workers.get(workerId);
    if (w == null || !w.live()) throw DomainException.notFound("worker", workerId);
    if (pool.targetSize - 1 < pool.minSize && pool.kind.equals("dynamic")) {
      throw DomainException.conflict("removing a worker would take pool '" + id + "' below its min_size "
          + pool.minSize);
    }
    return change(id, null, p -> {
      p.targetSize--;
      if (p.kind.equals("static")) p.minSize = Math.min(p.minSize, p.targetSize);
      if (w.execution != null) journal.drain(w, "draining");
      else reconciler.terminate(p, w, "removed_by_operator");
    }, "worker_removed").map(json -> w.toJson());
  }

  /** A provider reports a worker gone: it is terminated (not drained) and reconciliation replaces it. */
  Future<JsonObject> workerLost(String id, String workerId, String reason) {
    Pool pool = pools.get(id);
    Worker w = pool == null ? null : pool.workers.get(workerId);
    if (w == null || !w.live()) return Future.succeededFuture(new JsonObject().put("lost", false));
    LOG.warn("worker lost", kv("pool", id), kv("worker_id", workerId), kv("reason", reason));
    // the provider's terminate ends a job still on the worker as worker_lost (the scheduler retries it)
    reconciler.terminate(pool, w, "worker_lost: " + reason);
    return Future.succeededFuture(new JsonObject().put("lost", true));
  }

  /** Chaos hook of the simulated provider: the worker dies now. */
  Future<JsonObject> crash(String id, String workerId) {
    Pool pool = pool(id);
    Worker w = pool.workers.get(workerId);
    if (w == null || !w.live()) throw DomainException.notFound("worker", workerId);
    if (!(providers.get(pool.provider) instanceof io.hodei.pool.provider.SimulatedProvider simulated)) {
      throw DomainException.conflict("only workers of simulated pools can be crashed on purpose");
    }
    simulated.crash(workerId);
    return Future.succeededFuture(w.toJson());
  }

  /**
   * Live workers come from memory (always current); terminated ones from PostgreSQL (the history). Ordered by id,
   * cursor-paged.
   */
  Future<JsonObject> listWorkers(String id, String state, String cursor, int limit, Caller viewer) {
    Pool pool = pool(id);
    if (WorkerState.TERMINATED.wire().equals(state)) {
      // a stored row does not know its job's tenant: only admins see it
      return store.listWorkers(id, state, cursor, limit + 1).map(items -> {
        if (!viewer.isAdmin()) items.forEach(w -> w.putNull("current_job_id"));
        return new Paging(limit, cursor).page(items, "id");
      });
    }
    List<JsonObject> items = pool.workers.values().stream()
        .filter(w -> state == null || state.equals(w.state.wire()))
        .filter(w -> cursor == null || w.id.compareTo(cursor) > 0)
        .sorted(Comparator.comparing(w -> w.id))
        .limit(limit + 1L)
        .map(w -> w.toJson(viewer))
        .toList();
    return Future.succeededFuture(new Paging(limit, cursor).page(items, "id"));
  }

  /** Every pool with its live workers, for the metrics collector. */
  JsonObject snapshot(boolean detail, Caller viewer) {
    JsonArray all = new JsonArray();
    for (Pool p : pools.values()) {
      JsonObject json = p.toJson();
      if (detail) {
        JsonArray workers = new JsonArray();
        p.workers.values().forEach(w -> workers.add(w.toJson(viewer)));
        json.put("workers_detail", workers);
      }
      all.add(json);
    }
    return new JsonObject().put("pools", all).put("at", Instant.now().toString());
  }

  // ---------------------------------------------------------------- delegated

  Future<JsonObject> startJob(JsonObject job, List<String> poolIds) { return runner.startJob(job, poolIds); }

  void jobStarted(String workerId, String jobId, String tenantId) { runner.jobStarted(workerId, jobId, tenantId); }

  Future<JsonObject> killJob(String workerId, String jobId, String reason) {
    return runner.killJob(workerId, jobId, reason);
  }

  String liveLog(String workerId, String jobId) { return runner.liveLog(workerId, jobId); }

  Future<JsonObject> adoptJob(String workerId, String jobId, int attempt) {
    return runner.adoptJob(workerId, jobId, attempt);
  }

  Future<JsonObject> reapOrphan(String provider, long pid, Instant startedAt) {
    return runner.reapOrphan(provider, pid, startedAt);
  }

  void reconcileAll() { reconciler.reconcileAll(); }

  void healthCheck() { prober.probeAll(); }

  /** Stops reconciling and waits for the writes already queued. */
  Future<Void> shutdown() { return journal.shutdown(); }
}
