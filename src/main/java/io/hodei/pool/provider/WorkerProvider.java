package io.hodei.pool.provider;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Where workers come from and where jobs run. One provider instance serves every pool of its kind; a pool's
 * {@code provider_config} is validated by {@link #validateConfig} and passed to {@link #provision}.
 *
 * <p>Contract for implementations: every method returns at once (never blocks the calling event loop; blocking work
 * such as reading /proc or pipes runs on worker threads); futures complete on the Vert.x context of the caller or
 * on any Vert.x context; a provider owns no database state: the pool domain persists everything.
 */
public interface WorkerProvider {

  /** The name used in {@code pool.provider}: {@code local}, {@code simulated}. */
  String name();

  /** Problems with a pool's provider configuration, as {@code field: message} strings (empty when valid). */
  List<String> validateConfig(JsonObject providerConfig);

  /** Brings up a worker; completes when it can take a job, fails when provisioning failed. */
  Future<ProvisionedWorker> provision(WorkerSpec spec);

  /** Tears a worker down, killing whatever still runs on it; completes when it is gone. */
  Future<Void> terminate(String workerId);

  /**
   * Starts a job on an idle worker. The returned execution completes its {@link JobExecution#result()} exactly
   * once: succeeded, failed (non-zero exit), timed out (killed after {@link JobSpec#timeoutSeconds()}), killed (by
   * {@link JobExecution#kill}) or lost (the worker vanished). Invalid commands fail the result with
   * {@code error_type = invalid_command} rather than throwing.
   */
  JobExecution run(String workerId, JobSpec job);

  /** A health probe of one worker: true when it is alive and can take jobs. */
  Future<Boolean> probe(String workerId);

  /** Current CPU (percent of one core, summed over the job's processes) and memory of a worker. */
  Future<WorkerUsage> usage(String workerId);

  /**
   * After a server restart: a worker a previous server process had ({@code currentJobId} is the job it ran, or null).
   * True when the provider takes it back (the worker is kept and its job may be {@link #adopt adopted}); false when
   * it is gone (the worker is recorded as terminated and replaced). By default a provider takes back the workers it
   * still knows: a local or simulated worker does not survive the server process.
   */
  default Future<Boolean> reclaim(String workerId, String poolId, String currentJobId) {
    return probe(workerId);
  }

  /**
   * After a server restart: takes up a job that a previous server process started on a {@link #reclaim reclaimed}
   * worker under {@code attempt} and that may still run there (a remote agent outlives the server). The returned
   * execution completes when the job's end is known, or as {@link Outcome#LOST} when nobody reports the job in time;
   * null when the provider cannot take the job up (it is then lost and retried as {@code worker_lost}).
   */
  default JobExecution adopt(String workerId, String jobId, int attempt) {
    return null;
  }

  /**
   * After a restart: a job that was running in a previous process of the server. Kills it if it still runs (so it
   * cannot run twice) and completes with true when something was found and killed.
   */
  default Future<Boolean> reapOrphan(long pid, Instant processStartedAt) {
    // a provider whose jobs leave no process on this host has nothing to reap
    return Future.succeededFuture(false);
  }

  /**
   * After a restart, before the pool's workers are probed: the ready workers (idle, busy or unhealthy) PostgreSQL
   * holds for a pool of this provider (ids, possibly none). A provider whose workers outlive the server process (pods) takes them back here and
   * releases what belongs to none of them.
   */
  default Future<Void> adoptWorkers(String poolId, JsonObject providerConfig, List<String> workerIds) {
    return Future.succeededFuture();
  }

  /**
   * The pool domain has loaded its pools and workers from PostgreSQL (and {@link #reclaim reclaimed} what survived):
   * from here on the provider may take work that depends on that state.
   */
  default void loaded() {}

  /** Stops everything this provider runs (server shutdown). */
  Future<Void> close();

  /** What to provision: the worker id is chosen by the pool domain (it is persisted before provisioning). */
  record WorkerSpec(String workerId, String poolId, long cpuM, long memoryMb, JsonObject providerConfig) {}

  /** A worker that is ready; {@code provisionedInMs} is the measured provisioning time. */
  record ProvisionedWorker(String workerId, long provisionedInMs) {}

  /**
   * A job to run. {@code command} is argv (no shell); {@code env} is added to a minimal environment;
   * {@code payload} is free-form input (the simulated provider reads {@code duration_ms} and {@code fail});
   * {@code attempt} is the job's attempt this run is (1 for the first; 0 when unknown).
   */
  record JobSpec(String jobId, List<String> command, JsonObject env, JsonObject payload, int timeoutSeconds,
                 long cpuM, long memoryMb, int attempt) {
    public JobSpec(String jobId, List<String> command, JsonObject env, JsonObject payload, int timeoutSeconds,
                   long cpuM, long memoryMb) {
      this(jobId, command, env, payload, timeoutSeconds, cpuM, memoryMb, 0);
    }
  }

  /** A running job. */
  interface JobExecution {
    String jobId();

    /** OS process id for local jobs (persist it for orphan reaping), -1 otherwise. */
    long pid();

    /** When the OS process started (with {@link #pid()} it identifies the process across restarts), or null. */
    Instant processStartedAt();

    Future<JobResult> result();

    /** Kills the job (and its process tree); its result becomes {@link Outcome#KILLED}. */
    Future<Void> kill(String reason);

    /** The job's output so far while it runs (bounded like a stored log), or null when there is none to show. */
    default String liveLog() { return null; }

    /**
     * Hands the job's output from now on to {@code chunks} as it comes, on the Vert.x context that started the job
     * (a provider without live output never calls it).
     */
    default void watchOutput(java.util.function.Consumer<byte[]> chunks) { }
  }

  enum Outcome { SUCCEEDED, FAILED, TIMED_OUT, KILLED, LOST }

  /**
   * How a job ended. {@code errorType} is null on success, else one of {@code exit_code}, {@code timeout},
   * {@code killed}, {@code worker_lost}, {@code invalid_command}, {@code simulated_failure}. {@code log} is the tail
   * of stdout and stderr interleaved, at most {@link #MAX_LOG_BYTES} bytes (older output dropped, with a marker line).
   */
  record JobResult(Outcome outcome, Integer exitCode, long durationMs, String errorType, String log) {
    public static final int MAX_LOG_BYTES = 64 * 1024;
  }

  /** Resource usage of a worker now. */
  record WorkerUsage(double cpuPercent, double memoryMb) {}
}
