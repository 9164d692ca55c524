package io.hodei.pool.provider;

import io.hodei.runner.LogTail;

import java.nio.file.Path;

/**
 * How the local provider runs jobs on this host.
 *
 * @param workDir          parent of the per-job working directories (created on first use)
 * @param killGraceSeconds time between SIGTERM and SIGKILL when a job is timed out, killed or its worker torn down
 * @param maxLogBytes      bytes of the newest output kept per job
 */
public record LocalProviderSettings(Path workDir, int killGraceSeconds, int maxLogBytes) {
  public static final int DEFAULT_KILL_GRACE_SECONDS = 5;

  public LocalProviderSettings {
    if (workDir == null) workDir = Path.of(System.getProperty("java.io.tmpdir"), "hodei-jobs");
    if (killGraceSeconds < 0) throw new IllegalArgumentException("killGraceSeconds must not be negative");
    if (maxLogBytes <= LogTail.MARKER_RESERVE || maxLogBytes > WorkerProvider.JobResult.MAX_LOG_BYTES) {
      throw new IllegalArgumentException("maxLogBytes must be between " + (LogTail.MARKER_RESERVE + 1) + " and "
          + WorkerProvider.JobResult.MAX_LOG_BYTES);
    }
  }

  /** Jobs under the system temp directory, 5 s grace, the largest log the SPI allows. */
  public static LocalProviderSettings defaults() {
    return new LocalProviderSettings(null, DEFAULT_KILL_GRACE_SECONDS, WorkerProvider.JobResult.MAX_LOG_BYTES);
  }

  public LocalProviderSettings withWorkDir(Path dir) {
    return new LocalProviderSettings(dir, killGraceSeconds, maxLogBytes);
  }

  public LocalProviderSettings withKillGraceSeconds(int seconds) {
    return new LocalProviderSettings(workDir, seconds, maxLogBytes);
  }
}
