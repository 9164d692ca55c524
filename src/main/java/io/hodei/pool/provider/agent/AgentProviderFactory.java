package io.hodei.pool.provider.agent;

import io.hodei.pool.provider.ProviderContext;
import io.hodei.pool.provider.WorkerProvider;
import io.hodei.pool.provider.WorkerProviderFactory;

/** Registers the {@code agent} provider with the provider registry. */
public final class AgentProviderFactory implements WorkerProviderFactory {
  @Override public String name() { return AgentProvider.NAME; }

  @Override
  public WorkerProvider create(ProviderContext context) {
    return new AgentProvider(context.vertx(), context.agentReconnectGraceSeconds(), context.registry());
  }
}
