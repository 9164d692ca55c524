package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.BusRequest;
import io.hodei.common.Caller;
import io.hodei.common.DomainException;
import io.hodei.common.Events;
import io.hodei.pool.PoolAddresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The scheduling core, confined to the scheduler verticle's event loop. Jobs wait in one queue per tenant
 * (priority, then arrival); across tenants the next placement goes to the tenant with the lowest weighted dominant
 * share including usage memory ({@link FairShare}), among tenants under quota. Placement asks the pool domain for
 * the best-fitting idle worker. PostgreSQL holds every accepted job; these structures are rebuilt from it on start.
 */
final class Scheduler {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);
  static final Comparator<Job> QUEUE_ORDER = Comparator.<Job>comparingInt(j -> -j.priority)
      .thenComparingLong(j -> j.sequence);

  /** Resources a tenant holds now (admitted or running jobs). */
  static final class Usage {
    int jobs;
    long cpuM;
    long memoryMb;
  }

  /** The usage of a tenant holding nothing: read only, never stored. */
  static final Usage NO_USAGE = new Usage();

  private final Vertx vertx;
  private final JobStore store;
  private final TenantCache tenants;
  private final PoolView pools;
  private final FairShare fairShare;
  private final SchedulerSettings settings;
  private final SchedulerMetrics metrics;
  private final Events events;

  final Map<String, Job> open = new HashMap<>();
  /**
   * Jobs that ended here but whose final write has not committed yet. Reads still show their last committed state;
   * reconciliation must not take them for jobs it does not know.
   */
  final Map<String, Job> finishing = new HashMap<>();
  /** Jobs whose final write committed while a reconciliation read was under way (null: none under way). */
  private Set<String> departed;
  private boolean reconciling;
  private boolean reconcileAgain;
  /** Waiting jobs per tenant, a queue per pool selector in each ({@link TenantQueue}). */
  final Map<String, TenantQueue> queues = new HashMap<>();
  final Map<String, Usage> usage = new HashMap<>();
  /** Jobs counted against max_queued_jobs: waiting plus submissions being written. */
  final Map<String, Integer> queuedCount = new HashMap<>();
  /** Selectors whose pools had no idle worker at the last try; cleared when capacity may have appeared. */
  final Set<String> saturated = new HashSet<>();
  /** Placement requests in flight per selector: with the pools' idle workers, whether another attempt can succeed. */
  private final Map<String, Integer> placing = new HashMap<>();
  final RunTimes runTimes = new RunTimes();
  /** Finish messages that overtook their placement reply (a job that fails at once); applied after the start. */
  private final Map<String, JsonObject> earlyFinishes = new HashMap<>();
  /** Usage above base quota, integrated at each start and end and recorded on the grants on the tick. */
  private final BurstMeter burstMeter = new BurstMeter();
  private long lastBurstRecord = System.nanoTime();
  /** Finest step of the usage memory's integration (it decays over minutes). */
  private static final long FAIR_SHARE_STEP_NANOS = 5_000_000;
  private long lastFairShareAdvance = System.nanoTime() - FAIR_SHARE_STEP_NANOS;
  private int inflight;
  private long sequence;
  private boolean dispatching;
  private boolean dispatchAgain;
  private boolean stopped;

  Scheduler(Vertx vertx, JobStore store, TenantCache tenants, PoolView pools, FairShare fairShare,
            SchedulerSettings settings, SchedulerMetrics metrics, Events events) {
    this.vertx = vertx;
    this.store = store;
    this.tenants = tenants;
    this.pools = pools;
    this.fairShare = fairShare;
    this.settings = settings;
    this.metrics = metrics;
    this.events = events;
  }

  // ------------------------------------------------------------------ submit

  /**
   * Accepts jobs: checks tenant, pools and the queue cap for all of them first (nothing is written when one is
   * refused), then commits them in one transaction and only then queues them.
   */
  Future<List<JsonObject>> submit(List<Job> jobs) {
    Map<String, Integer> perTenant = new HashMap<>();
    for (Job job : jobs) {
      TenantCache.Tenant tenant = tenants.get(job.tenantId);
      if (tenant == null) throw DomainException.notFound("tenant", job.tenantId);
      if (!tenant.active()) throw DomainException.conflict("tenant '" + job.tenantId + "' is suspended");
      checkPlaceable(job);
      perTenant.merge(job.tenantId, 1, Integer::sum);
    }
    for (Map.Entry<String, Integer> e : perTenant.entrySet()) {
      TenantCache.Tenant tenant = tenants.get(e.getKey());
      int queued = queuedCount.getOrDefault(e.getKey(), 0);
      if (queued + e.getValue() > tenant.maxQueued()) {
        metrics.decision("reject");
        events.publish(Events.QUOTA_EXCEEDED, new JsonObject().put("tenant_id", e.getKey())
            .put("quota", "max_queued_jobs").put("limit", tenant.maxQueued()).put("queued", queued));
        throw new DomainException(429, "Too Many Requests", "tenant '" + e.getKey() + "' has " + queued
            + " queued jobs; its max_queued_jobs quota is " + tenant.maxQueued(),
            new JsonObject().put("quota", "max_queued_jobs").put("limit", tenant.maxQueued()).put("queued", queued));
      }
    }
    perTenant.forEach((t, n) -> queuedCount.merge(t, n, Integer::sum));
    return store.insert(jobs).map(results -> {
      List<JsonObject> views = new ArrayList<>();
      for (int i = 0; i < jobs.size(); i++) {
        Job job = jobs.get(i);
        JsonObject stored = results.get(i);
        if (stored.getBoolean("idempotent_replay", false)) {
          queuedCount.merge(job.tenantId, -1, Integer::sum);
          views.add(stored);
          continue;
        }
        Job adopted = open.get(job.id);
        if (adopted != null) {
          // a reconciliation read the committed row before this reply arrived and queued it already
          queuedCount.merge(job.tenantId, -1, Integer::sum);
          views.add(view(adopted));
          continue;
        }
        job.sequence = ++sequence;
        open.put(job.id, job);
        enqueue(job);
        metrics.decision("admit");
        events.publish(Events.JOB_SUBMITTED, new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
            .put("trace_id", job.traceId).put("submitted_at", job.submittedAtText())
            .put("priority", job.priority).put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb));
        views.add(view(job));
      }
      dispatch();
      return views;
    }).recover(err -> {
      perTenant.forEach((t, n) -> queuedCount.merge(t, -n, Integer::sum));
      return Future.failedFuture(err);
    });
  }

  /** 422 when no pool could ever run the job (unknown pool, no match, every worker too small). */
  private void checkPlaceable(Job job) {
    List<JsonObject> matching = pools.matching(job);
    if (matching.isEmpty()) {
      throw new DomainException(422, "Unprocessable Content", job.poolId != null
          ? "pool '" + job.poolId + "' does not exist"
          : "no pool has the labels " + job.poolLabels.encode(), new JsonObject().put("reason", "no_matching_pool"));
    }
    if (pools.fitting(job).isEmpty()) {
      JsonObject largest = matching.stream().max(Comparator.comparingLong(p -> p.getLong("worker_cpu_m"))).orElseThrow();
      throw new DomainException(422, "Unprocessable Content", "the job asks for " + job.cpuM + "m CPU and "
          + job.memoryMb + " MB; the largest matching worker has " + largest.getLong("worker_cpu_m") + "m and "
          + largest.getLong("worker_memory_mb") + " MB", new JsonObject().put("reason", "too_large_for_pools"));
    }
  }

  private void enqueue(Job job) {
    job.state = JobStates.QUEUED;
    if (job.nextAttemptAt != null && job.nextAttemptAt.isAfter(Instant.now())) return;
    queueOf(job).add(job);
  }

  /** A waiting job's new priority (already committed): it moves to its new place in its selector's queue. */
  void reprioritized(Job job, int priority) {
    TenantQueue queue = queues.get(job.tenantId);
    boolean waiting = queue != null && queue.remove(job);
    job.priority = priority;
    if (waiting) queue.add(job);
  }

  private TenantQueue queueOf(Job job) { return queues.computeIfAbsent(job.tenantId, t -> new TenantQueue()); }

  /** A waiting job leaves its queue without being placed (cancel, abandonment) and stops counting as queued. */
  private void leaveQueue(Job job) {
    TenantQueue queue = queues.get(job.tenantId);
    if (queue != null) queue.remove(job);
    queuedCount.merge(job.tenantId, -1, Integer::sum);
  }

  // ------------------------------------------------------------------ dispatch

  /** Places as many waiting jobs as quotas, fairness and free workers allow. Not re-entrant. */
  void dispatch() {
    // no new placement while job writes cannot commit: a start nobody can record would be a run the database
    // does not know of (the writer's recovery reconciles and dispatches again)
    if (stopped || !store.writable()) return;
    if (dispatching) {
      dispatchAgain = true;
      return;
    }
    dispatching = true;
    try {
      do {
        dispatchAgain = false;
        advanceFairShare();
        while (inflight < settings.maxInflightPlacements()) {
          Job next = nextJob();
          if (next == null) break;
          place(next);
        }
      } while (dispatchAgain);
    } finally {
      dispatching = false;
    }
  }

  /**
   * The head job of the tenant that should go next, or null. Jobs within their tenant's base quota go before jobs
   * that need burst capacity: burst is the first thing held back when capacity is contended.
   */
  private Job nextJob() {
    Job withinQuota = nextJob(false);
    return withinQuota != null ? withinQuota : nextJob(true);
  }

  private Job nextJob(boolean burst) {
    Instant now = Instant.now();
    Job best = null;
    double bestKey = Double.MAX_VALUE;
    for (Map.Entry<String, TenantQueue> e : queues.entrySet()) {
      if (e.getValue().isEmpty()) continue;
      TenantCache.Tenant tenant = tenants.get(e.getKey());
      if (tenant == null || !tenant.active()) continue;
      Job head = placeableHead(tenant, e.getValue(), burst, now);
      if (head == null) continue;
      double key = fairShare.priority(e.getKey(), share(e.getKey()), tenant.weight());
      if (best == null || key < bestKey || (key == bestKey && QUEUE_ORDER.compare(head, best) < 0)) {
        best = head;
        bestKey = key;
      }
    }
    return best;
  }

  /**
   * The tenant's first job, by priority then arrival, among the heads of its selector queues that could be placed
   * now: pools with room, within quota, and in the burst class asked for. A head that cannot be placed holds back
   * only its own selector's queue.
   */
  private Job placeableHead(TenantCache.Tenant tenant, TenantQueue queue, boolean burst, Instant now) {
    Job best = null;
    for (PriorityQueue<Job> selector : queue.selectors()) {
      Job head = selector.peek();
      if (head == null || saturated.contains(head.selectorKey()) || !hasRoom(head)) continue;
      if (quotaBlocks(tenant, head, now) != null || needsBurst(tenant, head, now) != burst) continue;
      if (best == null || QUEUE_ORDER.compare(head, best) < 0) best = head;
    }
    return best;
  }

  /**
   * Whether the job's pools have an idle worker that no placement in flight for its selector is already heading
   * for. Without this gate, every freed worker sent a placement request per waiting selector, and most came back
   * refused.
   */
  boolean hasRoom(Job job) {
    return pools.idleWorkers(pools.accepting(job)) > placing.getOrDefault(job.selectorKey(), 0);
  }

  /** Why the tenant's quota (with burst, while a grant is in force) stops this job now, or null. */
  String quotaBlocks(TenantCache.Tenant tenant, Job job) { return quotaBlocks(tenant, job, Instant.now()); }

  String quotaBlocks(TenantCache.Tenant tenant, Job job, Instant now) {
    Usage u = usage.getOrDefault(tenant.id(), NO_USAGE);
    if (u.jobs + 1 > tenant.effective(tenant.maxConcurrent(), now)) return "quota_max_concurrent_jobs";
    if (u.cpuM + job.cpuM > tenant.effective(tenant.cpuM(), now)) return "quota_cpu";
    if (u.memoryMb + job.memoryMb > tenant.effective(tenant.memoryMb(), now)) return "quota_memory";
    return null;
  }

  /** True when the job fits only thanks to the tenant's burst grant. */
  boolean needsBurst(TenantCache.Tenant tenant, Job job, Instant now) {
    if (!tenant.bursting(now)) return false;
    Usage u = usage.getOrDefault(tenant.id(), NO_USAGE);
    return u.jobs + 1 > tenant.maxConcurrent() || u.cpuM + job.cpuM > tenant.cpuM()
        || u.memoryMb + job.memoryMb > tenant.memoryMb();
  }

  double share(String tenantId) {
    Usage u = usage.get(tenantId);
    if (u == null) return 0;
    return FairShare.dominant(u.cpuM, u.memoryMb, pools.capacityCpuM(), pools.capacityMemoryMb());
  }

  private void advanceFairShare() {
    // dispatch runs on every submit, start and end: the usage memory (half-life of minutes) needs no finer steps
    long now = System.nanoTime();
    if (now - lastFairShareAdvance < FAIR_SHARE_STEP_NANOS) return;
    lastFairShareAdvance = now;
    Map<String, Double> shares = new HashMap<>();
    usage.keySet().forEach(t -> shares.put(t, share(t)));
    fairShare.advance(shares, now);
  }

  private void place(Job job) {
    queues.get(job.tenantId).remove(job);
    // nextJob picks only jobs with room (an idle worker in an accepting pool), so this list is never empty
    List<String> poolIds = pools.accepting(job);
    job.state = JobStates.ADMITTED;
    job.admittedAt = Instant.now();
    TenantCache.Tenant tenant = tenants.get(job.tenantId);
    job.burstGrantId = tenant != null && needsBurst(tenant, job, job.admittedAt) ? tenant.burstGrantId() : null;
    hold(job, 1);
    inflight++;
    placing.merge(job.selectorKey(), 1, Integer::sum);
    JsonObject spec = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("command", job.command).put("env", job.env)
        .put("payload", job.payload).put("timeout_s", job.timeoutSeconds).put("cpu_m", job.cpuM)
        .put("memory_mb", job.memoryMb);
    JsonObject body = new JsonObject().put("job", spec).put("pool_ids", new JsonArray(new ArrayList<>(poolIds)));
    Bus.request(vertx, PoolAddresses.JOB_START, BusRequest.envelope(new JsonObject(), new JsonObject(), body, null),
        Caller.system(), null).onComplete(ar -> {
          inflight--;
          placing.computeIfPresent(job.selectorKey(), (k, n) -> n == 1 ? null : n - 1);
          if (ar.succeeded()) started(job, ar.result());
          else notStarted(job, Bus.toDomain(ar.cause()));
          dispatch();
        });
  }

  private void started(Job job, JsonObject placement) {
    job.state = JobStates.RUNNING;
    job.startedAt = Instant.now();
    job.attempts++;
    job.placedPoolId = placement.getString("pool_id");
    job.workerId = placement.getString("worker_id");
    job.pid = placement.getLong("pid", -1L);
    String processStart = placement.getString("process_started_at");
    job.processStartedAt = processStart == null ? null : Instant.parse(processStart);
    long latency = Duration.between(job.submittedAt, job.startedAt).toMillis();
    long wait = Duration.between(job.queuedAt, job.startedAt).toMillis();
    metrics.decision("place");
    JsonObject detail = placement.copy().put("attempt", job.attempts);
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("pool_id", job.placedPoolId).put("worker_id", job.workerId).put("queue_wait_ms", wait)
        .put("scheduling_latency_ms", latency).put("attempt", job.attempts).put("trace_id", job.traceId)
        .put("admitted_at", job.admittedAt.toString()).put("started_at", job.startedAt.toString());
    write(job, "start", () -> store.markRunning(job, detail), () -> {
      metrics.scheduled(job.tenantId, latency, wait);
      events.publish(Events.JOB_STARTED, event);
    });
    burstMeter.started(job, tenants.get(job.tenantId), job.startedAt);
    LOG.info("job started", kv("trace_id", job.traceId), kv("job_id", job.id), kv("tenant_id", job.tenantId),
        kv("pool", job.placedPoolId),
        kv("worker_id", job.workerId), kv("queue_wait_ms", wait));
    JsonObject early = earlyFinishes.remove(job.id);
    if (early != null) onFinished(early);
    else if (job.cancelRequested) kill(job, "cancelled");
  }

  private void notStarted(Job job, DomainException problem) {
    earlyFinishes.remove(job.id);
    hold(job, -1);
    job.admittedAt = null;
    if (job.cancelRequested) {
      finish(job, JobStates.CANCELLED, null, "cancelled", null, null, new JsonObject().put("reason", "cancelled"));
      return;
    }
    job.state = JobStates.QUEUED;
    queuedCount.merge(job.tenantId, 1, Integer::sum);
    queueOf(job).add(job);
    metrics.decision("requeue");
    if ("no_capacity".equals(problem.extensions().getString("reason"))) {
      pools.noIdleWorker(pools.accepting(job));
      saturated.add(job.selectorKey());
    } else {
      LOG.warn("placement failed", kv("job_id", job.id), kv("reason", problem.detail()));
      saturated.add(job.selectorKey());
    }
  }

  private void hold(Job job, int sign) {
    Usage u = usage.computeIfAbsent(job.tenantId, t -> new Usage());
    u.jobs += sign;
    u.cpuM += sign * job.cpuM;
    u.memoryMb += sign * job.memoryMb;
    if (u.jobs <= 0) usage.remove(job.tenantId);
    if (sign > 0) queuedCount.merge(job.tenantId, -1, Integer::sum);
  }

  /** Jobs counted against the tenant's max_queued_jobs quota. */
  int queued(String tenantId) { return queuedCount.getOrDefault(tenantId, 0); }

  /** Capacity may have appeared (a worker became idle, a pool changed): try saturated selectors again. */
  void capacityChanged() {
    // always dispatch, not only for saturated selectors: the end of a job may reach the scheduler before the pool
    // view counts its worker idle, and the waiting job would then wait for the next tick (a gap of up to a tick
    // between one job's end and the next start on a busy pool)
    saturated.clear();
    dispatch();
  }

  // ------------------------------------------------------------------ finish

  /** A job's process ended (message from the pool domain). */
  void onFinished(JsonObject msg) {
    Job job = open.get(msg.getString("job_id"));
    if (job != null && JobStates.ADMITTED.equals(job.state)) {
      earlyFinishes.put(job.id, msg);
      return;
    }
    if (job == null || !JobStates.RUNNING.equals(job.state)) {
      LOG.warn("finish message for a job that is not running ignored", kv("job_id", msg.getString("job_id")),
          kv("state", job == null ? "unknown" : job.state), kv("outcome", msg.getString("outcome")));
      return;
    }
    hold(job, -1);
    String outcome = msg.getString("outcome");
    String errorType = msg.getString("error_type");
    Integer exitCode = msg.getInteger("exit_code");
    Long runMs = msg.getLong("duration_ms");
    String log = msg.getString("log");
    if (runMs != null && "succeeded".equals(outcome)) runTimes.record(job.selectorKey(), runMs);
    burstMeter.ended(job, tenants.get(job.tenantId), Instant.now());
    JsonObject detail = new JsonObject().put("outcome", outcome).put("exit_code", exitCode)
        .put("error_type", errorType).put("worker_id", job.workerId).put("pool_id", job.placedPoolId);
    switch (outcome == null ? "lost" : outcome) {
      case "succeeded" -> finish(job, JobStates.SUCCEEDED, exitCode, null, runMs, log, detail);
      case "timed_out" -> finish(job, JobStates.TIMED_OUT, exitCode, "timeout", runMs, log, detail);
      case "killed" -> {
        if (job.cancelRequested) finish(job, JobStates.CANCELLED, exitCode, "cancelled", runMs, log, detail);
        else finish(job, JobStates.FAILED, exitCode, errorType == null ? "killed" : errorType, runMs, log, detail);
      }
      case "failed" -> retryOrFail(job, errorType, exitCode, runMs, log, detail);
      default -> retryOrFail(job, errorType == null ? "worker_lost" : errorType, exitCode, runMs, log, detail);
    }
    dispatch();
  }

  private void retryOrFail(Job job, String errorType, Integer exitCode, Long runMs, String log, JsonObject detail) {
    if (JobStates.RETRYABLE.contains(errorType) && job.attempts < job.maxAttempts && !job.cancelRequested) {
      requeue(job, errorType, log, detail);
    } else if (job.cancelRequested) {
      finish(job, JobStates.CANCELLED, exitCode, "cancelled", runMs, log, detail);
    } else {
      finish(job, JobStates.FAILED, exitCode, errorType, runMs, log, detail);
    }
  }

  /**
   * Records the usage above base quota metered so far ({@link BurstMeter}) on its grants, at most once a second; the
   * burst counter follows once the grant's row has it. What could not be recorded goes with the next record.
   */
  private void meterBurst() {
    long now = System.nanoTime();
    if (now - lastBurstRecord < BURST_RECORD_NANOS) return;
    lastBurstRecord = now;
    burstMeter.advanceAll(tenants::get, Instant.now());
    for (BurstMeter.Pending p : burstMeter.drain()) {
      JsonObject body = new JsonObject().put("grant_id", p.grantId()).put("cpu_m_seconds", p.cpuMSeconds())
          .put("memory_mb_seconds", p.memoryMbSeconds()).put("burst_jobs", p.jobs());
      Bus.request(vertx, io.hodei.tenant.TenantAddresses.BURST_CONSUME, BusRequest.envelope(new JsonObject(),
          new JsonObject(), body, null), Caller.system(), null).onComplete(ar -> {
            if (ar.succeeded()) {
              metrics.burst(p.tenantId(), p.cpuMSeconds());
            } else {
              LOG.warn("burst usage not recorded yet; it goes with the next record", kv("tenant_id", p.tenantId()),
                  kv("grant_id", p.grantId()), ar.cause());
              burstMeter.add(p);
            }
          });
    }
  }

  private static final long BURST_RECORD_NANOS = 1_000_000_000L;

  /** Another attempt after a backoff of 2^attempts seconds (capped). */
  private void requeue(Job job, String errorType, String log, JsonObject detail) {
    long backoff = Math.min(settings.retryBackoffMaxSeconds(), 1L << Math.min(job.attempts, 20));
    job.nextAttemptAt = Instant.now().plusSeconds(backoff);
    job.queuedAt = job.nextAttemptAt;
    job.errorType = errorType;
    job.workerId = null;
    job.pid = -1;
    job.processStartedAt = null;
    job.state = JobStates.QUEUED;
    queuedCount.merge(job.tenantId, 1, Integer::sum);
    metrics.decision("retry");
    JsonObject retry = detail.copy().put("reason", "retry").put("retry_at", job.nextAttemptAt.toString());
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("trace_id", job.traceId)
        .put("error_type", errorType).put("attempt", job.attempts).put("retry_at", job.nextAttemptAt.toString());
    write(job, "retry", () -> store.markRequeued(job, errorType, log, retry),
        () -> events.publish(Events.JOB_RETRY, event));
    refreshGauges();
  }

  private void finish(Job job, String state, Integer exitCode, String errorType, Long runMs, String log,
                      JsonObject detail) {
    open.remove(job.id);
    job.state = state;
    Instant now = Instant.now();
    job.exitCode = exitCode;
    job.errorType = errorType;
    job.runMs = runMs;
    job.finishedAt = now;
    finishing.put(job.id, job);
    JsonObject event = new JsonObject().put("job_id", job.id).put("tenant_id", job.tenantId)
        .put("pool_id", job.placedPoolId).put("worker_id", job.workerId).put("state", state)
        .put("error_type", errorType).put("exit_code", exitCode).put("duration_ms", runMs)
        .put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb).put("burst_grant_id", job.burstGrantId)
        .put("trace_id", job.traceId).put("started_at", job.startedAt == null ? null : job.startedAt.toString())
        .put("finished_at", now.toString())
        .put("queue_wait_ms", job.startedAt == null ? null : Duration.between(job.queuedAt, job.startedAt).toMillis());
    write(job, "end", () -> store.markFinished(job, state, now, exitCode, errorType, runMs, log, detail), () -> {
      if (JobStates.SUCCEEDED.equals(state)) metrics.completed(job.tenantId);
      else metrics.failed(job.tenantId, errorType);
      events.publish(Events.JOB_FINISHED, event);
    });
    job.lastWrite.onComplete(ar -> {
      finishing.remove(job.id);
      if (departed != null) departed.add(job.id);
    });
    LOG.info("job finished", kv("trace_id", job.traceId), kv("job_id", job.id), kv("tenant_id", job.tenantId),
        kv("state", state),
        kv("error_type", errorType), kv("pool", job.placedPoolId), kv("worker_id", job.workerId));
  }

  // ------------------------------------------------------------------ cancel

  Future<JsonObject> cancel(String jobId, Caller caller) {
    Job job = open.get(jobId);
    if (job == null) {
      return store.get(jobId).compose(stored -> {
        caller.requireOwner("job", jobId, stored.getString("tenant_id"), io.hodei.common.Role.SUBMITTER);
        return Future.failedFuture(DomainException.conflict("job '" + jobId + "' already ended: "
            + stored.getString("state")));
      });
    }
    caller.requireOwner("job", jobId, job.tenantId, io.hodei.common.Role.SUBMITTER);
    // a cancel is answered once it committed; while the database is away it is refused, not left hanging
    if (!store.writable()) return Future.failedFuture(DomainException.unavailable(
        "the database is not available; the job was not cancelled, try again shortly"));
    metrics.decision("cancel");
    switch (job.state) {
      case JobStates.QUEUED -> {
        leaveQueue(job);
        finish(job, JobStates.CANCELLED, null, "cancelled", null, null,
            new JsonObject().put("reason", "cancelled").put("by", caller.tokenId()));
      }
      case JobStates.ADMITTED -> job.cancelRequested = true;
      default -> {
        job.cancelRequested = true;
        write(job, "cancel request", () -> store.markCancelRequested(job), null);
        kill(job, "cancelled");
      }
    }
    return job.lastWrite.map(v -> view(job));
  }

  /**
   * Queues a job write now. The store's group commit lands a job's writes in queue order (a fast job's end never
   * overtakes its start) and retries them until they commit, across a database outage. What the write decides
   * becomes visible only once it committed: reads show the job as of its last committed write ({@link
   * Job#committed}), and {@code onCommit} (events, counters) runs then. {@code job.lastWrite} completes when this
   * write has committed, or the database refused it: then the database is the judge, and the open jobs are
   * reloaded from it.
   */
  private void write(Job job, String what, java.util.function.Supplier<Future<Void>> op, Runnable onCommit) {
    JsonObject snapshot = committedFields(job).put("version", ++job.version);
    job.lastWrite = op.get().transform(ar -> {
      if (ar.succeeded()) {
        job.committed = snapshot;
        if (onCommit != null) onCommit.run();
      } else {
        LOG.error("the database refused a job " + what + "; reloading open jobs from it", kv("job_id", job.id),
            ar.cause());
        reconcile();
      }
      return Future.<Void>succeededFuture();
    });
  }

  /** The fields a write changes, as a read shows them once it committed. */
  private static JsonObject committedFields(Job job) {
    return new JsonObject().put("state", job.state).put("attempts", job.attempts).put("worker_id", job.workerId)
        .put("placed_pool_id", job.placedPoolId).put("cancel_requested", job.cancelRequested)
        .put("burst", job.burstGrantId != null)
        .put("pid", job.pid > 0 ? job.pid : null)
        .put("process_started_at", job.processStartedAt == null ? null : job.processStartedAt.toString())
        .put("admitted_at", job.admittedAt == null ? null : job.admittedAt.toString())
        .put("started_at", job.startedAt == null ? null : job.startedAt.toString())
        .put("next_attempt_at", job.nextAttemptAt == null ? null : job.nextAttemptAt.toString())
        .put("error_type", job.errorType)
        .put("exit_code", job.exitCode).put("run_ms", job.runMs)
        .put("finished_at", job.finishedAt == null ? null : job.finishedAt.toString());
  }

  private void kill(Job job, String reason) {
    JsonObject body = new JsonObject().put("job_id", job.id).put("worker_id", job.workerId).put("reason", reason);
    Bus.request(vertx, PoolAddresses.JOB_KILL, BusRequest.envelope(new JsonObject(), new JsonObject(), body, null),
        Caller.system(), null).onFailure(err -> LOG.warn("kill failed", kv("job_id", job.id), err));
  }

  // ------------------------------------------------------------------ timers

  /** Retries whose backoff ended go back to their queue; jobs waiting past max_queue_seconds are abandoned. */
  void tick() {
    if (stopped) return;
    Instant now = Instant.now();
    for (Job job : List.copyOf(open.values())) {
      if (!JobStates.QUEUED.equals(job.state)) continue;
      if (job.nextAttemptAt != null && !job.nextAttemptAt.isAfter(now)) {
        job.nextAttemptAt = null;
        enqueue(job);
      }
      if (Duration.between(job.submittedAt, now).getSeconds() >= job.maxQueueSeconds) {
        leaveQueue(job);
        metrics.decision("abandon");
        finish(job, JobStates.ABANDONED, null, "max_queue_time", null, null,
            new JsonObject().put("reason", "waited longer than max_queue_seconds " + job.maxQueueSeconds));
      }
    }
    saturated.clear();
    refreshGauges();
    meterBurst();
    dispatch();
  }

  void stop() { stopped = true; }

  // ------------------------------------------------------------------ restart

  /**
   * Rebuilds the queues from PostgreSQL. A job that was running in the previous process lost its worker: its
   * process (if it still runs) is killed so it cannot run twice, and it is retried or failed as worker_lost.
   */
  Future<Void> recover() {
    return store.loadOpen().compose(rows -> {
      Future<Void> adopted = adopt(rows, "server restarted while the job ran");
      LOG.info("scheduler recovered", kv("open_jobs", rows.size()));
      return adopted;
    });
  }

  /**
   * On doubt, the database wins: after the job writer stalled (a COMMIT whose answer was lost may or may not have
   * committed, such as a submission answered 503) or a write the database refused, the open jobs are read again and
   * any this scheduler does not hold are taken up as on a restart. Jobs that ended here meanwhile are left alone.
   */
  void reconcile() {
    if (stopped) return;
    if (reconciling) {
      reconcileAgain = true;
      return;
    }
    reconciling = true;
    departed = new HashSet<>();
    store.loadOpen().onComplete(ar -> {
      Set<String> endedMeanwhile = departed;
      departed = null;
      reconciling = false;
      if (ar.failed()) {
        LOG.warn("reconciliation with the database failed; trying again", kv("error", ar.cause().getMessage()));
        vertx.setTimer(1000, id -> reconcile());
        return;
      }
      List<JsonObject> unknown = ar.result().stream().filter(row -> !open.containsKey(row.getString("id"))
          && !finishing.containsKey(row.getString("id")) && !endedMeanwhile.contains(row.getString("id"))).toList();
      if (!unknown.isEmpty()) {
        LOG.warn("open jobs found in the database that the scheduler did not hold; taken up",
            kv("jobs", unknown.size()));
        adopt(unknown, "the scheduler lost track of the job while the database was unavailable");
        dispatch();
      }
      if (reconcileAgain) {
        reconcileAgain = false;
        reconcile();
      }
    });
  }

  /**
   * Takes up open jobs read from the database: queued ones wait again; one that was running has lost its worker as
   * far as this scheduler knows: its process (if it still runs) is killed so it cannot run twice, and it is retried
   * or failed as worker_lost.
   */
  private Future<Void> adopt(List<JsonObject> rows, String lostReason) {
    List<Future<Void>> reaps = new ArrayList<>();
    for (JsonObject row : rows) {
      Job job = fromRow(row);
      job.sequence = ++sequence;
      open.put(job.id, job);
      if (JobStates.RUNNING.equals(row.getString("state")) || JobStates.ADMITTED.equals(row.getString("state"))) {
        job.state = JobStates.RUNNING;
        reaps.add(reap(job).map(v -> {
          retryOrFail(job, "worker_lost", null, null, null,
              new JsonObject().put("reason", lostReason).put("worker_id", job.workerId));
          return null;
        }));
      } else {
        queuedCount.merge(job.tenantId, 1, Integer::sum);
        enqueue(job);
      }
    }
    return Future.all(reaps).<Void>mapEmpty();
  }

  private Future<Void> reap(Job job) {
    JsonObject pool = job.placedPoolId == null ? null : pools.pool(job.placedPoolId);
    if (pool == null || job.pid <= 0 || job.processStartedAt == null) return Future.succeededFuture();
    JsonObject body = new JsonObject().put("provider", pool.getString("provider")).put("pid", job.pid)
        .put("process_started_at", job.processStartedAt.toString());
    return Bus.request(vertx, PoolAddresses.REAP_ORPHAN, BusRequest.envelope(new JsonObject(), new JsonObject(),
        body, null), Caller.system(), null).map(r -> {
          if (r.getBoolean("reaped", false)) LOG.warn("killed an orphaned job process", kv("job_id", job.id));
          return (Void) null;
        }).otherwise((Void) null);
  }

  private static Job fromRow(JsonObject r) {
    Job job = new Job();
    job.id = r.getString("id");
    job.tenantId = r.getString("tenant_id");
    job.name = r.getString("name");
    job.state = r.getString("state");
    job.priority = r.getInteger("priority");
    job.cpuM = r.getLong("cpu_m");
    job.memoryMb = r.getLong("memory_mb");
    job.poolId = r.getString("pool_id");
    job.poolLabels = r.getJsonObject("pool_labels");
    job.command = r.getJsonArray("command");
    job.env = r.getJsonObject("env");
    job.payload = r.getJsonObject("payload");
    job.labels = r.getJsonObject("labels");
    job.timeoutSeconds = r.getInteger("timeout_s");
    job.maxAttempts = r.getInteger("max_attempts");
    job.attempts = r.getInteger("attempts");
    job.maxQueueSeconds = r.getInteger("max_queue_seconds");
    job.slaDeadline = instant(r.getString("sla_deadline"));
    job.idempotencyKey = r.getString("idempotency_key");
    job.submittedAt = instant(r.getString("submitted_at"));
    job.nextAttemptAt = instant(r.getString("next_attempt_at"));
    job.queuedAt = job.nextAttemptAt != null ? job.nextAttemptAt : job.submittedAt;
    job.placedPoolId = r.getString("placed_pool_id");
    job.workerId = r.getString("worker_id");
    job.pid = r.getLong("pid") == null ? -1 : r.getLong("pid");
    job.processStartedAt = instant(r.getString("process_started_at"));
    job.cancelRequested = r.getBoolean("cancel_requested", false);
    job.burstGrantId = r.getString("burst_grant_id");
    job.traceId = r.getString("trace_id");
    job.version = r.getLong("version", 1L);
    return job;
  }

  private static Instant instant(String iso) { return iso == null ? null : Instant.parse(iso); }

  // ------------------------------------------------------------------ views

  /** Queued: waiting for placement (retries in backoff included); queue size adds jobs being placed. */
  private void refreshGauges() {
    long queued = 0;
    long waiting = 0;
    for (Job j : open.values()) {
      if (JobStates.QUEUED.equals(j.state)) queued++;
      if (JobStates.QUEUED.equals(j.state) || JobStates.ADMITTED.equals(j.state)) waiting++;
    }
    metrics.queued.set(queued);
    metrics.waiting.set(waiting);
  }

  /** The job as an API response, from memory (open jobs only). */
  JsonObject view(Job job) {
    return new JsonObject().put("id", job.id).put("tenant_id", job.tenantId).put("name", job.name)
        .put("state", job.state).put("priority", job.priority).put("cpu_m", job.cpuM).put("memory_mb", job.memoryMb)
        .put("pool_id", job.poolId).put("pool_labels", job.poolLabels).put("command", job.command)
        .put("labels", job.labels).put("timeout_s", job.timeoutSeconds).put("max_attempts", job.maxAttempts)
        .put("attempts", job.attempts).put("max_queue_seconds", job.maxQueueSeconds)
        .put("sla_deadline", job.slaDeadline == null ? null : job.slaDeadline.toString())
        .put("idempotency_key", job.idempotencyKey).put("submitted_at", job.submittedAtText())
        .put("started_at", job.startedAt == null ? null : job.startedAt.toString())
        .put("placed_pool_id", job.placedPoolId).put("worker_id", job.workerId)
        .put("cancel_requested", job.cancelRequested).put("burst", job.burstGrantId != null);
  }

  TenantCache tenants() { return tenants; }

  PoolView pools() { return pools; }

  FairShare fairShare() { return fairShare; }


}
