package io.hodei.pool;

import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Paging;
import io.hodei.metrics.MetricCatalog;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Owns pools and workers: keeps each pool at its target size, probes worker health, replaces unhealthy workers of
 * dynamic pools, and starts jobs on the best-fitting idle worker. Confined to the pool verticle's event loop; every
 * transition is persisted (in order per worker) and published as {@code hodei.events.worker.state}.
 */
final class PoolManager {
  private static final Logger LOG = LoggerFactory.getLogger(PoolManager.class);
  private static final long MAX_BACKOFF_MS = 30_000;

  private final Vertx vertx;
  private final PoolStore store;
  private final Map<String, WorkerProvider> providers;
  private final Events events;
  private final PoolSettings settings;
  private final Map<String, Pool> pools = new LinkedHashMap<>();
  /** Unhealthy workers of dynamic pools being replaced: when each failed, to measure recovery time. */
  private final Map<String, Deque<Instant>> pendingRecoveries = new HashMap<>();
  private final java.util.Set<String> pendingReconcile = new java.util.LinkedHashSet<>();
  private boolean reconciling;
  /** Set at shutdown: no more reconciliation or writes (restart reconciliation records what was left). */
  private boolean stopped;
  private final AtomicLong workersTotal = new AtomicLong();
  private final AtomicLong workersHealthy = new AtomicLong();
  private final Counter workersRegistered;

  PoolManager(Vertx vertx, PoolStore store, Map<String, WorkerProvider> providers, Events events,
              PoolSettings settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.store = store;
    this.providers = providers;
    this.events = events;
    this.settings = settings;
    this.workersRegistered = Counter.builder(MetricCatalog.WORKERS_REGISTERED.meterName())
        .description(MetricCatalog.WORKERS_REGISTERED.help()).register(registry);
    Gauge.builder(MetricCatalog.WORKERS_TOTAL.meterName(), workersTotal, AtomicLong::get)
        .description(MetricCatalog.WORKERS_TOTAL.help()).register(registry);
    Gauge.builder(MetricCatalog.WORKERS_HEALTHY.meterName(), workersHealthy, AtomicLong::get)
        .description(MetricCatalog.WORKERS_HEALTHY.help()).register(registry);
  }

  Collection<Pool> pools() { return pools.values(); }

  Pool pool(String id) {
    Pool pool = pools.get(id);
    if (pool == null || PoolLifecycle.DELETING.equals(pool.state)) throw DomainException.notFound("pool", id);
    return pool;
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Reloads pools and workers from PostgreSQL. Workers the provider no longer knows (a local or simulated worker
   * does not survive the server process) are recorded as terminated and replaced by reconciliation.
   */
  Future<Void> load() {
    return store.loadPools().compose(loaded -> {
      loaded.forEach(p -> pools.put(p.id, p));
      return store.loadLiveWorkers();
    }).compose(workers -> {
      List<Future<Void>> checks = new ArrayList<>();
      for (Worker w : workers) {
        Pool p = pools.get(w.poolId);
        if (p == null) continue;
        p.workers.put(w.id, w);
        WorkerProvider provider = providers.get(p.provider);
        Future<Boolean> alive = provider == null ? Future.succeededFuture(false)
            : provider.probe(w.id).otherwise(false);
        checks.add(alive.compose(ok -> {
          if (ok) return Future.succeededFuture();
          p.workers.remove(w.id);
          String from = w.state;
          w.state = WorkerStates.TERMINATED;
          w.currentJobId = null;
          w.currentJobTenantId = null;
          return store.updateWorker(w, from, "lost_on_restart", null, Instant.now(), null, "lost_on_restart");
        }));
      }
      return Future.all(checks).<Void>mapEmpty();
    }).onSuccess(v -> {
      refreshGauges();
      LOG.info("pools loaded", kv("pools", pools.size()),
          kv("workers", pools.values().stream().mapToInt(p -> p.workers.size()).sum()));
    });
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
          publishPool(pool, null, "created");
          reconcile(pool);
          return pool.toJson();
        });
  }

  /** Applies {@code change} under optimistic locking and persists; reverts memory if the write fails. */
  Future<JsonObject> change(String id, Long ifMatch, java.util.function.Consumer<Pool> change, String reason) {
    Pool pool = pool(id);
    if (ifMatch != null && ifMatch != pool.version) {
      throw DomainException.preconditionFailed("pool '" + id + "' is at version " + pool.version + ", not " + ifMatch
          + "; fetch it again and retry");
    }
    Pool before = copy(pool);
    change.accept(pool);
    pool.version++;
    pool.updatedAt = Instant.now();
    return store.updatePool(pool).map(v -> {
      if (!before.state.equals(pool.state)) publishPool(pool, before.state, reason);
      if (before.targetSize != pool.targetSize || before.minSize != pool.minSize || before.maxSize != pool.maxSize) {
        events.publish(Events.POOL_RESIZED, new JsonObject().put("pool_id", pool.id).put("reason", reason)
            .put("before", new JsonObject().put("min_size", before.minSize).put("max_size", before.maxSize)
                .put("target_size", before.targetSize))
            .put("after", new JsonObject().put("min_size", pool.minSize).put("max_size", pool.maxSize)
                .put("target_size", pool.targetSize)));
      }
      reconcile(pool);
      return pool.toJson();
    }).recover(err -> {
      if (pool.version == before.version + 1) restore(pool, before);
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
      pendingRecoveries.remove(id);
      publishPool(pool, before, "deleted");
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
      if (w.execution != null) {
        w.draining = true;
        persist(w, w.state, "draining");
      } else {
        terminate(p, w, "removed_by_operator");
      }
    }, "worker_removed").map(json -> w.toJson());
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
    if (WorkerStates.TERMINATED.equals(state)) {
      // a stored row does not know its job's tenant: only admins see it
      return store.listWorkers(id, state, cursor, limit + 1).map(items -> {
        if (!viewer.isAdmin()) items.forEach(w -> w.putNull("current_job_id"));
        return new Paging(limit, cursor).page(items, "id");
      });
    }
    List<JsonObject> items = pool.workers.values().stream()
        .filter(w -> state == null || state.equals(w.state))
        .filter(w -> cursor == null || w.id.compareTo(cursor) > 0)
        .sorted(java.util.Comparator.comparing(w -> w.id))
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

  // ---------------------------------------------------------------- jobs

  /** Starts a job on the best-fitting idle worker of the candidate pools (least spare cpu and memory). */
  Future<JsonObject> startJob(JsonObject job, List<String> poolIds) {
    long cpu = job.getLong("cpu_m", 0L);
    long memory = job.getLong("memory_mb", 0L);
    Worker best = null;
    Pool bestPool = null;
    double bestWaste = Double.MAX_VALUE;
    for (String poolId : poolIds) {
      Pool p = pools.get(poolId);
      if (p == null || !PoolLifecycle.accepts(p.state)) continue;
      for (Worker w : p.workers.values()) {
        if (!WorkerStates.IDLE.equals(w.state) || w.draining || w.cpuM < cpu || w.memoryMb < memory) continue;
        double waste = (double) (w.cpuM - cpu) / w.cpuM + (double) (w.memoryMb - memory) / w.memoryMb;
        if (waste < bestWaste) {
          bestWaste = waste;
          best = w;
          bestPool = p;
        }
      }
    }
    if (best == null) {
      return Future.failedFuture(new DomainException(409, "Conflict", "no idle worker fits the job now",
          new JsonObject().put("reason", "no_capacity")));
    }
    Worker w = best;
    Pool p = bestPool;
    String jobId = job.getString("job_id");
    w.currentJobId = jobId;
    w.currentJobTenantId = job.getString("tenant_id");
    String from = w.state;
    w.state = WorkerStates.BUSY;
    JobSpec spec = new JobSpec(jobId, stringList(job.getJsonArray("command")),
        job.getJsonObject("env", new JsonObject()), job.getJsonObject("payload", new JsonObject()),
        job.getInteger("timeout_s", 0), cpu, memory);
    JobExecution execution;
    try {
      execution = providers.get(p.provider).run(w.id, spec);
    } catch (RuntimeException e) {
      // the provider refused (it still thinks the worker is busy): give the worker back, the job is requeued
      w.currentJobId = null;
      w.currentJobTenantId = null;
      w.state = from;
      LOG.warn("provider refused a job", kv("pool", p.id), kv("worker_id", w.id), kv("job_id", jobId),
          kv("reason", e.getMessage()));
      return Future.failedFuture(new DomainException(409, "Conflict", "the worker could not take the job",
          new JsonObject().put("reason", "no_capacity")));
    }
    // the published reason names no job: worker events reach every tenant's bridge
    persistAssignment(w, from, Events.WORKER_ASSIGNMENT_REASON + "assigned");
    w.execution = execution;
    execution.result().onComplete(ar -> finishJob(p, w, jobId, ar));
    return Future.succeededFuture(new JsonObject().put("worker_id", w.id).put("pool_id", p.id)
        .put("pid", execution.pid())
        .put("process_started_at", execution.processStartedAt() == null ? null
            : execution.processStartedAt().toString()));
  }

  /** A job.started event: the worker running {@code jobId} learns its tenant (if it still runs that job). */
  void jobStarted(String workerId, String jobId, String tenantId) {
    for (Pool p : pools.values()) {
      Worker w = p.workers.get(workerId);
      if (w != null && jobId != null && jobId.equals(w.currentJobId)) w.currentJobTenantId = tenantId;
    }
  }

  Future<JsonObject> killJob(String workerId, String jobId, String reason) {
    for (Pool p : pools.values()) {
      Worker w = p.workers.get(workerId);
      if (w != null && w.execution != null && jobId.equals(w.currentJobId)) {
        return w.execution.kill(reason).map(v -> new JsonObject().put("killed", true));
      }
    }
    return Future.succeededFuture(new JsonObject().put("killed", false));
  }

  Future<JsonObject> reapOrphan(String provider, long pid, Instant startedAt) {
    WorkerProvider p = providers.get(provider);
    if (p == null || pid <= 0 || startedAt == null) {
      return Future.succeededFuture(new JsonObject().put("reaped", false));
    }
    return p.reapOrphan(pid, startedAt).map(found -> new JsonObject().put("reaped", found));
  }

  private void finishJob(Pool p, Worker w, String jobId, AsyncResult<JobResult> ar) {
    w.execution = null;
    w.currentJobId = null;
    w.currentJobTenantId = null;
    JobResult result = ar.succeeded() ? ar.result()
        : new JobResult(WorkerProvider.Outcome.LOST, null, 0, "worker_lost", String.valueOf(ar.cause().getMessage()));
    if (WorkerStates.UNHEALTHY.equals(w.state) && result.outcome() == WorkerProvider.Outcome.KILLED) {
      result = new JobResult(WorkerProvider.Outcome.LOST, result.exitCode(), result.durationMs(), "worker_lost",
          result.log());
    }
    JsonObject finished = new JsonObject().put("job_id", jobId).put("worker_id", w.id).put("pool_id", p.id)
        .put("outcome", result.outcome().name().toLowerCase()).put("exit_code", result.exitCode())
        .put("duration_ms", result.durationMs()).put("error_type", result.errorType()).put("log", result.log());
    vertx.eventBus().publish(PoolAddresses.RUN_ENDED, finished);
    if (WorkerStates.BUSY.equals(w.state)) {
      if (w.draining) {
        terminate(p, w, "drained");
      } else {
        w.state = WorkerStates.IDLE;
        persistAssignment(w, WorkerStates.BUSY,
            Events.WORKER_ASSIGNMENT_REASON + result.outcome().name().toLowerCase());
      }
    }
    reconcile(p);
  }

  // ---------------------------------------------------------------- reconciliation

  void reconcileAll() { List.copyOf(pools.values()).forEach(this::reconcile); }

  /**
   * Moves a pool's workers towards what its state and target size ask for. Not re-entrant: provider callbacks
   * may complete synchronously and ask for another reconciliation while one runs; such requests are queued and
   * run after the current one, each on fresh state.
   */
  void reconcile(Pool p) {
    if (stopped) return;
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

  private void reconcileOnce(Pool p) {
    if (PoolLifecycle.DELETING.equals(p.state)) return;
    if (PoolLifecycle.keepsWorkers(p.state)) {
      if (p.kind.equals("dynamic")) {
        for (Worker w : List.copyOf(p.workers.values())) {
          if (WorkerStates.UNHEALTHY.equals(w.state)) {
            pendingRecoveries.computeIfAbsent(p.id, k -> new ArrayDeque<>()).add(w.unhealthySince);
            terminate(p, w, "replacing_unhealthy");
          }
        }
      }
      List<Worker> live = p.workers.values().stream().filter(w -> w.live() && !w.draining).toList();
      int deficit = p.targetSize - live.size();
      if (deficit > 0 && settings.enabled() && System.currentTimeMillis() >= p.nextProvisionAtMillis) {
        for (int i = 0; i < deficit; i++) {
          Deque<Instant> recoveries = pendingRecoveries.get(p.id);
          provision(p, recoveries == null ? null : recoveries.poll());
        }
      } else if (deficit < 0) {
        shrink(p, live, -deficit);
      }
      if (PoolLifecycle.CREATING.equals(p.state) && p.count(WorkerStates.PROVISIONING) == 0) {
        change(p.id, null, pool -> pool.state = PoolLifecycle.ACTIVE, "provisioned")
            .onFailure(err -> LOG.warn("could not activate pool", kv("pool", p.id), err));
      }
    } else if (PoolLifecycle.DRAINING.equals(p.state)) {
      for (Worker w : List.copyOf(p.workers.values())) {
        if (w.live() && w.execution == null) terminate(p, w, "pool_draining");
        else if (w.live() && !w.draining) {
          w.draining = true;
          persist(w, w.state, "draining");
        }
      }
      if (p.workers.isEmpty()) {
        change(p.id, null, pool -> pool.state = PoolLifecycle.STOPPED, "drained")
            .onFailure(err -> LOG.warn("could not stop drained pool", kv("pool", p.id), err));
      }
    } else if (PoolLifecycle.STOPPED.equals(p.state)) {
      for (Worker w : List.copyOf(p.workers.values())) terminate(p, w, "pool_stopped");
    }
  }

  /** Removes {@code surplus} workers: idle first, then unhealthy, then provisioning; busy ones are drained. */
  private void shrink(Pool p, List<Worker> live, int surplus) {
    List<String> order = List.of(WorkerStates.IDLE, WorkerStates.UNHEALTHY, WorkerStates.PROVISIONING,
        WorkerStates.BUSY);
    for (String state : order) {
      for (Worker w : live) {
        if (surplus == 0) return;
        if (!state.equals(w.state) || w.draining) continue;
        if (w.execution != null) {
          w.draining = true;
          persist(w, w.state, "draining (scale in)");
        } else {
          terminate(p, w, "scale_in");
        }
        surplus--;
      }
    }
  }

  private void provision(Pool p, Instant replacesFailureAt) {
    Worker w = new Worker();
    w.id = io.hodei.tenant.Tokens.shortId("w-");
    w.poolId = p.id;
    w.state = WorkerStates.PROVISIONING;
    w.health = WorkerStates.UNKNOWN;
    w.cpuM = p.workerCpuM;
    w.memoryMb = p.workerMemoryMb;
    w.createdAt = Instant.now();
    w.replacesFailureAt = replacesFailureAt;
    p.workers.put(w.id, w);
    w.lastWrite = store.insertWorker(w, replacesFailureAt == null ? "provision" : "provision_replacement")
        .recover(err -> logWriteFailure(w, err));
    publishWorker(w, null, "provision", null);
    refreshGauges();
    long started = System.nanoTime();
    WorkerProvider provider = providers.get(p.provider);
    provider.provision(new WorkerProvider.WorkerSpec(w.id, p.id, p.workerCpuM, p.workerMemoryMb, p.providerConfig))
        .onComplete(ar -> {
          long ms = (System.nanoTime() - started) / 1_000_000;
          if (!WorkerStates.PROVISIONING.equals(w.state)) {
            // terminated while provisioning (scale in, stop): make sure nothing is left behind
            if (ar.succeeded()) provider.terminate(w.id);
            return;
          }
          if (ar.succeeded()) {
            p.provisionFailures = 0;
            w.provisionedInMs = ar.result().provisionedInMs();
            w.startedAt = Instant.now();
            w.lastHeartbeatAt = w.startedAt;
            w.health = WorkerStates.HEALTHY;
            w.state = WorkerStates.IDLE;
            workersRegistered.increment();
            Long recovery = w.replacesFailureAt == null ? null
                : Duration.between(w.replacesFailureAt, w.startedAt).toMillis();
            persistEvent(w, WorkerStates.PROVISIONING, recovery == null ? "ready" : "replacement_ready",
                recovery == null ? (Long) ms : recovery, null, null, null);
          } else {
            p.provisionFailures++;
            long backoff = Math.min(MAX_BACKOFF_MS, 500L << Math.min(p.provisionFailures, 10));
            p.nextProvisionAtMillis = System.currentTimeMillis() + backoff;
            LOG.warn("worker provisioning failed", kv("pool", p.id), kv("worker_id", w.id),
                kv("retry_in_ms", backoff), kv("reason", ar.cause().getMessage()));
            if (w.replacesFailureAt != null) {
              pendingRecoveries.computeIfAbsent(p.id, k -> new ArrayDeque<>()).addFirst(w.replacesFailureAt);
            }
            p.workers.remove(w.id);
            w.state = WorkerStates.TERMINATED;
            persistEvent(w, WorkerStates.PROVISIONING, "provisioning_failed", ms, Instant.now(), null,
                "provisioning_failed: " + ar.cause().getMessage());
          }
          reconcile(p);
        });
  }

  private void terminate(Pool p, Worker w, String reason) {
    if (!w.live()) return;
    String from = w.state;
    w.state = WorkerStates.TERMINATING;
    w.terminatingSince = Instant.now();
    persist(w, from, reason);
    long started = System.nanoTime();
    if (WorkerStates.PROVISIONING.equals(from)) {
      finishTermination(p, w, started, null);
      return;
    }
    providers.get(p.provider).terminate(w.id).onComplete(ar -> finishTermination(p, w, started,
        ar.failed() ? "termination_failed: " + ar.cause().getMessage() : null));
  }

  private void finishTermination(Pool p, Worker w, long startedNanos, String failure) {
    long ms = (System.nanoTime() - startedNanos) / 1_000_000;
    p.workers.remove(w.id);
    w.state = WorkerStates.TERMINATED;
    persistEvent(w, WorkerStates.TERMINATING, failure == null ? "terminated" : "termination_failed", ms,
        Instant.now(), ms, failure);
    reconcile(p);
  }

  // ---------------------------------------------------------------- health

  /** Probes every running worker; unhealthy after the configured number of failed probes in a row. */
  void healthCheck() {
    if (stopped) return;
    for (Pool p : List.copyOf(pools.values())) {
      WorkerProvider provider = providers.get(p.provider);
      if (provider == null) continue;
      List<Future<Boolean>> probes = new ArrayList<>();
      List<Worker> probed = new ArrayList<>();
      List<Future<WorkerProvider.WorkerUsage>> usages = new ArrayList<>();
      for (Worker w : p.workers.values()) {
        if (!WorkerStates.IDLE.equals(w.state) && !WorkerStates.BUSY.equals(w.state)
            && !WorkerStates.UNHEALTHY.equals(w.state)) {
          continue;
        }
        probed.add(w);
        probes.add(provider.probe(w.id).otherwise(false));
        // resource use is sampled with the probe: hodei_cpu_usage_percent / hodei_memory_usage_mb per worker
        usages.add(provider.usage(w.id).otherwise((WorkerProvider.WorkerUsage) null));
      }
      Future.join(Future.join(probes), Future.join(usages)).onComplete(done -> {
        Instant now = Instant.now();
        List<String> alive = new ArrayList<>();
        for (int i = 0; i < probed.size(); i++) {
          Worker w = probed.get(i);
          boolean ok = Boolean.TRUE.equals(probes.get(i).result());
          if (!w.live()) continue;
          WorkerProvider.WorkerUsage usage = usages.get(i).result();
          if (usage != null) {
            w.cpuUsagePercent = usage.cpuPercent();
            w.memoryUsageMb = usage.memoryMb();
          }
          if (ok) onProbeSucceeded(w, now, alive);
          else onProbeFailed(p, w, now);
        }
        store.heartbeats(alive, now).onFailure(err -> LOG.warn("heartbeat write failed", kv("pool", p.id), err));
        reconcile(p);
      });
    }
  }

  private void onProbeSucceeded(Worker w, Instant now, List<String> alive) {
    w.failedProbes = 0;
    w.lastHeartbeatAt = now;
    alive.add(w.id);
    if (WorkerStates.UNHEALTHY.equals(w.state)) {
      long recovery = Duration.between(w.unhealthySince, now).toMillis();
      w.health = WorkerStates.HEALTHY;
      w.unhealthySince = null;
      w.state = w.execution != null ? WorkerStates.BUSY : WorkerStates.IDLE;
      persistEvent(w, WorkerStates.UNHEALTHY, "recovered", recovery, null, null, null);
    }
  }

  private void onProbeFailed(Pool p, Worker w, Instant now) {
    w.failedProbes++;
    if (w.failedProbes < settings.unhealthyThreshold() || WorkerStates.UNHEALTHY.equals(w.state)) return;
    String from = w.state;
    w.health = WorkerStates.UNHEALTHY;
    w.unhealthySince = now;
    w.state = WorkerStates.UNHEALTHY;
    LOG.warn("worker unhealthy", kv("pool", p.id), kv("worker_id", w.id), kv("failed_probes", w.failedProbes));
    persist(w, from, "missed " + w.failedProbes + " health probes");
    if (w.execution != null) w.execution.kill("worker unhealthy");
  }

  // ---------------------------------------------------------------- persistence and events

  private void persist(Worker w, String from, String reason) {
    persistEvent(w, from, reason, null, null, null, null);
  }

  /** A worker took or gave back a job: its row is written and the event published, no worker_event row. */
  private void persistAssignment(Worker w, String from, String reason) {
    if (stopped) return;
    w.lastWrite = store.updateWorkerAssignment(snapshot(w), from, reason).recover(err -> logWriteFailure(w, err));
    publishWorker(w, from, reason, null);
  }

  static final long SHUTDOWN_DRAIN_SECONDS = 10;

  /** Stops reconciling and waits for the writes already queued. */
  Future<Void> shutdown() {
    stopped = true;
    List<Future<Void>> writes = new ArrayList<>();
    pools.values().forEach(p -> p.workers.values().forEach(w -> writes.add(w.lastWrite)));
    // bounded: writes waiting for an unavailable database are given up (the next start reconciles from it)
    return Future.join(writes).transform(x -> store.drain()).timeout(SHUTDOWN_DRAIN_SECONDS, TimeUnit.SECONDS)
        .onFailure(err -> store.close());
  }

  private void persistEvent(Worker w, String from, String reason, Long durationMs, Instant terminatedAt,
                            Long terminatedInMs, String failure) {
    if (stopped) return;
    Worker snapshot = snapshot(w);
    // The store's group commit lands a worker's writes in the order they are made.
    w.lastWrite = store.updateWorker(snapshot, from, reason, durationMs, terminatedAt, terminatedInMs, failure)
        .recover(err -> logWriteFailure(w, err));
    publishWorker(w, from, reason, durationMs);
    if (durationMs != null) publishTiming(w, reason, durationMs);
    refreshGauges();
  }

  private void publishTiming(Worker w, String reason, long ms) {
    LOG.info("worker {}", reason, kv("pool", w.poolId), kv("worker_id", w.id), kv("state", w.state),
        kv("duration_ms", ms));
  }

  private Future<Void> logWriteFailure(Worker w, Throwable err) {
    LOG.error("worker state could not be persisted", kv("worker_id", w.id), kv("pool", w.poolId), err);
    return Future.succeededFuture();
  }

  /**
   * {@code duration_ms} is set on timed transitions: reason {@code ready} (provisioning time),
   * {@code replacement_ready} and {@code recovered} (recovery time), {@code terminated} (termination time),
   * {@code provisioning_failed} (time until the failure).
   */
  private void publishWorker(Worker w, String from, String reason, Long durationMs) {
    events.publish(Events.WORKER_STATE, new JsonObject().put("worker_id", w.id).put("pool_id", w.poolId)
        .put("from", from).put("to", w.state).put("health", w.health).put("reason", reason)
        .put("duration_ms", durationMs));
  }

  private void publishPool(Pool p, String from, String reason) {
    events.publish(Events.POOL_STATE, new JsonObject().put("pool_id", p.id).put("from", from).put("to", p.state)
        .put("reason", reason));
  }

  private void refreshGauges() {
    long total = 0;
    long healthy = 0;
    for (Pool p : pools.values()) {
      for (Worker w : p.workers.values()) {
        if (!w.live()) continue;
        total++;
        if (WorkerStates.HEALTHY.equals(w.health)) healthy++;
      }
    }
    workersTotal.set(total);
    workersHealthy.set(healthy);
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

  private static Pool copy(Pool p) {
    Pool c = new Pool();
    c.name = p.name;
    c.state = p.state;
    c.minSize = p.minSize;
    c.maxSize = p.maxSize;
    c.targetSize = p.targetSize;
    c.pricePerWorkerHour = p.pricePerWorkerHour;
    c.autoScalingEnabled = p.autoScalingEnabled;
    c.labels = p.labels;
    c.providerConfig = p.providerConfig;
    c.updatedAt = p.updatedAt;
    c.version = p.version;
    return c;
  }

  private static void restore(Pool p, Pool before) {
    p.name = before.name;
    p.state = before.state;
    p.minSize = before.minSize;
    p.maxSize = before.maxSize;
    p.targetSize = before.targetSize;
    p.pricePerWorkerHour = before.pricePerWorkerHour;
    p.autoScalingEnabled = before.autoScalingEnabled;
    p.labels = before.labels;
    p.providerConfig = before.providerConfig;
    p.updatedAt = before.updatedAt;
    p.version = before.version;
  }

  private static List<String> stringList(JsonArray array) {
    List<String> result = new ArrayList<>();
    if (array != null) array.forEach(v -> result.add(v == null ? null : v.toString()));
    return result;
  }
}
