package io.hodei.pool.provider;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/**
 * What a provider factory gets from the server.
 *
 * @param vertx                     the pool verticle's Vert.x
 * @param registry                  where providers register their meters (null: none)
 * @param localWorkDir              {@code resource_pools.local_work_dir}
 * @param simulatedSeed             {@code resource_pools.simulated_seed}
 * @param agentReconnectGraceSeconds {@code agents.reconnect_grace_seconds}
 */
public record ProviderContext(Vertx vertx, MeterRegistry registry, Path localWorkDir, long simulatedSeed,
                              int agentReconnectGraceSeconds) {}
