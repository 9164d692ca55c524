package io.hodei.pool.provider;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** The local process provider passes the provider test kit. */
public class LocalProviderContractTest extends WorkerProviderContractTest {
  @Override
  protected WorkerProvider create(ProviderContext context) {
    return new ProviderFactory.Local().create(context);
  }

  @Override
  protected WorkerProvider.JobSpec job(String jobId, int exitCode, long durationMs) {
    return shellJob(jobId, exitCode, durationMs);
  }

  /** {@code sleep} then {@code exit}, with a line of output. */
  public static WorkerProvider.JobSpec shellJob(String jobId, int exitCode, long durationMs) {
    String seconds = String.format(java.util.Locale.ROOT, "%.3f", durationMs / 1000.0);
    return new WorkerProvider.JobSpec(jobId, List.of("sh", "-c", "echo contract; sleep " + seconds + "; exit "
        + exitCode), new JsonObject(), new JsonObject(), 0, 100, 64);
  }
}
