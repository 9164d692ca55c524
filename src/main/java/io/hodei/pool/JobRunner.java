package io.hodei.pool;

import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.JobSpec;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs jobs on workers: places a job by {@link BestFitPlacement}, starts it through the worker's provider, kills
 * it on request, and reports its end on {@link PoolAddresses#RUN_ENDED} (the worker goes back to idle, or
 * terminates when it was draining). Confined to the pool verticle's event loop.
 */
final class JobRunner {
  private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

  private final EventBus bus;
  private final io.vertx.core.Vertx vertx;
  private final Events events;
  private final Map<String, Pool> pools;
  private final Map<String, WorkerProvider> providers;
  private final PoolJournal journal;
  private final Reconciler reconciler;

  JobRunner(io.vertx.core.Vertx vertx, Events events, Map<String, Pool> pools, Map<String, WorkerProvider> providers,
            PoolJournal journal, Reconciler reconciler) {
    this.vertx = vertx;
    this.events = events;
    this.bus = vertx.eventBus();
    this.pools = pools;
    this.providers = providers;
    this.journal = journal;
    this.reconciler = reconciler;
  }

  /** Starts a job on the best-fitting idle worker of the candidate pools; 409 {@code no_capacity} when none. */
  Future<JsonObject> startJob(JsonObject job, List<String> poolIds) {
    long cpu = job.getLong("cpu_m", 0L);
    long memory = job.getLong("memory_mb", 0L);
    List<Pool> candidates = poolIds.stream().map(pools::get).filter(Objects::nonNull).toList();
    BestFitPlacement.Placement placement = BestFitPlacement.choose(candidates, cpu, memory);
    if (placement == null) return noCapacity("no idle worker fits the job now");
    Worker w = placement.worker();
    Pool p = placement.pool();
    String jobId = job.getString("job_id");
    w.currentJobId = jobId;
    w.currentJobTenantId = job.getString("tenant_id");
    WorkerState from = w.state;
    w.state = WorkerState.BUSY;
    JobSpec spec = new JobSpec(jobId, stringList(job.getJsonArray("command")),
        job.getJsonObject("env", new JsonObject()), job.getJsonObject("payload", new JsonObject()),
        job.getInteger("timeout_s", 0), cpu, memory, job.getInteger("attempt", 0));
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
      return noCapacity("the worker could not take the job");
    }
    // the published reason names no job: worker events reach every tenant's bridge
    journal.persistAssignment(w, from, Events.WORKER_ASSIGNMENT_REASON + "assigned");
    w.execution = execution;
    String tenantId = job.getString("tenant_id");
    LiveOutput output = tenantId == null ? null
        : new LiveOutput(vertx, events, jobId, tenantId, job.getInteger("attempt", 0));
    if (output != null) execution.watchOutput(output);
    execution.result().onComplete(ar -> {
      if (output != null) output.close();
      finishJob(p, w, jobId, ar);
    });
    return Future.succeededFuture(new JsonObject().put("worker_id", w.id).put("pool_id", p.id)
        .put("pid", execution.pid())
        .put("process_started_at", io.hodei.common.Instants.format(execution.processStartedAt())));
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

  /** The output so far of a job running on a worker, or null. */
  String liveLog(String workerId, String jobId) {
    for (Pool p : pools.values()) {
      Worker w = p.workers.get(workerId);
      if (w != null && w.execution != null && jobId.equals(w.currentJobId)) return w.execution.liveLog();
    }
    return null;
  }

  /**
   * After a server restart: the job a reclaimed worker ran is taken up again when its provider can (a remote agent
   * kept running it); its end is then reported like any run's. {@code {adopted: false}} when it cannot.
   */
  Future<JsonObject> adoptJob(String workerId, String jobId, int attempt) {
    for (Pool p : pools.values()) {
      Worker w = p.workers.get(workerId);
      // the job's row names the worker: the worker's own row may not have recorded the job before a crash
      if (w == null || w.execution != null || !w.live() || w.draining) continue;
      if (w.currentJobId != null && !jobId.equals(w.currentJobId)) break;
      JobExecution execution = providers.get(p.provider).adopt(workerId, jobId, attempt);
      if (execution == null) break;
      LOG.info("job taken up again after a restart", kv("pool", p.id), kv("worker_id", w.id), kv("job_id", jobId),
          kv("attempt", attempt));
      if (w.state != WorkerState.BUSY) {
        WorkerState from = w.state;
        w.state = WorkerState.BUSY;
        w.currentJobId = jobId;
        journal.persistAssignment(w, from, Events.WORKER_ASSIGNMENT_REASON + "adopted");
      }
      w.execution = execution;
      // an end already known is reported at once: the scheduler holds the job as running before it asks
      execution.result().onComplete(ar -> finishJob(p, w, jobId, ar));
      return Future.succeededFuture(new JsonObject().put("adopted", true));
    }
    return Future.succeededFuture(new JsonObject().put("adopted", false));
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
    if (w.state == WorkerState.UNHEALTHY && result.outcome() == WorkerProvider.Outcome.KILLED) {
      result = new JobResult(WorkerProvider.Outcome.LOST, result.exitCode(), result.durationMs(), "worker_lost",
          result.log());
    }
    JsonObject finished = new JsonObject().put("job_id", jobId).put("worker_id", w.id).put("pool_id", p.id)
        .put("outcome", result.outcome().name().toLowerCase()).put("exit_code", result.exitCode())
        .put("duration_ms", result.durationMs()).put("error_type", result.errorType()).put("log", result.log());
    bus.publish(PoolAddresses.RUN_ENDED, finished);
    if (w.state == WorkerState.BUSY) {
      if (w.draining) {
        reconciler.terminate(p, w, "drained");
      } else {
        w.state = WorkerState.IDLE;
        journal.persistAssignment(w, WorkerState.BUSY,
            Events.WORKER_ASSIGNMENT_REASON + result.outcome().name().toLowerCase());
      }
    }
    reconciler.reconcileSoon(p);
  }

  private static Future<JsonObject> noCapacity(String detail) {
    return Future.failedFuture(new DomainException(409, "Conflict", detail,
        new JsonObject().put("reason", "no_capacity")));
  }

  private static List<String> stringList(JsonArray array) {
    List<String> result = new ArrayList<>();
    if (array != null) array.forEach(v -> result.add(v == null ? null : v.toString()));
    return result;
  }
}
