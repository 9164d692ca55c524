package io.hodei.scheduler;

import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.common.Instants;
import io.hodei.common.Role;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The life of an admitted job: its start, the end of a run (finish, or retry after a backoff), cancel, and the
 * timers (backoffs that end, jobs waiting past max_queue_seconds). Every transition is a job write; what it decides
 * becomes visible (in reads, events, counters) only once that write committed ({@link #write}). Confined to the
 * scheduler's event loop.
 */
final class JobLifecycle implements Dispatcher.Outcomes {
  private static final Logger LOG = LoggerFactory.getLogger(JobLifecycle.class);
  /** Errors worth another attempt: the job did nothing wrong. */
  static final Set<String> RETRYABLE_ERRORS = Set.of("worker_lost", "provisioning_failed");

  private final JobStore store;
  private final OpenJobs jobs;
  private final JobQueues queues;
  private final TenantUsage usage;
  private final RunTimes runTimes;
  private final BurstRecorder burst;
  private final PoolRequests poolDomain;
  private final SchedulerMetrics metrics;
  private final Events events;
  private final int retryBackoffMaxSeconds;
  private final Runnable dispatch;
  private final Runnable reconcile;
  /** Run-ended reports that overtook their placement reply (a job that fails at once); applied after the start. */
  private final Map<String, JsonObject> earlyEnds = new HashMap<>();

  /** {@code reconcile}: reloads the open jobs from the database after it refused a write. */
  JobLifecycle(JobStore store, OpenJobs jobs, JobQueues queues, TenantUsage usage, RunTimes runTimes,
               BurstRecorder burst, PoolRequests poolDomain, SchedulerMetrics metrics, Events events,
               int retryBackoffMaxSeconds, Runnable dispatch, Runnable reconcile) {
    this.store = store;
    this.jobs = jobs;
    this.queues = queues;
    this.usage = usage;
    this.runTimes = runTimes;
    this.burst = burst;
    this.poolDomain = poolDomain;
    this.metrics = metrics;
    this.events = events;
    this.retryBackoffMaxSeconds = retryBackoffMaxSeconds;
    this.dispatch = dispatch;
    this.reconcile = reconcile;
  }

  // ------------------------------------------------------------------ start

  @Override
  public void started(Job job, JsonObject placement) {
    job.state = JobState.RUNNING;
    job.startedAt = Instant.now();
    job.attempts++;
    job.placedPoolId = placement.getString("pool_id");
    job.workerId = placement.getString("worker_id");
    jobs.running(job);
    job.pid = placement.getLong("pid", -1L);
    String processStart = placement.getString("process_started_at");
    job.processStartedAt = Instants.parse(processStart);
    long latency = Duration.between(job.submittedAt, job.startedAt).toMillis();
    long wait = Duration.between(job.queuedAt, job.startedAt).toMillis();
    metrics.decision("place");
    JsonObject detail = placement.copy().put("attempt", job.attempts);
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("pool_id", job.placedPoolId).put("worker_id", job.workerId).put("queue_wait_ms", wait)
        .put("scheduling_latency_ms", latency).put("attempt", job.attempts).put("trace_id", job.traceId)
        .put("admitted_at", Instants.format(job.admittedAt)).put("started_at", Instants.format(job.startedAt));
    write(job, "start", () -> store.markRunning(job, detail), () -> {
      metrics.scheduled(job.tenantId, latency, wait);
      events.publish(Events.JOB_STARTED, event);
    });
    burst.started(job);
    if (LOG.isInfoEnabled()) LOG.info("job started", kv("trace_id", job.traceId), kv("job_id", job.id), kv("tenant_id", job.tenantId),
        kv("pool", job.placedPoolId), kv("worker_id", job.workerId), kv("queue_wait_ms", wait));
    JsonObject early = earlyEnds.remove(job.id);
    if (early != null) runEnded(early);
    else if (job.cancelRequested) poolDomain.kill(job, "cancelled");
  }

  @Override
  public boolean notStarted(Job job) {
    earlyEnds.remove(job.id);
    if (!job.cancelRequested) return false;
    finish(job, JobState.CANCELLED, null, "cancelled", null, null, new JsonObject().put("reason", "cancelled"));
    return true;
  }

  // ------------------------------------------------------------------ end of a run

  /** The pool domain reports that a job's run ended ({@code PoolAddresses.RUN_ENDED}). */
  void runEnded(JsonObject msg) {
    Job job = jobs.get(msg.getString("job_id"));
    if (job != null && job.state == JobState.ADMITTED) {
      earlyEnds.put(job.id, msg);
      return;
    }
    if (job == null || job.state != JobState.RUNNING) {
      LOG.warn("finish message for a job that is not running ignored", kv("job_id", msg.getString("job_id")),
          kv("state", job == null ? "unknown" : job.state.wire()), kv("outcome", msg.getString("outcome")));
      return;
    }
    usage.release(job);
    String outcome = msg.getString("outcome");
    String errorType = msg.getString("error_type");
    Integer exitCode = msg.getInteger("exit_code");
    Long runMs = msg.getLong("duration_ms");
    String log = msg.getString("log");
    if (runMs != null && "succeeded".equals(outcome)) runTimes.record(job.selectorKey(), runMs);
    burst.ended(job);
    JsonObject detail = new JsonObject().put("outcome", outcome).put("exit_code", exitCode)
        .put("error_type", errorType).put("worker_id", job.workerId).put("pool_id", job.placedPoolId);
    switch (outcome == null ? "lost" : outcome) {
      case "succeeded" -> finish(job, JobState.SUCCEEDED, exitCode, null, runMs, log, detail);
      case "timed_out" -> finish(job, JobState.TIMED_OUT, exitCode, "timeout", runMs, log, detail);
      case "killed" -> {
        if (job.cancelRequested) finish(job, JobState.CANCELLED, exitCode, "cancelled", runMs, log, detail);
        else finish(job, JobState.FAILED, exitCode, errorType == null ? "killed" : errorType, runMs, log, detail);
      }
      case "failed" -> retryOrFail(job, errorType, exitCode, runMs, log, detail);
      default -> retryOrFail(job, errorType == null ? "worker_lost" : errorType, exitCode, runMs, log, detail);
    }
    dispatch.run();
  }

  /** Another attempt when the error is retryable and attempts are left, else the job ends. */
  void retryOrFail(Job job, String errorType, Integer exitCode, Long runMs, String log, JsonObject detail) {
    if (RETRYABLE_ERRORS.contains(errorType) && job.attempts < job.maxAttempts && !job.cancelRequested) {
      requeue(job, errorType, log, detail);
    } else if (job.cancelRequested) {
      finish(job, JobState.CANCELLED, exitCode, "cancelled", runMs, log, detail);
    } else {
      finish(job, JobState.FAILED, exitCode, errorType, runMs, log, detail);
    }
  }

  /** Another attempt after a backoff of 2^attempts seconds (capped). */
  private void requeue(Job job, String errorType, String log, JsonObject detail) {
    long backoff = Math.min(retryBackoffMaxSeconds, 1L << Math.min(job.attempts, 20));
    job.nextAttemptAt = Instant.now().plusSeconds(backoff);
    job.queuedAt = job.nextAttemptAt;
    job.errorType = errorType;
    job.workerId = null;
    job.pid = -1;
    job.processStartedAt = null;
    job.state = JobState.QUEUED;
    jobs.notRunning(job);
    usage.queued(job.tenantId, 1);
    metrics.decision("retry");
    JsonObject retry = detail.copy().put("reason", "retry").put("retry_at", job.nextAttemptAt.toString());
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("trace_id", job.traceId)
        .put("error_type", errorType).put("attempt", job.attempts).put("retry_at", job.nextAttemptAt.toString());
    write(job, "retry", () -> store.markRequeued(job, errorType, log, retry),
        () -> events.publish(Events.JOB_RETRY, event));
    // the queued gauges are counted again on the next tick: counting walks every open job, and a lost pool
    // requeues its jobs by the thousand
  }

  private void finish(Job job, JobState state, Integer exitCode, String errorType, Long runMs, String log,
                      JsonObject detail) {
    jobs.ending(job);
    job.state = state;
    Instant now = Instant.now();
    job.exitCode = exitCode;
    job.errorType = errorType;
    job.runMs = runMs;
    job.finishedAt = now;
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("pool_id", job.placedPoolId).put("worker_id", job.workerId).put("state", state.wire())
        .put("error_type", errorType).put("exit_code", exitCode).put("duration_ms", runMs)
        .put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb).put("burst_grant_id", job.burstGrantId)
        .put("trace_id", job.traceId).put("started_at", Instants.format(job.startedAt))
        .put("finished_at", Instants.format(now))
        .put("queue_wait_ms", job.startedAt == null ? null : Duration.between(job.queuedAt, job.startedAt).toMillis());
    // an abandoned job never had a pool: it counts against the pools it waited for
    if (state == JobState.ABANDONED) event.put("waited_for_pools", waitedFor(job));
    // the SLA answer of an ended job is met only when it succeeded by its deadline; the counter agrees with it
    boolean slaBreachedNow = job.slaDeadline != null && !"breached".equals(job.slaStatus)
        && !(state == JobState.SUCCEEDED && !now.isAfter(job.slaDeadline));
    if (slaBreachedNow) job.slaStatus = "breached";
    write(job, "end", () -> store.markFinished(job, state.wire(), now, exitCode, errorType, runMs, log, detail),
        () -> {
          if (state == JobState.SUCCEEDED) metrics.completed(job.tenantId);
          else metrics.failed(job.tenantId, errorType);
          events.publish(Events.JOB_FINISHED, event);
          if (slaBreachedNow) {
            metrics.sla("breached");
            events.publish(Events.SLA_BREACHED, new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
                .put("deadline", job.slaDeadline.toString()).put("state", state.wire()));
          }
        });
    job.lastWrite.onComplete(ar -> jobs.ended(job));
    if (LOG.isInfoEnabled()) LOG.info("job finished", kv("trace_id", job.traceId), kv("job_id", job.id), kv("tenant_id", job.tenantId),
        kv("state", state.wire()), kv("error_type", errorType), kv("pool", job.placedPoolId),
        kv("worker_id", job.workerId));
  }

  /** The pools a job waited for: the one it named, else those that would have taken it when last asked. */
  private static io.vertx.core.json.JsonArray waitedFor(Job job) {
    if (job.poolId != null) return new io.vertx.core.json.JsonArray().add(job.poolId);
    return new io.vertx.core.json.JsonArray(job.accepting == null ? java.util.List.of() : job.accepting);
  }

  // ------------------------------------------------------------------ cancel

  Future<JsonObject> cancel(String jobId, Caller caller) {
    Job job = jobs.get(jobId);
    if (job == null) {
      return store.get(jobId).compose(stored -> {
        caller.requireOwner("job", jobId, stored.getString("tenant_id"), Role.SUBMITTER);
        return Future.failedFuture(DomainException.conflict("job '" + jobId + "' already ended: "
            + stored.getString("state")));
      });
    }
    caller.requireOwner("job", jobId, job.tenantId, Role.SUBMITTER);
    // a cancel is answered once it committed; while the database is away it is refused, not left hanging
    if (!store.writable()) return Future.failedFuture(DomainException.unavailable(
        "the database is not available; the job was not cancelled, try again shortly"));
    metrics.decision("cancel");
    switch (job.state) {
      case QUEUED -> {
        leaveQueue(job);
        finish(job, JobState.CANCELLED, null, "cancelled", null, null,
            new JsonObject().put("reason", "cancelled").put("by", caller.tokenId()));
      }
      case ADMITTED -> job.cancelRequested = true;
      default -> {
        job.cancelRequested = true;
        write(job, "cancel request", () -> store.markCancelRequested(job), null);
        poolDomain.kill(job, "cancelled");
      }
    }
    return job.lastWrite.map(v -> job.view());
  }

  // ------------------------------------------------------------------ timers

  /**
   * Retries whose backoff ended go back to their queue; jobs waiting past max_queue_seconds are abandoned; the queued
   * gauges are counted.
   */
  void expire(Instant now) {
    // one pass over the jobs not counted as running (queued and admitted ones are never counted), without a copy,
    // picks the few jobs due: this runs every tick, and a node can hold a hundred thousand running jobs; they are
    // handled after it, as abandoning one changes the open jobs
    List<Job> due = new ArrayList<>();
    long nowSeconds = now.getEpochSecond();
    // the same pass counts the gauges: queued = waiting for placement (retries in backoff included); waiting adds
    // the jobs being placed
    long queued = 0;
    long waiting = 0;
    for (Job job : jobs.uncounted()) {
      if (job.state == JobState.ADMITTED) waiting++;
      if (job.state != JobState.QUEUED) continue;
      queued++;
      waiting++;
      if ((job.nextAttemptAt != null && !job.nextAttemptAt.isAfter(now))
          || nowSeconds - job.submittedAt.getEpochSecond() >= job.maxQueueSeconds - 1) {
        due.add(job);
      }
    }
    for (Job job : due) {
      if (job.state != JobState.QUEUED) continue;
      if (job.nextAttemptAt != null && !job.nextAttemptAt.isAfter(now)) {
        job.nextAttemptAt = null;
        queues.enqueue(job);
      }
      if (Duration.between(job.submittedAt, now).getSeconds() >= job.maxQueueSeconds) {
        leaveQueue(job);
        metrics.decision("abandon");
        finish(job, JobState.ABANDONED, null, "max_queue_time", null, null,
            new JsonObject().put("reason", "waited longer than max_queue_seconds " + job.maxQueueSeconds));
        queued--;
        waiting--;
      }
    }
    metrics.queued.set(queued);
    metrics.waiting.set(waiting);
  }

  /** A waiting job leaves its queue without being placed (cancel, abandonment) and stops counting as queued. */
  private void leaveQueue(Job job) {
    queues.remove(job);
    usage.queued(job.tenantId, -1);
  }

  // ------------------------------------------------------------------ writes

  /**
   * Queues a job write now. The store's group commit lands a job's writes in queue order (a fast job's end never
   * overtakes its start) and retries them until they commit, across a database outage. What the write decides
   * becomes visible only once it committed: reads show the job as of its last committed write ({@link
   * Job#committed}), and {@code onCommit} (events, counters) runs then. {@code job.lastWrite} completes when this
   * write has committed, or the database refused it: then the database is the judge, and the open jobs are
   * reloaded from it.
   */
  private void write(Job job, String what, Supplier<Future<Void>> op, Runnable onCommit) {
    JsonObject snapshot = job.committedFields().put("version", ++job.version);
    job.lastWrite = op.get().transform(ar -> {
      if (ar.succeeded()) {
        job.committed = snapshot;
        if (onCommit != null) onCommit.run();
      } else {
        LOG.error("the database refused a job " + what + "; reloading open jobs from it", kv("job_id", job.id),
            ar.cause());
        reconcile.run();
      }
      return Future.<Void>succeededFuture();
    });
  }
}
