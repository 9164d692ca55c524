package io.hodei.pool.provider;

import io.hodei.pool.provider.WorkerProvider.JobExecution;
import io.hodei.pool.provider.WorkerProvider.JobResult;
import io.hodei.pool.provider.WorkerProvider.Outcome;
import io.vertx.core.Future;
import java.time.Instant;

/** Error types and the results both providers build the same way. */
public final class JobResults {
  static final String EXIT_CODE = "exit_code";
  public static final String TIMEOUT = "timeout";
  public static final String KILLED = "killed";
  public static final String WORKER_LOST = "worker_lost";
  static final String INVALID_COMMAND = "invalid_command";
  static final String SIMULATED_FAILURE = "simulated_failure";

  private JobResults() {}

  /** Exit code 0 succeeds, anything else fails with {@code exit_code}. */
  public static JobResult exited(int exitCode, long durationMs, String log) {
    return exitCode == 0
        ? new JobResult(Outcome.SUCCEEDED, 0, durationMs, null, log)
        : new JobResult(Outcome.FAILED, exitCode, durationMs, EXIT_CODE, log);
  }

  public static JobResult invalidCommand(String problem) {
    return new JobResult(Outcome.FAILED, null, 0, INVALID_COMMAND, "invalid command: " + problem + "\n");
  }

  static JobResult workerLost(String workerId) {
    return new JobResult(Outcome.FAILED, null, 0, WORKER_LOST,
        "worker " + workerId + " is unknown or terminated; the job did not start\n");
  }

  /** A job that ended before it started: nothing to kill, no process. */
  public static JobExecution finished(String jobId, JobResult result) {
    return new Finished(jobId, Future.succeededFuture(result));
  }

  private record Finished(String jobId, Future<JobResult> result) implements JobExecution {
    @Override public long pid() { return -1; }
    @Override public Instant processStartedAt() { return null; }
    @Override public Future<Void> kill(String reason) { return Future.succeededFuture(); }
  }
}
