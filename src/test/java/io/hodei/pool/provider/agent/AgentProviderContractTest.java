package io.hodei.pool.provider.agent;

import io.hodei.pool.provider.LocalProviderContractTest;
import io.hodei.pool.provider.ProviderContext;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProviderContractTest;

/**
 * The agent provider passes the provider test kit, with an agent attached in this JVM ({@link EventBusAgent}: the
 * provider's side of the stream protocol over the event bus, jobs through the same process runner as the real
 * agent).
 */
class AgentProviderContractTest extends WorkerProviderContractTest {
  private EventBusAgent agent;

  @Override
  protected WorkerProvider create(ProviderContext context) {
    return new AgentProviderFactory().create(context);
  }

  @Override
  protected WorkerProvider.JobSpec job(String jobId, int exitCode, long durationMs) {
    return LocalProviderContractTest.shellJob(jobId, exitCode, durationMs);
  }

  @Override
  protected void attached() {
    agent = EventBusAgent.start(vertx, "contract-agent", POOL, 4, work.resolve("agent"));
  }

  @Override
  protected void detaching() {
    agent.close();
  }
}
