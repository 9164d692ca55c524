package io.hodei.scheduler;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The database is the judge: rebuilds the open jobs from PostgreSQL on start ({@link #recover}) and takes up again
 * any it holds that this scheduler does not, whenever in doubt ({@link #reconcile}). Confined to the scheduler's
 * event loop.
 */
final class JobRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(JobRecovery.class);
  private final Vertx vertx;
  private final JobStore store;
  private final OpenJobs jobs;
  private final JobQueues queues;
  private final TenantUsage usage;
  private final JobLifecycle lifecycle;
  private final PoolRequests poolDomain;
  private final Runnable dispatch;
  private boolean reconciling;
  private boolean reconcileAgain;
  private boolean stopped;

  JobRecovery(Vertx vertx, JobStore store, OpenJobs jobs, JobQueues queues, TenantUsage usage, JobLifecycle lifecycle,
              PoolRequests poolDomain, Runnable dispatch) {
    this.vertx = vertx;
    this.store = store;
    this.jobs = jobs;
    this.queues = queues;
    this.usage = usage;
    this.lifecycle = lifecycle;
    this.poolDomain = poolDomain;
    this.dispatch = dispatch;
  }

  /**
   * Rebuilds the queues from PostgreSQL. A job that was running in the previous process lost its worker: its
   * process (if it still runs) is killed so it cannot run twice, and it is retried or failed as worker_lost.
   */
  Future<Void> recover() {
    return store.loadOpen().compose(open -> {
      Future<Void> adopted = adopt(open, "server restarted while the job ran");
      LOG.info("scheduler recovered", kv("open_jobs", open.size()));
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
    jobs.noteDepartures();
    store.loadOpen().onComplete(ar -> {
      Set<String> endedMeanwhile = jobs.stopNoting();
      reconciling = false;
      if (ar.failed()) {
        LOG.warn("reconciliation with the database failed; trying again", kv("error", ar.cause().getMessage()));
        vertx.setTimer(1000, id -> reconcile());
        return;
      }
      List<Job> unknown = ar.result().stream().filter(job -> !jobs.knows(job.id, endedMeanwhile)).toList();
      if (!unknown.isEmpty()) {
        LOG.warn("open jobs found in the database that the scheduler did not hold; taken up",
            kv("jobs", unknown.size()));
        adopt(unknown, "the scheduler lost track of the job while the database was unavailable");
        dispatch.run();
      }
      if (reconcileAgain) {
        reconcileAgain = false;
        reconcile();
      }
    });
  }

  void stop() { stopped = true; }

  /**
   * Takes up open jobs read from the database: queued ones wait again; one that was running is taken up again when
   * the pool domain still has its worker and run (a remote agent's); otherwise it lost its worker: its process (if
   * it still runs here) is killed so it cannot run twice, and it is retried or failed as worker_lost.
   */
  private Future<Void> adopt(List<Job> open, String lostReason) {
    List<Future<Void>> reaps = new ArrayList<>();
    for (Job job : open) {
      jobs.add(job);
      if (job.state == JobState.RUNNING || job.state == JobState.ADMITTED) {
        job.state = JobState.RUNNING;
        jobs.running(job);
        // held as running while the pool domain is asked: an end it already knows is reported before its answer
        usage.hold(job);
        usage.queued(job.tenantId, 1);
        reaps.add(poolDomain.adopt(job).compose(adopted -> {
          if (adopted) {
            LOG.info("running job taken up again", kv("job_id", job.id), kv("worker_id", job.workerId));
            return Future.<Void>succeededFuture();
          }
          usage.release(job);
          return poolDomain.reap(job).map(v -> {
            lifecycle.retryOrFail(job, "worker_lost", null, null, null,
                new JsonObject().put("reason", lostReason).put("worker_id", job.workerId));
            return null;
          });
        }));
      } else {
        usage.queued(job.tenantId, 1);
        queues.enqueue(job);
      }
    }
    return Future.all(reaps).mapEmpty();
  }
}
