package io.hodei.pool.provider;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** The simulated provider passes the provider test kit. */
class SimulatedProviderContractTest extends WorkerProviderContractTest {
  @Override
  protected WorkerProvider create(ProviderContext context) {
    return new ProviderFactory.Simulated().create(context);
  }

  @Override
  protected WorkerProvider.JobSpec job(String jobId, int exitCode, long durationMs) {
    return new WorkerProvider.JobSpec(jobId, List.of("true"), new JsonObject(),
        new JsonObject().put("duration_ms", durationMs).put("exit_code", exitCode), 0, 100, 64);
  }
}
