package io.hodei.pool;

/** Event-bus addresses of the pool domain (part of the event-bus contract; see docs/architecture.md). */
public final class PoolAddresses {
  public static final String CREATE = "hodei.pool.create";
  public static final String LIST = "hodei.pool.list";
  public static final String GET = "hodei.pool.get";
  public static final String UPDATE = "hodei.pool.update";
  public static final String DELETE = "hodei.pool.delete";
  public static final String SET_STATIC = "hodei.pool.static.set";
  public static final String SET_DYNAMIC = "hodei.pool.dynamic.set";
  public static final String LIFECYCLE = "hodei.pool.lifecycle";
  public static final String WORKERS_LIST = "hodei.pool.workers.list";
  public static final String WORKERS_ADD = "hodei.pool.workers.add";
  public static final String WORKER_REMOVE = "hodei.pool.worker.remove";
  /** One live worker of a pool: params {@code id}, {@code worker_id} -> worker JSON; 404 when unknown. */
  public static final String WORKER_GET = "hodei.pool.worker.get";
  public static final String WORKER_CRASH = "hodei.pool.worker.crash";
  /**
   * A provider's report that a worker vanished (its pod failed, was evicted or deleted from outside), system caller:
   * params {@code id}, {@code worker_id}, body {@code {reason}}. The worker is terminated and replaced; a job still
   * on it ends as {@code worker_lost} through its provider.
   */
  public static final String WORKER_LOST = "hodei.pool.worker.lost";
  /**
   * Starts a job on the best-fitting idle worker of the candidate pools: {@code {"job": {...}, "pool_ids": [...]}}
   * -> {@code {worker_id, pool_id, pid, process_started_at}}; 409 when no worker is free now.
   */
  public static final String JOB_START = "hodei.pool.job.start";
  /** Kills a running job: {@code {"job_id", "worker_id", "reason"}}. */
  public static final String JOB_KILL = "hodei.pool.job.kill";
  /**
   * A running job's output so far: {@code {"job_id", "worker_id"}} -> {@code {"log"}} (null when the job does not run
   * there or its provider shows nothing while it runs).
   */
  public static final String JOB_OUTPUT = "hodei.pool.job.output";
  /**
   * After a restart, takes up a job a previous server process ran on a worker that was kept (an agent's):
   * {@code {"job_id", "worker_id", "attempt"}} -> {@code {"adopted": bool}}; when adopted, its end follows on
   * {@link #RUN_ENDED} like any run's.
   */
  public static final String JOB_ADOPT = "hodei.pool.job.adopt";
  /** Kills a job process left by a previous server process: {@code {"pid", "process_started_at", "provider"}}. */
  public static final String REAP_ORPHAN = "hodei.pool.job.reap";
  /**
   * Everything the metrics collector samples, from memory: {@code {"pools": [pool JSON + "workers_detail": [worker
   * JSON...]]}}; any token with the viewer role. Query {@code detail=false} leaves out the workers.
   */
  public static final String SNAPSHOT = "hodei.pool.snapshot";
  /**
   * The pool domain's report that one run of a job ended on its worker: job_id, worker_id, pool_id, outcome
   * (succeeded, failed, timed_out, killed, lost), exit_code, duration_ms, log, ... The scheduler consumes it and
   * decides what the end means (the job finishes, or another attempt follows); observers may listen too. Not the
   * job's end: that is the scheduler's {@code job.finished} event ({@link io.hodei.common.Events#JOB_FINISHED}).
   * The address keeps its historical name.
   */
  public static final String RUN_ENDED = "hodei.pool.job.finished";

  /**
   * Sets a dynamic pool's target for the autoscaler (system caller): body {@code {pool_id, target_size, reason}};
   * the target is kept within [min_size, max_size]; replies the pool JSON; 409 for a static pool.
   */
  public static final String SCALE = "hodei.pool.scale";

  private PoolAddresses() {}
}
