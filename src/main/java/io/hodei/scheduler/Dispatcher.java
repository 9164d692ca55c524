package io.hodei.scheduler;

import io.hodei.common.Bus;
import io.hodei.common.DomainException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Placement: takes the jobs {@link FairShare} picks, while placements in flight stay under their limit, admits each
 * (it holds its tenant's quota from then on) and asks the pool domain to start it on one of the pools that accept
 * it. A job the pool domain does not start waits again. Confined to the scheduler's event loop.
 */
final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  /** Starts a job on the best-fitting idle worker of one of the pools (the pool domain's job start). */
  interface Starter {
    /** Completes with the placement ({@code pool_id}, {@code worker_id}, {@code pid}, ...) or the refusal. */
    Future<JsonObject> start(Job job, List<String> poolIds);
  }

  /** What becomes of an admitted job once the pool domain answered. */
  interface Outcomes {
    void started(Job job, JsonObject placement);

    /** The job was not started; true when that ends it (it was cancelled meanwhile), false to queue it again. */
    boolean notStarted(Job job);
  }

  private final JobQueues queues;
  private final TenantUsage usage;
  private final FairShare fairShare;
  private final PlacementGate gate;
  private final TenantCache tenants;
  private final PoolView pools;
  private final SchedulerMetrics metrics;
  private final int maxInflight;
  private final BooleanSupplier writable;
  private final Starter starter;
  private Outcomes outcomes;
  private int inflight;
  private boolean dispatching;
  private boolean dispatchAgain;
  private boolean stopped;

  /** {@code writable}: whether job writes commit now; no job is placed while they do not. */
  Dispatcher(JobQueues queues, TenantUsage usage, FairShare fairShare, PlacementGate gate, TenantCache tenants,
             PoolView pools, SchedulerMetrics metrics, int maxInflight, BooleanSupplier writable, Starter starter) {
    this.queues = queues;
    this.usage = usage;
    this.fairShare = fairShare;
    this.gate = gate;
    this.tenants = tenants;
    this.pools = pools;
    this.metrics = metrics;
    this.maxInflight = maxInflight;
    this.writable = writable;
    this.starter = starter;
  }

  void outcomes(Outcomes outcomes) { this.outcomes = outcomes; }

  /** Places as many waiting jobs as quotas, fairness and free workers allow. Not re-entrant. */
  void dispatch() {
    // no new placement while job writes cannot commit: a start nobody can record would be a run the database
    // does not know of (the writer's recovery reconciles and dispatches again)
    if (stopped || !writable.getAsBoolean()) return;
    if (dispatching) {
      dispatchAgain = true;
      return;
    }
    dispatching = true;
    try {
      do {
        dispatchAgain = false;
        fairShare.advance();
        while (inflight < maxInflight) {
          Job next = fairShare.next(queues, tenants, gate::roomFor);
          if (next == null) break;
          place(next);
        }
      } while (dispatchAgain);
    } finally {
      dispatching = false;
    }
  }

  void stop() { stopped = true; }

  private void place(Job job) {
    queues.remove(job);
    // FairShare picks only jobs with room (an idle worker in an accepting pool), so this list is never empty
    List<String> poolIds = pools.accepting(job);
    job.state = JobState.ADMITTED;
    job.admittedAt = Instant.now();
    TenantCache.Tenant tenant = tenants.get(job.tenantId);
    job.burstGrantId = tenant != null && usage.needsBurst(tenant, job, job.admittedAt) ? tenant.burstGrantId() : null;
    usage.hold(job);
    inflight++;
    gate.placing(job);
    starter.start(job, poolIds).onComplete(ar -> {
      inflight--;
      gate.answered(job);
      if (ar.succeeded()) outcomes.started(job, ar.result());
      else notStarted(job, Bus.toDomain(ar.cause()));
      dispatch();
    });
  }

  private void notStarted(Job job, DomainException problem) {
    usage.release(job);
    job.admittedAt = null;
    if (outcomes.notStarted(job)) return;
    usage.queued(job.tenantId, 1);
    queues.enqueue(job);
    metrics.decision("requeue");
    boolean noCapacity = "no_capacity".equals(problem.extensions().getString("reason"));
    if (!noCapacity) LOG.warn("placement failed", kv("job_id", job.id), kv("reason", problem.detail()));
    gate.saturate(job, noCapacity);
  }
}
