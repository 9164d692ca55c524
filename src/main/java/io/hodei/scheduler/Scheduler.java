package io.hodei.scheduler;

import io.hodei.common.Caller;
import io.hodei.common.Events;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The scheduling core, a coordinator of its parts, all confined to the scheduler verticle's event loop:
 * <ol>
 * <li>{@link Admission} accepts submissions (tenant, pools, queue cap) and queues a job once its insert committed;
 * <li>{@link JobQueues} hold the waiting jobs, per tenant and pool selector (priority, then arrival);
 * <li>{@link Dispatcher} places them, in the order {@link FairShare} decides (weighted dominant share with usage
 * memory, burst after base) among jobs their tenant's quota allows ({@link TenantUsage}) and whose pools have room
 * ({@link PlacementGate}), asking the pool domain to start each;
 * <li>{@link JobLifecycle} records starts, ends, retries, cancels and timeouts, each visible once its write committed;
 * <li>{@link JobRecovery} rebuilds the open jobs from PostgreSQL on start and takes them up again when in doubt.
 * </ol>
 * PostgreSQL holds every accepted job; the in-memory structures are a cache of it.
 */
final class Scheduler {
  private final OpenJobs jobs = new OpenJobs();
  private final JobQueues queues = new JobQueues();
  private final TenantUsage usage = new TenantUsage();
  private final BurstRecorder burst;
  private final PlacementGate gate;
  private final Admission admission;
  private final Dispatcher dispatcher;
  private final JobLifecycle lifecycle;
  private final JobRecovery recovery;
  private final SchedulerView view;
  private boolean stopped;

  Scheduler(Vertx vertx, JobStore store, TenantCache tenants, PoolView pools, SchedulerSettings settings,
            SchedulerMetrics metrics, Events events) {
    FairShare fairShare = new FairShare(settings.fairShareHalfLifeSeconds(), usage, pools, System::nanoTime);
    RunTimes runTimes = new RunTimes();
    PoolRequests poolDomain = new PoolRequests(vertx, pools);
    burst = new BurstRecorder(vertx, tenants, metrics);
    gate = new PlacementGate(pools);
    admission = new Admission(store, tenants, pools, usage, jobs, queues, metrics, events);
    dispatcher = new Dispatcher(queues, usage, fairShare, gate, tenants, pools, metrics,
        settings.maxInflightPlacements(), store::writable, poolDomain);
    lifecycle = new JobLifecycle(store, jobs, queues, usage, runTimes, burst, poolDomain, metrics, events,
        settings.retryBackoffMaxSeconds(), this::dispatch, this::reconcile);
    dispatcher.outcomes(lifecycle);
    recovery = new JobRecovery(vertx, store, jobs, queues, usage, lifecycle, poolDomain, this::dispatch);
    view = SchedulerView.of(tenants, pools, jobs, queues, usage, fairShare, gate, runTimes);
  }

  /** Accepts jobs (see {@link Admission#submit}) and places what it can. */
  Future<List<JsonObject>> submit(List<Job> submitted) {
    return admission.submit(submitted).map(views -> {
      dispatch();
      return views;
    });
  }

  /** Places as many waiting jobs as quotas, fairness and free workers allow. */
  void dispatch() { dispatcher.dispatch(); }

  /** The pool domain reports that a job's run ended. */
  void runEnded(JsonObject report) { lifecycle.runEnded(report); }

  Future<JsonObject> cancel(String jobId, Caller caller) { return lifecycle.cancel(jobId, caller); }

  /** A waiting job's new priority (already committed): it moves to its new place in its selector's queue. */
  void reprioritized(Job job, int priority) { queues.reprioritize(job, priority); }

  /** Capacity may have appeared (a worker became idle, a pool changed): try saturated selectors again. */
  void capacityChanged() {
    // always dispatch, not only for saturated selectors: the end of a job may reach the scheduler before the pool
    // view counts its worker idle, and the waiting job would then wait for the next tick (a gap of up to a tick
    // between one job's end and the next start on a busy pool)
    gate.reopen();
    dispatch();
  }

  /** The periodic tick: retry backoffs and queue time limits, gauges, burst records, and a dispatch. */
  void tick() {
    if (stopped) return;
    lifecycle.expire(Instant.now()); // and counts the queued gauges
    gate.reopen();
    burst.record();
    dispatch();
  }

  /** Rebuilds the open jobs from PostgreSQL (start). */
  Future<Void> recover() { return recovery.recover(); }

  /** Takes up again the open jobs PostgreSQL holds that this scheduler does not (after doubt). */
  void reconcile() { recovery.reconcile(); }

  void stop() {
    stopped = true;
    dispatcher.stop();
    recovery.stop();
  }

  /** What the scheduler holds, read only. */
  SchedulerView view() { return view; }
}
